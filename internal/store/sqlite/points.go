package sqlite

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
)

// minuteNS is the span of time one packed row of points covers.
const minuteNS = int64(60e9)

// point is one media-stats sample as stored in a packed row.
type point struct {
	t, h, seq, sid int64
	value          float64
}

// minuteOf returns the minute (floor of t / 60 s) a point is packed under.
func minuteOf(t int64) int64 {
	m := t / minuteNS
	if t%minuteNS < 0 {
		m--
	}
	return m
}

// comparePoints orders points by time, then hash of record id, then seq.
func comparePoints(a, b point) int {
	switch {
	case a.t != b.t:
		return cmpInt(a.t, b.t)
	case a.h != b.h:
		return cmpInt(a.h, b.h)
	}
	return cmpInt(a.seq, b.seq)
}

// idHash is the 64-bit hash of a record id that orders points of the same
// time.
func idHash(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64())
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// encodePoints packs points of one minute (already sorted).
func encodePoints(ps []point, minute int64) []byte {
	b := make([]byte, 0, len(ps)*28)
	base := minute * minuteNS
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.t-base))
		b = binary.LittleEndian.AppendUint64(b, uint64(p.h))
		b = binary.AppendUvarint(b, uint64(p.seq))
		b = binary.AppendUvarint(b, uint64(p.sid))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.value))
	}
	return b
}

var errBadPoints = errors.New("corrupt points row")

// decodePoints calls fn for every point of a packed row.
func decodePoints(b []byte, minute int64, fn func(point)) error {
	base := minute * minuteNS
	for len(b) > 0 {
		var p point
		dt, n := binary.Uvarint(b)
		if n <= 0 || len(b) < n+8 {
			return errBadPoints
		}
		p.t = base + int64(dt)
		p.h = int64(binary.LittleEndian.Uint64(b[n:]))
		b = b[n+8:]
		seq, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadPoints
		}
		b = b[n:]
		sid, n := binary.Uvarint(b)
		if n <= 0 || len(b) < n+8 {
			return errBadPoints
		}
		p.seq, p.sid = int64(seq), int64(sid)
		p.value = math.Float64frombits(binary.LittleEndian.Uint64(b[n:]))
		b = b[n+8:]
		fn(p)
	}
	return nil
}
