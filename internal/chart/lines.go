package chart

import (
	"html/template"
	"math"
	"slices"
	"strconv"
	"time"
)

// DefaultPlotHeight is the plot height of a [LineChart] whose Height is 0.
const DefaultPlotHeight = 120

const (
	titleHeight = 24  // the chart title above the plot
	xLabelRoom  = 22  // tick labels below the plot
	legendMax   = 8   // legend entries before "+N more"
	legendSlot  = 150 // px per legend entry
	legendRow   = 16  // px per legend row
	swatchWidth = 16  // the line sample of a legend entry
	legendChars = 20  // characters of a legend label before it is cut
)

// Series is one line of a metric chart.
type Series struct {
	Label  string  // legend text, e.g. participant short id + stream
	Class  string  // CSS class for the stroke, e.g. "s0".."s7" (the caller cycles them)
	Points []Point // in time order; a gap longer than 3 times the median step breaks the line
}

// LineChart is one metric over time.
type LineChart struct {
	Title string // e.g. "Jitter (ms)"
	Unit  string // appended to y tick labels, e.g. " ms", "%"
	// Scale multiplies values before display (e.g. 100 for a loss fraction
	// shown in %); 0 means 1. It applies to Threshold too, which is in the
	// same unit as the points.
	Scale  float64
	Series []Series
	// Threshold is drawn as a dashed horizontal line with class "threshold"
	// and a label "poor above X".
	Threshold *float64
	Below     bool    // the threshold is a minimum ("poor below X"), e.g. frame rate
	Height    float64 // plot height in px (DefaultPlotHeight when 0)
}

