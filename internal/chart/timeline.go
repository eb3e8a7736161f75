package chart

import (
	"html/template"
	"math"
	"slices"
	"strconv"
	"time"
)

// Lane heights of the timeline, in px.
const (
	LaneHeight    = 22 // a main lane
	SubLaneHeight = 16 // a sub-lane (Lane.Sub)
)

const (
	axisHeight = 24  // tick labels above the lanes
	bottomPad  = 4   // below the last lane
	labelPad   = 6   // left indent of a main lane's label
	subIndent  = 12  // extra indent of a sub-lane's label
	charWidth  = 6.5 // average label character width, for truncation
	minBarPx   = 2   // the narrowest bar drawn
	maxTitles  = 3   // labels listed in the tooltip of a merged mark
)

// Lane is one row of the timeline.
type Lane struct {
	ID    string // used to build the element id "lane-ID" (sanitized, and made unique)
	Label string // shown in the gutter, truncated with … to fit
	Title string // tooltip of the label (<title>), e.g. the full participant id and endpoint type; the full label when empty and the label was cut
	Href  string // the label links here (e.g. "?participant=…"); "" = no link
	Sub   bool   // a sub-lane (e.g. one stream of a participant): drawn shorter and indented
	Bars  []Bar  // states over time
	Marks []Mark // events at instants
}

// Bar is a state over an interval: muted, camera on, screen sharing,
// connected, or an issue.
type Bar struct {
	From, To time.Time // a zero To means the state lasts to the end of the window
	Class    string    // CSS class(es), e.g. "bar-connected", "bar-muted", "bar-video", "bar-share", "bar-issue sev-warning"
	Label    string    // tooltip text (<title>)
	Href     string    // optional link
}

// Mark is an event at an instant.
type Mark struct {
	At    time.Time
	Class string // e.g. "mark-op", "mark-ufd", "mark-fail", "mark-join", "mark-leave", "mark-survey"
	Shape string // "dot" (default), "diamond", "triangle", "square": shape carries meaning besides colour
	Label string // tooltip text (<title>)
	Href  string // link target, e.g. "?event=ID#details"
	ID    string // the event id; the element gets data-event="ID"
}

// Highlight shades a time interval across all lanes (the selected issue's
// interval).
type Highlight struct {
	From, To time.Time
	Class    string // e.g. "hl-issue sev-critical"
	Label    string // tooltip
}

// Timeline draws the lanes under a time axis: tick labels at the top with
// faint vertical grid lines, one lane per row ([LaneHeight], sub-lanes
// [SubLaneHeight]), the highlights behind everything, bars as rounded
// rectangles at least 2 px wide, and marks as small shapes (at least 7 px,
// so they can be clicked) wrapped in <a href> when Href is set.
//
// Marks of the same class and shape that land on the same pixel of a lane
// are drawn as one mark (class "merged", data-count="N") whose tooltip
// gives the count and time range, so dense lanes stay readable and the
// markup small. Items outside the window are not drawn; bars and
// highlights crossing its edges are clipped to it. Elements carry classes
// only, never colours or style attributes.
func Timeline(a Axis, lanes []Lane, hl []Highlight) template.HTML {
	width := a.width()
	height := float64(axisHeight + bottomPad)
	items := 0
	for i := range lanes {
		height += laneHeight(lanes[i].Sub)
		items += len(lanes[i].Bars) + len(lanes[i].Marks)
	}
	w := newSVG(1024 + len(lanes)*320 + items*170)

	w.s(`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"`)
	w.s(` aria-label="Timeline of `)
	w.int(len(lanes))
	if len(lanes) == 1 {
		w.s(" lane ")
	} else {
		w.s(" lanes ")
	}
	a.writeWindow(w)
	w.s(`"`)
	w.size(width, height)

	drawHighlights(w, a, hl, axisHeight, height-bottomPad)
	drawTimeAxis(w, a, height-bottomPad)

	d := laneDrawer{a: a, w: w, ids: make(map[string]bool, len(lanes)), layout: a.stampLayout()}
	y := float64(axisHeight)
	for i := range lanes {
		d.lane(&lanes[i], y)
		y += laneHeight(lanes[i].Sub)
	}
	w.s("</svg>\n")
	return w.html()
}

func laneHeight(sub bool) float64 {
	if sub {
		return SubLaneHeight
	}
	return LaneHeight
}

// drawHighlights shades each highlight between y0 and y1.
func drawHighlights(w *svg, a Axis, hl []Highlight, y0, y1 float64) {
	if len(hl) == 0 {
		return
	}
	w.s("<g class=\"highlights\">\n")
	for _, h := range hl {
		x0, x1, ok := span(a, h.From, h.To)
		if !ok {
			continue
		}
		w.s("<rect")
		w.class("hl", h.Class)
		w.num("x", x0)
		w.num("y", y0)
		w.num("width", x1-x0)
		w.num("height", y1-y0)
		w.s(">")
		w.title(h.Label)
		w.s("</rect>\n")
	}
	w.s("</g>\n")
}

