package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// A chunk holds the records of one call from one batch: their raw bytes
// compressed together (records of one call repeat most of their text) and
// a small index of their ids and envelopes. A record's seq is its chunk id
// shifted left by seqShift plus its index in the chunk.
const (
	seqShift    = 20
	maxChunkRaw = 1 << 20
	maxChunkLen = 1 << seqShift
)

func chunkOf(seq int64) (chunk int64, idx int) { return seq >> seqShift, int(seq & (maxChunkLen - 1)) }

// blobRef locates a record: its seq and its raw bytes in the decompressed chunk.
type blobRef struct {
	seq, off, len int64
}

// blobGroup is one chunk being written.
type blobGroup struct {
	id   int64
	cid  int64
	recs []*model.Record
	size int
	meta []byte
	data []byte
}

// compression compresses the chunks of a batch in the background while the
// rows are being inserted.
type compression struct {
	refs   []blobRef
	groups []*blobGroup
	wg     sync.WaitGroup
}

// compressAsync assigns every record a chunk (chunk ids start at next) and
// starts compressing the chunks.
func (db *DB) compressAsync(recs []*model.Record, next int64) *compression {
	c := &compression{refs: make([]blobRef, len(recs))}
	open := make(map[string]*blobGroup)
	for i, r := range recs {
		g := open[r.CallID]
		if g == nil || (g.size > 0 && g.size+len(r.Raw) > maxChunkRaw) || len(g.recs) == maxChunkLen {
			g = &blobGroup{id: next + int64(len(c.groups))}
			c.groups = append(c.groups, g)
			open[r.CallID] = g
		}
		seq := g.id<<seqShift | int64(len(g.recs))
		c.refs[i] = blobRef{seq: seq, off: int64(g.size), len: int64(len(r.Raw))}
		g.recs = append(g.recs, r)
		g.size += len(r.Raw)
	}
	workers := min(len(c.groups), max(1, runtime.GOMAXPROCS(0)-1))
	queue := make(chan *blobGroup, len(c.groups))
	for _, g := range c.groups {
		queue <- g
	}
	close(queue)
	c.wg.Add(workers)
	for range workers {
		go func() {
			defer c.wg.Done()
			// One buffer per worker, kept between appends: a fresh buffer
			// of several megabytes per chunk costs more in page faults
			// than the copy into it.
			buf, _ := db.rawBufs.Get().(*[]byte)
			if buf == nil {
				buf = new([]byte)
			}
			defer db.rawBufs.Put(buf)
			for g := range queue {
				g.data, *buf = db.compress(g, *buf)
			}
		}()
	}
	return c
}

// wait waits for the compression to finish; it may be called more than once.
func (c *compression) wait() {
	c.wg.Wait()
}

// compress packs a chunk's records as one zstd frame, joining them in buf,
// which it returns for reuse. zstd at its fastest level compresses these
// logs about twice as well as DEFLATE at its fastest, and several times
// faster.
func (db *DB) compress(g *blobGroup, buf []byte) (data, raw []byte) {
	raw = buf[:0]
	for _, r := range g.recs {
		raw = append(raw, r.Raw...)
	}
	return zstdEnc.EncodeAll(raw, make([]byte, 0, g.size/8+64)), raw
}

// zstdMagic starts every zstd frame. Chunks written by earlier builds are
// raw DEFLATE streams, which never start with it.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// The zstd encoder and decoder are safe for concurrent EncodeAll and
// DecodeAll calls and are meant to be shared.
var (
	zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// decompressRange returns length bytes at off of a chunk's original
// records.
func decompressRange(data []byte, off, length int64) ([]byte, error) {
	if bytes.HasPrefix(data, zstdMagic) {
		raw, err := zstdDec.DecodeAll(data, nil)
		if err != nil {
			return nil, err
		}
		if off < 0 || length < 0 || off+length > int64(len(raw)) {
			return nil, fmt.Errorf("record at %d+%d is outside its chunk of %d bytes", off, length, len(raw))
		}
		return raw[off : off+length], nil
	}
	zr := flate.NewReader(bytes.NewReader(data))
	defer zr.Close()
	if _, err := io.CopyN(io.Discard, zr, off); err != nil {
		return nil, err
	}
	out := make([]byte, length)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, err
	}
	return out, nil
}

// metaEntry is one record in a chunk's index.
type metaEntry struct {
	id       string
	cat, res int64
	t        int64
	off, len int64
}

func appendMeta(b []byte, e metaEntry) []byte {
	b = binary.AppendUvarint(b, uint64(len(e.id)))
	b = append(b, e.id...)
	b = binary.AppendUvarint(b, uint64(e.cat))
	b = binary.AppendUvarint(b, uint64(e.res))
	b = binary.AppendVarint(b, e.t)
	b = binary.AppendUvarint(b, uint64(e.off))
	return binary.AppendUvarint(b, uint64(e.len))
}

