package store

import (
	"math"
	"testing"

	"calldiag/internal/model"
)

func TestTimelineKeyOrder(t *testing.T) {
	series := SeriesOrderKey("p1", "audio-outbound", "Jitter")
	bits := func(v float64) int64 { return int64(math.Float64bits(v)) }
	// Each key comes strictly before the next.
	keys := []TimelineKey{
		{T: 1, Kind: model.KindMetric, ID: series, VBits: bits(9)},
		{T: 2, Kind: model.KindJoin, ID: "z"},
		{T: 2, Kind: model.KindMetric, ID: SeriesOrderKey("p1", "audio-inbound", "Jitter"), VBits: bits(50)},
		{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(-3)},
		{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(0)},
		{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(0), Dup: 1},
		{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(2.5)},
		{T: 2, Kind: model.KindMetric, ID: SeriesOrderKey("p1x", "", ""), VBits: bits(0)},
		{T: 2, Kind: model.KindOperation, ID: "a"},
		{T: 2, Kind: model.KindOperation, ID: "b"},
	}
	for i := range keys {
		for j := range keys {
			if got := keys[i].Less(keys[j]); got != (i < j) {
				t.Errorf("%+v.Less(%+v) = %v, want %v", keys[i], keys[j], got, i < j)
			}
		}
	}
	// -0 and 0 are the same value; Dup tells them apart.
	a := TimelineKey{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(math.Copysign(0, -1))}
	b := TimelineKey{T: 2, Kind: model.KindMetric, ID: series, VBits: bits(0), Dup: 1}
	if !a.Less(b) || b.Less(a) {
		t.Error("-0 and 0 are not compared as the same value, with Dup deciding")
	}
}

// FuzzTimelineCursor feeds arbitrary cursors to the decoder: it must never
// panic, and what it accepts must encode back to the same position.
func FuzzTimelineCursor(f *testing.F) {
	f.Add(TimelineKey{T: 1740823200000000000, Kind: "operation", ID: "a|b"}.Cursor())
	f.Add(TimelineKey{T: -5, Kind: "metric", ID: SeriesOrderKey("p", "audio-outbound", "Jitter"), VBits: -7, Dup: 1 << 40}.Cursor())
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseTimelineCursor(s)
		if err != nil {
			return
		}
		back, err := ParseTimelineCursor(k.Cursor())
		if err != nil || back != k {
			t.Fatalf("cursor %q: %+v re-decodes to %+v, %v", s, k, back, err)
		}
	})
}
