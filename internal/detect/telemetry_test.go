package detect

import (
	"slices"
	"testing"

	"calldiag/internal/model"
)

// healthy is a complete, trouble-free 3-party call: diagnostics, media
// stats with background noise, successful operations, good UFDs and a
// good survey.
func healthy() Input {
	var parts []model.Participant
	var series []model.Series
	ids := []string{"a", "b", "c"}
	for _, p := range ids {
		parts = append(parts, leg(p, goodAudio(model.DirInbound), goodAudio(model.DirOutbound)))
		noisy := flat(8, 60)
		noisy[17] = 95 // a lone spike is noise, not an issue
		series = append(series, ser(p, "audio-outbound", metricJitter, noisy...),
			ser(p, "audio-outbound", metricRTT, flat(70, 60)...),
			ser(p, "audio-inbound", metricJitter, flat(6, 60)...))
		for _, o := range ids {
			if o != p {
				series = append(series, ser(p, "video-inbound-"+o, metricJitter, flat(4, 60)...))
			}
		}
	}
	in := call(parts...)
	in.Series = series
	in.Events = []model.TimelineEvent{
		op("a", 1, "Join", "Succeeded", nil, nil), op("b", 2, "Join", "Succeeded", nil, nil),
		op("c", 3, "StartVideo", "ExpectedError", n(400), n(41027)),
		ufd("a", 50, "networkReceiveQuality", "Good"),
		op("a", 599, "Hangup", "Succeeded", nil, nil),
	}
	in.Call.Surveys = []model.SurveyView{{SurveyID: "s", ParticipantID: "a", Time: at(601), Overall: model.Rating{Score: f(5)}}}
	return in
}

func TestHealthyCallHasNoIssues(t *testing.T) {
	res := Run(healthy(), DefaultRules())
	if len(res.Issues) != 0 {
		t.Errorf("healthy call: %v", kinds(res))
		for _, is := range res.Issues {
			t.Logf("%s %s %s", is.Kind, is.ParticipantID, is.Summary)
		}
	}
	if res.Quality != QualityGood || res.Rating != RatingGood || len(res.MOS) != 6 {
		t.Errorf("quality %s rating %s mos %v", res.Quality, res.Rating, res.MOS)
	}
	c := res.Completeness
	if !c.Diagnostics || !c.MediaStats || c.Surveys != 1 || len(c.Participants) != 3 {
		t.Fatalf("completeness %+v", c)
	}
	for _, p := range c.Participants {
		if !p.Summary || !p.Diagnostics || !p.MediaStats || p.SeriesGaps != 0 {
			t.Errorf("participant completeness %+v", p)
		}
	}
}

