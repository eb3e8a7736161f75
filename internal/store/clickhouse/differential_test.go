package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

// ingest streams a simulated corpus through the ingest pipeline into st.
func ingest(ctx context.Context, t *testing.T, st store.Store, cfg simulate.Config) pipeline.Result {
	t.Helper()
	var buf bytes.Buffer
	if _, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}); err != nil {
		t.Fatalf("simulate: %v", err)
	}
	res, err := pipeline.New(st, pipeline.Options{}).Ingest(ctx, io.NopCloser(&buf), "simulated")
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(la) && i < len(lb) && la[i] == lb[i] {
		i++
	}
	lo := max(0, i-12)
	return fmt.Sprintf("line %d\nsqlite:\n%s\nclickhouse:\n%s", i+1,
		strings.Join(la[lo:min(len(la), i+4)], "\n"), strings.Join(lb[lo:min(len(lb), i+4)], "\n"))
}

// TestSameAsSQLite ingests one simulated corpus into both stores and
// requires every read to answer the same: the two backends are one product.
func TestSameAsSQLite(t *testing.T) {
	ctx := context.Background()
	ch := openTest(t)
	lite, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	cfg := simulate.Config{Calls: 24, Seed: 777, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	a := ingest(ctx, t, lite, cfg)
	b := ingest(ctx, t, ch, cfg)
	if a.Stored != b.Stored || a.Stored == 0 {
		t.Fatalf("stored %d records in SQLite and %d in ClickHouse", a.Stored, b.Stored)
	}
	same := func(what string, x, y any) {
		t.Helper()
		if jx, jy := jsonOf(t, x), jsonOf(t, y); jx != jy {
			t.Fatalf("%s differs:\n%s", what, firstDiff(jx, jy))
		}
	}
	for _, q := range []store.CallQuery{{Limit: 1000}, {HasIssues: true, Limit: 1000}, {Sort: store.SortDuration, Asc: true, Limit: 7}} {
		pa, err := lite.SearchCalls(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := ch.SearchCalls(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pa.NextCursor, pb.NextCursor = "", ""
		same(fmt.Sprintf("search %+v", q), pa, pb)
	}
	fa, _ := lite.Facets(ctx)
	fb, _ := ch.Facets(ctx)
	same("facets", fa, fb)
	sa, _ := lite.Stats(ctx)
	sb, _ := ch.Stats(ctx)
	sa.LastAppend, sb.LastAppend = time.Time{}, time.Time{}
	same("stats", sa, sb)

	page, err := lite.SearchCalls(ctx, store.CallQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Calls {
		ca, err := lite.Call(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := ch.Call(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		same("call "+c.ID, ca, cb)
		da, _ := lite.Detection(ctx, c.ID)
		db, _ := ch.Detection(ctx, c.ID)
		same("detection "+c.ID, da, db)
		queries := []store.TimelineQuery{{CallID: c.ID, Limit: store.MaxTimelineLimit}}
		if len(ca.Participants) > 0 {
			queries = append(queries, store.TimelineQuery{CallID: c.ID, ParticipantID: ca.Participants[0].ID, Limit: store.MaxTimelineLimit})
		}
		for _, q := range queries {
			ta, err := lite.Timeline(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			tb, err := ch.Timeline(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			ta.NextCursor, tb.NextCursor = "", ""
			same(fmt.Sprintf("timeline %+v", q), ta, tb)
		}
	}
}
