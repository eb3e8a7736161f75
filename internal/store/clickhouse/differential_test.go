package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
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

// TestWritersShareCalls has two processes' stores append the records of
// the same calls at once, as calldiag instances sharing the partitions of
// one Event Hub do: every call must end up as one store given all the
// records sees it.
func TestWritersShareCalls(t *testing.T) {
	ctx := context.Background()
	first := openTest(t)
	second, err := Open(ctx, sameDatabase(t, first), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	lite, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	var lines [][]byte
	cfg := simulate.Config{Calls: 4, Seed: 4242, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Records(cfg, func(_ string, l []byte) error {
		lines = append(lines, append(append([]byte(nil), l...), '\n'))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.New(lite, pipeline.Options{}).Ingest(ctx, bytes.NewReader(bytes.Join(lines, nil)), "all"); err != nil {
		t.Fatal(err)
	}
	// Chunks of the log go to one writer or the other, each writer
	// appending its chunks in turn while the other does.
	const chunk = 150
	errs := make(chan error, 2)
	for w, st := range []*DB{first, second} {
		go func() {
			p := pipeline.New(st, pipeline.Options{})
			for i := w * chunk; i < len(lines); i += 2 * chunk {
				part := bytes.Join(lines[i:min(i+chunk, len(lines))], nil)
				if _, err := p.Ingest(ctx, bytes.NewReader(part), fmt.Sprintf("chunk %d", i/chunk)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	same := func(what string, x, y any) {
		t.Helper()
		if jx, jy := jsonOf(t, x), jsonOf(t, y); jx != jy {
			t.Fatalf("%s differs:\n%s", what, firstDiff(jx, jy))
		}
	}
	want, err := lite.SearchCalls(ctx, store.CallQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Each process reads what both wrote.
	for _, st := range []*DB{first, second} {
		got, err := st.SearchCalls(ctx, store.CallQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		want.NextCursor, got.NextCursor = "", ""
		same("search", want, got)
		for _, c := range want.Calls {
			ca, err := lite.Call(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := st.Call(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			same("call "+c.ID, ca, cb)
			da, _ := lite.Detection(ctx, c.ID)
			db, _ := st.Detection(ctx, c.ID)
			same("detection "+c.ID, da, db)
		}
	}
}

// sameDatabase is the URL of the database db is in.
func sameDatabase(t *testing.T, db *DB) string {
	t.Helper()
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db.name
	return u.String()
}
