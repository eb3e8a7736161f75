package eval

import (
	"testing"
	"time"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
)

func TestScorer(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	code := 430
	faults := []simulate.Fault{
		{Kind: simulate.KindPoorUplink, ParticipantID: "a", Start: at(60), End: at(180), LossRate: 0.2, UFD: "networkSendQuality"},
		{Kind: simulate.KindDropped, ParticipantID: "b", Start: at(300), End: at(300), Code: &code, UFD: "networkReconnect"},
		{Kind: simulate.KindPoorDownlink, ParticipantID: "c", Start: at(0), End: at(60), LossRate: 0.08},
		// Mild enough that the client's own diagnostic counts as finding it.
		{Kind: simulate.KindPoorDownlink, ParticipantID: "f", Start: at(0), End: at(100), LossRate: 0.11, UFD: "networkReceiveQuality"},
		// Clearly past the loss rule: only a stream issue finds it.
		{Kind: simulate.KindPoorUplink, ParticipantID: "g", Start: at(0), End: at(100), LossRate: 0.2, UFD: "networkSendQuality"},
		// Dropped with a reconnect attempt, but the drop itself was not found.
		{Kind: simulate.KindDropped, ParticipantID: "h", Start: at(400), End: at(400), Code: &code, UFD: "networkReconnect"},
	}
	issue := func(kind, pid, culprit string, from, to int, blamed ...string) model.Issue {
		return model.Issue{Kind: kind, ParticipantID: pid, Start: at(from), End: at(to),
			Culprit: model.Culprit{Type: culprit, ParticipantIDs: blamed}}
	}
	issues := []model.Issue{
		issue("poor-stream", "d", model.CulpritUplink, 90, 150, "a"),        // uplink of a, seen at d: tp, right culprit
		issue("poor-video", "a", model.CulpritUplink, 100, 170, "a"),        // a second detection of the same cause: not counted
		issue("network-send-quality", "a", model.CulpritUplink, 60, 180),    // the diagnostic a raised: explained
		issue("network-reconnect", "b", model.CulpritPath, 280, 299),        // the reconnect attempt before b's drop: explained
		issue("dropped-ungracefully", "b", model.CulpritPath, 299, 300),     // tp
		issue("poor-stream", "c", model.CulpritUplink, 10, 50, "c"),         // c's downlink blamed on its uplink: tp, wrong culprit
		issue("poor-stream", "e", model.CulpritDownlink, 500, 600, "e"),     // nothing injected: fp of poor-downlink
		issue("dropped-ungracefully", "b", model.CulpritPath, 900, 900),     // far from the label: fp
		issue("network-receive-quality", "f", model.CulpritDownlink, 5, 95), // tp of f's mild downlink, right culprit
		issue("network-send-quality", "g", model.CulpritUplink, 5, 95),      // not enough for g: fn
		issue("network-reconnect", "h", model.CulpritPath, 390, 399),        // explains, but does not find, h's drop: fn
		issue("network-send-quality", "z", model.CulpritUplink, 60, 180),    // never injected as such: ignored
	}
	s := NewScorer(detect.DefaultRules(), true)
	s.Add(simulate.CallLabels{CallID: "call", Faults: faults}, issues)
	rep := s.Report()
	check := func(kind string, tp, fp, fn int) {
		t.Helper()
		r, _ := rep.Row(kind)
		if r.TP != tp || r.FP != fp || r.FN != fn {
			t.Errorf("%s: tp %d fp %d fn %d, want %d %d %d", kind, r.TP, r.FP, r.FN, tp, fp, fn)
		}
	}
	check(simulate.KindPoorUplink, 1, 0, 1)
	check(simulate.KindPoorDownlink, 2, 1, 0)
	check(simulate.KindDropped, 1, 1, 1)
	if rep.Culprit.TP != 2 || rep.Culprit.FP != 1 {
		t.Errorf("culprit tp %d fp %d, want 2 and 1", rep.Culprit.TP, rep.Culprit.FP)
	}
	if len(rep.Misses) != 5 {
		t.Errorf("misses %+v, want 2 fn, 2 fp and 1 culprit", rep.Misses)
	}
	if r, _ := rep.Row(simulate.KindPoorDownlink); r.Precision != 2.0/3 || r.Recall != 1 {
		t.Errorf("poor-downlink precision %v recall %v", r.Precision, r.Recall)
	}
}

func TestScorerWithoutMisses(t *testing.T) {
	s := NewScorer(detect.DefaultRules(), false)
	s.Add(simulate.CallLabels{CallID: "c", Faults: []simulate.Fault{{Kind: simulate.KindDropped, ParticipantID: "a"}}}, nil)
	rep := s.Report()
	if rep.Misses != nil || rep.Calls != 1 {
		t.Errorf("report %+v", rep)
	}
	if r, ok := rep.Row(simulate.KindDropped); !ok || r.FN != 1 || r.Recall != 0 {
		t.Errorf("dropped row %+v", r)
	}
}
