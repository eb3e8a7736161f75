package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"calldiag/internal/eval"
	"calldiag/internal/simulate"
)

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
	var rep eval.Report
	if err := json.Unmarshal([]byte(mustRun(t, "eval", "--db", db, "--labels", filepath.Join(corpus, "labels.json"), "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	injected := 0
	for _, c := range labels.Calls {
		for _, f := range c.Faults {
			if eval.Scored(f.Kind) {
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
