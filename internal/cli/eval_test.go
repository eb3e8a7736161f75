package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/simulate"
)

func TestScoreCall(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	faults := []simulate.Fault{
		{Kind: simulate.KindPoorUplink, ParticipantID: "a", Start: at(60), End: at(180)},
		{Kind: simulate.KindDropped, ParticipantID: "b", Start: at(300), End: at(300)},
		{Kind: simulate.KindPoorDownlink, ParticipantID: "c", Start: at(0), End: at(60)},
	}
	issue := func(kind, pid, culprit string, from, to int, blamed ...string) model.Issue {
		return model.Issue{Kind: kind, ParticipantID: pid, Start: at(from), End: at(to),
			Culprit: model.Culprit{Type: culprit, ParticipantIDs: blamed}}
	}
	issues := []model.Issue{
		issue("poor-stream", "d", model.CulpritUplink, 90, 150, "a"),     // uplink of a, seen at d: tp, right culprit
		issue("poor-video", "a", model.CulpritUplink, 100, 170, "a"),     // a second detection of the same cause: not counted
		issue("dropped-ungracefully", "b", model.CulpritPath, 299, 300),  // tp
		issue("poor-stream", "c", model.CulpritUplink, 10, 50, "c"),      // c's downlink blamed on its uplink: tp, wrong culprit
		issue("poor-stream", "e", model.CulpritDownlink, 500, 600, "e"),  // nothing injected: fp of poor-downlink
		issue("dropped-ungracefully", "b", model.CulpritPath, 900, 900),  // far from the label: fp
		issue("network-send-quality", "a", model.CulpritUplink, 60, 180), // never injected as such: ignored
	}
	rows := map[string]*EvalRow{}
	for k := range labelKinds {
		rows[k] = &EvalRow{Kind: k}
	}
	var culprit EvalRow
	scoreCall(faults, issues, rows, &culprit)
	check := func(kind string, tp, fp, fn int) {
		t.Helper()
		r := rows[kind]
		if r.TP != tp || r.FP != fp || r.FN != fn {
			t.Errorf("%s: tp %d fp %d fn %d, want %d %d %d", kind, r.TP, r.FP, r.FN, tp, fp, fn)
		}
	}
	check(simulate.KindPoorUplink, 1, 0, 0)
	check(simulate.KindPoorDownlink, 1, 1, 0)
	check(simulate.KindDropped, 1, 1, 0)
	if culprit.TP != 1 || culprit.FP != 1 {
		t.Errorf("culprit tp %d fp %d, want 1 and 1", culprit.TP, culprit.FP)
	}
}

func TestEvalCommand(t *testing.T) {
	corpus := t.TempDir()
	labels, err := simulate.Write(context.Background(), simulate.Config{Calls: 12, Seed: 5, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, corpus)
	if err != nil {
		t.Fatal(err)
	}
	db := t.TempDir()
	if _, code := ingestJSON(t, db, filepath.Join(corpus, "logs")); code != 0 {
		t.Fatalf("ingest exit %d", code)
	}
	var rep EvalReport
	if err := json.Unmarshal([]byte(mustRun(t, "eval", "--db", db, "--labels", filepath.Join(corpus, "labels.json"), "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	injected := 0
	for _, c := range labels.Calls {
		for _, f := range c.Faults {
			if _, ok := labelKinds[f.Kind]; ok {
				injected++
			}
		}
	}
	scored := 0
	for _, r := range rep.Kinds {
		scored += r.TP + r.FN
	}
	if rep.Calls != 12 || scored != injected {
		t.Errorf("eval scored %d of %d injected causes over %d calls", scored, injected, rep.Calls)
	}
	if _, _, code := run(t, nil, "eval", "--db", db); code != ExitUsage {
		t.Errorf("eval without --labels: exit %d, want %d", code, ExitUsage)
	}
}
