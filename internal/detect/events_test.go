package detect

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func ufd(pid string, s int, name, value string) model.TimelineEvent {
	return model.TimelineEvent{ID: "u" + pid + name + value, Time: at(s), ParticipantID: pid, Kind: model.KindUFD,
		Name: name, Result: value, Detail: value, RecordID: "r-" + name + "-" + value}
}

func op(pid string, s int, name, result string, code, sub *int) model.TimelineEvent {
	return model.TimelineEvent{ID: "o" + pid + name, Time: at(s), ParticipantID: pid, Kind: model.KindOperation,
		Name: name, Result: result, Code: code, SubCode: sub, RecordID: "r-" + name}
}

func TestReliability(t *testing.T) {
	dropped := leg("b")
	dropped.EndReason, dropped.EndSubCode, dropped.ResultCategory = n(410), n(301005), "UnexpectedClientError"
	setup := leg("b")
	setup.DurationSeconds, setup.EndReason, setup.EndSubCode, setup.ResultCategory = f(1.2), n(410), n(3112), "UnexpectedClientError"
	graceful := leg("b")
	graceful.EndReason, graceful.EndSubCode, graceful.ResultCategory = n(0), n(0), "Success"
	rejoin := leg("b")
	rejoin.RejoinOf = "old-b"
	cases := []struct {
		name   string
		in     Input
		want   []string
		kb     string
		culpit string
	}{
		{"healthy", call(leg("a"), graceful), nil, "", ""},
		{"drop by end reason", call(leg("a"), dropped), []string{KindDropped + "@b"}, "code-410-301005", model.CulpritPath},
		{"setup failure by short leg", call(leg("a"), setup), []string{KindCallSetupFailed + "@b"}, "code-410-3112", model.CulpritPath},
		{"setup failure by failed join", func() Input {
			in := call(leg("a"), leg("b"))
			in.Events = []model.TimelineEvent{op("b", 1, "Join", "Failure", n(500), n(40216))}
			return in
		}(), []string{KindCallSetupFailed + "@b"}, "code-500-40216", model.CulpritUnknown},
		{"drop by failed hangup", func() Input {
			in := call(leg("a"), leg("b"))
			in.Events = []model.TimelineEvent{op("b", 590, "Hangup", "UnexpectedClientError", n(408), nil)}
			return in
		}(), []string{KindDropped + "@b"}, "code-408", model.CulpritPath},
		{"expected error is fine", func() Input {
			in := call(leg("a"), leg("b"))
			in.Events = []model.TimelineEvent{op("b", 30, "StartVideo", "ExpectedError", n(400), n(41027))}
			return in
		}(), nil, "", ""},
		{"other failed operation", func() Input {
			in := call(leg("a"), leg("b"))
			in.Events = []model.TimelineEvent{op("b", 30, "Mute", "UnexpectedClientError", n(500), n(41015)),
				op("b", 40, "Mute", "UnexpectedClientError", n(500), n(41015))}
			return in
		}(), []string{KindOperationFailed + "@b"}, "code-500-41015", model.CulpritUnknown},
		{"drop by an unexpected end outside the ACS list", func() Input {
			b := leg("b")
			b.EndReason, b.EndSubCode, b.ResultCategory = n(496), n(7), "UnexpectedClientError"
			return call(leg("a"), b)
		}(), []string{KindDropped + "@b"}, "code-496-7", model.CulpritPath},
		{"failed operation folds into the device issue", func() Input {
			in := call(leg("a"), leg("b"))
			in.Events = []model.TimelineEvent{op("b", 30, "StartVideo", "UnexpectedClientError", n(412), n(43000)),
				ufd("b", 31, "cameraStartFailed", "true"), ufd("b", 40, "cameraStartFailed", "false")}
			return in
		}(), []string{KindCameraStartFailed + "@b"}, "code-412-43000", model.CulpritDevice},
		{"cut off during a reconnect", func() Input {
			b := leg("b")
			b.EndReason, b.EndSubCode, b.ResultCategory = n(496), n(7), "ExpectedError"
			in := call(leg("a"), b)
			in.Events = []model.TimelineEvent{ufd("b", 590, "networkReconnect", "Bad")}
			return in
		}(), []string{KindDropped + "@b", KindNetworkReconnect + "@b"}, "code-496-7", model.CulpritPath},
		{"reconnect resolved before an expected end", func() Input {
			b := leg("b")
			b.EndReason, b.EndSubCode, b.ResultCategory = n(487), n(0), "ExpectedError"
			in := call(leg("a"), b)
			in.Events = []model.TimelineEvent{ufd("b", 500, "networkReconnect", "Bad"), ufd("b", 510, "networkReconnect", "Good")}
			return in
		}(), []string{KindNetworkReconnect + "@b"}, "ufd-networkReconnect", model.CulpritPath},
		{"rejoined", call(leg("a"), rejoin), []string{KindRejoined + "@b"}, "guide-call-dropped", model.CulpritUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(tc.in, DefaultRules())
			if got := kinds(res); !slices.Equal(got, tc.want) {
				t.Fatalf("issues %v, want %v", got, tc.want)
			}
			if len(tc.want) == 0 {
				return
			}
			is := problems(res)[0]
			if !slices.Contains(is.Recommendation.KB, tc.kb) {
				t.Errorf("kb %v lacks %s", is.Recommendation.KB, tc.kb)
			}
			if is.Culprit.Type != tc.culpit {
				t.Errorf("culprit %s, want %s", is.Culprit.Type, tc.culpit)
			}
			if k := is.Kind; (k == KindDropped || k == KindCallSetupFailed) != (is.Severity == model.SeverityCritical) {
				t.Errorf("%s has severity %s", k, is.Severity)
			}
		})
	}
}