var errBadMeta = errors.New("corrupt chunk index")

// eachMeta calls fn for the entries of a chunk index until it returns false.
func eachMeta(b []byte, fn func(idx int, e metaEntry) bool) error {
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	for idx := 0; len(b) > 0; idx++ {
		var e metaEntry
		n := uv()
		if b == nil || uint64(len(b)) < n {
			return errBadMeta
		}
		e.id, b = string(b[:n]), b[n:]
		e.cat, e.res = int64(uv()), int64(uv())
		t, k := binary.Varint(b)
		if k <= 0 {
			return errBadMeta
		}
		e.t, b = t, b[k:]
		e.off = int64(uv())
		e.len = int64(uv())
		if b == nil {
			return errBadMeta
		}
		if !fn(idx, e) {
			return nil
		}
	}
	return nil
}

// findMeta returns the position of id in a chunk index, or -1; it reads the
// index without allocating, since readers scan many of them.
func findMeta(b []byte, id string) (int, error) {
	for idx := 0; len(b) > 0; idx++ {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return -1, errBadMeta
		}
		if string(b[k:k+int(n)]) == id { // compared without a copy
			return idx, nil
		}
		b = b[k+int(n):]
		// cat, res, t, off, len: all varints (t signed, which does not
		// change its length).
		for range 5 {
			if _, k = binary.Uvarint(b); k <= 0 {
				return -1, errBadMeta
			}
			b = b[k:]
		}
	}
	return -1, nil
}

// metaAt returns entry idx of a chunk index.
func metaAt(meta []byte, idx int) (metaEntry, error) {
	var out metaEntry
	found := false
	err := eachMeta(meta, func(i int, e metaEntry) bool {
		if i == idx {
			out, found = e, true
			return false
		}
		return true
	})
	if err == nil && !found {
		err = errBadMeta
	}
	return out, err
}

// Record returns the original bytes of a stored record, or store.ErrNotFound.
func (db *DB) Record(ctx context.Context, id string) (store.StoredRecord, error) {
	var rec store.StoredRecord
	tx, err := db.readTx(ctx)
	if err != nil {
		return rec, err
	}
	defer tx.Rollback()
	q := func(ctx context.Context, query string, args ...any) interface{ Scan(...any) error } {
		return tx.QueryRowContext(ctx, query, args...)
	}
	seq, ok, err := lookupID(ctx, q, tx.QueryContext, id)
	if err != nil {
		return rec, fmt.Errorf("record %s: %w", id, err)
	}
	if !ok {
		// Not indexed yet: one of the most recent records, or none.
		if seq, ok, err = scanRecentIDs(ctx, tx, id); err != nil {
			return rec, fmt.Errorf("record %s: %w", id, err)
		}
		if !ok {
			return rec, fmt.Errorf("record %s: %w", id, store.ErrNotFound)
		}
	}
	chunk, idx := chunkOf(seq)
	var meta, data []byte
	err = tx.QueryRowContext(ctx, `SELECT coalesce(c.id, ''), k.meta, k.data FROM chunks k
		LEFT JOIN calls c ON c.cid = k.cid WHERE k.id = ?`, chunk).Scan(&rec.CallID, &meta, &data)
	if errors.Is(err, sql.ErrNoRows) {
		// The record's call was removed by retention; its id stays in the
		// index as a tombstone.
		return rec, fmt.Errorf("record %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return rec, fmt.Errorf("record %s: %w", id, err)
	}
	e, err := metaAt(meta, idx)
	if err != nil {
		return rec, fmt.Errorf("record %s: %w", id, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT (SELECT name FROM names WHERE id = ?), (SELECT name FROM names WHERE id = ?)`,
		e.cat, e.res).Scan(&rec.Category, &rec.Resource)
	if err != nil {
		return rec, fmt.Errorf("record %s: names: %w", id, err)
	}
	if rec.Raw, err = decompressRange(data, e.off, e.len); err != nil {
		return rec, fmt.Errorf("record %s: decompress: %w", id, err)
	}
	rec.ID = id
	rec.Time = callfold.FromNS(e.t)
	return rec, nil
}

// scanRecentIDs looks for id among the records not yet in rec_index.
func scanRecentIDs(ctx context.Context, tx *sql.Tx, id string) (int64, bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, meta FROM chunks WHERE id >
		coalesce((SELECT value FROM counters WHERE name = 'index_upto'), 0)`)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var chunk int64
		var meta sql.RawBytes // read in place: this loop may cover many chunks
		if err := rows.Scan(&chunk, &meta); err != nil {
			return 0, false, err
		}
		found, err := findMeta(meta, id)
		if err != nil {
			return 0, false, err
		}
		if found >= 0 {
			return chunk<<seqShift | int64(found), true, nil
		}
	}
	return 0, false, rows.Err()
}
