// Package pipeline runs ingest: it reads sources with package ingest, maps
// each record to the model (ingest/acs), collects the records into batches
// and appends each batch to the store in one transaction, counting and
// reporting every record that could not be read — the good records around a
// bad one always flow on.
//
// It imports ingest, ingest/acs, detect, store and model; it must not import
// api, web, server or cli.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"sync"

	"calldiag/internal/detect"
	"calldiag/internal/ingest"
	"calldiag/internal/ingest/acs"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Appender is the part of the store the pipeline writes to.
type Appender interface {
	Append(ctx context.Context, batch []model.Record) (store.AppendResult, error)
}

// Options tune a Pipeline. Zero values take defaults.
type Options struct {
	// BatchSize is the number of records appended in one transaction
	// (default 2000, or what the store prefers).
	BatchSize int
	// MaxRecordBytes bounds one record (default 1 MiB).
	MaxRecordBytes int
	// Workers is the number of goroutines mapping records to the model
	// (default GOMAXPROCS).
	Workers int
	// MaxErrors caps how many record errors a Result lists (default 1000);
	// the Rejected count keeps counting past it.
	MaxErrors int
	// Progress, when set, is called from time to time with the running
	// totals of the current Ingest call.
	Progress func(Progress)
	// Logger receives one line per ingested source.
	Logger *slog.Logger
	// Detector, when set, re-detects the issues of every call an ingest
	// touched once its records are committed, with the rules in Rules
	// at that moment (nil: the defaults).
	Detector DetectionStore
	Rules    *detect.RuleSet
	// WebRTC names the call and participant of WebRTC dumps, which carry
	// no ids of calldiag's (see webrtcmap.Options).
	WebRTC WebRTCOptions
}

// WebRTCOptions set the call and the participant (the browser that
// recorded it) of every WebRTC dump ingested; empty, they come from the
// dump or its hash.
type WebRTCOptions struct {
	CallID, ParticipantID string
}

// Progress is a running total reported during ingest.
type Progress struct {
	Source  string
	Records int
}

// Result says what an ingest did. Read = Stored + Duplicates +
// UnknownCategory + Rejected.
type Result struct {
	Read            int                  `json:"read"`
	Stored          int                  `json:"stored"`
	Duplicates      int                  `json:"duplicates"`
	UnknownCategory int                  `json:"unknownCategory"`
	Rejected        int                  `json:"rejected"`
	Calls           []string             `json:"calls"`
	Errors          []ingest.RecordError `json:"errors"`
	// ErrorsTruncated is true when more errors occurred than are listed.
	ErrorsTruncated bool `json:"errorsTruncated,omitempty"`
}

// Merge adds o's counts, calls and errors to r.
func (r *Result) Merge(o Result, maxErrors int) {
	r.Read += o.Read
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.UnknownCategory += o.UnknownCategory
	r.Rejected += o.Rejected
	r.Calls = mergeSorted(r.Calls, o.Calls)
	r.ErrorsTruncated = r.ErrorsTruncated || o.ErrorsTruncated
	for _, e := range o.Errors {
		if len(r.Errors) >= maxErrors {
			r.ErrorsTruncated = true
			break
		}
		r.Errors = append(r.Errors, e)
	}
}

// Pipeline ingests sources into a store.
type Pipeline struct {
	app  Appender
	opts Options
	log  *slog.Logger
}

// batchSizer is a store that names the batch size it works best with
// (a column store wants fewer, larger inserts than SQLite).
type batchSizer interface {
	PreferredBatchSize() int
}

// New returns a pipeline that appends to app.
func New(app Appender, opts Options) *Pipeline {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
		if bs, ok := app.(batchSizer); ok && bs.PreferredBatchSize() > 0 {
			opts.BatchSize = bs.PreferredBatchSize()
		}
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = 1 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = 1000
	}
	if opts.Rules == nil {
		opts.Rules = detect.NewRuleSet(detect.DefaultRules())
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{app: app, opts: opts, log: log.With("component", "pipeline")}
}