func TestUFDIntervals(t *testing.T) {
	cases := []struct {
		name   string
		events []model.TimelineEvent
		want   []string // kind@participant start-end seconds
		sev    model.Severity
	}{
		{"raise and clear", []model.TimelineEvent{ufd("a", 100, "networkReconnect", "Bad"), ufd("a", 130, "networkReconnect", "Good")},
			[]string{"network-reconnect@a 100-130"}, model.SeverityWarning},
		{"only good", []model.TimelineEvent{ufd("a", 100, "networkReceiveQuality", "Good")}, nil, ""},
		{"open until leg end", []model.TimelineEvent{ufd("a", 100, "networkRelaysNotReachable", "true")},
			[]string{"relays-unreachable@a 100-600"}, model.SeverityWarning},
		{"repeated raises are one interval", []model.TimelineEvent{ufd("a", 10, "NetworkSendQuality", "Poor"),
			ufd("a", 20, "networkSendQuality", "Bad"), ufd("a", 40, "networkSendQuality", "Good")},
			[]string{"network-send-quality@a 10-40"}, model.SeverityWarning},
		{"two separate intervals", []model.TimelineEvent{ufd("a", 10, "cameraFreeze", "true"), ufd("a", 20, "cameraFreeze", "false"),
			ufd("a", 100, "cameraFreeze", "true"), ufd("a", 120, "cameraFreeze", "false")},
			[]string{"camera-freeze@a 10-20", "camera-freeze@a 100-120"}, model.SeverityWarning},
		{"speaking while muted is info", []model.TimelineEvent{ufd("a", 50, "speakingWhileMicrophoneIsMuted", "true"),
			ufd("a", 55, "speakingWhileMicrophoneIsMuted", "false")},
			[]string{"speaking-while-muted@a 50-55"}, model.SeverityInfo},
		{"native name", []model.TimelineEvent{ufd("a", 5, "microphoneBusy", "Bad"), ufd("a", 8, "microphoneBusy", "Good")},
			[]string{"microphone-busy@a 5-8"}, model.SeverityWarning},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a"))
			in.Events = tc.events
			res := Run(in, DefaultRules())
			var got []string
			for _, is := range problems(res) {
				got = append(got, is.Kind+"@"+is.ParticipantID+" "+itoa(is.Start.Sub(t0))+"-"+itoa(is.End.Sub(t0)))
				if is.Severity != tc.sev {
					t.Errorf("%s severity %s, want %s", is.Kind, is.Severity, tc.sev)
				}
				if len(is.Evidence) == 0 || len(is.Evidence[0].RecordIDs) == 0 {
					t.Errorf("%s has no record evidence", is.Kind)
				}
				if !is.TimelineFilter.From.Before(is.Start) || !slices.Contains(is.TimelineFilter.Kind, model.KindUFD) {
					t.Errorf("timeline filter %+v", is.TimelineFilter)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func itoa(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) }

func lower(s string) string { return strings.ToLower(s) }

// TestEveryUFDHasAKind guards the UFD table: every diagnostic in the
// reference maps to an issue kind with facts of its own.
func TestEveryUFDHasAKind(t *testing.T) {
	for _, u := range catalog.UFDs() {
		k := localUFDKind(lower(u.Name))
		if k == "" || !knownKind(k) {
			t.Errorf("UFD %s maps to %q", u.Name, k)
		}
		if c, ok := catalog.UFDKind(u.Name); !ok || c != k {
			t.Errorf("UFD %s: catalog says %q, the local table %q", u.Name, c, k)
		}
		if got := ufdKind(strings.ToUpper(u.Name[:1]) + u.Name[1:]); got != k {
			t.Errorf("UFD %s spelled with a capital maps to %q", u.Name, got)
		}
		if info(k).advice == "" {
			t.Errorf("kind %s has no advice", k)
		}
	}
}

func TestSurveyRating(t *testing.T) {
	survey := func(pid string, score, upper *float64) model.SurveyView {
		return model.SurveyView{SurveyID: "s-" + pid, ParticipantID: pid, Time: at(620), RecordID: "rs-" + pid,
			Overall: model.Rating{Score: score, UpperBound: upper}}
	}
	cases := []struct {
		name    string
		surveys []model.SurveyView
		rating  string
		score   float64
		poor    int
	}{
		{"none", nil, RatingUnknown, 0, 0},
		{"good", []model.SurveyView{survey("a", f(5), nil)}, RatingGood, 5, 0},
		{"average", []model.SurveyView{survey("a", f(3), nil)}, RatingAverage, 3, 0},
		{"poor scaled", []model.SurveyView{survey("a", f(20), f(100))}, RatingPoor, 1, 1},
		{"averaged", []model.SurveyView{survey("a", f(5), nil), survey("b", f(2), nil)}, RatingAverage, 3.5, 1},
		{"unrated ignored", []model.SurveyView{survey("a", nil, nil)}, RatingUnknown, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a"), leg("b"))
			in.Call.Surveys = tc.surveys
			res := Run(in, DefaultRules())
			if res.Rating != tc.rating {
				t.Errorf("rating %s, want %s", res.Rating, tc.rating)
			}
			if (res.RatingScore == nil) != (tc.rating == RatingUnknown) || res.RatingScore != nil && *res.RatingScore != tc.score {
				t.Errorf("score %v, want %v", res.RatingScore, tc.score)
			}
			if got := countKind(res, KindPoorRating); got != tc.poor {
				t.Errorf("%d poor-rating issues, want %d", got, tc.poor)
			}
		})
	}
}

// TestKnowledgeBaseIDs checks that every kind and guide a recommendation
// cites exists in the catalog's knowledge base.
func TestKnowledgeBaseIDs(t *testing.T) {
	for _, k := range allKinds() {
		if _, ok := catalog.LookupKB("kind-" + k); !ok {
			t.Errorf("no knowledge-base entry kind-%s", k)
		}
		if g := guide(k); g != "" {
			if _, ok := catalog.LookupKB(g); !ok {
				t.Errorf("kind %s cites missing %s", k, g)
			}
		}
	}
	if got, want := len(catalog.KindIDs()), len(allKinds()); got != want {
		t.Errorf("catalog lists %d kinds, detection %d", got, want)
	}
}

func TestDryStreams(t *testing.T) {
	dry := func() model.Stream {
		s := goodAudio(model.DirOutbound)
		s.PacketUtilization = f(0)
		return s
	}
	cases := []struct {
		name   string
		events []model.TimelineEvent
		want   []string
	}{
		{"dry outgoing audio", nil, []string{KindNoMediaFlow + "@b"}},
		{"a muted listener", []model.TimelineEvent{op("b", 3, "MuteMicrophone", "Succeeded", nil, nil)}, nil},
		{"explained by the microphone", []model.TimelineEvent{ufd("b", 15, "microphoneNotFunctioning", "true")},
			[]string{KindMicNotFunctioning + "@b"}},
		{"a camera problem does not explain dry audio", []model.TimelineEvent{ufd("b", 15, "cameraStartFailed", "true"), ufd("b", 25, "cameraStartFailed", "false")},
			[]string{KindNoMediaFlow + "@b", KindCameraStartFailed + "@b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a", goodAudio(model.DirOutbound)), leg("b", dry()))
			in.Events = tc.events
			res := Run(in, DefaultRules())
			if got := kinds(res); !slices.Equal(got, tc.want) {
				t.Fatalf("issues %v, want %v", got, tc.want)
			}
			if len(tc.want) > 0 && tc.want[0] == KindMicNotFunctioning+"@b" {
				ev := problems(res)[0].Evidence
				if !slices.ContainsFunc(ev, func(e model.Evidence) bool { return e.Metric == "PacketUtilization" }) {
					t.Errorf("the dry stream's evidence was not kept: %+v", ev)
				}
			}
		})
	}
}
