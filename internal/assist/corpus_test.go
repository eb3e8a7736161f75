package assist_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"calldiag/internal/assist"
	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

// corpusSeed and corpusCalls select the simulated calls the call
// questions are asked about.
const (
	corpusSeed  = 42
	corpusCalls = 30
)

// corpus is a simulated corpus ingested into a SQLite store, with the
// causes the simulator injected.
type corpus struct {
	st     *sqlite.DB
	calls  assist.Calls
	faults []assist.InjectedFault
}

// newCorpus builds the corpus in a fresh store under t.TempDir().
func newCorpus(t *testing.T) *corpus {
	t.Helper()
	c, err := buildCorpus(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("build corpus: %v", err)
	}
	t.Cleanup(func() { c.st.Close() })
	return c
}

// buildCorpus simulates the calls and feeds their records, as JSON lines,
// through the ingest pipeline (with detection) into a store in dir.
func buildCorpus(ctx context.Context, dir string) (*corpus, error) {
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	cfg := simulate.Config{Calls: corpusCalls, Seed: corpusSeed, Start: time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)}
	labels, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	res, err := pipeline.New(st, pipeline.Options{Detector: st}).Ingest(ctx, &buf, fmt.Sprintf("seed-%d", corpusSeed))
	if err != nil {
		st.Close()
		return nil, err
	}
	if res.Rejected != 0 {
		st.Close()
		return nil, fmt.Errorf("%d records rejected: %v", res.Rejected, res.Errors)
	}
	c := &corpus{st: st, calls: storeCalls{st: st, rules: detect.DefaultRules()}}
	for _, cl := range labels.Calls {
		for _, f := range cl.Faults {
			c.faults = append(c.faults, assist.InjectedFault{CallID: cl.CallID, Kind: f.Kind, ParticipantID: f.ParticipantID})
		}
	}
	return c, nil
}

// storeCalls reads calls from a store the way the CLI and the API do.
type storeCalls struct {
	st    store.Store
	rules detect.Rules
}

func (s storeCalls) Overview(ctx context.Context, id string) (model.Call, error) {
	return callview.Overview(ctx, s.st, id, s.rules)
}

func (s storeCalls) Events(ctx context.Context, callID, pid string, from, to time.Time) ([]model.TimelineEvent, error) {
	q := store.TimelineQuery{CallID: callID, ParticipantID: pid, From: from, To: to,
		Kinds: []string{model.KindOperation, model.KindUFD, model.KindJoin, model.KindLeave, model.KindSurvey, model.KindService}}
	var out []model.TimelineEvent
	for {
		tl, err := s.st.Timeline(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, tl.Events...)
		if tl.NextCursor == "" {
			return out, nil
		}
		q.Cursor = tl.NextCursor
	}
}

func (s storeCalls) Search(ctx context.Context, q string, limit int) ([]model.CallSummary, error) {
	page, err := s.st.SearchCalls(ctx, store.CallQuery{Q: q, Limit: limit})
	return page.Calls, err
}
