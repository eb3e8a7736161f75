package simulate

import (
	"math"
	"math/rand/v2"
	"time"
)

// splitmix64 is a bijective 64-bit mixer; it turns counters and seeds into
// well-spread values for sub-seeds and hashed noise.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// callRand returns the random source of call idx. It depends only on the
// seed and the index, so a call's content does not depend on the calls
// generated before it.
func callRand(seed uint64, idx int) *rand.Rand {
	s1 := splitmix64(seed ^ splitmix64(uint64(idx)+0x51f2))
	s2 := splitmix64(s1 ^ 0xda3e39cb94b95bdb)
	return rand.New(rand.NewPCG(s1, s2))
}

// hashUnit returns a value in [0, 1) determined by its inputs alone. It
// gives a leg's network the same per-second state whichever stream looks at
// it.
func hashUnit(seed, a, b uint64) float64 {
	h := splitmix64(seed ^ splitmix64(a^splitmix64(b)))
	return float64(h>>11) / (1 << 53)
}

const hexDigits = "0123456789abcdef"

// guid draws a random (version 4) GUID in its usual text form.
func guid(r *rand.Rand) string {
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	return formatGUID(hi, lo)
}

func formatGUID(hi, lo uint64) string {
	var b [36]byte
	pos := 0
	put := func(v uint64, nibbles int) {
		for i := nibbles - 1; i >= 0; i-- {
			b[pos] = hexDigits[(v>>(4*uint(i)))&0xf]
			pos++
		}
	}
	put(hi>>32, 8)
	b[pos] = '-'
	pos++
	put(hi>>16, 4)
	b[pos] = '-'
	pos++
	put(hi, 4)
	b[pos] = '-'
	pos++
	put(lo>>48, 4)
	b[pos] = '-'
	pos++
	put(lo, 12)
	return string(b[:])
}

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// uniform draws from [a, b).
func uniform(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// between draws an integer from [a, b].
func between(r *rand.Rand, a, b int) int { return a + r.IntN(b-a+1) }

// lognormal draws a log-normal value with the given median.
func lognormal(r *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// poisson draws a Poisson count with mean lambda.
func poisson(r *rand.Rand, lambda float64) int {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 30:
		l := math.Exp(-lambda)
		k, p := 0, r.Float64()
		for p > l {
			k++
			p *= r.Float64()
		}
		return k
	default:
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
	}
}

// weighted picks an index with probability proportional to its weight.
func weighted(r *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// secs converts seconds to a duration rounded to the millisecond.
func secs(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