// Lines draws a line chart on the same Axis as the timeline, so that the two
// line up when stacked: a y axis with 3–5 round ticks starting at 0 (up to
// the larger of the data and the threshold, with headroom), the threshold
// line, one <path class="line {Class}"> per series with a <title> of its
// label, and a legend of the series with data in the window (up to 8
// entries, then "+N more"). Points outside the window are dropped, as are
// NaN and infinite values, which break the line; a lone point between two
// breaks is drawn as a zero-length segment, which round line caps show as
// a dot. When no series has a point in the window the chart says "no data
// in this window" in a <text class="empty">.
func Lines(a Axis, c LineChart) template.HTML {
	width, g := a.width(), a.gutter()
	scale := c.Scale
	if scale == 0 {
		scale = 1
	}
	ph := c.Height
	if ph <= 0 {
		ph = DefaultPlotHeight
	}
	top, bottom := float64(titleHeight), titleHeight+ph

	// The points of each series within the window, in time order; a series
	// without a finite value there is not drawn.
	visible := make([][]Point, len(c.Series))
	drawn, points := 0, 0
	maxV := 0.0
	for i, s := range c.Series {
		pts := inWindow(s.Points, a.From, a.To)
		finite := false
		for _, p := range pts {
			v := p.V * scale
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			finite = true
			maxV = max(maxV, v)
		}
		if finite {
			visible[i] = pts
			drawn++
			points += len(pts)
		}
	}
	empty := drawn == 0

	var thr float64
	hasThr := c.Threshold != nil && !math.IsNaN(*c.Threshold) && !math.IsInf(*c.Threshold, 0)
	if hasThr {
		thr = *c.Threshold * scale
		maxV = max(maxV, thr)
	}
	step, topV := yScale(maxV)
	y := func(v float64) float64 {
		yy := bottom - v/topV*ph
		return min(max(yy, top), bottom)
	}

	legendShown := min(drawn, legendMax)
	slots := legendShown
	if drawn > legendMax {
		slots++
	}
	perRow := max(1, int((width-g)/legendSlot))
	rows := (slots + perRow - 1) / perRow
	legendTop := bottom + xLabelRoom
	height := legendTop + float64(rows*legendRow) + 4
	if empty {
		height = bottom + xLabelRoom
	}

	w := newSVG(2048 + points*10 + len(c.Series)*200)
	w.s(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="`)
	w.text(c.Title)
	w.s(": ")
	if empty {
		w.s("no data ")
	} else {
		w.int(drawn)
		w.s(" series ")
	}
	a.writeWindow(w)
	w.s(`"`)
	w.size(width, height)

	w.s(`<text class="chart-title"`)
	w.num("x", g)
	w.num("y", top-8)
	w.s(">")
	w.text(c.Title)
	w.s("</text>\n")
	w.s(`<rect class="plot"`)
	w.num("x", g)
	w.num("y", top)
	w.num("width", width-g)
	w.num("height", ph)
	w.s("/>\n")

	// Axes: time ticks below the plot, value ticks in the gutter.
	w.s("<g class=\"axis\">\n")
	ticks, layout := a.Ticks()
	for _, t := range ticks {
		x := a.X(t)
		w.s(`<line class="grid" x1="`)
		w.n(x)
		w.s(`" x2="`)
		w.n(x)
		w.s(`" y1="`)
		w.n(top)
		w.s(`" y2="`)
		w.n(bottom + 4)
		w.s("\"/>\n")
		w.s(`<text class="tick" text-anchor="middle"`)
		w.num("x", x)
		w.num("y", bottom+16)
		w.s(">")
		w.time(t, layout)
		w.s("</text>\n")
	}
	if !empty {
		decimals := stepDecimals(step)
		for i := 0; ; i++ {
			v := float64(i) * step
			if v > topV+step/1e6 {
				break
			}
			yy := y(v)
			w.s(`<line class="grid" x1="`)
			w.n(g - 4)
			w.s(`" x2="`)
			w.n(width)
			w.s(`" y1="`)
			w.n(yy)
			w.s(`" y2="`)
			w.n(yy)
			w.s("\"/>\n")
			w.s(`<text class="ytick" text-anchor="end" dominant-baseline="central"`)
			w.num("x", g-6)
			w.num("y", yy)
			w.s(">")
			w.tmp = appendTick(w.tmp[:0], v, decimals)
			w.sb.Write(w.tmp)
			w.text(c.Unit)
			w.s("</text>\n")
		}
	}
	w.s("</g>\n")

	if empty {
		w.s(`<text class="empty" text-anchor="middle" dominant-baseline="central"`)
		w.num("x", (g+width)/2)
		w.num("y", top+ph/2)
		w.s(">no data in this window</text>\n</svg>\n")
		return w.html()
	}

	if hasThr {
		ty := y(thr)
		w.s(`<path class="threshold" d="M`)
		w.n(g)
		w.s(",")
		w.n(ty)
		w.s("H")
		w.n(width)
		w.s("\"/>\n")
		ly := ty - 4
		if ly < top+10 {
			ly = ty + 12
		}
		w.s(`<text class="threshold-label" text-anchor="end"`)
		w.num("x", width-4)
		w.num("y", ly)
		w.s(">poor ")
		if c.Below {
			w.s("below ")
		} else {
			w.s("above ")
		}
		w.text(formatValue(thr))
		w.text(c.Unit)
		w.s("</text>\n")
	}

	var scratch []time.Duration
	for i, s := range c.Series {
		pts := visible[i]
		if len(pts) == 0 {
			continue
		}
		w.s("<path")
		w.class("line", s.Class)
		w.s(` d="`)
		scratch = appendLinePath(w, pts, scratch, a.X, func(v float64) float64 { return y(v * scale) })
		w.s(`">`)
		w.title(s.Label)
		w.s("</path>\n")
	}

	// Legend.
	w.s("<g class=\"legend\">\n")
	k := 0
	for i, s := range c.Series {
		if len(visible[i]) == 0 {
			continue
		}
		if k == legendShown {
			break
		}
		x := g + float64(k%perRow)*legendSlot
		ly := legendTop + float64(k/perRow)*legendRow + legendRow/2
		w.s("<path")
		w.class("swatch", s.Class)
		w.s(` d="M`)
		w.n(x)
		w.s(",")
		w.n(ly)
		w.s("h")
		w.n(swatchWidth)
		w.s("\"/>\n")
		shown := truncate(s.Label, legendChars)
		w.s(`<text class="legend" dominant-baseline="central"`)
		w.num("x", x+swatchWidth+4)
		w.num("y", ly)
		w.s(">")
		if shown != s.Label {
			w.title(s.Label)
		}
		w.text(shown)
		w.s("</text>\n")
		k++
	}
	if drawn > legendMax {
		x := g + float64(k%perRow)*legendSlot
		ly := legendTop + float64(k/perRow)*legendRow + legendRow/2
		w.s(`<text class="legend more" dominant-baseline="central"`)
		w.num("x", x)
		w.num("y", ly)
		w.s(">+")
		w.int(drawn - legendMax)
		w.s(" more</text>\n")
	}
	w.s("</g>\n</svg>\n")
	return w.html()
}

// inWindow returns the points within [from, to] in time order. It returns
// a sub-slice of pts when they are already sorted, else a sorted copy.
func inWindow(pts []Point, from, to time.Time) []Point {
	byTime := func(p, q Point) int { return p.T.Compare(q.T) }
	if !slices.IsSortedFunc(pts, byTime) {
		pts = slices.Clone(pts)
		slices.SortStableFunc(pts, byTime)
	}
	lo, _ := slices.BinarySearchFunc(pts, from, func(p Point, t time.Time) int { return p.T.Compare(t) })
	hi, _ := slices.BinarySearchFunc(pts, to, func(p Point, t time.Time) int {
		if p.T.After(t) {
			return 1
		}
		return -1
	})
	if lo > hi {
		return nil
	}
	return pts[lo:hi]
}

// yScale picks a round tick step for values up to maxV (plus a tenth of
// headroom) and the top of the axis, a multiple of the step: 2 to 4 steps,
// so 3 to 5 ticks counting 0.
func yScale(maxV float64) (step, top float64) {
	if !(maxV > 0) || math.IsInf(maxV, 0) {
		maxV = 1
	}
	target := maxV * 1.1
	step = niceStep(target / 4)
	n := math.Ceil(target/step - 1e-9)
	return step, n * step
}

// niceStep is the smallest of 1, 2, 2.5 and 5 times a power of ten that is
// at least x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if f*p >= x*(1-1e-9) {
			return f * p
		}
	}
	return 10 * p
}

