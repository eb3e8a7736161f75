package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"calldiag/internal/model"
	"calldiag/internal/store/callfold"
)

// The original bytes of records are kept in chunks: the records of one
// batch that share a resource, call and day (and, for records without a
// call, a client instance and kind, so that expiring unlinked operations
// removes whole chunks) are concatenated and compressed together with zstd
// on the client, up to maxChunkBytes each. A records row names its chunk
// by the batch version and a sequence number, and its bytes by offset and
// length. Records of one call look much alike, so a chunk compresses
// several times better than the server's per-column LZ4 would manage, and
// the server has a tenth of the bytes to sort, write and merge.

// maxChunkBytes bounds a chunk before compression: reading one record
// decompresses its whole chunk.
const maxChunkBytes = 256 << 10

// chunkKey groups the records that may share a chunk.
type chunkKey struct {
	day      time.Time
	resource string
	callID   string
	client   string // records without a call only
	kind     uint8  // records without a call only
}

// rawChunk is one chunk being filled.
type rawChunk struct {
	key  chunkKey
	seq  uint32
	data []byte
}

// rawRef places one record's bytes in a chunk.
type rawRef struct {
	seq      uint32
	off, len uint32
}

// chunkRaws places the original bytes of the records in chunks, in the
// records' order; refs[i] is where fresh[i] went. The records are placed
// first and copied after, so that each chunk is allocated once at its size.
func chunkRaws(fresh []*model.Record) (chunks []*rawChunk, refs []rawRef) {
	refs = make([]rawRef, len(fresh))
	open := make(map[chunkKey]*rawChunk)
	var sizes []int
	for i, r := range fresh {
		k := chunkKey{day: day(callfold.NS(callfold.EventTime(r))), resource: r.Resource, callID: r.CallID}
		if r.CallID == "" {
			k.client, k.kind = clientOf(r), kindOf(r)
		}
		c := open[k]
		if c == nil || (sizes[c.seq] > 0 && sizes[c.seq]+len(r.Raw) > maxChunkBytes) {
			c = &rawChunk{key: k, seq: uint32(len(chunks))}
			chunks = append(chunks, c)
			sizes = append(sizes, 0)
			open[k] = c
		}
		refs[i] = rawRef{seq: c.seq, off: uint32(sizes[c.seq]), len: uint32(len(r.Raw))}
		sizes[c.seq] += len(r.Raw)
	}
	for i, c := range chunks {
		c.data = make([]byte, sizes[i])
	}
	for i, r := range fresh {
		ref := refs[i]
		copy(chunks[ref.seq].data[ref.off:], r.Raw)
	}
	return chunks, refs
}

// newRawCodec makes the chunk encoder and decoder; both are safe for
// concurrent use.
func newRawCodec() (*zstd.Encoder, *zstd.Decoder, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, nil, fmt.Errorf("raw chunk encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		enc.Close()
		return nil, nil, fmt.Errorf("raw chunk decoder: %w", err)
	}
	return enc, dec, nil
}

// insertChunks compresses the chunks and writes them.
func (db *DB) insertChunks(ctx context.Context, chunks []*rawChunk, ver uint64) error {
	if len(chunks) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("raws"))
	if err != nil {
		return fmt.Errorf("insert original records: %w", err)
	}
	defer b.Abort()
	var buf []byte
	for _, c := range chunks {
		buf = db.rawEnc.EncodeAll(c.data, buf[:0])
		err := b.Append(c.key.day, c.key.resource, c.key.callID, c.key.client, c.key.kind, ver, c.seq, buf)
		if err != nil {
			return fmt.Errorf("insert original records: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert original records: %w", err)
	}
	return nil
}

// rawBytes reads the original bytes of a record from its chunk. ok is false
// when the chunk is not stored (a batch cut short before its chunks were
// written, or an expired call).
func (db *DB) rawBytes(ctx context.Context, resource, callID string, ver uint64, ref rawRef) (raw []byte, ok bool, err error) {
	rows, err := db.conn.Query(ctx, "SELECT data FROM "+db.t("raws")+
		" WHERE resource = ? AND call_id = ? AND ver = ? AND seq = ? LIMIT 1", resource, callID, ver, ref.seq)
	if err != nil {
		return nil, false, fmt.Errorf("read original record: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	var z string
	if err := rows.Scan(&z); err != nil {
		return nil, false, fmt.Errorf("read original record: %w", err)
	}
	data, err := db.rawDec.DecodeAll([]byte(z), nil)
	if err != nil {
		return nil, false, fmt.Errorf("read original record: decompress: %w", err)
	}
	end := uint64(ref.off) + uint64(ref.len)
	if end > uint64(len(data)) {
		return nil, false, fmt.Errorf("read original record: chunk of %d bytes has no bytes %d to %d", len(data), ref.off, end)
	}
	return slices.Clone(data[ref.off:end]), true, nil
}
