package chart

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func isLine(n *node) bool   { return n.name == "path" && n.hasClass("line") }
func isYTick(n *node) bool  { return n.hasClass("ytick") }
func isLegend(n *node) bool { return n.hasClass("legend") && n.name == "text" }

func TestLinesYAxis(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	tests := []struct {
		name      string
		values    []float64
		scale     float64
		unit      string
		threshold *float64
		wantTicks []string
	}{
		{"jitter", []float64{3, 12, 45}, 0, " ms", nil, []string{"0 ms", "20 ms", "40 ms", "60 ms"}},
		{"threshold above the data", []float64{3, 12}, 0, " ms", ptr(30), []string{"0 ms", "10 ms", "20 ms", "30 ms", "40 ms"}},
		{"loss fraction shown in %", []float64{0.01, 0.04}, 100, "%", nil, []string{"0%", "2%", "4%", "6%"}},
		{"small values keep their decimals", []float64{0.1, 0.3}, 0, "", nil, []string{"0", "0.1", "0.2", "0.3", "0.4"}},
		{"steps of 2.5", []float64{8}, 0, "", nil, []string{"0", "2.5", "5", "7.5", "10"}},
		{"large values", []float64{1234}, 0, "", nil, []string{"0", "500", "1000", "1500"}},
		{"all zero", []float64{0, 0}, 0, "", nil, []string{"0", "0.5", "1", "1.5"}},
		{"bitrate in kbit/s", []float64{1_500_000}, 0.001, "", nil, []string{"0", "500", "1000", "1500", "2000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pts := make([]Point, len(tc.values))
			for i, v := range tc.values {
				pts[i] = Point{T: at(1, i), V: v}
			}
			c := LineChart{Title: "m", Unit: tc.unit, Scale: tc.scale, Threshold: tc.threshold, Series: []Series{{Label: "s", Class: "s0", Points: pts}}}
			root := parseSVG(t, string(Lines(a, c)))
			var got []string
			for _, n := range root.all(isYTick) {
				got = append(got, n.text)
			}
			if strings.Join(got, "|") != strings.Join(tc.wantTicks, "|") {
				t.Errorf("y ticks %q, want %q", got, tc.wantTicks)
			}
			if len(got) < 3 || len(got) > 5 {
				t.Errorf("%d y ticks, want 3 to 5", len(got))
			}
		})
	}
}

func TestYScaleCoversTheDataWithThreeToFiveTicks(t *testing.T) {
	for _, maxV := range []float64{0.001, 0.07, 0.5, 1, 3, 7, 9.9, 10, 30, 45, 99, 101, 640, 12345, 9.5e6} {
		step, top := yScale(maxV)
		ticks := int(math.Round(top/step)) + 1
		if top < maxV || ticks < 3 || ticks > 5 {
			t.Errorf("yScale(%v) = step %v, top %v (%d ticks); want top ≥ max and 3 to 5 ticks", maxV, step, top, ticks)
		}
	}
}

