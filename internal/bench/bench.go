// Package bench measures calldiag on a simulated corpus: ingest throughput
// against a decode-only baseline, freshness over HTTP, search latency, the
// pages of a large call, store size and peak memory. It knows no concrete
// store: the caller passes a Backend that opens one and serves it.
package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
)

// Backend is the store under test and the ways to reach it.
type Backend struct {
	// Name names the store in the report, e.g. "sqlite".
	Name string
	// Open opens a new, empty store in folder dir.
	Open func(ctx context.Context, dir string) (store.Store, error)
	// Size returns the bytes st takes and what holds the original records.
	Size func(ctx context.Context, st store.Store) (Size, error)
	// Serve starts the HTTP server (API and web UI) on st and returns its
	// base URL and a function that stops it.
	Serve func(ctx context.Context, st store.Store) (baseURL string, stop func(), err error)
	// Web returns the web UI handler reading st.
	Web func(st store.Store) (http.Handler, error)
}

// Options say how much to measure.
type Options struct {
	// Quick measures a small corpus: QuickCalls calls plus one large call.
	Quick bool
	// Calls is the number of ordinary calls in the corpus (default
	// QuickCalls with Quick, else DefaultCalls).
	Calls int
	// Runs is how many times each figure is measured; the report gives
	// medians (default 3).
	Runs int
	// Dir is the folder the stores are created in, one subfolder per
	// ingest run; empty means a temporary folder removed at the end.
	Dir string
	// Now gives the current time (default time.Now).
	Now func() time.Time
	// Logger receives progress lines (default: discarded).
	Logger *slog.Logger
	// IngestProfile, when set, receives a CPU profile (pprof format) of
	// the ingest runs, detection included.
	IngestProfile io.Writer
}

// Corpus sizes and fixed seeds.
const (
	QuickCalls     = 40
	DefaultCalls   = 400
	LargeCallSize  = 250
	corpusSeed     = 20260301
	largeCallSeed  = 4
	freshSeed      = 20260400
	freshnessCalls = 5
	decodeWorkers  = 2
)

// Report holds the figures. Times are medians in milliseconds unless
// named otherwise; sizes are bytes.
type Report struct {
	Store   string `json:"store"`
	Calls   int    `json:"calls"`
	Records int    `json:"records"`
	Runs    int    `json:"runs"`

	RawJSONBytes            int64   `json:"rawJsonBytes"`
	IngestRecordsPerSec     float64 `json:"ingestRecordsPerSec"`
	IngestMBPerSec          float64 `json:"ingestMBPerSec"`
	DecodeOnlyRecordsPerSec float64 `json:"decodeOnlyRecordsPerSec"`
	DecodeOnlyMBPerSec      float64 `json:"decodeOnlyMBPerSec"`
	// IngestRatio is ingest over decode-only throughput.
	IngestRatio float64 `json:"ingestRatio"`

	FreshnessMs float64 `json:"freshnessMs"`
	// SourceFreshnessP50Ms and P95Ms time a call from its blob landing in
	// a followed folder until a search finds it.
	SourceFreshnessP50Ms float64 `json:"sourceFreshnessP50Ms"`
	SourceFreshnessP95Ms float64 `json:"sourceFreshnessP95Ms"`

	SearchQueries int     `json:"searchQueries"`
	SearchP50Ms   float64 `json:"searchP50Ms"`
	SearchP95Ms   float64 `json:"searchP95Ms"`

	LargeCallParticipants int     `json:"largeCallParticipants"`
	LargeCallRecords      int     `json:"largeCallRecords"`
	CallDetailMs          float64 `json:"callDetailMs"`
	TimelineMs            float64 `json:"timelineMs"`

	StoreBytes             int64   `json:"storeBytes"`
	StoreBytesPerCall      float64 `json:"storeBytesPerCall"`
	IDIndexBytesPerCall    float64 `json:"idIndexBytesPerCall"`
	RawArchiveBytesPerCall float64 `json:"rawArchiveBytesPerCall"`
	RawJSONBytesPerCall    float64 `json:"rawJsonBytesPerCall"`
	RawGzipBytesPerCall    float64 `json:"rawGzipBytesPerCall"`
	StoreBytesPerMRecords  float64 `json:"storeBytesPerMillionRecords"`

	PeakRSSBytes int64 `json:"peakRSSBytes"`
}