func TestMissingTelemetry(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Input)
		want   []string // participant/stream of missing-telemetry issues
	}{
		{"complete", func(*Input) {}, nil},
		{"no diagnostics", func(in *Input) {
			for i := range in.Call.Participants {
				in.Call.Participants[i].Streams = nil
			}
		}, []string{"/diagnostics"}},
		{"other resource", func(in *Input) { in.Call.Participants[1].OtherResource = true }, []string{"b/resource"}},
		{"no media stats for one participant", func(in *Input) {
			in.Series = slices.DeleteFunc(in.Series, func(s model.Series) bool { return s.ParticipantID == "c" })
		}, []string{"c/media-stats"}},
		{"gap in a series", func(in *Input) {
			s := &in.Series[0]
			s.Points = append(s.Points[:20:20], s.Points[30:]...)
		}, []string{"a/series-gaps"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := healthy()
			tc.mutate(&in)
			res := Run(in, DefaultRules())
			var got []string
			for _, is := range res.Issues {
				if is.Kind != KindMissingTelemetry {
					t.Errorf("unexpected %s on %s", is.Kind, is.ParticipantID)
					continue
				}
				if is.Severity != model.SeverityInfo {
					t.Errorf("missing-telemetry severity %s", is.Severity)
				}
				got = append(got, is.ParticipantID+"/"+is.StreamID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRelatedStory(t *testing.T) {
	in := healthy()
	b := &in.Call.Participants[1]
	b.DurationSeconds, b.EndReason, b.EndSubCode, b.ResultCategory = f(300), n(410), n(301005), "UnexpectedClientError"
	rejoin := leg("b2", goodAudio(model.DirInbound), goodAudio(model.DirOutbound))
	rejoin.StartTime, rejoin.DurationSeconds, rejoin.RejoinOf = ptr(at(320)), f(280), "b"
	in.Call.Participants = append(in.Call.Participants, rejoin)
	in.Series = append(in.Series, ser("b2", "audio-outbound", metricJitter, flat(5, 60)...))
	in.Events = append(in.Events, ufd("b", 280, "networkReconnect", "Bad"), ufd("c", 100, "cameraFreeze", "true"),
		ufd("c", 110, "cameraFreeze", "false"))
	res := Run(in, DefaultRules())
	byKind := map[string]model.Issue{}
	for _, is := range problems(res) {
		byKind[is.Kind+"@"+is.ParticipantID] = is
	}
	rc, drop, rj := byKind["network-reconnect@b"], byKind["dropped-ungracefully@b"], byKind["rejoined@b2"]
	if rc.ID == "" || drop.ID == "" || rj.ID == "" {
		t.Fatalf("missing story members: %v", kinds(res))
	}
	if !slices.Equal(drop.Related, []string{rc.ID, rj.ID}) {
		t.Errorf("drop related %v, want reconnect then rejoin %v", drop.Related, []string{rc.ID, rj.ID})
	}
	if !slices.Equal(rc.Related, []string{drop.ID, rj.ID}) {
		t.Errorf("reconnect related %v", rc.Related)
	}
	if cf := byKind["camera-freeze@c"]; len(cf.Related) != 0 {
		t.Errorf("unrelated issue linked: %v", cf.Related)
	}
	if res.Issues[0].Severity != model.SeverityCritical {
		t.Errorf("most severe issue not first: %s", res.Issues[0].Kind)
	}
}

func TestIssueIDsAreStable(t *testing.T) {
	in := healthy()
	in.Events = append(in.Events, ufd("a", 100, "networkSendQuality", "Poor"), ufd("a", 130, "networkSendQuality", "Good"))
	first := Run(in, DefaultRules())
	in.Events = append(in.Events, ufd("c", 200, "microphoneBusy", "Bad"))
	second := Run(in, DefaultRules())
	if len(first.Issues) != 1 || len(second.Issues) != 2 {
		t.Fatalf("issues %v then %v", kinds(first), kinds(second))
	}
	id := first.Issues[0].ID
	if !slices.ContainsFunc(second.Issues, func(is model.Issue) bool { return is.ID == id }) {
		t.Errorf("id %s did not survive recomputation", id)
	}
	if second.Issues[0].ID == second.Issues[1].ID {
		t.Error("two issues share an id")
	}
}

func TestDisabledKind(t *testing.T) {
	in := healthy()
	in.Events = append(in.Events, ufd("a", 100, "speakingWhileMicrophoneIsMuted", "true"))
	r := DefaultRules()
	if got := countKind(Run(in, r), KindSpeakingWhileMuted); got != 1 {
		t.Fatalf("enabled: %d issues", got)
	}
	r.Disabled = []string{KindSpeakingWhileMuted}
	if got := countKind(Run(in, r), KindSpeakingWhileMuted); got != 0 {
		t.Errorf("disabled: %d issues", got)
	}
}

func TestSimultaneousUFDsGetDistinctIDs(t *testing.T) {
	in := healthy()
	in.Events = append(in.Events, ufd("b", 100, "speakerMuted", "true"), ufd("b", 100, "speakerVolumeIsZero", "true"))
	res := Run(in, DefaultRules())
	if len(res.Issues) != 2 || res.Issues[0].ID == res.Issues[1].ID {
		t.Fatalf("issues %v", kinds(res))
	}
	again := Run(in, DefaultRules())
	for i := range res.Issues {
		if res.Issues[i].ID != again.Issues[i].ID {
			t.Errorf("ids differ between runs: %s %s", res.Issues[i].ID, again.Issues[i].ID)
		}
	}
}
