package sqlite

import (
	"math"
	"reflect"
	"testing"
)

// manyPoints makes n points of a minute as media stats look: several
// series sampled at the same instants, short decimal values.
func manyPoints(n int) []point {
	ps := make([]point, n)
	for i := range ps {
		ps[i] = point{t: int64(i/8) * 2e9, sid: int64(i%8 + 1), value: float64(i*37%1000) / 1000}
	}
	return ps
}

func TestDecimalOf(t *testing.T) {
	var buf [32]byte
	for _, tc := range []struct {
		v    float64
		m    int64
		e    int
		okay bool
	}{
		{0, 0, 0, true},
		{1, 1, 0, true},
		{34150, 3415, 1, true},
		{0.012, 12, -3, true},
		{-2.5, -25, -1, true},
		{0.001443299, 1443299, -9, true},
		{1e22, 1, 22, true},
		{1e23, 0, 0, false}, // 10^23 is not exact in float64
		{1.0 / 3, 3333333333333333, -16, true},
		{math.Nextafter(0.3, 1), 0, 0, false}, // 0.30000000000000004: 17 digits
		{math.Copysign(0, -1), 0, 0, false},
		{math.Inf(1), 0, 0, false},
		{math.NaN(), 0, 0, false},
		{math.MaxFloat64, 0, 0, false},
		{5e-324, 0, 0, false},
	} {
		m, e, ok := decimalOf(tc.v, buf[:])
		if ok != tc.okay || ok && (m != tc.m || e != tc.e) {
			t.Errorf("decimalOf(%v) = %d, %d, %v; want %d, %d, %v", tc.v, m, e, ok, tc.m, tc.e, tc.okay)
		}
		if ok && fromDecimal(m, e) != tc.v {
			t.Errorf("fromDecimal(%d, %d) = %v, want %v", m, e, fromDecimal(m, e), tc.v)
		}
	}
}

// TestPointsRoundTrip packs rows of points, small and large (compressed),
// with every kind of value, and reads back exactly what was packed, in
// time and series order.
func TestPointsRoundTrip(t *testing.T) {
	odd := []float64{0, -0.0, 1.0 / 3, math.Pi * 1e200, -1e-300, 12345678901234567, 0.1, 99.95}
	var mixed []point
	for i, v := range odd {
		mixed = append(mixed, point{t: 7e9 - int64(i), sid: int64(len(odd) - i), value: v})
	}
	for name, ps := range map[string][]point{
		"one":   {{t: 5, sid: 1, value: 2}},
		"mixed": mixed,
		"many":  manyPoints(2000),
	} {
		const minute = 29_000_000
		for i := range ps {
			ps[i].t += minute * minuteNS
		}
		want := append([]point(nil), ps...)
		b := encodePoints(ps, minute)
		if name == "many" && b[0] != pointsZstd {
			t.Errorf("%s: a large row is not compressed", name)
		}
		var got []point
		if err := decodePoints(b, minute, func(p point) { got = append(got, p) }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d points back, want %d", name, len(got), len(want))
		}
		for i := 1; i < len(got); i++ {
			if comparePacked(got[i-1], got[i]) > 0 {
				t.Fatalf("%s: points out of order at %d: %+v then %+v", name, i, got[i-1], got[i])
			}
		}
		seen := map[point]int{}
		for _, p := range want {
			p.value = math.Float64frombits(math.Float64bits(p.value)) // keep -0 distinct via bits below
			seen[point{t: p.t, sid: p.sid, seq: int64(math.Float64bits(p.value))}]++
		}
		for _, p := range got {
			k := point{t: p.t, sid: p.sid, seq: int64(math.Float64bits(p.value))}
			if seen[k] == 0 {
				t.Errorf("%s: unexpected point %+v", name, p)
			}
			seen[k]--
		}
		if name == "many" {
			if per := float64(len(b)) / float64(len(want)); per > 4 {
				t.Errorf("%s: %.1f bytes per point, want at most 4", name, per)
			}
		}
	}
	if !reflect.DeepEqual(decodeErr([]byte{9, 1}), errBadPoints) && decodeErr([]byte{9, 1}) == nil {
		t.Error("an unknown format is accepted")
	}
}

func decodeErr(b []byte) error {
	return decodePoints(b, 0, func(point) {})
}
