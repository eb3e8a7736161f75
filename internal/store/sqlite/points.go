package sqlite

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// minuteNS is the span of time one packed row of points covers.
const minuteNS = int64(60e9)

// point is one media-stats sample: its time, series and value. seq, the
// sequence number of its record, is known only while the point is written;
// rank, the place of its series in series-key order, only while it is read.
type point struct {
	t, sid, seq int64
	rank        int
	value       float64
}

// minuteOf returns the minute (floor of t / 60 s) a point is packed under.
func minuteOf(t int64) int64 {
	m := t / minuteNS
	if t%minuteNS < 0 {
		m--
	}
	return m
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

// Packed rows of points (schema version 2) hold the points of one call,
// minute and batch, sorted by time and series, as columns: a header byte
// (pointsPlain or pointsZstd: the rest is one zstd frame), the point count,
// then per point the time as a delta from the previous one (the first from
// the minute's start), the series id, a value exponent byte and the value's
// mantissa. A value v whose shortest decimal form is m × 10^e, with
// |m| < 2^53 and |e| ≤ 22, is stored as exponent byte e+valueBias and m as
// a zigzag varint: such a value is rebuilt exactly by one multiplication or
// division of two exactly representable numbers. Any other value stores
// rawValue and its 8 IEEE-754 bytes. Media statistics are short decimals
// (a jitter of 0.012, a bitrate of 34150), so most values take two to four
// bytes before compression, where their float64 bits would take eight.
const (
	pointsPlain = 1
	pointsZstd  = 2
	rawValue    = 0xff
	valueBias   = 64
	// zstdFloor is the packed size under which compression is not tried.
	zstdFloor = 64
)

// pow10 holds the exactly representable powers of ten.
var pow10 = [23]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// decimalOf returns v as m × 10^e with the fewest digits, when v can be
// rebuilt exactly from such a pair by one float64 operation.
func decimalOf(v float64, buf []byte) (m int64, e int, ok bool) {
	if v == 0 {
		return 0, 0, !math.Signbit(v)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, 0, false
	}
	s := strconv.AppendFloat(buf[:0], v, 'e', -1, 64) // -d.ddde±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	digits := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] == '.' {
			continue
		}
		if digits == 17 {
			return 0, 0, false
		}
		m = m*10 + int64(s[i]-'0')
		digits++
	}
	exp, err := strconv.Atoi(string(s[i+1:]))
	if err != nil {
		return 0, 0, false
	}
	e = exp - (digits - 1)
	if m >= 1<<53 || e < -22 || e > 22 {
		return 0, 0, false
	}
	if neg {
		m = -m
	}
	if fromDecimal(m, e) != v {
		return 0, 0, false
	}
	return m, e, true
}

// fromDecimal is m × 10^e for |m| < 2^53 and |e| ≤ 22.
func fromDecimal(m int64, e int) float64 {
	if e >= 0 {
		return float64(m) * pow10[e]
	}
	return float64(m) / pow10[-e]
}

// comparePacked orders points for storage: by time, then series, then
// the bits of the value.
func comparePacked(a, b point) int {
	if a.t != b.t {
		return cmpInt(a.t, b.t)
	}
	if a.sid != b.sid {
		return cmpInt(a.sid, b.sid)
	}
	return cmp.Compare(math.Float64bits(a.value), math.Float64bits(b.value))
}

// encodePoints packs points of one minute, sorting them first.
func encodePoints(ps []point, minute int64) []byte {
	slices.SortFunc(ps, comparePacked)
	b := make([]byte, 1, 8+len(ps)*6)
	b[0] = pointsPlain
	b = binary.AppendUvarint(b, uint64(len(ps)))
	prev := minute * minuteNS
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.t-prev))
		prev = p.t
	}
	for _, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.sid))
	}
	var buf [32]byte
	exps := len(b)
	b = append(b, make([]byte, len(ps))...)
	for i, p := range ps {
		m, e, ok := decimalOf(p.value, buf[:])
		if !ok {
			b[exps+i] = rawValue
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.value))
			continue
		}
		b[exps+i] = byte(e + valueBias)
		b = binary.AppendVarint(b, m)
	}
	if len(b) < zstdFloor {
		return b
	}
	z := zstdEnc.EncodeAll(b[1:], []byte{pointsZstd})
	if len(z) >= len(b) {
		return b
	}
	return z
}

var errBadPoints = errors.New("corrupt points row")

// decodePoints calls fn for every point of a packed row, in storage order.
func decodePoints(b []byte, minute int64, fn func(point)) error {
	if len(b) == 0 {
		return errBadPoints
	}
	switch b[0] {
	case pointsPlain:
		b = b[1:]
	case pointsZstd:
		raw, err := zstdDec.DecodeAll(b[1:], nil)
		if err != nil {
			return fmt.Errorf("%w: %w", errBadPoints, err)
		}
		b = raw
	default:
		return fmt.Errorf("%w: unknown format %d", errBadPoints, b[0])
	}
	r := reader{b: b}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(b)) {
		return errBadPoints
	}
	ps := make([]point, n)
	t := minute * minuteNS
	for i := range ps {
		t += int64(r.uvarint())
		ps[i].t = t
	}
	for i := range ps {
		ps[i].sid = int64(r.uvarint())
	}
	exps := r.bytes(int(n))
	for i := range ps {
		if r.err != nil {
			break
		}
		if exps[i] == rawValue {
			ps[i].value = math.Float64frombits(binary.LittleEndian.Uint64(r.bytes(8)))
			continue
		}
		e := int(exps[i]) - valueBias
		m := r.varint()
		if e < -22 || e > 22 || m >= 1<<53 || m <= -(1<<53) {
			return errBadPoints
		}
		ps[i].value = fromDecimal(m, e)
	}
	if r.err != nil || len(r.b) != 0 {
		return errBadPoints
	}
	for _, p := range ps {
		fn(p)
	}
	return nil
}

// reader consumes varints and byte runs, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadPoints
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadPoints
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.err = errBadPoints
		r.b = nil
		return make([]byte, max(n, 0))
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// decodePointsV1 reads a packed row written by schema version 1: per
// point, the time from the minute's start, the hash of its record id, its
// record seq, its series and its float64 bits. Only the migration to
// version 2 reads it.
func decodePointsV1(b []byte, minute int64, fn func(point)) error {
	base := minute * minuteNS
	for len(b) > 0 {
		var p point
		dt, n := binary.Uvarint(b)
		if n <= 0 || len(b) < n+8 {
			return errBadPoints
		}
		p.t = base + int64(dt)
		b = b[n+8:] // the hash, no longer kept
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