// drawTimeAxis draws the tick labels at the top and grid lines down to y1.
func drawTimeAxis(w *svg, a Axis, y1 float64) {
	ticks, layout := a.Ticks()
	w.s("<g class=\"axis\">\n")
	for _, t := range ticks {
		x := a.X(t)
		w.s(`<line class="grid" x1="`)
		w.n(x)
		w.s(`" x2="`)
		w.n(x)
		w.s(`" y1="`)
		w.n(axisHeight - 6)
		w.s(`" y2="`)
		w.n(y1)
		w.s("\"/>\n")
		w.s(`<text class="tick" text-anchor="middle"`)
		w.num("x", x)
		w.num("y", axisHeight-10)
		w.s(">")
		w.time(t, layout)
		w.s("</text>\n")
	}
	w.s("</g>\n")
}

// span clips [from, to] to the window and returns its pixel extent, at
// least minBarPx wide and within the drawing; ok is false when the
// interval lies outside the window. A zero to runs to the window's end.
func span(a Axis, from, to time.Time) (x0, x1 float64, ok bool) {
	if to.IsZero() {
		to = a.To
	}
	if to.Before(from) {
		from, to = to, from
	}
	if to.Before(a.From) || from.After(a.To) || !a.From.Before(a.To) {
		return 0, 0, false
	}
	x0, x1 = a.X(from), a.X(to)
	if x1-x0 < minBarPx {
		x1 = x0 + minBarPx
		if w := a.width(); x1 > w {
			x0, x1 = w-minBarPx, w
		}
	}
	return x0, x1, true
}

// laneDrawer draws lanes one after another, reusing its scratch space.
type laneDrawer struct {
	a      Axis
	w      *svg
	ids    map[string]bool
	layout string
	refs   []markRef
	group  []markRef
	used   []bool
}

// markRef is a mark in the window with the pixel column it lands on.
type markRef struct {
	m  *Mark
	i  int
	px int
}

func (d *laneDrawer) lane(l *Lane, y float64) {
	w := d.w
	h := laneHeight(l.Sub)
	w.s(`<g class="lane`)
	if l.Sub {
		w.s(` sub`)
	}
	w.s(`"`)
	w.attr("id", d.uniqueID(l.ID))
	w.s(` transform="translate(0,`)
	w.n(y)
	w.s(")\">\n")
	if !l.Sub {
		w.s(`<line class="lane-sep" x1="0" y1="0"`)
		w.num("x2", d.a.width())
		w.s(" y2=\"0\"/>\n")
	}
	d.label(l, h)
	for i := range l.Bars {
		d.bar(&l.Bars[i], h)
	}
	d.marks(l.Marks, h)
	w.s("</g>\n")
}

// uniqueID is "lane-" plus the sanitized id, with a counter appended when
// two lanes would otherwise share an element id.
func (d *laneDrawer) uniqueID(id string) string {
	base := "lane-" + sanitizeID(id)
	out := base
	for n := 2; d.ids[out]; n++ {
		out = base + "-" + strconv.Itoa(n)
	}
	d.ids[out] = true
	return out
}

func (d *laneDrawer) label(l *Lane, h float64) {
	if l.Label == "" {
		return
	}
	w := d.w
	indent := float64(labelPad)
	if l.Sub {
		indent += subIndent
	}
	shown := truncate(l.Label, int((d.a.gutter()-indent-labelPad)/charWidth))
	title := l.Title
	if title == "" && shown != l.Label {
		title = l.Label
	}
	linked := w.openLink(l.Href)
	w.s(`<text class="lane-label" dominant-baseline="central"`)
	w.num("x", indent)
	w.num("y", h/2)
	w.s(">")
	w.title(title)
	w.text(shown)
	w.s("</text>")
	if linked {
		w.s("</a>")
	}
	w.s("\n")
}

func (d *laneDrawer) bar(b *Bar, h float64) {
	x0, x1, ok := span(d.a, b.From, b.To)
	if !ok {
		return
	}
	w := d.w
	linked := w.openLink(b.Href)
	w.s("<rect")
	w.class("bar", b.Class)
	w.num("x", x0)
	w.num("y", 3)
	w.num("width", x1-x0)
	w.num("height", h-6)
	w.s(` rx="2">`)
	w.title(b.Label)
	w.s("</rect>")
	if linked {
		w.s("</a>")
	}
	w.s("\n")
}

// marks draws the lane's marks in the window, merging those of the same
// class and shape that fall on the same pixel column.
func (d *laneDrawer) marks(marks []Mark, h float64) {
	refs := d.refs[:0]
	for i := range marks {
		m := &marks[i]
		if m.At.Before(d.a.From) || m.At.After(d.a.To) {
			continue
		}
		refs = append(refs, markRef{m: m, i: i, px: int(math.Floor(d.a.X(m.At)))})
	}
	byTime := func(p, q markRef) int {
		if c := p.m.At.Compare(q.m.At); c != 0 {
			return c
		}
		return p.i - q.i
	}
	if !slices.IsSortedFunc(refs, byTime) {
		slices.SortFunc(refs, byTime)
	}
	d.refs = refs

	for start := 0; start < len(refs); {
		end := start + 1
		for end < len(refs) && refs[end].px == refs[start].px {
			end++
		}
		run := refs[start:end]
		if len(run) == 1 {
			d.mark(run[:1], h)
		} else {
			d.mergeRun(run, h)
		}
		start = end
	}
}

