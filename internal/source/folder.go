package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// Ingester ingests one piece of a stream; pipeline.Pipeline is one.
type Ingester interface {
	IngestFrom(ctx context.Context, r io.Reader, name string, firstLine int) (pipeline.Result, error)
}

// Checkpoints keeps a source's checkpoints; the stores implement it.
type Checkpoints interface {
	Checkpoints(ctx context.Context, source string) (map[string]store.Checkpoint, error)
	SaveCheckpoints(ctx context.Context, source string, cps map[string]store.Checkpoint) error
}

// Folder follows a folder holding logs as a Storage account archives them
// (insights-logs-<category>/…/PT1H.json, one record per line, appended to
// during the hour) or any other JSON, CSV or gzip log files: it finds new
// files and files that grew, and ingests only their new complete lines.
type Folder struct {
	// Root is the folder followed.
	Root string
	// Name names the source in checkpoints, logs and status (its URL).
	Name string
	// Poll is the time between two looks at the folder (default 1 s).
	Poll time.Duration
	// Settle is how long a file must stay unchanged before a last line
	// without its newline, or a gzip file, is read (default 10 s): a
	// writer may still be adding to it.
	Settle time.Duration
	// Segment caps the bytes read into memory at once (default 8 MiB);
	// a file that grew more is read in several segments, each committed
	// and checkpointed before the next.
	Segment int64

	Ingest      Ingester
	Checkpoints Checkpoints
	Status      *Status
	Logger      *slog.Logger
	// Now gives the time (default time.Now).
	Now func() time.Time

	cps map[string]store.Checkpoint // loaded at the first pass
}

func (f *Folder) defaults() {
	if f.Poll <= 0 {
		f.Poll = time.Second
	}
	if f.Settle <= 0 {
		f.Settle = 10 * time.Second
	}
	if f.Segment <= 0 {
		f.Segment = 8 << 20
	}
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if f.Now == nil {
		f.Now = time.Now
	}
	if f.Status == nil {
		f.Status = NewStatus(f.Name, "dir")
	}
}

// Run follows the folder until ctx ends. A pass that fails (the folder is
// missing, the store refuses a batch) is retried with a growing pause;
// Status tells why meanwhile.
func (f *Folder) Run(ctx context.Context) error {
	f.defaults()
	backoff := f.Poll
	for {
		err := f.Pass(ctx)
		wait := f.Poll
		switch {
		case ctx.Err() != nil:
			f.Status.update(func(s *Snapshot) { s.State = "stopped" })
			return nil
		case err != nil:
			f.Status.fail(err, f.Now())
			f.Logger.Warn("source pass failed", "source", f.Name, "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, time.Minute)
		default:
			backoff = f.Poll
		}
		select {
		case <-ctx.Done():
			f.Status.update(func(s *Snapshot) { s.State = "stopped" })
			return nil
		case <-time.After(wait):
		}
	}
}

// Pass looks at the folder once and ingests what is new.
func (f *Folder) Pass(ctx context.Context) error {
	f.defaults()
	if f.cps == nil {
		cps, err := f.Checkpoints.Checkpoints(ctx, f.Name)
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if cps == nil {
			cps = map[string]store.Checkpoint{}
		}
		f.cps = cps
	}
	info, err := os.Stat(f.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("folder %s does not exist", f.Root)
	}
	if err != nil {
		return fmt.Errorf("folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("folder %s: not a folder", f.Root)
	}
	files, err := ingest.Files([]string{f.Root})
	if err != nil {
		return err
	}
	now := f.Now()
	var lagBytes int64
	var oldest time.Time
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil
		}
		behind, since, err := f.follow(ctx, path, now)
		if err != nil {
			return err
		}
		if behind > 0 {
			lagBytes += behind
			if oldest.IsZero() || since.Before(oldest) {
				oldest = since
			}
		}
	}
	f.Status.update(func(s *Snapshot) {
		s.State, s.LastError, s.Streams, s.LagBytes = "following", "", len(files), lagBytes
		s.LagSeconds = 0
		if !oldest.IsZero() {
			s.LagSeconds = now.Sub(oldest).Seconds()
		}
	})
	return nil
}