func TestLinesBreaksAtGaps(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	every10s := func(n int) []Point { return series(at(0, 0), 10*time.Second, n, func(int) float64 { return 1 }) }
	withGap := every10s(20)
	withGap = append(withGap[:5], withGap[10:]...) // 60 s after a 10 s rhythm
	nan := every10s(10)
	nan[4].V = math.NaN()
	var lone []Point // a sample alone between two gaps of 40 s
	for _, s := range []int{0, 10, 20, 60, 100, 110, 120} {
		lone = append(lone, Point{T: at(0, 0).Add(time.Duration(s) * time.Second), V: 1})
	}
	shortGap := every10s(10)
	shortGap = append(shortGap[:5], shortGap[7:]...) // 30 s: not more than 3 steps
	tests := []struct {
		name     string
		points   []Point
		wantSubs int
		wantPts  int
	}{
		{"regular", every10s(12), 1, 12},
		{"a gap of six steps", withGap, 2, 15},
		{"a gap of three steps does not break", shortGap, 1, 8},
		{"a NaN value", nan, 2, 9},
		{"a lone sample is kept as a dot", lone, 3, 7},
		{"points outside the window are dropped", series(at(0, 0).Add(-time.Minute), 30*time.Second, 14, func(int) float64 { return 1 }), 1, 11},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := parseSVG(t, string(Lines(a, LineChart{Title: "m", Series: []Series{{Label: "s", Class: "s0", Points: tc.points}}})))
			lines := root.all(isLine)
			if len(lines) != 1 {
				t.Fatalf("%d line paths, want 1", len(lines))
			}
			d := lines[0].attrs["d"]
			if got := strings.Count(d, "M"); got != tc.wantSubs {
				t.Errorf("%d subpaths in %q, want %d", got, d, tc.wantSubs)
			}
			if got := strings.Count(d, ","); got != tc.wantPts {
				t.Errorf("%d points in %q, want %d", got, d, tc.wantPts)
			}
			if lines[0].title() != "s" {
				t.Errorf("line title %q, want the series label", lines[0].title())
			}
			for _, f := range strings.FieldsFunc(d, func(r rune) bool { return strings.ContainsRune("MLh ", r) }) {
				x, _, _ := strings.Cut(f, ",")
				if v, _ := strconv.ParseFloat(x, 64); f != "0" && (v < 160 || v > 760) {
					t.Errorf("point x %v outside the plot", v)
				}
			}
		})
	}
}

func TestLinesThresholdAndLegend(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	var ss []Series
	for i := range 11 {
		ss = append(ss, Series{Label: "participant " + strconv.Itoa(i) + " audio", Class: "s" + strconv.Itoa(i%8),
			Points: series(at(0, 0), time.Minute, 5, func(int) float64 { return 0.02 })})
	}
	ss = append(ss, Series{Label: "no data in the window", Class: "s3", Points: series(at(9, 0), time.Second, 3, func(int) float64 { return 1 })})
	tests := []struct {
		name       string
		chart      LineChart
		wantLabel  string
		wantLegend []string
	}{
		{
			name:       "above, scaled like the data",
			chart:      LineChart{Title: "Packet loss (%)", Unit: "%", Scale: 100, Threshold: ptr(0.1), Series: ss[:2]},
			wantLabel:  "poor above 10%",
			wantLegend: []string{"participant 0 audio", "participant 1 audio"},
		},
		{
			name:       "below",
			chart:      LineChart{Title: "Frame rate", Threshold: ptr(15), Below: true, Series: ss[:1]},
			wantLabel:  "poor below 15",
			wantLegend: []string{"participant 0 audio"},
		},
		{
			name:      "eight entries, then the rest counted; series without data left out",
			chart:     LineChart{Title: "m", Series: ss},
			wantLabel: "",
			wantLegend: []string{"participant 0 audio", "participant 1 audio", "participant 2 audio", "participant 3 audio",
				"participant 4 audio", "participant 5 audio", "participant 6 audio", "participant 7 audio", "+3 more"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := parseSVG(t, string(Lines(a, tc.chart)))
			var label string
			if l := root.all(func(n *node) bool { return n.hasClass("threshold-label") }); len(l) == 1 {
				label = l[0].text
			}
			if label != tc.wantLabel {
				t.Errorf("threshold label %q, want %q", label, tc.wantLabel)
			}
			if got := len(root.all(func(n *node) bool { return n.hasClass("threshold") })); (got == 1) != (tc.wantLabel != "") {
				t.Errorf("%d threshold lines", got)
			}
			var legend []string
			for _, n := range root.all(isLegend) {
				legend = append(legend, n.text)
			}
			if strings.Join(legend, "|") != strings.Join(tc.wantLegend, "|") {
				t.Errorf("legend %q, want %q", legend, tc.wantLegend)
			}
		})
	}
}

