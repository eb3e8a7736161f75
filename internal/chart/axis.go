package chart

import "time"

// DefaultGutter is the label gutter of an [Axis] whose Gutter is 0.
const DefaultGutter = 160

// DefaultWidth is the drawing width of an [Axis] whose Width is not set.
const DefaultWidth = 960

// Axis maps a time window onto the horizontal pixels of a drawing. The
// timeline and the metric charts drawn with the same Axis line up when they
// are stacked.
type Axis struct {
	From, To time.Time
	Width    float64 // total drawing width in px, including the label gutter (DefaultWidth when 0)
	Gutter   float64 // px at the left reserved for lane labels / y-axis labels (DefaultGutter when 0)
}

// width is the drawing width with the default applied.
func (a Axis) width() float64 {
	if a.Width <= 0 {
		return DefaultWidth
	}
	return a.Width
}

// gutter is the gutter with the default applied, never more than half the
// width so that a plot area always remains.
func (a Axis) gutter() float64 {
	g := a.Gutter
	if g <= 0 {
		g = DefaultGutter
	}
	if w := a.width(); g > w/2 {
		g = w / 2
	}
	return g
}

// X returns the pixel x of t, clamped to [Gutter, Width]. An empty or
// inverted window maps everything to the gutter's edge.
func (a Axis) X(t time.Time) float64 {
	g, w := a.gutter(), a.width()
	span := a.To.Sub(a.From)
	if span <= 0 {
		return g
	}
	x := g + float64(t.Sub(a.From))/float64(span)*(w-g)
	if x < g {
		return g
	}
	if x > w {
		return w
	}
	return x
}

// tickSteps are the tick spacings Ticks chooses from.
var tickSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour,
}

// maxTicks is the most ticks Ticks returns; fewer when the plot is narrow,
// so that the labels do not run into each other.
const maxTicks = 10

// minTickGap is the least horizontal room, in px, a tick label gets.
const minTickGap = 64

// Ticks returns nicely rounded tick times within the window (steps of
// 1s/2s/5s/10s/15s/30s/1m/2m/5m/10m/15m/30m/1h/2h/3h/6h/12h/1d/2d/7d, at most
// ten ticks, and as many as the width allows up to that) and a label layout
// fitting the span: "15:04:05" when the ticks are less than a minute apart,
// "15:04" up to a span of a day, and "Jan 2 15:04" for longer spans, where
// the time of day alone would repeat. Ticks are aligned to the step counted
// from midnight in From's location, so their labels are round.
func (a Axis) Ticks() ([]time.Time, string) {
	span := a.To.Sub(a.From)
	if span <= 0 {
		return nil, "15:04:05"
	}
	limit := int((a.width() - a.gutter()) / minTickGap)
	if limit > maxTicks {
		limit = maxTicks
	}
	if limit < 2 {
		limit = 2
	}
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if tickCount(a.From, a.To, s) <= limit {
			step = s
			break
		}
	}
	for tickCount(a.From, a.To, step) > limit {
		step *= 2 // spans of months
	}
	var ticks []time.Time
	for t := firstTick(a.From, step); !t.After(a.To); t = t.Add(step) {
		ticks = append(ticks, t)
	}
	layout := "15:04"
	switch {
	case span >= 24*time.Hour:
		layout = "Jan 2 15:04"
	case step < time.Minute:
		layout = "15:04:05"
	}
	return ticks, layout
}

// firstTick is the first multiple of step, counted from midnight of from's
// day in from's location, at or after from.
func firstTick(from time.Time, step time.Duration) time.Time {
	y, m, d := from.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, from.Location())
	n := from.Sub(day) / step
	t := day.Add(n * step)
	if t.Before(from) {
		t = t.Add(step)
	}
	return t
}

// tickCount is the number of ticks of step within [from, to].
func tickCount(from, to time.Time, step time.Duration) int {
	first := firstTick(from, step)
	if first.After(to) {
		return 0
	}
	return int(to.Sub(first)/step) + 1
}

// stampLayout is the layout for instants in tooltips and labels: the time
// of day, with the date when the window spans a day or more.
func (a Axis) stampLayout() string {
	if a.To.Sub(a.From) >= 24*time.Hour || a.From.YearDay() != a.To.YearDay() || a.From.Year() != a.To.Year() {
		return "Jan 2 15:04:05"
	}
	return "15:04:05"
}

// writeWindow writes "from … to …" for aria labels.
func (a Axis) writeWindow(w *svg) {
	layout := a.stampLayout()
	w.s("from ")
	w.time(a.From, layout)
	w.s(" to ")
	w.time(a.To, layout)
}