// Size is the bytes a store takes, in parts.
type Size struct {
	// Total is everything: data, indexes, original records.
	Total int64
	// RawArchive holds the original records as they arrived (0 when they
	// cannot be told apart from the rest).
	RawArchive int64
	// IDIndex is the index from record id to original record, which also
	// keeps the archive free of duplicates (0 when it cannot be told
	// apart). Record ids are random 128-bit values, so it takes at least
	// 16 bytes per record however it is stored.
	IDIndex int64
}

// corpus is the generated records as one JSON-lines file.
type corpus struct {
	path       string
	bytes      int64
	gzipBytes  int64
	records    int
	largeCall  string
	largeLines int
}

func (c corpus) open() (*os.File, error) {
	f, err := os.Open(c.path)
	if err != nil {
		return nil, fmt.Errorf("bench: open corpus: %w", err)
	}
	return f, nil
}

// Run builds the corpus and measures every figure on b.
func Run(ctx context.Context, b Backend, opts Options) (Report, error) {
	if opts.Runs <= 0 {
		opts.Runs = 3
	}
	if opts.Calls <= 0 {
		opts.Calls = DefaultCalls
		if opts.Quick {
			opts.Calls = QuickCalls
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := Report{Store: b.Name, Runs: opts.Runs}
	now := opts.Now().UTC().Truncate(time.Second)

	work, err := os.MkdirTemp("", "calldiag-bench-")
	if err != nil {
		return rep, fmt.Errorf("bench: temporary folder: %w", err)
	}
	defer os.RemoveAll(work)
	c, err := buildCorpus(filepath.Join(work, "corpus.jsonl"), opts.Calls, now.Add(-24*time.Hour))
	if err != nil {
		return rep, err
	}
	rep.Records, rep.RawJSONBytes, rep.LargeCallRecords = c.records, c.bytes, c.largeLines
	log.Info("corpus generated", "records", c.records, "bytes", c.bytes, "gzipBytes", c.gzipBytes)

	if err := measureDecode(c, opts.Runs, &rep); err != nil {
		return rep, err
	}
	log.Info("decode-only baseline measured", "recordsPerSec", rep.DecodeOnlyRecordsPerSec)

	dir := opts.Dir
	if dir == "" {
		dir = work
	}
	st, err := measureIngest(ctx, b, c, dir, opts.Runs, opts.Dir == "", opts.IngestProfile, &rep)
	if err != nil {
		return rep, err
	}
	defer st.Close()
	log.Info("ingest measured", "recordsPerSec", rep.IngestRecordsPerSec)

	if err := measureSize(ctx, b, st, c, &rep); err != nil {
		return rep, err
	}
	if err := measureSearch(ctx, st, c, now, opts.Runs, &rep); err != nil {
		return rep, err
	}
	if err := measureLargeCall(ctx, b, st, c, opts.Runs, &rep); err != nil {
		return rep, err
	}
	if err := measureFreshness(ctx, b, st, now, &rep); err != nil {
		return rep, err
	}
	if err := measureSourceFreshness(ctx, st, now, &rep); err != nil {
		return rep, err
	}
	rep.PeakRSSBytes = PeakRSS()
	return rep, nil
}

// buildCorpus writes to path calls ordinary calls starting in the day
// from start, then one call of LargeCallSize participants, and counts the
// bytes they take gzip-compressed.
func buildCorpus(path string, calls int, start time.Time) (c corpus, err error) {
	c.path = path
	f, err := os.Create(path)
	if err != nil {
		return c, fmt.Errorf("bench: create corpus: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("bench: write corpus: %w", cerr)
		}
	}()
	var size, gz countingWriter
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return c, fmt.Errorf("bench: gzip: %w", err)
	}
	w := io.MultiWriter(bw, zw, &size)
	add := func(_ string, line []byte) error {
		if _, err := w.Write(line); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
		c.records++
		return nil
	}
	if _, err := simulate.Records(simulate.Config{Calls: calls, Seed: corpusSeed, Start: start}, add); err != nil {
		return c, fmt.Errorf("bench: simulate corpus: %w", err)
	}
	before := c.records
	labels, err := simulate.Records(simulate.Config{Calls: 1, GroupSize: LargeCallSize, Seed: largeCallSeed, Start: start}, add)
	if err != nil {
		return c, fmt.Errorf("bench: simulate large call: %w", err)
	}
	if len(labels.Calls) != 1 {
		return c, fmt.Errorf("bench: simulate large call: got %d calls", len(labels.Calls))
	}
	if err := zw.Close(); err != nil {
		return c, fmt.Errorf("bench: gzip: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return c, fmt.Errorf("bench: write corpus: %w", err)
	}
	c.largeCall, c.largeLines = labels.Calls[0].CallID, c.records-before
	c.bytes, c.gzipBytes = size.n, gz.n
	return c, nil
}

func measureDecode(c corpus, runs int, rep *Report) error {
	var rates []float64
	for range runs {
		f, err := c.open()
		if err != nil {
			return err
		}
		start := time.Now()
		n, err := DecodeOnly(f, c.bytes, decodeWorkers)
		took := time.Since(start)
		f.Close()
		if err != nil {
			return fmt.Errorf("bench: decode-only baseline: %w", err)
		}
		if n != c.records {
			return fmt.Errorf("bench: decode-only baseline read %d records of %d", n, c.records)
		}
		rates = append(rates, float64(n)/took.Seconds())
	}
	rep.DecodeOnlyRecordsPerSec = Median(rates)
	rep.DecodeOnlyMBPerSec = rep.DecodeOnlyRecordsPerSec * float64(c.bytes) / float64(c.records) / 1e6
	return nil
}

// measureIngest ingests the corpus runs times, each into a new store in a
// subfolder of dir, with detection as `calldiag ingest` runs it, and
// returns the last store, open. Earlier stores are removed when cleanup
// is set.
func measureIngest(ctx context.Context, b Backend, c corpus, dir string, runs int, cleanup bool, profile io.Writer, rep *Report) (store.Store, error) {
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var rates []float64
	var last store.Store
	for i := range runs {
		sub := filepath.Join(dir, fmt.Sprintf("run-%d", i+1))
		if _, err := os.Stat(sub); err == nil {
			return nil, fmt.Errorf("bench: %s already exists; give an empty folder", sub)
		}
		st, err := b.Open(ctx, sub)
		if err != nil {
			return nil, fmt.Errorf("bench: open store: %w", err)
		}
		f, err := c.open()
		if err != nil {
			st.Close()
			return nil, err
		}
		p := pipeline.New(st, pipeline.Options{Detector: st})
		start := time.Now()
		res, err := p.Ingest(ctx, f, "bench corpus")
		took := time.Since(start)
		f.Close()
		if err == nil && (res.Read != c.records || res.Rejected > 0) {
			err = fmt.Errorf("read %d records of %d, %d rejected", res.Read, c.records, res.Rejected)
		}
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("bench: ingest: %w", err)
		}
		rates = append(rates, float64(res.Read)/took.Seconds())
		if i == runs-1 {
			last = st
			break
		}
		if err := st.Close(); err != nil {
			return nil, fmt.Errorf("bench: close store: %w", err)
		}
		if cleanup {
			if err := os.RemoveAll(sub); err != nil {
				return nil, fmt.Errorf("bench: remove store: %w", err)
			}
		}
	}
	rep.IngestRecordsPerSec = Median(rates)
	rep.IngestMBPerSec = rep.IngestRecordsPerSec * float64(c.bytes) / float64(c.records) / 1e6
	if rep.DecodeOnlyRecordsPerSec > 0 {
		rep.IngestRatio = rep.IngestRecordsPerSec / rep.DecodeOnlyRecordsPerSec
	}
	return last, nil
}

func measureSize(ctx context.Context, b Backend, st store.Store, c corpus, rep *Report) error {
	stats, err := st.Stats(ctx)
	if err != nil {
		return fmt.Errorf("bench: store stats: %w", err)
	}
	if stats.Calls == 0 {
		return errors.New("bench: the store holds no calls after ingest")
	}
	rep.Calls = stats.Calls
	size, err := b.Size(ctx, st)
	if err != nil {
		return fmt.Errorf("bench: store size: %w", err)
	}
	calls := float64(stats.Calls)
	normalized := size.Total - size.RawArchive - size.IDIndex
	rep.StoreBytes = size.Total
	rep.StoreBytesPerCall = float64(normalized) / calls
	rep.IDIndexBytesPerCall = float64(size.IDIndex) / calls
	rep.RawArchiveBytesPerCall = float64(size.RawArchive) / calls
	rep.RawJSONBytesPerCall = float64(c.bytes) / calls
	rep.RawGzipBytesPerCall = float64(c.gzipBytes) / calls
	rep.StoreBytesPerMRecords = float64(normalized) / float64(c.records) * 1e6
	return nil
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// searchQueries are the filters people use most, as the search page and
// GET /api/v1/calls send them.
func searchQueries(ctx context.Context, st store.Store, c corpus, now time.Time) ([]store.CallQuery, error) {
	call, err := st.Call(ctx, c.largeCall)
	if err != nil {
		return nil, fmt.Errorf("bench: read large call: %w", err)
	}
	participant := ""
	if len(call.Participants) > 0 {
		participant = call.Participants[len(call.Participants)/2].ID
	}
	kind := detect.Kinds()[0]
	page, err := st.SearchCalls(ctx, store.CallQuery{HasIssues: true, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("bench: search: %w", err)
	}
	if len(page.Calls) > 0 && len(page.Calls[0].IssueKinds) > 0 {
		kind = page.Calls[0].IssueKinds[0]
	}
	since := now.Add(-24 * time.Hour)
	return []store.CallQuery{
		{Since: since},
		{Since: since, HasIssues: true},
		{Since: since, IssueKinds: []string{kind}},
		{Since: since, Quality: "Poor"},
		{Q: participant},
		{Since: since, CallType: "Group"},
		{Since: since, Sort: store.SortDuration},
	}, nil
}

func measureSearch(ctx context.Context, st store.Store, c corpus, now time.Time, runs int, rep *Report) error {
	qs, err := searchQueries(ctx, st, c, now)
	if err != nil {
		return err
	}
	rounds := max(10, 5*runs)
	var lat []float64
	for range rounds {
		for _, q := range qs {
			start := time.Now()
			if _, err := st.SearchCalls(ctx, q); err != nil {
				return fmt.Errorf("bench: search %+v: %w", q, err)
			}
			lat = append(lat, ms(time.Since(start)))
		}
	}
	rep.SearchQueries = len(lat)
	rep.SearchP50Ms = Percentile(lat, 50)
	rep.SearchP95Ms = Percentile(lat, 95)
	return nil
}

// measureLargeCall times the call detail (overview and issues, as the API
// reads them) and the web timeline page of the large call.
func measureLargeCall(ctx context.Context, b Backend, st store.Store, c corpus, runs int, rep *Report) error {
	rules := detect.DefaultRules()
	var detail []float64
	for range runs {
		start := time.Now()
		call, err := callview.Overview(ctx, st, c.largeCall, rules)
		if err != nil {
			return fmt.Errorf("bench: call overview: %w", err)
		}
		if _, err := json.Marshal(call); err != nil {
			return fmt.Errorf("bench: encode overview: %w", err)
		}
		issues, err := callview.Issues(ctx, st, c.largeCall, rules)
		if err != nil {
			return fmt.Errorf("bench: call issues: %w", err)
		}
		if _, err := json.Marshal(issues); err != nil {
			return fmt.Errorf("bench: encode issues: %w", err)
		}
		detail = append(detail, ms(time.Since(start)))
		rep.LargeCallParticipants = len(call.Participants)
	}
	rep.CallDetailMs = Median(detail)

	h, err := b.Web(st)
	if err != nil {
		return fmt.Errorf("bench: web handler: %w", err)
	}
	var page []float64
	for range runs {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/calls/"+url.PathEscape(c.largeCall)+"/timeline", nil)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("bench: timeline page: status %d", rec.Code)
		}
		page = append(page, ms(took))
	}
	rep.TimelineMs = Median(page)
	return nil
}

// measureFreshness posts new small calls to the running server and polls
// search until each shows.
func measureFreshness(ctx context.Context, b Backend, st store.Store, now time.Time, rep *Report) error {
	base, stop, err := b.Serve(ctx, st)
	if err != nil {
		return fmt.Errorf("bench: start server: %w", err)
	}
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second}
	var took []float64
	for i := range freshnessCalls {
		var body bytes.Buffer
		labels, err := simulate.Records(simulate.Config{Calls: 1, Seed: freshSeed + uint64(i), Start: now.Add(-2 * time.Hour)},
			func(_ string, line []byte) error {
				body.Write(line)
				body.WriteByte('\n')
				return nil
			})
		if err != nil {
			return fmt.Errorf("bench: simulate call: %w", err)
		}
		id := labels.Calls[0].CallID
		d, err := freshness(ctx, client, base, id, body.Bytes())
		if err != nil {
			return err
		}
		took = append(took, ms(d))
	}
	rep.FreshnessMs = Median(took)
	return nil
}

// freshness is the time from posting body until a search for callID
// finds it.
func freshness(ctx context.Context, client *http.Client, base, callID string, body []byte) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/ingest?source=bench", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bench: ingest request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench: post ingest: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: post ingest: status %d", resp.StatusCode)
	}
	search := base + "/api/v1/calls?q=" + url.QueryEscape(callID)
	deadline := start.Add(30 * time.Second)
	for time.Now().Before(deadline) {
		found, err := searchFinds(ctx, client, search)
		if err != nil {
			return 0, err
		}
		if found {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("bench: call %s did not show in search within 30 s of its ingest", callID)
}

func searchFinds(ctx context.Context, client *http.Client, u string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, fmt.Errorf("bench: search request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("bench: search: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("bench: search: status %d", resp.StatusCode)
	}
	var page store.CallPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return false, fmt.Errorf("bench: decode search: %w", err)
	}
	return len(page.Calls) > 0, nil
}

