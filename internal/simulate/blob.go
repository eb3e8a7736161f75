package simulate

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// blobKey names one archive blob: one category of one resource for one
// arrival hour.
type blobKey struct {
	cat  string
	res  int
	hour int64 // hours since the Unix epoch
}

// blob collects the records of one blob in fixed-size chunks (so growing
// a blob never copies it). Records arrive in generation order; each is
// stored behind a small binary header holding its sort key (time, call,
// sequence) and length, so the finished blob can be sorted independently
// of that order.
type blob struct {
	chunks [][]byte
	size   int
	spool  string // spill file, "" until the first spill
}

const (
	firstChunkSize = 16 << 10
	chunkSize      = 1 << 20
)

// blobSink routes records to their blobs and writes each blob, sorted, once
// no more records can arrive for it. Calls are generated in start order
// and no record arrives before its call starts (less a few minutes of
// pre-call operations), so a blob whose hour ends before the current call
// started is complete. If more than maxBuffered bytes are waiting, blobs
// spill to files under a spool directory.
type blobSink struct {
	dir      string
	spoolDir string
	res      [2]resource
	blobs    map[blobKey]*blob
	written  map[blobKey]bool
	buffered int
	spools   int
	free     [][]byte // chunks of written blobs, for reuse
	entries  []entry
	out      *bufio.Writer
}

// entry is one record of a blob being written.
type entry struct {
	ms   int64  // envelope time
	key  uint64 // call index and sequence number
	line []byte
}

const headerSize = 8 + 8 + 4

// maxBuffered bounds the bytes waiting in memory before blobs spill, and
// maxFreeChunks the written chunks kept for reuse (fresh memory costs page
// faults, which dominated writing before chunks were reused).
const (
	maxBuffered   = 512 << 20
	maxFreeChunks = 384
)

func newBlobSink(dir string, res [2]resource) (*blobSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("simulate: create %s: %w", dir, err)
	}
	return &blobSink{dir: dir, res: res, blobs: map[blobKey]*blob{}, written: map[blobKey]bool{}}, nil
}

