// Package chart draws the call timeline and the metric charts as inline SVG.
//
// It is pure drawing: it turns times and values into SVG markup and knows
// nothing of HTTP, stores or templates beyond returning [template.HTML]. It
// may import only the standard library and calldiag/internal/model.
//
// The markup carries no colours and no style attributes, so that it holds
// under a strict Content-Security-Policy: the page's stylesheet styles every
// element by class. The classes it emits, besides those the caller passes in:
//
//   - timeline: the root <svg>; "highlights" and "axis" (groups), "grid" (vertical tick
//     lines), "tick" (tick labels), "hl" (highlight rectangles), "lane" and
//     "lane sub" (one <g> per lane), "lane-sep" (line above a main lane),
//     "lane-label" (gutter text), "bar" (state rectangles), "mark" (event
//     shapes) and "merged" (a shape that stands for several events).
//   - chart: the root <svg> of [Lines]; "chart-title", "plot" (the plot
//     frame), "grid", "tick", "ytick" (y labels), "threshold" (a dashed line
//     by the page's CSS), "threshold-label", "line" (one path per series),
//     "legend", "swatch", "more" and "empty".
//   - spark: the root <svg> of [Spark]; "spark-line", "threshold" and "over".
//
// Series lines, legend swatches and threshold lines are <path> elements:
// the page's CSS should give them fill: none, and the series lines
// stroke-linecap: round, so that a lone sample shows as a dot.
package chart

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"calldiag/internal/model"
)

// Point is one value at one instant.
type Point struct {
	T time.Time
	V float64
}

// Points converts a model series' points for drawing.
func Points(ps []model.Point) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		out[i] = Point{T: p.Time, V: p.Value}
	}
	return out
}

// svg accumulates markup. Numbers, text and attributes are written
// without fmt, because a large timeline writes tens of thousands of them,
// and into a strings.Builder, whose result needs no final copy.
type svg struct {
	sb  strings.Builder
	tmp []byte // scratch for formatting numbers and times
}

func newSVG(size int) *svg {
	w := &svg{tmp: make([]byte, 0, 64)}
	w.sb.Grow(size)
	return w
}

func (w *svg) html() template.HTML { return template.HTML(w.sb.String()) }

// s writes trusted markup.
func (w *svg) s(str string) { w.sb.WriteString(str) }

// n writes a number at one decimal.
func (w *svg) n(v float64) {
	w.tmp = appendNum(w.tmp[:0], v)
	w.sb.Write(w.tmp)
}

// int writes an integer.
func (w *svg) int(i int) {
	w.tmp = strconv.AppendInt(w.tmp[:0], int64(i), 10)
	w.sb.Write(w.tmp)
}

// time writes t in layout.
func (w *svg) time(t time.Time, layout string) {
	w.tmp = t.AppendFormat(w.tmp[:0], layout)
	w.sb.Write(w.tmp)
}

// text writes escaped character data.
func (w *svg) text(str string) { writeEscaped(&w.sb, str) }

// attr writes ` name="value"` with the value escaped.
func (w *svg) attr(name, value string) {
	w.sb.WriteByte(' ')
	w.sb.WriteString(name)
	w.sb.WriteString(`="`)
	writeEscaped(&w.sb, value)
	w.sb.WriteByte('"')
}

// num writes ` name="number"`.
func (w *svg) num(name string, v float64) {
	w.sb.WriteByte(' ')
	w.sb.WriteString(name)
	w.sb.WriteString(`="`)
	w.n(v)
	w.sb.WriteByte('"')
}

// class writes ` class="base extra"`, leaving out extra when empty.
func (w *svg) class(base, extra string) {
	w.sb.WriteString(` class="`)
	w.sb.WriteString(base)
	if extra != "" {
		w.sb.WriteByte(' ')
		writeEscaped(&w.sb, extra)
	}
	w.sb.WriteByte('"')
}

// title writes a <title> child (the tooltip) when str is not empty.
func (w *svg) title(str string) {
	if str == "" {
		return
	}
	w.sb.WriteString("<title>")
	writeEscaped(&w.sb, str)
	w.sb.WriteString("</title>")
}

// openLink opens <a href> when href is a safe relative link and reports
// whether it did, so the caller knows to close it.
func (w *svg) openLink(href string) bool {
	if !safeHref(href) {
		return false
	}
	w.s("<a")
	w.attr("href", href)
	w.s(">")
	return true
}

// appendNum formats v rounded to one decimal, without a trailing ".0" and
// never as "-0", to keep the markup short and stable.
func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, '0')
	}
	r := math.Round(v*10) / 10
	if r == 0 {
		return append(b, '0')
	}
	if r == math.Trunc(r) && math.Abs(r) < 1e15 {
		return strconv.AppendInt(b, int64(r), 10)
	}
	return strconv.AppendFloat(b, r, 'f', 1, 64)
}

// writeEscaped escapes s for XML and HTML text and attribute values: the
// five characters html.EscapeString escapes, and it drops what XML cannot
// carry at all (control characters, invalid UTF-8, U+FFFE and U+FFFF) so
// the drawing stays well-formed whatever a log record contained. Runs of
// plain characters are written in one piece.
func writeEscaped(sb *strings.Builder, s string) {
	plain := 0 // start of the pending run of plain characters
	for i := 0; i < len(s); {
		c := s[i]
		var repl string
		size := 1
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				repl = "&amp;"
			case c == '<':
				repl = "&lt;"
			case c == '>':
				repl = "&gt;"
			case c == '"':
				repl = "&#34;"
			case c == '\'':
				repl = "&#39;"
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
				// not allowed in XML 1.0: dropped
			default:
				i++
				continue
			}
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				repl = "\uFFFD"
			case r == 0xFFFE || r == 0xFFFF:
				// not allowed in XML 1.0: dropped
			default:
				i += size
				continue
			}
		}
		sb.WriteString(s[plain:i])
		sb.WriteString(repl)
		i += size
		plain = i
	}
	sb.WriteString(s[plain:])
}

// safeHref reports whether href may become a link: only links within the
// site are allowed ("?query", "#fragment", "/path"). "//host" and "/\host"
// would leave the site, and browsers drop tabs and newlines from URLs, so
// any control character refuses the link too.
func safeHref(href string) bool {
	if href == "" {
		return false
	}
	for i := 0; i < len(href); i++ {
		if href[i] < 0x20 || href[i] == 0x7f {
			return false
		}
	}
	switch href[0] {
	case '?', '#':
		return true
	case '/':
		return len(href) == 1 || (href[1] != '/' && href[1] != '\\')
	}
	return false
}

// sanitizeID keeps letters, digits, '-' and '_' so the result is usable as
// an element id and in CSS selectors; anything else becomes '-'.
func sanitizeID(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b = append(b, c)
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

// truncate shortens s to at most n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n < 1 {
		n = 1
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + "…"
}

// formatValue formats a threshold or tick value with at most two decimals.
func formatValue(v float64) string {
	r := math.Round(v*100) / 100
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// size ends a root <svg> start tag with its width, height and viewBox.
func (w *svg) size(width, height float64) {
	w.num("width", width)
	w.num("height", height)
	w.s(` viewBox="0 0 `)
	w.n(width)
	w.s(" ")
	w.n(height)
	w.s("\">\n")
}
