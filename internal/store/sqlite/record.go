package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// maxBlobRaw caps the raw bytes packed into one compressed blob, which bounds
// the work of reading back a single record.
const maxBlobRaw = 1 << 20

// blobRef locates a record's raw bytes inside a decompressed blob.
type blobRef struct {
	blob, off, len int64
}

// blobGroup is the raw bytes of one call's records of one batch, compressed
// together because records of one call repeat most of their text.
type blobGroup struct {
	id   int64
	recs []*model.Record
	size int
	data []byte
	err  error
}

// compression compresses the groups of a batch in the background while the
// rows are being inserted.
type compression struct {
	refs   []blobRef
	groups []*blobGroup
	wg     sync.WaitGroup
}

// compressAsync assigns every record a place in a blob (blob ids start at
// nextBlob) and starts compressing the blobs.
func (db *DB) compressAsync(recs []*model.Record, nextBlob int64) *compression {
	c := &compression{refs: make([]blobRef, len(recs))}
	open := make(map[string]*blobGroup)
	for i, r := range recs {
		g := open[r.CallID]
		if g == nil || (g.size > 0 && g.size+len(r.Raw) > maxBlobRaw) {
			g = &blobGroup{id: nextBlob + int64(len(c.groups))}
			c.groups = append(c.groups, g)
			open[r.CallID] = g
		}
		c.refs[i] = blobRef{blob: g.id, off: int64(g.size), len: int64(len(r.Raw))}
		g.recs = append(g.recs, r)
		g.size += len(r.Raw)
	}
	workers := min(len(c.groups), max(1, runtime.GOMAXPROCS(0)-1))
	next := make(chan *blobGroup, len(c.groups))
	for _, g := range c.groups {
		next <- g
	}
	close(next)
	c.wg.Add(workers)
	for range workers {
		go func() {
			defer c.wg.Done()
			for g := range next {
				g.data, g.err = db.deflate(g)
			}
		}()
	}
	return c
}

// wait waits for the compression to finish; it may be called more than once.
func (c *compression) wait() error {
	c.wg.Wait()
	for _, g := range c.groups {
		if g.err != nil {
			return fmt.Errorf("compress records: %w", g.err)
		}
	}
	return nil
}

func (db *DB) deflate(g *blobGroup) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(g.size/4 + 64)
	zw, _ := db.zpool.Get().(*flate.Writer)
	if zw == nil {
		var err error
		if zw, err = flate.NewWriter(&buf, flate.BestSpeed); err != nil {
			return nil, err
		}
	} else {
		zw.Reset(&buf)
	}
	defer db.zpool.Put(zw)
	for _, r := range g.recs {
		if _, err := zw.Write(r.Raw); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Record returns the original bytes of a stored record, or store.ErrNotFound.
func (db *DB) Record(ctx context.Context, id string) (store.StoredRecord, error) {
	var rec store.StoredRecord
	var t, off, n int64
	var blob []byte
	var cat string
	err := db.r.QueryRowContext(ctx, `SELECT nc.name, nr.name, coalesce(c.id, ''), r.t, b.data, r.off, r.len
		FROM records r
		JOIN names nc ON nc.id = r.cat
		JOIN names nr ON nr.id = r.res
		JOIN blobs b ON b.id = r.blob
		LEFT JOIN calls c ON c.cid = r.cid
		WHERE r.id = ?`, id).Scan(&cat, &rec.Resource, &rec.CallID, &t, &blob, &off, &n)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rec, fmt.Errorf("record %s: %w", id, store.ErrNotFound)
	case err != nil:
		if db.isClosed() {
			return rec, errClosed
		}
		return rec, fmt.Errorf("record %s: %w", id, err)
	}
	zr := flate.NewReader(bytes.NewReader(blob))
	defer zr.Close()
	if _, err := io.CopyN(io.Discard, zr, off); err != nil {
		return rec, fmt.Errorf("record %s: decompress: %w", id, err)
	}
	rec.Raw = make([]byte, n)
	if _, err := io.ReadFull(zr, rec.Raw); err != nil {
		return rec, fmt.Errorf("record %s: decompress: %w", id, err)
	}
	rec.ID = id
	rec.Category = model.Category(cat)
	rec.Time = fromNS(t)
	return rec, nil
}
