package callview_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
)

// TestOverviewUsesCurrentDetection checks that the overview shows the
// stored detection when it was made from the call's current records with
// the same rules, and detects again when it was not.
func TestOverviewUsesCurrentDetection(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var buf bytes.Buffer
	cfg := simulate.Config{Calls: 1, Seed: 4, Start: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	// Ingest all but the last record, and detect as ingest does.
	cut := bytes.LastIndexByte(raw[:len(raw)-1], '\n') + 1
	res, err := pipeline.New(st, pipeline.Options{Detector: st}).Ingest(ctx, bytes.NewReader(raw[:cut]), "first")
	if err != nil || len(res.Calls) != 1 {
		t.Fatalf("ingest: %v %v", err, res.Calls)
	}
	id := res.Calls[0]
	rules := detect.DefaultRules()

	// Mark the stored detection so that reading it is visible.
	det, err := st.Detection(ctx, id)
	if err != nil || det.Completeness == nil || det.Rules != rules.Fingerprint() {
		t.Fatalf("ingest stored %+v, %v; want a complete detection with the rules' fingerprint", det, err)
	}
	marker := model.Issue{ID: "marker", Kind: "poor-rating", Severity: model.SeverityWarning, Summary: "stored"}
	det.Issues = append(slices.Clone(det.Issues), marker)
	if err := st.ReplaceDetection(ctx, id, det); err != nil {
		t.Fatal(err)
	}
	has := func(c model.Call) bool {
		return slices.ContainsFunc(c.Issues, func(is model.Issue) bool { return is.ID == "marker" })
	}
	c, err := callview.Overview(ctx, st, id, rules)
	if err != nil || !has(c) {
		t.Fatalf("current detection not used (err %v)", err)
	}
	if c.Completeness == nil {
		t.Error("overview lacks completeness")
	}
	// Other rules: detect again.
	other := rules
	other.JitterAvgMs = 45
	if c, err := callview.Overview(ctx, st, id, other); err != nil || has(c) {
		t.Errorf("other rules: stored detection used (err %v)", err)
	}
	// A late record: detect again.
	if _, err := pipeline.New(st, pipeline.Options{}).Ingest(ctx, bytes.NewReader(raw[cut:]), "late"); err != nil {
		t.Fatal(err)
	}
	if c, err := callview.Overview(ctx, st, id, rules); err != nil || has(c) {
		t.Errorf("after a late record: stale detection used (err %v)", err)
	}
	if _, err := callview.Overview(ctx, st, "no-such-call", rules); err == nil {
		t.Error("unknown call: no error")
	}
}
