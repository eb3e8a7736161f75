package store

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"calldiag/internal/model"
)

// TimelineKey is the place of an item in a timeline, by which every store
// orders a timeline's items and which a timeline cursor names: time, then
// kind, then, for an event, its id. Metric points of the same time are
// ordered by their series (ID holds SeriesOrderKey), then value (whose
// float64 bits are in VBits), then Dup, which counts the points before it
// with the same time, series and value. Such points cannot be told apart,
// so the order depends on the content alone, never on the order records
// arrived in.
type TimelineKey struct {
	T     int64
	Kind  string
	ID    string
	VBits int64
	Dup   int64
}

// SeriesOrderKey is the ID of a metric point's TimelineKey: the series'
// participant (or client placeholder), stream and metric as stored, joined
// by NUL so that the keys sort as the triples do.
func SeriesOrderKey(pid, stream, metric string) string {
	return pid + "\x00" + stream + "\x00" + metric
}

// Less reports whether a comes before b.
func (a TimelineKey) Less(b TimelineKey) bool {
	if a.T != b.T {
		return a.T < b.T
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Kind == model.KindMetric {
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if av, bv := math.Float64frombits(uint64(a.VBits)), math.Float64frombits(uint64(b.VBits)); av != bv {
			return av < bv
		}
		return a.Dup < b.Dup
	}
	return a.ID < b.ID
}

// Cursor encodes the key as an opaque timeline cursor. Every field but
// the id is a number or a kind name, so the id can safely come last.
func (a TimelineKey) Cursor() string {
	s := strconv.FormatInt(a.T, 10) + "|" + a.Kind + "|" + strconv.FormatInt(a.VBits, 10) + "|" +
		strconv.FormatInt(a.Dup, 10) + "|" + a.ID
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// ParseTimelineCursor decodes a cursor made by Cursor, or returns
// ErrBadCursor.
func ParseTimelineCursor(s string) (TimelineKey, error) {
	var k TimelineKey
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return k, ErrBadCursor
	}
	f := strings.SplitN(string(b), "|", 5)
	if len(f) != 5 || f[1] == "" {
		return k, ErrBadCursor
	}
	k.Kind, k.ID = f[1], f[4]
	var e1, e2, e3 error
	k.T, e1 = strconv.ParseInt(f[0], 10, 64)
	k.VBits, e2 = strconv.ParseInt(f[2], 10, 64)
	k.Dup, e3 = strconv.ParseInt(f[3], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil {
		return k, ErrBadCursor
	}
	return k, nil
}
