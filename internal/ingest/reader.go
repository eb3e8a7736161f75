package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/valyala/fastjson"
)

// DefaultMaxRecordBytes is the record size limit used when
// Options.MaxRecordBytes is zero.
const DefaultMaxRecordBytes = 1 << 20

// readBufSize is the size of the reader's one input buffer.
const readBufSize = 64 << 10

// maxInternedKeys bounds the per-reader cache of normalized field names.
const maxInternedKeys = 4096

// Options bound reading. Zero values take defaults.
type Options struct {
	// MaxRecordBytes is the largest record (line, array element, CSV row)
	// accepted; default DefaultMaxRecordBytes. A larger record is reported
	// as a RecordError and skipped without ever being held in memory whole.
	MaxRecordBytes int
	// CSVColumns, when set, are column names (lower-case) of which a CSV
	// header must name at least one; otherwise the input is reported as not
	// recognised instead of being read as CSV rows of unknown meaning.
	CSVColumns []string
	// FirstLine is the line number of the input's first line (default 1),
	// for input that continues a stream read before, such as the new end
	// of a growing file.
	FirstLine int
}

// Reader yields the records of one source, one at a time, whatever shape the
// source has. However large the source, memory use stays within the input
// buffer plus a small multiple of Options.MaxRecordBytes.
//
// A Reader is not safe for concurrent use, but the Items it returns share no
// memory with it or with each other and may be handed to other goroutines.
type Reader struct {
	source string
	opts   Options
	limit  int // largest record kept, in bytes
	src    io.Reader

	buf      []byte
	pos, end int
	eof      bool
	err      error // sticky fatal error
	done     bool
	line     int // line of buf[pos]

	format Format
	csv    bool

	// Whitespace last skipped by skipSpace: whether it crossed a newline and
	// how many bytes followed that newline. bol says the reader stands at the
	// beginning of a line after bolCol bytes of indentation (the start of
	// input, or after resynchronising), so the next skip starts from there.
	wsNL   bool
	wsCol  int
	bol    bool
	bolCol int

	// Capture of the current record: buf[capStart:pos] plus what earlier
	// refills saved into rec. over is set once the record outgrew limit; from
	// then on nothing more is kept.
	capOn    bool
	capStart int
	rec      []byte
	over     bool

	// JSON framing.
	ctx       frameCtx
	sc        scanner
	recLine   int
	topCol    int // indentation of the current top-level value's line
	inDoc     bool
	sawRecord bool // a top-level object was yielded as a record
	contLine  int  // line where the current record array opened
	contCol   int  // indentation of its elements, -1 when unknown
	skipCol   int  // indentation to look for while resynchronising

	// Item construction.
	p, pp   fastjson.Parser
	vs      scanner
	keys    map[string]string
	tmp     []tmpField
	props   []*fastjson.Value
	arena   []byte
	scratch []byte
	unesc   []byte

	// CSV.
	csvs csvState
}