// mergeRun draws the marks of one pixel column, one shape per class and
// shape, in the order each first occurs.
func (d *laneDrawer) mergeRun(run []markRef, h float64) {
	used := d.used[:0]
	for range run {
		used = append(used, false)
	}
	d.used = used
	group := d.group
	for i := range run {
		if used[i] {
			continue
		}
		group = append(group[:0], run[i])
		for j := i + 1; j < len(run); j++ {
			if !used[j] && run[j].m.Class == run[i].m.Class && shapeOf(run[j].m.Shape) == shapeOf(run[i].m.Shape) {
				used[j] = true
				group = append(group, run[j])
			}
		}
		d.mark(group, h)
	}
	d.group = group
}

// shapeOf maps the shape names to the ones drawn; anything unknown is a dot.
func shapeOf(s string) string {
	switch s {
	case "diamond", "triangle", "square":
		return s
	}
	return "dot"
}

// mark draws the group of marks (in time order) as one shape.
func (d *laneDrawer) mark(group []markRef, h float64) {
	w := d.w
	first := group[0].m
	cy := h / 2
	r := 4.5 // a 9 px shape on a main lane
	if h < LaneHeight {
		r = 3.5 // 7 px on a sub-lane
	}
	// A mark at the window's end stays whole rather than half cut off.
	x := min(d.a.X(first.At), d.a.width()-r)
	linked := w.openLink(first.Href)
	shape := shapeOf(first.Shape)
	switch shape {
	case "dot":
		w.s("<circle")
	case "square":
		w.s("<rect")
	default:
		w.s("<path")
	}
	if len(group) > 1 {
		w.class("mark merged", first.Class)
	} else {
		w.class("mark", first.Class)
	}
	switch shape {
	case "dot":
		w.num("cx", x)
		w.num("cy", cy)
		w.num("r", r)
	case "square":
		w.num("x", x-r+0.5)
		w.num("y", cy-r+0.5)
		w.num("width", 2*r-1)
		w.num("height", 2*r-1)
	case "diamond":
		w.s(` d="M`)
		w.n(x)
		w.s(",")
		w.n(cy - r)
		w.s("l")
		w.n(r)
		w.s(",")
		w.n(r)
		w.s(" ")
		w.n(-r)
		w.s(",")
		w.n(r)
		w.s(" ")
		w.n(-r)
		w.s(",")
		w.n(-r)
		w.s(`z"`)
	case "triangle":
		w.s(` d="M`)
		w.n(x)
		w.s(",")
		w.n(cy - r)
		w.s("l")
		w.n(r)
		w.s(",")
		w.n(2 * r)
		w.s("h")
		w.n(-2 * r)
		w.s(`z"`)
	}
	if first.ID != "" {
		w.attr("data-event", first.ID)
	}
	if len(group) == 1 {
		w.s(">")
		w.title(first.Label)
	} else {
		w.s(` data-count="`)
		w.int(len(group))
		w.s(`">`)
		d.mergedTitle(group)
	}
	switch shape {
	case "dot":
		w.s("</circle>")
	case "square":
		w.s("</rect>")
	default:
		w.s("</path>")
	}
	if linked {
		w.s("</a>")
	}
	w.s("\n")
}

// mergedTitle writes the tooltip of a merged mark: "N events FROM–TO" (or
// "N events at T" within one second), then the first few distinct labels,
// one a line.
func (d *laneDrawer) mergedTitle(group []markRef) {
	w := d.w
	w.s("<title>")
	w.int(len(group))
	w.s(" events ")
	w.tmp = group[0].m.At.AppendFormat(w.tmp[:0], d.layout)
	n := len(w.tmp)
	w.tmp = group[len(group)-1].m.At.AppendFormat(w.tmp, d.layout)
	if first, last := w.tmp[:n], w.tmp[n:]; string(first) == string(last) {
		w.s("at ")
		w.sb.Write(first)
	} else {
		w.sb.Write(first)
		w.s("–")
		w.sb.Write(last)
	}
	listed := 0
	for i, g := range group {
		if g.m.Label == "" || labelListed(group[:i], g.m.Label) {
			continue
		}
		if listed == maxTitles {
			w.s("\n…")
			break
		}
		w.s("\n")
		w.text(g.m.Label)
		listed++
	}
	w.s("</title>")
}

// labelListed reports whether an earlier mark of the group has label s.
// Groups are small, and a pixel column rarely holds more than a few
// distinct labels, so the scan stays short in practice.
func labelListed(earlier []markRef, s string) bool {
	for _, e := range earlier {
		if e.m.Label == s {
			return true
		}
	}
	return false
}