// follow ingests what is new in one file and returns the bytes left
// unread, with the time the file last changed.
func (f *Folder) follow(ctx context.Context, path string, now time.Time) (int64, time.Time, error) {
	rel, err := filepath.Rel(f.Root, path)
	if err != nil {
		rel = path
	}
	key := filepath.ToSlash(rel)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, time.Time{}, nil // gone since the listing
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("file %s: %w", key, err)
	}
	cp, seen := f.cps[key]
	tag := fileTag(fi)
	size := fi.Size()
	if seen && (size < cp.Offset || (cp.Tag != "" && tag != "" && cp.Tag != tag)) {
		f.Logger.Info("file replaced or truncated; reading it again from the start", "source", f.Name, "file", key,
			"size", size, "checkpoint", cp.Offset)
		cp = store.Checkpoint{}
	}
	cp.Tag = tag
	settled := now.Sub(fi.ModTime()) >= f.Settle
	if isGzip(path) {
		// A compressed file is read whole once it has stopped changing.
		if cp.Offset == size || !settled {
			return size - cp.Offset, fi.ModTime(), nil
		}
		if err := f.ingestWhole(ctx, path, key, size, cp); err != nil {
			return 0, time.Time{}, err
		}
		return 0, time.Time{}, nil
	}
	for cp.Offset < size {
		next, err := f.segment(ctx, path, key, size, settled, cp)
		if err != nil {
			return 0, time.Time{}, err
		}
		if next.Offset == cp.Offset {
			break // only an unfinished last line is left
		}
		cp = next
	}
	return size - cp.Offset, fi.ModTime(), nil
}

// segment reads the complete lines after cp, at most Segment bytes of
// them, ingests them and saves the checkpoint after them.
func (f *Folder) segment(ctx context.Context, path, key string, size int64, settled bool, cp store.Checkpoint) (store.Checkpoint, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cp, nil
	}
	if err != nil {
		return cp, fmt.Errorf("file %s: %w", key, err)
	}
	defer file.Close()
	n := min(size-cp.Offset, f.Segment)
	buf := make([]byte, n)
	got, err := file.ReadAt(buf, cp.Offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return cp, fmt.Errorf("file %s: %w", key, err)
	}
	buf = buf[:got]
	end := bytes.LastIndexByte(buf, '\n') + 1
	last := cp.Offset+int64(got) == size
	switch {
	case end > 0:
	case last && settled && len(buf) > 0:
		// The file ends without a newline and has stopped changing: its
		// last line is complete.
		end = len(buf)
	case int64(got) == f.Segment:
		// One line longer than a segment: read it whole; the reader turns
		// away a record longer than its limit.
		return f.longLine(ctx, file, key, size, settled, cp)
	default:
		return cp, nil
	}
	return f.commit(ctx, bytes.NewReader(buf[:end]), key, cp, int64(end), bytes.Count(buf[:end], []byte{'\n'}))
}

// longLine ingests a line longer than a segment, streaming it from the
// file.
func (f *Folder) longLine(ctx context.Context, file *os.File, key string, size int64, settled bool, cp store.Checkpoint) (store.Checkpoint, error) {
	// Find the line's end without holding it.
	end := int64(-1)
	chunk := make([]byte, 64<<10)
	for off := cp.Offset; off < size; {
		got, err := file.ReadAt(chunk[:min(int64(len(chunk)), size-off)], off)
		if i := bytes.IndexByte(chunk[:got], '\n'); i >= 0 {
			end = off + int64(i) + 1
			break
		}
		off += int64(got)
		if err != nil {
			break
		}
	}
	if end < 0 {
		if !settled {
			return cp, nil
		}
		end = size
	}
	return f.commit(ctx, io.NewSectionReader(file, cp.Offset, end-cp.Offset), key, cp, end-cp.Offset, 1)
}

// ingestWhole ingests a whole (compressed) file.
func (f *Folder) ingestWhole(ctx context.Context, path, key string, size int64, cp store.Checkpoint) error {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("file %s: %w", key, err)
	}
	defer file.Close()
	cp.Offset, cp.Line = 0, 0
	_, err = f.commit(ctx, io.LimitReader(file, size), key, cp, size, 0)
	return err
}

// commit ingests r, the n bytes and lines lines after cp, and saves the
// checkpoint after them once the store has them.
func (f *Folder) commit(ctx context.Context, r io.Reader, key string, cp store.Checkpoint, n int64, lines int) (store.Checkpoint, error) {
	res, err := f.Ingest.IngestFrom(ctx, r, key, cp.Line+1)
	if err != nil {
		return cp, fmt.Errorf("ingest %s from line %d: %w", key, cp.Line+1, err)
	}
	for _, e := range res.Errors {
		f.Logger.Warn("record rejected", "source", f.Name, "file", e.Source, "line", e.Line, "field", e.Field, "reason", e.Reason)
	}
	now := f.Now()
	f.Status.update(func(s *Snapshot) {
		s.Records += int64(res.Read)
		s.Stored += int64(res.Stored)
		s.Duplicates += int64(res.Duplicates)
		s.Rejected += int64(res.Rejected)
		if res.Read > 0 {
			s.LastRead = now
		}
	})
	next := cp
	next.Offset += n
	next.Line += lines
	next.Updated = now
	// The records are stored: save where they end even when the source is
	// being stopped, so that a restart does not read them again.
	if err := f.Checkpoints.SaveCheckpoints(context.WithoutCancel(ctx), f.Name, map[string]store.Checkpoint{key: next}); err != nil {
		return cp, fmt.Errorf("save checkpoint of %s: %w", key, err)
	}
	f.cps[key] = next
	return next, nil
}

func isGzip(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".gz")
}
