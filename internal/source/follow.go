package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"calldiag/internal/store"
)

// stream is one file or blob as a listing of its place shows it.
type stream struct {
	// key names the stream within its place ('/'-separated); checkpoints
	// and rejected records are keyed by it.
	key string
	// size is its length in bytes, modified when it last changed.
	size     int64
	modified time.Time
	// tag identifies its content: a stream replaced under the same key has
	// another (empty when the place cannot tell).
	tag string
}

// place holds streams that grow: a folder or a blob container.
type place interface {
	// list returns the streams there are now, in the order to read them.
	// A place that is missing or refuses to be listed is an error that
	// says so.
	list(ctx context.Context) ([]stream, error)
	// open returns a reader of the bytes [off, off+n) of s, fewer if s
	// has shrunk since it was listed. It returns errGone when s has been
	// removed or replaced since.
	open(ctx context.Context, s stream, off, n int64) (io.ReadCloser, error)
}

// errGone tells that a stream was removed or replaced after it was listed:
// the next listing tells what is there now.
var errGone = errors.New("stream removed or replaced since it was listed")

// tail is the follow-and-checkpoint logic Folder and Blob share: at each
// pass it lists the place, and for every stream that is new or grew it
// ingests the complete lines after the stream's checkpoint, in segments,
// saving the checkpoint after each segment once the store has its records.
type tail struct {
	name        string
	settle      time.Duration
	segment     int64
	ingest      Ingester
	checkpoints Checkpoints
	status      *Status
	logger      *slog.Logger
	now         func() time.Time
	place       place

	cps map[string]store.Checkpoint // loaded at the first pass
}

// pass lists the place once and ingests what is new.
func (t *tail) pass(ctx context.Context) error {
	if t.cps == nil {
		cps, err := t.checkpoints.Checkpoints(ctx, t.name)
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if cps == nil {
			cps = map[string]store.Checkpoint{}
		}
		t.cps = cps
	}
	streams, err := t.place.list(ctx)
	if err != nil {
		return err
	}
	now := t.now()
	var lagBytes int64
	var oldest time.Time
	for _, s := range streams {
		if err := ctx.Err(); err != nil {
			return nil
		}
		behind, err := t.follow(ctx, s, now)
		if err != nil {
			return err
		}
		if behind > 0 {
			lagBytes += behind
			if oldest.IsZero() || s.modified.Before(oldest) {
				oldest = s.modified
			}
		}
	}
	t.status.update(func(st *Snapshot) {
		st.State, st.LastError, st.Streams, st.LagBytes = "following", "", len(streams), lagBytes
		st.LagSeconds = 0
		if !oldest.IsZero() {
			st.LagSeconds = max(now.Sub(oldest).Seconds(), 0)
		}
	})
	return nil
}

// follow ingests what is new in one stream and returns the bytes of it
// left unread.
func (t *tail) follow(ctx context.Context, s stream, now time.Time) (int64, error) {
	cp, seen := t.cps[s.key]
	if seen && (s.size < cp.Offset || (cp.Tag != "" && s.tag != "" && cp.Tag != s.tag)) {
		t.logger.Info("stream replaced or truncated; reading it again from the start", "source", t.name, "stream", s.key,
			"size", s.size, "checkpoint", cp.Offset)
		cp = store.Checkpoint{}
	}
	cp.Tag = s.tag
	settled := now.Sub(s.modified) >= t.settle
	if isGzip(s.key) {
		// A compressed stream is read whole once it has stopped changing.
		if cp.Offset == s.size || !settled {
			return s.size - cp.Offset, nil
		}
		if err := t.ingestWhole(ctx, s, cp); err != nil {
			return 0, err
		}
		return 0, nil
	}
	for cp.Offset < s.size {
		next, err := t.segmentAfter(ctx, s, settled, cp)
		if errors.Is(err, errGone) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if next.Offset == cp.Offset {
			break // only an unfinished last line is left
		}
		cp = next
	}
	return s.size - cp.Offset, nil
}

