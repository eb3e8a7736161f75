package assist_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"calldiag/internal/assist"
	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

func TestRecognizeCodes(t *testing.T) {
	const none = catalog.Absent
	tests := []struct {
		q    string
		want []assist.CodeRef
	}{
		{"How do I fix subcode 41048?", []assist.CodeRef{{Code: none, SubCode: 41048}}},
		{"what is 410/3112", []assist.CodeRef{{Code: 410, SubCode: 3112}}},
		{"the leg ended with code 487", []assist.CodeRef{{Code: 487, SubCode: none}}},
		{"How do I fix error 403?", []assist.CodeRef{{Code: 403, SubCode: none}}},
		{"code 410 and subcode 301005", []assist.CodeRef{{Code: 410, SubCode: 301005}}},
		{"sub-code 4521 and 496/7", []assist.CodeRef{{Code: 496, SubCode: 7}, {Code: none, SubCode: 4521}}},
		{"What does 487 mean?", []assist.CodeRef{{Code: 487, SubCode: none}}},
		{"is a round trip above 500 ms bad?", nil},
		{"jitter of 400 ms", nil},
		{"a call with 200 participants", nil},
		{"participant 4521abcd-0000-4000-8000-000000000001 dropped", nil},
		{"on 9/14 the call dropped", nil},
		{"what does code 999 mean", []assist.CodeRef{{Code: 999, SubCode: none}}},
	}
	for _, tt := range tests {
		got := assist.Recognize(tt.q, nil).Codes
		if !slices.Equal(got, tt.want) {
			t.Errorf("Recognize(%q).Codes = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestRecognizeNames(t *testing.T) {
	tests := []struct {
		q           string
		ufds, kinds []string
	}{
		{"What does networkReconnect mean?", []string{"ufd-networkReconnect"}, nil},
		{"NetworkRelaysNotReachable was raised", []string{"ufd-networkRelaysNotReachable"}, nil},
		{"we saw networkReconnectionQuality Bad", []string{"ufd-networkReconnectionQuality"}, nil},
		{"what is a network reconnect", []string{"ufd-networkReconnect"}, []string{"kind-network-reconnect"}},
		{"speaker volume is zero keeps firing", []string{"ufd-speakerVolumeIsZero"}, nil},
		{"What does speaking while muted mean?", nil, []string{"kind-speaking-while-muted"}},
		{"common causes of poor media streams", nil, []string{"kind-poor-stream"}},
		{"How do I fix media over TCP?", nil, []string{"kind-media-over-tcp"}},
		{"how do I fix my network", nil, nil},
	}
	for _, tt := range tests {
		r := assist.Recognize(tt.q, nil)
		if !slices.Equal(r.UFDs, tt.ufds) || !slices.Equal(r.Kinds, tt.kinds) {
			t.Errorf("Recognize(%q): UFDs %v kinds %v, want %v and %v", tt.q, r.UFDs, r.Kinds, tt.ufds, tt.kinds)
		}
	}
}

func TestRecognizeMetrics(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"is 40 ms of jitter too much?", []string{"jitter"}},
		{"packet loss and RTT were high", []string{"packet-loss", "round-trip"}},
		{"the latency was awful", []string{"round-trip"}},
		{"why is the MOS low", []string{"mos"}},
		{"frame rate dropped and the video freezes at low resolution", []string{"frame-rate", "freeze", "resolution"}},
		{"the jitter buffer grew", []string{"jitter-buffer"}},
		{"how do I share my screen", nil},
	}
	for _, tt := range tests {
		if got := assist.Recognize(tt.q, nil).Metrics; !slices.Equal(got, tt.want) {
			t.Errorf("Recognize(%q).Metrics = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestRecognizeIntents(t *testing.T) {
	tests := []struct {
		q    string
		has  []assist.Intent
		lack []assist.Intent
	}{
		{"Summarize what went wrong in this call", []assist.Intent{assist.IntentSummary}, nil},
		{"Why did participant 1234abcd drop?", []assist.Intent{assist.IntentDrop, assist.IntentCauses}, []assist.Intent{assist.IntentAudio}},
		{"Why couldn't participant 1234abcd join the call?", []assist.Intent{assist.IntentDrop}, nil},
		{"why was X's audio bad", []assist.Intent{assist.IntentAudio, assist.IntentCauses}, []assist.Intent{assist.IntentVideo}},
		{"Why couldn't the others see me?", []assist.Intent{assist.IntentVideo}, nil},
		{"How do I fix subcode 41048?", []assist.Intent{assist.IntentFix}, nil},
		{"What are common causes of poor streams?", []assist.Intent{assist.IntentCauses, assist.IntentMeaning}, nil},
		{"why did she rate the call poorly", []assist.Intent{assist.IntentRating}, nil},
		{"what frame rate is too low", nil, []assist.Intent{assist.IntentRating}},
	}
	for _, tt := range tests {
		r := assist.Recognize(tt.q, nil)
		for _, i := range tt.has {
			if !r.Has(i) {
				t.Errorf("Recognize(%q).Intents = %v, want %s among them", tt.q, r.Intents, i)
			}
		}
		for _, i := range tt.lack {
			if r.Has(i) {
				t.Errorf("Recognize(%q).Intents = %v, want no %s", tt.q, r.Intents, i)
			}
		}
	}
}

func TestRecognizeParticipants(t *testing.T) {
	call := fakeCall()
	call.Participants[1].EndpointID = "c0ffee00-0000-4000-8000-00000000000e"
	tests := []struct {
		q    string
		want []string
	}{
		{"why did participant " + dropperID + " drop", []string{dropperID}},
		{"why did a1b2c3d4 drop", []string{dropperID}},
		{"what happened to A1B2C3D4?", []string{dropperID}},
		{"did c0ffee00 hear anything", []string{silentID}},
		{"compare b2c3d4e5 and a1b2c3d4", []string{silentID, dropperID}},
		{"why did deadbeef drop", nil},
	}
	for _, tt := range tests {
		if got := assist.Recognize(tt.q, &call).Participants; !slices.Equal(got, tt.want) {
			t.Errorf("Recognize(%q).Participants = %v, want %v", tt.q, got, tt.want)
		}
	}
}

// TestSearchKBParaphrases checks that questions sharing no keyword with
// an entry's title still rank it near the top.
func TestSearchKBParaphrases(t *testing.T) {
	tests := []struct {
		q, want string
	}{
		{"How can I optimize calls for poor network conditions?", "guide-poor-network"},
		{"everyone hears their own voice bounce back", "guide-echo-or-robotic-audio"},
		{"nobody can hear me when I talk", "guide-others-cant-hear-me"},
		{"my webcam picture never shows up for the others", "guide-others-cant-see-me"},
		{"users cannot join the meeting", "guide-call-wont-connect"},
		{"I got disconnected in the middle of the meeting", "guide-call-dropped"},
		{"which ports must the corporate proxy open", "guide-turn-and-firewall"},
		{"the browser keeps blocking the mic", "guide-device-permissions"},
		{"presenting my desktop fails", "guide-screen-share-fails"},
		{"what is the jitter limit for a stream", "kind-poor-stream"},
	}
	for _, tt := range tests {
		got := assist.SearchKB(tt.q, 3)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if !slices.Contains(ids, tt.want) {
			t.Errorf("SearchKB(%q, 3) = %v, want %s among them", tt.q, ids, tt.want)
		}
	}
	if got := assist.SearchKB("jitter", 2); len(got) != 2 {
		t.Errorf("SearchKB(jitter, 2) returned %d entries, want 2", len(got))
	}
	if got := assist.SearchKB("the of and", 5); len(got) != 0 {
		t.Errorf("SearchKB of stopwords returned %d entries, want none", len(got))
	}
}

// TestSubcodeUnderSeveralCodes asks about every subcode the catalog lists
// under more than one code: the answer must cite each code's entry.
func TestSubcodeUnderSeveralCodes(t *testing.T) {
	a := assist.New(assist.Config{})
	subs := map[int][]string{}
	for _, c := range catalog.Codes() {
		if c.Code == catalog.Absent || c.SubCode == catalog.Absent || c.SubCode == 0 {
			continue
		}
		id := catalog.CodeEntryID(c.Code, c.SubCode)
		if _, ok := catalog.LookupKB(id); ok && !slices.Contains(subs[c.SubCode], id) {
			subs[c.SubCode] = append(subs[c.SubCode], id)
		}
	}
	tested := 0
	for sub, ids := range subs {
		if len(ids) < 2 {
			continue
		}
		tested++
		q := "What does subcode " + itoa(sub) + " mean?"
		ans, err := a.Ask(context.Background(), assist.Question{Question: q})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !cites(ans, id) {
				t.Errorf("%q: answer does not cite %s; cites %v", q, id, citedIDs(ans))
			}
			code, _, _ := strings.Cut(strings.TrimPrefix(id, "code-"), "-")
			if !strings.Contains(ans.Answer, code+"/"+itoa(sub)) {
				t.Errorf("%q: answer does not name %s/%d:\n%s", q, code, sub, ans.Answer)
			}
		}
	}
	if tested == 0 {
		t.Fatal("the catalog lists no subcode under several codes; the test needs one")
	}
}

func TestUnknownCode(t *testing.T) {
	a := assist.New(assist.Config{})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "What does subcode 987654 mean?"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ans.Unknowns, func(u string) bool { return strings.Contains(u, "987654") }) {
		t.Errorf("unknowns %v do not say subcode 987654 is unknown", ans.Unknowns)
	}
	if ans.Citations == nil || ans.Unknowns == nil {
		t.Error("citations or unknowns are nil")
	}
	ans, err = a.Ask(context.Background(), assist.Question{Question: "What does code 999 mean?"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Citations) != 0 || !strings.Contains(ans.Answer, "no entry for code 999") {
		t.Errorf("unknown code 999: citations %v, answer:\n%s", citedIDs(ans), ans.Answer)
	}
}

func TestAskEmpty(t *testing.T) {
	a := assist.New(assist.Config{})
	if _, err := a.Ask(context.Background(), assist.Question{Question: "  "}); !errors.Is(err, assist.ErrEmptyQuestion) {
		t.Errorf("empty question: err = %v, want ErrEmptyQuestion", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Ask(ctx, assist.Question{Question: "what is 487"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
}

// TestCallWithMissingTelemetry checks that what the data cannot tell is
// said: a participant without media stats, and a question about a
// participant the call does not have.
func TestCallWithMissingTelemetry(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ctx := context.Background()
	ans, err := a.Ask(ctx, assist.Question{Question: "Why was participant b2c3d4e5's audio bad?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ans.Unknowns, func(u string) bool {
		return strings.Contains(u, "b2c3d4e5") && strings.Contains(u, "no media stats")
	}) {
		t.Errorf("unknowns %v do not say participant b2c3d4e5 sent no media stats", ans.Unknowns)
	}
	if !strings.Contains(ans.Answer, "no audio problem") {
		t.Errorf("answer does not say no audio problem was detected:\n%s", ans.Answer)
	}

	ans, err = a.Ask(ctx, assist.Question{Question: "Why did they drop?", CallID: fakeCallID, ParticipantID: "ffffffff-0000-4000-8000-000000000009"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ans.Unknowns, func(u string) bool { return strings.Contains(u, "is not in call") }) {
		t.Errorf("unknowns %v do not say the participant is not in the call", ans.Unknowns)
	}
}

func TestCallNotFoundAndNoStore(t *testing.T) {
	ctx := context.Background()
	ans, err := assist.New(assist.Config{Calls: newFakeCalls()}).Ask(ctx, assist.Question{Question: "Summarize this call", CallID: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ans.Unknowns, func(u string) bool { return strings.Contains(u, "nope was not found") }) {
		t.Errorf("unknowns %v do not say call nope was not found", ans.Unknowns)
	}
	ans, err = assist.New(assist.Config{}).Ask(ctx, assist.Question{Question: "Summarize this call", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ans.Unknowns, func(u string) bool { return strings.Contains(u, "no call store") }) {
		t.Errorf("unknowns %v do not say no store is available", ans.Unknowns)
	}
}

// TestWhyDidParticipantDrop checks the drop answer: the drop issue and its
// kind, the end code explained, and the reconnect before it.
func TestWhyDidParticipantDrop(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "Why did participant a1b2c3d4 drop?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{dropID, "kind-dropped-ungracefully", "code-410-301005", reconnID} {
		if !cites(ans, id) {
			t.Errorf("answer does not cite %s; cites %v", id, citedIDs(ans))
		}
	}
	for _, want := range []string{"410/301005", "media connectivity lost", "networkReconnect", "networkReceiveQuality = Poor"} {
		if !strings.Contains(ans.Answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, ans.Answer)
		}
	}
	for _, c := range ans.Citations {
		if c.Type == assist.CiteIssue && c.URL != "/calls/"+fakeCallID+"/issues#issue-"+c.ID {
			t.Errorf("issue citation URL %q", c.URL)
		}
	}
	if len(ans.Citations) > 4 {
		t.Errorf("%d citations, want at most 4 (two headline, two supporting): %v", len(ans.Citations), citedIDs(ans))
	}
}

// TestSummarizeCall checks the summary: root cause before the drop, the
// drop's issue cited, missing telemetry said as unknown, not as a problem.
func TestSummarizeCall(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "Summarize what went wrong in this call", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if !cites(ans, dropID) {
		t.Errorf("summary does not cite the drop %s: %v", dropID, citedIDs(ans))
	}
	if strings.Contains(ans.Answer, "sent no media stats") {
		t.Errorf("summary lists missing telemetry as a problem:\n%s", ans.Answer)
	}
	if len(ans.Unknowns) == 0 {
		t.Error("summary has no unknowns; participant b2c3d4e5 sent no media stats")
	}
	if i, j := strings.Index(ans.Answer, "dropped out"), strings.Index(ans.Answer, "reconnected"); i < 0 || j < 0 {
		t.Errorf("summary does not tell the drop and the reconnect:\n%s", ans.Answer)
	}
}

// TestCallFoundByID checks that a question naming a participant id finds
// its call without a call in context.
func TestCallFoundByID(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "Why did participant " + dropperID + " drop?"})
	if err != nil {
		t.Fatal(err)
	}
	if !cites(ans, dropID) {
		t.Errorf("answer does not cite the drop; cites %v\n%s", citedIDs(ans), ans.Answer)
	}
}

// TestGeneralQuestionWithCallInContext checks that a knowledge-base
// question asked with a call open gets the KB answer.
func TestGeneralQuestionWithCallInContext(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "How do I fix subcode 41048?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Citations) == 0 || ans.Citations[0].ID != "code-410-41048" {
		t.Errorf("first citation is not code-410-41048: %v", citedIDs(ans))
	}
}

func TestLLMFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if l := assist.LLMFromEnv(env(map[string]string{"CALLDIAG_LLM_URL": "http://x"})); l != nil {
		t.Errorf("URL without model: %+v, want nil", l)
	}
	l := assist.LLMFromEnv(env(map[string]string{"CALLDIAG_LLM_URL": "http://x/v1", "CALLDIAG_LLM_MODEL": "m", "CALLDIAG_LLM_KEY": "k"}))
	if l == nil || l.URL != "http://x/v1" || l.Model != "m" || l.Key != "k" {
		t.Errorf("LLMFromEnv = %+v", l)
	}
}

func cites(a assist.Answer, id string) bool {
	return slices.ContainsFunc(a.Citations, func(c assist.Citation) bool { return c.ID == id })
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestMetricQuestionAboutParticipant checks that a question about a
// metric of a participant states that participant's stream numbers.
func TestMetricQuestionAboutParticipant(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "What was the jitter of a1b2c3d4?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ans.Answer, "jitter 12 ms") || !strings.Contains(ans.Answer, "MOS 4.1") {
		t.Errorf("answer does not state the stream's jitter and MOS:\n%s", ans.Answer)
	}
	if !cites(ans, legRecord) {
		t.Errorf("answer does not cite the stream's record %s: %v", legRecord, citedIDs(ans))
	}
}

// TestKBQuestionPointsAtCall checks that a general question asked with a
// call open also names that call's issues of the kind asked about.
func TestKBQuestionPointsAtCall(t *testing.T) {
	a := assist.New(assist.Config{Calls: newFakeCalls()})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "What does dropped ungracefully mean?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Citations) == 0 || ans.Citations[0].ID != "kind-dropped-ungracefully" {
		t.Errorf("first citation is not kind-dropped-ungracefully: %v", citedIDs(ans))
	}
	if !cites(ans, dropID) || !strings.Contains(ans.Answer, "In call "+fakeCallID) {
		t.Errorf("answer does not point at the call's drop %s: %v\n%s", dropID, citedIDs(ans), ans.Answer)
	}
}

// TestWebRTCConnectionQuestion asks why a WebRTC call's peer connections
// failed, with the call open: the answer comes from the call's ice-failed
// issue and cites it, while the same words about an ACS call, which has no
// peer connections, stay a knowledge-base question.
func TestWebRTCConnectionQuestion(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	dur := 120.0
	call := model.Call{ID: "webrtc-call", StartTime: start, EndTime: start.Add(2 * time.Minute), DurationSeconds: dur,
		Participants:    []model.Participant{{ID: "alice", EndpointType: model.EndpointVoIP, StartTime: &start, DurationSeconds: &dur}},
		PeerConnections: []model.PeerConnection{{ID: "PC_1", ParticipantID: "alice", ConnectionFailed: true}},
		Quality:         "Good",
		Issues: []model.Issue{{ID: "ice-1", Kind: "ice-failed", Category: model.CategoryNetwork, Severity: model.SeverityCritical,
			ParticipantID: "alice", Start: start.Add(5 * time.Second), End: start.Add(20 * time.Second),
			Summary: "peer connection PC_1 never connected: ICE failed after 15s of checks",
			Culprit: model.Culprit{Type: model.CulpritConfiguration, Summary: "no TURN relay candidate was gathered"}}}}
	fake := newFakeCalls()
	fake.calls[call.ID] = call
	a := assist.New(assist.Config{Calls: fake})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "Why did the peer connections fail?", CallID: call.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !cites(ans, "ice-1") || !strings.Contains(ans.Answer, "PC_1 never connected") {
		t.Errorf("answer does not tell the call's ICE failure; cites %v\n%s", citedIDs(ans), ans.Answer)
	}
	ans, err = a.Ask(context.Background(), assist.Question{Question: "Why did the peer connections fail?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if cites(ans, dropID) {
		t.Errorf("a connection question about an ACS call was answered from the call: %v", citedIDs(ans))
	}
}