// Check is one reported figure beside its target.
type Check struct {
	Figure string
	Value  string
	Target string // empty when the figure has no target
	Met    bool
}

// Checks lists the figures of r with the targets calldiag aims for on a
// 2-core machine with the SQLite store.
func (r Report) Checks() []Check {
	kb := func(b float64) string { return fmt.Sprintf("%.1f KB", b/1e3) }
	return []Check{
		{Figure: "ingest, end to end", Value: fmt.Sprintf("%.0f records/s, %.1f MB/s", r.IngestRecordsPerSec, r.IngestMBPerSec),
			Target: "≥ 100000 records/s", Met: r.IngestRecordsPerSec >= 100000},
		{Figure: "decode-only baseline", Value: fmt.Sprintf("%.0f records/s, %.1f MB/s", r.DecodeOnlyRecordsPerSec, r.DecodeOnlyMBPerSec)},
		{Figure: "ingest / decode-only", Value: fmt.Sprintf("%.0f%%", 100*r.IngestRatio), Target: "≥ 50%", Met: r.IngestRatio >= 0.5},
		{Figure: "freshness (HTTP ingest to search)", Value: fmt.Sprintf("%.0f ms", r.FreshnessMs), Target: "< 1000 ms", Met: r.FreshnessMs < 1000},
		{Figure: "freshness (followed folder to search), p50 / p95", Value: fmt.Sprintf("%.0f / %.0f ms", r.SourceFreshnessP50Ms, r.SourceFreshnessP95Ms),
			Target: "p95 < 2000 ms", Met: r.SourceFreshnessP95Ms < 2000},
		{Figure: fmt.Sprintf("search p50 (%d calls)", r.Calls), Value: fmt.Sprintf("%.1f ms", r.SearchP50Ms)},
		{Figure: fmt.Sprintf("search p95 (%d calls)", r.Calls), Value: fmt.Sprintf("%.1f ms", r.SearchP95Ms),
			Target: "< 50 ms (at 1M calls)", Met: r.SearchP95Ms < 50},
		{Figure: fmt.Sprintf("call detail (%d participants)", r.LargeCallParticipants), Value: fmt.Sprintf("%.0f ms", r.CallDetailMs),
			Target: "< 200 ms", Met: r.CallDetailMs < 200},
		{Figure: fmt.Sprintf("timeline page (%d participants)", r.LargeCallParticipants), Value: fmt.Sprintf("%.0f ms", r.TimelineMs)},
		{Figure: "store per call (normalized data + indexes)", Value: kb(r.StoreBytesPerCall),
			Target: "≤ raw gzip", Met: r.StoreBytesPerCall <= r.RawGzipBytesPerCall},
		{Figure: "record id index per call", Value: kb(r.IDIndexBytesPerCall)},
		{Figure: "raw archive per call", Value: kb(r.RawArchiveBytesPerCall)},
		{Figure: "whole store per call", Value: kb(float64(r.StoreBytes) / float64(max(r.Calls, 1)))},
		{Figure: "raw JSON per call", Value: kb(r.RawJSONBytesPerCall)},
		{Figure: "raw JSON gzip per call", Value: kb(r.RawGzipBytesPerCall)},
		{Figure: "peak memory (RSS)", Value: fmt.Sprintf("%.0f MB", float64(r.PeakRSSBytes)/1e6),
			Target: "< 500 MB", Met: r.PeakRSSBytes < 500e6},
	}
}
