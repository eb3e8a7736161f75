package clickhouse

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
)

// collector keeps the records the pipeline hands it.
type collector struct{ recs []model.Record }

func (c *collector) Append(_ context.Context, batch []model.Record) (store.AppendResult, error) {
	c.recs = append(c.recs, batch...)
	return store.AppendResult{New: make([]bool, len(batch)), Calls: []string{}}, nil
}

// TestMemoryPointsMatchStored requires the writer's timeline, answered from
// the points it keeps in memory, to page exactly as a fresh handle on the
// same database does from the points table: every page size, cursor,
// participant, kind and time window.
func TestMemoryPointsMatchStored(t *testing.T) {
	ctx := context.Background()
	writer := openTest(t)
	var buf bytes.Buffer
	if _, err := simulate.Records(simulate.Config{Calls: 3, Seed: 31, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		func(_ string, line []byte) error { buf.Write(line); buf.WriteByte('\n'); return nil }); err != nil {
		t.Fatal(err)
	}
	var c collector
	if _, err := pipeline.New(&c, pipeline.Options{}).Ingest(ctx, io.NopCloser(&buf), "sim"); err != nil {
		t.Fatal(err)
	}
	// Copies of some samples under other ids: points alike in everything
	// but the record they came from, and points of the same time and
	// series that differ in value only.
	var twins []model.Record
	for i, r := range c.recs {
		if r.Sample == nil || i%7 != 0 {
			continue
		}
		r.ID += "-twin"
		twins = append(twins, r)
		if r.Sample.Average != nil {
			s := *r.Sample
			v := *s.Average - 1
			s.Average = &v
			r.ID += "-lower"
			r.Sample = &s
			twins = append(twins, r)
		}
	}
	// Two batches, so that the kept points are merged once.
	half := len(c.recs) / 2
	for _, b := range [][]model.Record{c.recs[:half], append(c.recs[half:], twins...)} {
		if _, err := writer.Append(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + writer.name
	reader, err := Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	page, err := writer.SearchCalls(ctx, store.CallQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) == 0 {
		t.Fatal("no calls stored")
	}
	kept := 0
	for _, cs := range page.Calls {
		h, err := writer.head(ctx, cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := writer.viewCache.pointsAt(cs.ID, h.ver); ok {
			kept++
		}
		call, err := writer.Call(ctx, cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		mid := cs.StartTime.Add(cs.EndTime.Sub(cs.StartTime) / 2)
		queries := []store.TimelineQuery{
			{CallID: cs.ID, Limit: store.MaxTimelineLimit},
			{CallID: cs.ID, Limit: 997},
			{CallID: cs.ID, Limit: 331, Kinds: []string{model.KindMetric}},
			{CallID: cs.ID, Limit: 50, From: mid},
			{CallID: cs.ID, Limit: 50, To: mid},
		}
		for _, p := range call.Participants {
			queries = append(queries, store.TimelineQuery{CallID: cs.ID, Limit: 400, ParticipantID: p.ID})
		}
		for _, q := range queries {
			for pages := 0; ; pages++ {
				a, err := writer.Timeline(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				b, err := reader.Timeline(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if ja, jb := jsonOf(t, a), jsonOf(t, b); ja != jb {
					t.Fatalf("call %s, query %+v, page %d: memory and table differ:\n%s", cs.ID, q, pages, firstDiff(jb, ja))
				}
				if a.NextCursor == "" || pages > 1000 {
					break
				}
				q.Cursor = a.NextCursor
			}
		}
	}
	if kept == 0 {
		t.Fatal("the writer kept the points of no call: the test compared the table with itself")
	}
}