// segmentAfter reads the complete lines after cp, at most a segment of
// them, ingests them and saves the checkpoint after them.
func (t *tail) segmentAfter(ctx context.Context, s stream, settled bool, cp store.Checkpoint) (store.Checkpoint, error) {
	n := min(s.size-cp.Offset, t.segment)
	r, err := t.place.open(ctx, s, cp.Offset, n)
	if err != nil {
		return cp, err
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(r, buf)
	r.Close()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return cp, fmt.Errorf("read %s: %w", s.key, err)
	}
	buf = buf[:got]
	end := bytes.LastIndexByte(buf, '\n') + 1
	last := cp.Offset+int64(got) == s.size
	switch {
	case end > 0:
	case last && settled && len(buf) > 0:
		// The stream ends without a newline and has stopped changing: its
		// last line is complete.
		end = len(buf)
	case int64(got) == t.segment:
		// One line longer than a segment: read it whole; the reader turns
		// away a record longer than its limit.
		return t.longLine(ctx, s, settled, cp)
	default:
		return cp, nil
	}
	return t.commit(ctx, bytes.NewReader(buf[:end]), s.key, cp, int64(end), bytes.Count(buf[:end], []byte{'\n'}))
}

// longLine ingests a line longer than a segment, streaming it.
func (t *tail) longLine(ctx context.Context, s stream, settled bool, cp store.Checkpoint) (store.Checkpoint, error) {
	// Find the line's end without holding it.
	r, err := t.place.open(ctx, s, cp.Offset, s.size-cp.Offset)
	if err != nil {
		return cp, err
	}
	end := int64(-1)
	br := bufio.NewReaderSize(r, 64<<10)
	var off int64
	for {
		chunk, err := br.ReadSlice('\n')
		off += int64(len(chunk))
		if err == nil {
			end = cp.Offset + off
			break
		}
		if errors.Is(err, io.EOF) {
			break // no newline up to the end of what was listed
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			r.Close()
			return cp, fmt.Errorf("read %s: %w", s.key, err)
		}
	}
	r.Close()
	if end < 0 {
		if !settled {
			return cp, nil
		}
		end = s.size
	}
	r, err = t.place.open(ctx, s, cp.Offset, end-cp.Offset)
	if err != nil {
		return cp, err
	}
	defer r.Close()
	return t.commit(ctx, r, s.key, cp, end-cp.Offset, 1)
}

// ingestWhole ingests a whole (compressed) stream.
func (t *tail) ingestWhole(ctx context.Context, s stream, cp store.Checkpoint) error {
	r, err := t.place.open(ctx, s, 0, s.size)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	cp.Offset, cp.Line = 0, 0
	_, err = t.commit(ctx, r, s.key, cp, s.size, 0)
	return err
}

// commit ingests r, the n bytes and lines lines after cp, and saves the
// checkpoint after them once the store has them.
func (t *tail) commit(ctx context.Context, r io.Reader, key string, cp store.Checkpoint, n int64, lines int) (store.Checkpoint, error) {
	res, err := t.ingest.IngestFrom(ctx, r, key, cp.Line+1)
	if err != nil {
		return cp, fmt.Errorf("ingest %s from line %d: %w", key, cp.Line+1, err)
	}
	for _, e := range res.Errors {
		t.logger.Warn("record rejected", "source", t.name, "stream", e.Source, "line", e.Line, "field", e.Field, "reason", e.Reason)
	}
	now := t.now()
	t.status.ingested(res, now)
	next := cp
	next.Offset += n
	next.Line += lines
	next.Updated = now
	// The records are stored: save where they end even when the source is
	// being stopped, so that a restart does not read them again.
	if err := t.checkpoints.SaveCheckpoints(context.WithoutCancel(ctx), t.name, map[string]store.Checkpoint{key: next}); err != nil {
		return cp, fmt.Errorf("save checkpoint of %s: %w", key, err)
	}
	t.cps[key] = next
	return next, nil
}

// runPasses runs pass every poll until ctx ends. A pass that fails is
// retried with a pause that doubles up to a minute; status tells why
// meanwhile.
func runPasses(ctx context.Context, poll time.Duration, pass func(context.Context) error, status *Status,
	logger *slog.Logger, now func() time.Time, name string) error {
	backoff := poll
	for {
		err := pass(ctx)
		wait := poll
		switch {
		case ctx.Err() != nil:
			status.update(func(s *Snapshot) { s.State = "stopped" })
			return nil
		case err != nil:
			status.fail(err, now())
			logger.Warn("source pass failed", "source", name, "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, time.Minute)
		default:
			backoff = poll
		}
		select {
		case <-ctx.Done():
			status.update(func(s *Snapshot) { s.State = "stopped" })
			return nil
		case <-time.After(wait):
		}
	}
}

func isGzip(name string) bool {
	return strings.EqualFold(path.Ext(name), ".gz")
}