// NewReader sniffs the input and returns a Reader for it. Gzip input (magic
// 1f 8b) is decompressed transparently and sniffed again; a UTF-8 byte order
// mark is skipped, and UTF-16 text with a byte order mark is converted. The
// first non-space byte decides the shape: '[' is a Log Analytics JSON array,
// '{' is JSON — one record per line, {"records":[…]} documents, or a mix —
// and anything else is CSV with a header row. Input that is empty or only
// whitespace is not an error: Next returns io.EOF at once.
//
// source names the input in Items and errors. NewReader reads from r to
// sniff, so it returns an error when that read fails or the gzip header is
// corrupt.
func NewReader(r io.Reader, source string, opts Options) (*Reader, error) {
	limit := opts.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	rd := &Reader{
		source: source,
		opts:   opts,
		limit:  limit,
		src:    r,
		buf:    make([]byte, readBufSize),
		line:   max(opts.FirstLine, 1),
		keys:   make(map[string]string),
	}
	if err := rd.sniff(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Format reports the detected format. It is known once NewReader returns,
// except that JSON starting with '{' reports FormatJSONLines until the first
// Next call shows it is an Event Hub {"records":[…]} document. It is empty
// for empty input.
func (r *Reader) Format() Format { return r.format }

// Next returns the next record, or io.EOF after the last one.
//
// An error that is a *RecordError (check with errors.As) means one record or
// line was bad and was skipped; call Next again. Any other error is fatal for
// this source (an I/O error, corrupt gzip data); Items already returned stay
// valid.
func (r *Reader) Next() (Item, error) {
	if r.err != nil {
		return Item{}, r.err
	}
	if r.done {
		return Item{}, io.EOF
	}
	if r.csv {
		return r.nextCSV()
	}
	return r.nextJSON()
}

// sniff detects compression, encoding and shape and positions the reader on
// the first non-space byte.
func (r *Reader) sniff() error {
	r.ensure(2)
	if r.err != nil {
		return r.err
	}
	if bytes.HasPrefix(r.buf[r.pos:r.end], []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r.rest(0))
		if err != nil {
			return fmt.Errorf("open gzip %s: %w", r.source, err)
		}
		r.restart(zr)
		r.ensure(2)
	}
	switch b := r.buf[r.pos:r.end]; {
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		r.restart(newUTF16Reader(r.rest(2), binary.LittleEndian))
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		r.restart(newUTF16Reader(r.rest(2), binary.BigEndian))
	}
	r.ensure(3)
	if r.err != nil {
		return r.err
	}
	if bytes.HasPrefix(r.buf[r.pos:r.end], []byte("\xef\xbb\xbf")) {
		r.pos += 3
	}
	r.bol = true
	c, ok := r.skipSpace()
	if r.err != nil {
		return r.err
	}
	switch {
	case !ok:
		r.done = true
	case c == '[':
		r.format = FormatLogAnalytics
	case c == '{':
		r.format = FormatJSONLines
	default:
		r.format = FormatCSV
		r.csv = true
	}
	return nil
}

// rest returns the input from skip bytes into the buffer onwards: a copy
// of the buffered bytes followed by the unread source.
func (r *Reader) rest(skip int) io.Reader {
	head := bytes.Clone(r.buf[r.pos+skip : r.end])
	return io.MultiReader(bytes.NewReader(head), r.src)
}

// restart makes src the input, with nothing buffered.
func (r *Reader) restart(src io.Reader) {
	r.src = src
	r.pos, r.end, r.eof = 0, 0, false
}

// ensure reads until at least n bytes are buffered or the input ends. It
// moves buffered bytes, so it must not be used while capturing.
func (r *Reader) ensure(n int) {
	for r.end-r.pos < n && !r.eof && r.err == nil {
		if r.pos > 0 {
			copy(r.buf, r.buf[r.pos:r.end])
			r.end -= r.pos
			r.pos = 0
		}
		m, err := r.read(r.buf[r.end:])
		r.end += m
		r.setReadErr(err)
	}
}

// fill replaces the consumed buffer with new input. It reports false at the
// end of input or on a read error (then r.err is set). The caller must have
// consumed the whole buffer.
func (r *Reader) fill() bool {
	if r.eof || r.err != nil {
		return false
	}
	if r.capOn {
		r.keep(r.end)
	}
	r.pos, r.end = 0, 0
	n, err := r.read(r.buf)
	r.end = n
	r.setReadErr(err)
	return n > 0
}

// read reads into p, retrying reads that return nothing.
func (r *Reader) read(p []byte) (int, error) {
	for range 100 {
		n, err := r.src.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

func (r *Reader) setReadErr(err error) {
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		r.eof = true
	default:
		r.err = fmt.Errorf("read %s: %w", r.source, err)
	}
}

// skipSpace skips JSON whitespace, counting lines, and returns the next byte
// without consuming it. ok is false at the end of input (or on a read error,
// which sets r.err). wsNL and wsCol describe the whitespace skipped.
func (r *Reader) skipSpace() (c byte, ok bool) {
	nl, col := r.bol, r.bolCol
	r.bol, r.bolCol = false, 0
	for {
		for r.pos < r.end {
			c = r.buf[r.pos]
			switch c {
			case '\n':
				r.line++
				nl, col = true, 0
			case ' ', '\t', '\r':
				col++
			default:
				r.wsNL, r.wsCol = nl, col
				return c, true
			}
			r.pos++
		}
		if !r.fill() {
			r.wsNL, r.wsCol = nl, col
			return 0, false
		}
	}
}

// skipLine discards input up to and including the next newline. It reports
// false if the input ended first.
func (r *Reader) skipLine() bool {
	for {
		if i := bytes.IndexByte(r.buf[r.pos:r.end], '\n'); i >= 0 {
			r.pos += i + 1
			r.line++
			return true
		}
		r.pos = r.end
		if !r.fill() {
			return false
		}
	}
}

// indent skips spaces and tabs at the start of a line and returns how many
// there were and the byte after them (not consumed). ok is false at the end
// of input.
func (r *Reader) indent() (n int, c byte, ok bool) {
	for {
		for r.pos < r.end {
			c = r.buf[r.pos]
			if c != ' ' && c != '\t' {
				return n, c, true
			}
			n++
			r.pos++
		}
		if !r.fill() {
			return n, 0, false
		}
	}
}

// startCapture begins keeping the bytes of a record that starts at pos.
func (r *Reader) startCapture() {
	r.capOn = true
	r.capStart = r.pos
	r.rec = r.rec[:0]
	r.over = false
}

// keep saves buf[capStart:upto] into rec before the buffer is reused, or
// marks the record oversize.
func (r *Reader) keep(upto int) {
	seg := r.buf[r.capStart:upto]
	r.capStart = 0
	if r.over {
		return
	}
	if len(r.rec)+len(seg) > r.limit {
		r.over = true
		r.rec = r.rec[:0]
		return
	}
	r.rec = append(r.rec, seg...)
}

// endCapture stops capturing at pos and returns the record's bytes, which
// stay valid until the next read, and whether the record was too large.
func (r *Reader) endCapture() (b []byte, over bool) {
	r.capOn = false
	seg := r.buf[r.capStart:r.pos]
	if r.over || len(r.rec)+len(seg) > r.limit {
		r.rec = r.rec[:0]
		return nil, true
	}
	if len(r.rec) == 0 {
		return seg, false
	}
	r.rec = append(r.rec, seg...)
	return r.rec, false
}

// dropCapture abandons the current capture.
func (r *Reader) dropCapture() {
	r.capOn = false
	r.rec = r.rec[:0]
}

// recordError builds a RecordError for this source.
func (r *Reader) recordError(line int, reason string) *RecordError {
	return &RecordError{Source: r.source, Line: line, Reason: reason}
}

// oversize is the reason given for a record larger than the limit.
func (r *Reader) oversize() string {
	return fmt.Sprintf("record exceeds %d bytes", r.limit)
}