// stepDecimals is the number of decimals that print every multiple of step
// exactly.
func stepDecimals(step float64) int {
	d := 0
	for d < 6 {
		v := step * math.Pow(10, float64(d))
		if math.Abs(v-math.Round(v)) < 1e-6*math.Max(1, v) {
			break
		}
		d++
	}
	return d
}

// appendTick formats a y tick value with at most decimals decimals and no
// trailing zeros ("0", "2.5", "10").
func appendTick(b []byte, v float64, decimals int) []byte {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.AppendFloat(b, r, 'f', -1, 64)
}

// appendLinePath writes the path data of points in time order: a new
// subpath ("M") after a gap longer than three times the median step or a
// NaN or infinite value, and "h0" after a lone point so that round line
// caps show it as a dot. scratch is reused for the steps and returned.
func appendLinePath(w *svg, pts []Point, scratch []time.Duration, x func(time.Time) float64, y func(float64) float64) []time.Duration {
	scratch = scratch[:0]
	for i := 1; i < len(pts); i++ {
		scratch = append(scratch, pts[i].T.Sub(pts[i-1].T))
	}
	maxGap := time.Duration(math.MaxInt64)
	if len(scratch) > 0 {
		slices.Sort(scratch)
		if med := scratch[len(scratch)/2]; med > 0 && med < maxGap/3 {
			maxGap = 3 * med
		}
	}
	seg := 0 // points in the current subpath
	for i, p := range pts {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			if seg == 1 {
				w.s("h0")
			}
			seg = 0
			continue
		}
		if seg > 0 && p.T.Sub(pts[i-1].T) > maxGap {
			if seg == 1 {
				w.s("h0")
			}
			seg = 0
		}
		switch seg {
		case 0:
			w.s("M")
		case 1:
			w.s("L")
		default:
			w.s(" ")
		}
		w.n(x(p.T))
		w.s(",")
		w.n(y(p.V))
		seg++
	}
	if seg == 1 {
		w.s("h0")
	}
	return scratch
}

