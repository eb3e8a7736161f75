package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
	"calldiag/internal/web"
)

// bigCallStore ingests one simulated 250-participant call (with its media
// stats) into a fresh store and detects its issues, as ingest does.
func bigCallStore(b *testing.B) (*sqlite.DB, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var buf bytes.Buffer
	cfg := simulate.Config{Calls: 1, Seed: 11, Start: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC), GroupSize: 250}
	if _, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	res, err := pipeline.New(st, pipeline.Options{Detector: st}).Ingest(ctx, &buf, "big")
	if err != nil || len(res.Calls) != 1 {
		b.Fatalf("ingest: %v, calls %v", err, res.Calls)
	}
	return st, res.Calls[0]
}

// benchPage renders one page of the big call per iteration, through the
// handler as a browser would request it.
func benchPage(b *testing.B, path func(id string) string) {
	st, id := bigCallStore(b)
	h, err := web.New(web.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	url := path(id)
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d", url, rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

// BenchmarkTimelinePage250 renders the whole-call timeline of a
// 250-participant call (target: under 300 ms).
func BenchmarkTimelinePage250(b *testing.B) {
	benchPage(b, func(id string) string { return "/calls/" + id + "/timeline" })
}

// BenchmarkOverviewPage250 renders the overview of the same call.
func BenchmarkOverviewPage250(b *testing.B) {
	benchPage(b, func(id string) string { return "/calls/" + id })
}

// BenchmarkIssuesPage250 renders its issues.
func BenchmarkIssuesPage250(b *testing.B) {
	benchPage(b, func(id string) string { return "/calls/" + id + "/issues" })
}