// IngestPaths ingests files and directories (walked recursively); "-" reads
// stdin. A path that cannot be opened is an error of that source, reported
// in the result like a bad record; the other paths are still ingested.
// Batches span file boundaries, so many small files (hourly blobs) cost no
// more transactions than one large one.
func (p *Pipeline) IngestPaths(ctx context.Context, paths []string, stdin io.Reader) (Result, error) {
	files, err := ingest.Files(paths)
	if err != nil {
		return Result{}, err
	}
	srcs := make([]source, len(files))
	for i, f := range files {
		if f == "-" {
			srcs[i] = source{name: "-", open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }}
			continue
		}
		srcs[i] = source{name: f, open: func() (io.ReadCloser, error) { return os.Open(f) }}
	}
	return p.run(ctx, srcs)
}

// Ingest reads one source to its end and appends its records. The error is
// non-nil only when the store failed or ctx was cancelled; problems with the
// input are reported in the Result.
func (p *Pipeline) Ingest(ctx context.Context, r io.Reader, name string) (Result, error) {
	return p.IngestFrom(ctx, r, name, 1)
}

// IngestDump is Ingest for one upload whose WebRTC dumps belong to the
// call and participant w names (empty fields: the pipeline's options).
func (p *Pipeline) IngestDump(ctx context.Context, r io.Reader, name string, w WebRTCOptions) (Result, error) {
	q := *p
	if w.CallID != "" {
		q.opts.WebRTC.CallID = w.CallID
	}
	if w.ParticipantID != "" {
		q.opts.WebRTC.ParticipantID = w.ParticipantID
	}
	return q.Ingest(ctx, r, name)
}

// IngestFrom is Ingest for input that continues a stream read before:
// its first line is line firstLine of the stream, as errors number it.
func (p *Pipeline) IngestFrom(ctx context.Context, r io.Reader, name string, firstLine int) (Result, error) {
	return p.run(ctx, []source{{name: name, firstLine: firstLine, open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}})
}

// source is one input of a run.
type source struct {
	name      string
	firstLine int // 0: 1
	open      func() (io.ReadCloser, error)
}

// chunk is a slice of items read from a source, or of normalized records.
type chunk struct {
	source  string
	items   []ingest.Item
	records []model.Record
	errs    []ingest.RecordError
}

const chunkSize = 256