func (s *blobSink) add(o *outRec) error {
	k := blobKey{o.cat, o.res, o.at.Unix() / 3600}
	if s.written[k] {
		return fmt.Errorf("BUG: simulate: %s record of call %d arrives at %s, after its blob was written", o.cat, o.call, o.at.Format(time.RFC3339))
	}
	s.put(k, o)
	if o.dup {
		k.hour++
		s.put(k, o)
	}
	if s.buffered > maxBuffered {
		for _, b := range s.blobs { // spill order does not reach the output
			if err := s.spill(b); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *blobSink) put(k blobKey, o *outRec) {
	b := s.blobs[k]
	if b == nil {
		b = &blob{}
		s.blobs[k] = b
	}
	need := headerSize + len(o.line)
	last := len(b.chunks) - 1
	if last < 0 || cap(b.chunks[last])-len(b.chunks[last]) < need {
		size := firstChunkSize // most blobs are small: grow chunks up to chunkSize
		if last >= 0 {
			size = min(chunkSize, 2*cap(b.chunks[last]))
		}
		b.chunks = append(b.chunks, s.chunk(size, need))
		last++
	}
	c := b.chunks[last]
	c = binary.LittleEndian.AppendUint64(c, uint64(o.at.UnixMilli()))
	c = binary.LittleEndian.AppendUint64(c, uint64(o.call)<<32|uint64(o.seq))
	c = binary.LittleEndian.AppendUint32(c, uint32(len(o.line)))
	c = append(c, o.line...)
	b.chunks[last] = c
	b.size += need
	s.buffered += need
}

// chunk returns an empty buffer of size bytes, or need if that is larger.
func (s *blobSink) chunk(size, need int) []byte {
	if size == chunkSize && need <= chunkSize && len(s.free) > 0 {
		c := s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		return c[:0]
	}
	return make([]byte, 0, max(need, size))
}

// release keeps a written blob's chunks for reuse, up to a bound.
func (s *blobSink) release(b *blob) {
	for _, c := range b.chunks {
		if cap(c) == chunkSize && len(s.free) < maxFreeChunks {
			s.free = append(s.free, c)
		}
	}
	s.buffered -= b.size
	b.chunks, b.size = nil, 0
}

// preCallLead bounds how long before its call starts a record can arrive
// (client set-up operations are logged up to 90 s before joining).
const preCallLead = 5 * time.Minute

// advance writes every blob that is complete once all calls starting
// before start have been generated.
func (s *blobSink) advance(ctx context.Context, start time.Time) error {
	limit := start.Add(-preCallLead).Unix()/3600 - 1
	return s.flush(ctx, func(k blobKey) bool { return k.hour <= limit })
}

// flush writes the blobs selected by pick in a fixed order.
func (s *blobSink) flush(ctx context.Context, pick func(blobKey) bool) error {
	var keys []blobKey
	for k := range s.blobs {
		if pick(k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b blobKey) int {
		if c := strings.Compare(a.cat, b.cat); c != 0 {
			return c
		}
		if a.res != b.res {
			return a.res - b.res
		}
		return int(a.hour - b.hour)
	})
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		b := s.blobs[k]
		if err := s.writeBlob(k, b); err != nil {
			return err
		}
		s.release(b)
		delete(s.blobs, k)
		s.written[k] = true
	}
	return nil
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

func (s *blobSink) spill(b *blob) error {
	if b.size == 0 {
		return nil
	}
	if s.spoolDir == "" {
		dir, err := os.MkdirTemp(s.dir, ".spool-")
		if err != nil {
			return fmt.Errorf("simulate: create spool: %w", err)
		}
		s.spoolDir = dir
	}
	if b.spool == "" {
		s.spools++
		b.spool = filepath.Join(s.spoolDir, strconv.Itoa(s.spools))
	}
	f, err := os.OpenFile(b.spool, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("simulate: spill: %w", err)
	}
	var werr error
	for _, c := range b.chunks {
		if _, werr = f.Write(c); werr != nil {
			break
		}
	}
	cerr := f.Close()
	if werr != nil || cerr != nil {
		return fmt.Errorf("simulate: spill %s: %w", b.spool, firstErr(werr, cerr))
	}
	s.release(b)
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// finish writes every remaining blob and removes the spool.
func (s *blobSink) finish(ctx context.Context) error {
	if err := s.flush(ctx, func(blobKey) bool { return true }); err != nil {
		return errors.Join(err, s.discard())
	}
	return s.discard()
}

func (s *blobSink) writeBlob(k blobKey, b *blob) error {
	entries := s.entries[:0]
	split := func(data []byte) error {
		for len(data) > 0 {
			if len(data) < headerSize {
				return fmt.Errorf("simulate: blob %s: truncated record header", k.cat)
			}
			n := int(binary.LittleEndian.Uint32(data[16:]))
			if len(data) < headerSize+n {
				return fmt.Errorf("simulate: blob %s: truncated record", k.cat)
			}
			entries = append(entries, entry{
				ms:   int64(binary.LittleEndian.Uint64(data)),
				key:  binary.LittleEndian.Uint64(data[8:]),
				line: data[headerSize : headerSize+n],
			})
			data = data[headerSize+n:]
		}
		return nil
	}
	if b.spool != "" {
		spilled, err := os.ReadFile(b.spool)
		if err != nil {
			return fmt.Errorf("simulate: read spool: %w", err)
		}
		if err := split(spilled); err != nil {
			return err
		}
	}
	for _, c := range b.chunks {
		if err := split(c); err != nil {
			return err
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if a.ms != b.ms {
			return cmp.Compare(a.ms, b.ms)
		}
		return cmp.Compare(a.key, b.key)
	})
	defer func() { s.entries = entries[:0] }()
	path := s.blobPath(k)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("simulate: create blob dir: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("simulate: create blob: %w", err)
	}
	if s.out == nil {
		s.out = bufio.NewWriterSize(f, 256<<10)
	}
	w := s.out
	w.Reset(f)
	for _, e := range entries {
		w.Write(e.line)
		w.WriteByte('\n')
	}
	werr := w.Flush()
	cerr := f.Close()
	if err := firstErr(werr, cerr); err != nil {
		return fmt.Errorf("simulate: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("simulate: rename blob: %w", err)
	}
	return nil
}

// blobPath is where Azure's archive puts the blob.
func (s *blobSink) blobPath(k blobKey) string {
	r := s.res[k.res]
	t := time.Unix(k.hour*3600, 0).UTC()
	return filepath.Join(s.dir, "logs", "insights-logs-"+strings.ToLower(k.cat), "resourceId=",
		"SUBSCRIPTIONS", r.sub, "RESOURCEGROUPS", r.rg, "PROVIDERS", "MICROSOFT.COMMUNICATION",
		"COMMUNICATIONSERVICES", r.name,
		fmt.Sprintf("y=%04d", t.Year()), fmt.Sprintf("m=%02d", int(t.Month())),
		fmt.Sprintf("d=%02d", t.Day()), fmt.Sprintf("h=%02d", t.Hour()), "m=00", "PT1H.json")
}

// discard removes the spool directory.
func (s *blobSink) discard() error {
	if s.spoolDir == "" {
		return nil
	}
	if err := os.RemoveAll(s.spoolDir); err != nil {
		return fmt.Errorf("simulate: remove spool: %w", err)
	}
	return nil
}