func TestLinesThresholdLineSitsAtItsValue(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	c := LineChart{Title: "m", Threshold: ptr(20), Height: 100,
		Series: []Series{{Label: "s", Points: series(at(0, 0), time.Minute, 3, func(int) float64 { return 36 })}}}
	root := parseSVG(t, string(Lines(a, c)))
	// 36 with headroom is 39.6: ticks of 10 up to 40, so 20 is half way
	// down a 100 px plot that starts at y=24.
	th := root.all(func(n *node) bool { return n.name == "path" && n.hasClass("threshold") })
	if len(th) != 1 || th[0].attrs["d"] != "M160,74H760" {
		t.Errorf("threshold paths %v, want one at y=74", th)
	}
}

func TestLinesEmpty(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	tests := []struct {
		name   string
		series []Series
	}{
		{"no series", nil},
		{"series without points", []Series{{Label: "a"}, {Label: "b"}}},
		{"only NaN values", []Series{{Label: "a", Points: series(at(1, 0), time.Second, 3, func(int) float64 { return math.NaN() })}}},
		{"points outside the window only", []Series{{Label: "a", Points: series(at(6, 0), time.Second, 3, func(int) float64 { return 1 })}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := parseSVG(t, string(Lines(a, LineChart{Title: "Jitter (ms)", Threshold: ptr(30), Series: tc.series})))
			empty := root.all(func(n *node) bool { return n.hasClass("empty") })
			if len(empty) != 1 || empty[0].text != "no data in this window" {
				t.Errorf("no 'no data in this window' text")
			}
			if n := len(root.all(isLine)) + len(root.all(isLegend)); n != 0 {
				t.Errorf("%d lines and legend entries drawn without data", n)
			}
		})
	}
}

func TestLinesUnsortedPoints(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	sorted := series(at(0, 0), 30*time.Second, 8, func(i int) float64 { return float64(i) })
	shuffled := []Point{sorted[3], sorted[0], sorted[7], sorted[1], sorted[5], sorted[2], sorted[6], sorted[4]}
	want := Lines(a, LineChart{Title: "m", Series: []Series{{Label: "s", Points: sorted}}})
	if got := Lines(a, LineChart{Title: "m", Series: []Series{{Label: "s", Points: shuffled}}}); got != want {
		t.Errorf("points out of order draw a different chart:\n%s\nwant\n%s", got, want)
	}
	if shuffled[0] != sorted[3] {
		t.Errorf("Lines reordered the caller's points")
	}
}

func TestSpark(t *testing.T) {
	pts := series(at(0, 0), time.Second, 6, func(i int) float64 { return []float64{10, 20, 40, 50, 5, 12}[i] })
	tests := []struct {
		name      string
		points    []Point
		threshold *float64
		below     bool
		wantOver  int
		wantLabel string
	}{
		{"above", pts, ptr(30), false, 2, "Trend of 6 samples, 2 beyond the threshold"},
		{"below", pts, ptr(11), true, 2, "Trend of 6 samples, 2 beyond the threshold"},
		{"no threshold", pts, nil, false, 0, "Trend of 6 samples"},
		{"one point", pts[:1], ptr(5), false, 1, "Trend of 1 sample, 1 beyond the threshold"},
		{"no points", nil, ptr(5), false, 0, "no samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := parseSVG(t, string(Spark(tc.points, tc.threshold, tc.below, 100, 20)))
			if root.attrs["class"] != "spark" || root.attrs["width"] != "100" || root.attrs["height"] != "20" {
				t.Errorf("root attributes %v", root.attrs)
			}
			if got := root.attrs["aria-label"]; got != tc.wantLabel {
				t.Errorf("aria-label %q, want %q", got, tc.wantLabel)
			}
			over := root.all(func(n *node) bool { return n.hasClass("over") })
			if len(over) != tc.wantOver {
				t.Errorf("%d over dots, want %d", len(over), tc.wantOver)
			}
			for _, n := range root.all(func(n *node) bool { return n.name == "circle" || n.name == "path" }) {
				for _, k := range []string{"cx", "cy"} {
					if v, err := strconv.ParseFloat(n.attrs[k], 64); err == nil && (v < 0 || v > 100) {
						t.Errorf("%s=%v outside the drawing", k, v)
					}
				}
			}
		})
	}
}