// run reads the sources one after the other through three stages — framing,
// mapping to the model (Workers goroutines), batching and appending — so
// that reading, mapping and the store's work overlap.
func (p *Pipeline) run(ctx context.Context, srcs []source) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	res := Result{Calls: []string{}, Errors: []ingest.RecordError{}}
	raw := make(chan chunk, 16)
	normalized := make(chan chunk, 16)
	// readDone carries the framing stage's outcome; it is read only after
	// that stage has returned.
	readDone := make(chan error, 1)

	// Stage 1: frame records, source by source.
	go func() {
		defer close(raw)
		send := func(c chunk) bool {
			select {
			case raw <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, src := range srcs {
			if !p.readSource(ctx, src, send) {
				readDone <- ctx.Err()
				return
			}
		}
		readDone <- nil
	}()

	// Stage 2: map to the model.
	var wg sync.WaitGroup
	for range p.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range raw {
				out := chunk{source: c.source, errs: c.errs, records: append(make([]model.Record, 0, len(c.records)+len(c.items)), c.records...)}
				for i := range c.items {
					rec, err := acs.Normalize(c.items[i])
					if err != nil {
						var re *ingest.RecordError
						if errors.As(err, &re) {
							out.errs = append(out.errs, *re)
						} else {
							out.errs = append(out.errs, ingest.RecordError{Source: c.source, Line: c.items[i].Line, Reason: err.Error()})
						}
						continue
					}
					out.records = append(out.records, rec)
				}
				select {
				case normalized <- out:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(normalized) }()

	// Stage 3: batch and append.
	var errs []ingest.RecordError
	batch := make([]model.Record, 0, p.opts.BatchSize)
	calls := map[string]struct{}{}
	var records int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ar, err := p.app.Append(ctx, batch)
		if err != nil {
			return fmt.Errorf("append batch of %d records: %w", len(batch), err)
		}
		for i := range batch {
			isNew := i >= len(ar.New) || ar.New[i]
			switch {
			case !batch[i].Known:
				res.UnknownCategory++
			case isNew:
				res.Stored++
			default:
				res.Duplicates++
			}
		}
		for _, id := range ar.Calls {
			calls[id] = struct{}{}
		}
		batch = batch[:0]
		return nil
	}
	var appendErr error
	for c := range normalized {
		if appendErr != nil {
			continue // drain
		}
		errs = append(errs, c.errs...)
		res.Rejected += len(c.errs)
		for _, rec := range c.records {
			batch = append(batch, rec)
			if len(batch) >= p.opts.BatchSize {
				if err := flush(); err != nil {
					appendErr = err
					cancel()
					break
				}
			}
		}
		records += len(c.records) + len(c.errs)
		if p.opts.Progress != nil {
			p.opts.Progress(Progress{Source: c.source, Records: records})
		}
	}
	if appendErr == nil {
		appendErr = flush()
	}
	if appendErr != nil {
		cancel()
		<-readDone
		return res, appendErr
	}
	if err := <-readDone; err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	// Errors are listed by source (in the order read), then line.
	order := make(map[string]int, len(srcs))
	for i, s := range srcs {
		if _, ok := order[s.name]; !ok {
			order[s.name] = i
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.Source != b.Source {
			return order[a.Source] < order[b.Source]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Field < b.Field
	})
	if len(errs) > p.opts.MaxErrors {
		errs = errs[:p.opts.MaxErrors]
		res.ErrorsTruncated = true
	}
	res.Errors = append(res.Errors, errs...)
	res.Read = res.Stored + res.Duplicates + res.UnknownCategory + res.Rejected
	for id := range calls {
		res.Calls = append(res.Calls, id)
	}
	sort.Strings(res.Calls)
	if p.opts.Detector != nil {
		if err := Redetect(ctx, p.opts.Detector, res.Calls, p.opts.Rules.Load()); err != nil {
			return res, err
		}
	}
	p.log.Info("ingested", "sources", len(srcs), "read", res.Read, "stored", res.Stored,
		"duplicates", res.Duplicates, "unknown_category", res.UnknownCategory, "rejected", res.Rejected)
	return res, nil
}

// readSource frames one source into chunks handed to send. It reports a
// source that cannot be opened or read as a record error of that source.
// It returns false when the run is cancelled.
func (p *Pipeline) readSource(ctx context.Context, src source, send func(chunk) bool) bool {
	fail := func(line int, err error) bool {
		return send(chunk{source: src.name, errs: []ingest.RecordError{{Source: src.name, Line: line, Reason: err.Error()}}})
	}
	rc, err := src.open()
	if err != nil {
		return fail(0, err)
	}
	defer rc.Close()
	in, dump, err := sniffWebRTC(rc)
	if err != nil {
		return fail(0, err)
	}
	if dump {
		return p.readWebRTC(ctx, src, in, send)
	}
	rd, err := ingest.NewReader(in, src.name, ingest.Options{MaxRecordBytes: p.opts.MaxRecordBytes,
		CSVColumns: acs.CSVColumns(), FirstLine: src.firstLine})
	if err != nil {
		return fail(0, err)
	}
	c := chunk{source: src.name}
	var lastLine, items, bad int
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		var re *ingest.RecordError
		if errors.As(err, &re) {
			c.errs = append(c.errs, *re)
			lastLine = re.Line
			bad++
			continue
		}
		if err != nil {
			// A fatal error of this source: keep what was read and report it.
			c.errs = append(c.errs, ingest.RecordError{Source: src.name, Line: lastLine + 1, Reason: err.Error()})
			bad++
			break
		}
		lastLine = it.Line
		items++
		c.items = append(c.items, it)
		if len(c.items) >= chunkSize {
			if !send(c) {
				return false
			}
			c = chunk{source: src.name}
		}
	}
	if len(c.items) > 0 || len(c.errs) > 0 {
		if !send(c) {
			return false
		}
	}
	p.log.Info("read source", "source", src.name, "format", string(rd.Format()), "records", items, "unreadable", bad)
	return ctx.Err() == nil
}

func mergeSorted(a, b []string) []string {
	if len(b) == 0 {
		if a == nil {
			return []string{}
		}
		return a
	}
	set := make(map[string]struct{}, len(a)+len(b))
	for _, s := range a {
		set[s] = struct{}{}
	}
	for _, s := range b {
		set[s] = struct{}{}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