// Spark draws a small inline sparkline (no axes) of one series, width ×
// height px (120 × 24 when 0), with class="spark", for the evidence list of
// an issue. The values run from 0 (or the lowest value, when negative) to
// the larger of the highest value and the threshold; the time runs from
// the first point to the last. A threshold is drawn as a line of class
// "threshold", and points beyond it (above, or below when below is set)
// get dots of class "over".
func Spark(points []Point, threshold *float64, below bool, width, height float64) template.HTML {
	if width <= 0 {
		width = 120
	}
	if height <= 0 {
		height = 24
	}
	const pad = 2
	pts := points
	byTime := func(p, q Point) int { return p.T.Compare(q.T) }
	if !slices.IsSortedFunc(pts, byTime) {
		pts = slices.Clone(pts)
		slices.SortStableFunc(pts, byTime)
	}
	lo, hi := 0.0, 0.0
	n := 0
	for _, p := range pts {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		n++
		lo, hi = min(lo, p.V), max(hi, p.V)
	}
	hasThr := threshold != nil && !math.IsNaN(*threshold) && !math.IsInf(*threshold, 0)
	if hasThr {
		lo, hi = min(lo, *threshold), max(hi, *threshold)
	}
	hi += (hi - lo) * 0.1
	if hi <= lo {
		hi = lo + 1
	}
	beyond := func(v float64) bool {
		if !hasThr {
			return false
		}
		if below {
			return v < *threshold
		}
		return v > *threshold
	}
	over := 0
	for _, p := range pts {
		if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) && beyond(p.V) {
			over++
		}
	}

	var t0, t1 time.Time
	if len(pts) > 0 {
		t0, t1 = pts[0].T, pts[len(pts)-1].T
	}
	x := func(t time.Time) float64 {
		if !t1.After(t0) {
			return width / 2
		}
		return pad + float64(t.Sub(t0))/float64(t1.Sub(t0))*(width-2*pad)
	}
	y := func(v float64) float64 {
		return height - pad - (v-lo)/(hi-lo)*(height-2*pad)
	}

	w := newSVG(512 + len(pts)*40)
	w.s(`<svg xmlns="http://www.w3.org/2000/svg" class="spark" role="img" aria-label="`)
	if n == 0 {
		w.s("no samples")
	} else {
		w.s("Trend of ")
		w.int(n)
		if n == 1 {
			w.s(" sample")
		} else {
			w.s(" samples")
		}
		if hasThr {
			w.s(", ")
			w.int(over)
			w.s(" beyond the threshold")
		}
	}
	w.s(`"`)
	w.size(width, height)
	if hasThr {
		ty := y(*threshold)
		w.s(`<path class="threshold" d="M0,`)
		w.n(ty)
		w.s("H")
		w.n(width)
		w.s("\"/>\n")
	}
	if n > 0 {
		w.s(`<path class="spark-line" d="`)
		appendLinePath(w, pts, nil, x, y)
		w.s("\"/>\n")
	}
	for _, p := range pts {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) || !beyond(p.V) {
			continue
		}
		w.s(`<circle class="over"`)
		w.num("cx", x(p.T))
		w.num("cy", y(p.V))
		w.s(` r="1.5"/>`)
		w.s("\n")
	}
	w.s("</svg>\n")
	return w.html()
}
