package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

// pagedOnly hides a store's WholeTimeline, so that DetectCall reads the
// timeline page by page.
type pagedOnly struct{ st *sqlite.DB }

func (p pagedOnly) Call(ctx context.Context, id string) (model.Call, error) {
	return p.st.Call(ctx, id)
}
func (p pagedOnly) Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error) {
	q.Limit = 997 // several pages
	return p.st.Timeline(ctx, q)
}

// TestWholeTimelineDetectsAsPages runs detection on simulated calls,
// reading each timeline whole and in small pages: the outcome must be the
// same.
func TestWholeTimelineDetectsAsPages(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs, err := os.Create(filepath.Join(t.TempDir(), "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	add := func(_ string, line []byte) error { _, err := logs.Write(append(line, '\n')); return err }
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	if _, err := simulate.Records(simulate.Config{Calls: 6, Seed: 5, Start: start}, add); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	res, err := New(db, Options{}).Ingest(ctx, logs, "sim")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Calls) < 6 {
		t.Fatalf("%d calls ingested, want 6", len(res.Calls))
	}
	rules := detect.DefaultRules()
	for _, id := range res.Calls {
		whole, _, err := DetectCall(ctx, db, id, rules)
		if err != nil {
			t.Fatal(err)
		}
		paged, _, err := DetectCall(ctx, pagedOnly{db}, id, rules)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, paged) {
			for i := range min(len(whole.Issues), len(paged.Issues)) {
				if !reflect.DeepEqual(whole.Issues[i], paged.Issues[i]) {
					t.Logf("issue %d:\n%+v\n%+v", i, whole.Issues[i], paged.Issues[i])
				}
			}
			if !reflect.DeepEqual(whole.MOS, paged.MOS) {
				t.Logf("MOS differs")
			}
			if !reflect.DeepEqual(whole.Completeness, paged.Completeness) {
				t.Logf("completeness:\n%+v\n%+v", whole.Completeness, paged.Completeness)
			}
			t.Errorf("call %s: detection differs reading the timeline whole (%d issues) and by pages (%d issues)",
				id, len(whole.Issues), len(paged.Issues))
		}
	}
}
