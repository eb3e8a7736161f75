package chart

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func isMark(n *node) bool { return n.hasClass("mark") }

func TestTimelineMergesMarksOnOnePixel(t *testing.T) {
	// 600 px for five minutes: one pixel is half a second.
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	ms := func(d int) time.Time { return at(1, 0).Add(time.Duration(d) * time.Millisecond) }
	type want struct {
		count int    // data-count, 1 when not merged
		class string // the caller's class
		title string
	}
	tests := []struct {
		name  string
		axis  Axis // a when zero
		marks []Mark
		want  []want
	}{
		{
			name:  "one mark is drawn as it is",
			marks: []Mark{{At: ms(0), Class: "mark-op", Label: "Join", ID: "a"}},
			want:  []want{{1, "mark-op", "Join"}},
		},
		{
			name: "marks on one pixel merge with a count and time range",
			marks: []Mark{
				{At: ms(100), Class: "mark-op", Label: "Mute", ID: "a"},
				{At: ms(200), Class: "mark-op", Label: "Unmute", ID: "b"},
				{At: ms(300), Class: "mark-op", Label: "Mute", ID: "c"},
			},
			want: []want{{3, "mark-op", "3 events at 10:01:00\nMute\nUnmute"}},
		},
		{
			name: "the range spans the seconds of the merged marks",
			// 540 px for five minutes: 10:01:40.6 and 10:01:41.05 share pixel 341.
			axis: Axis{From: at(0, 0), To: at(5, 0), Width: 700},
			marks: []Mark{
				{At: at(1, 40).Add(600 * time.Millisecond), Class: "mark-op", Label: "x", ID: "a"},
				{At: at(1, 41).Add(50 * time.Millisecond), Class: "mark-op", Label: "x", ID: "b"},
			},
			want: []want{{2, "mark-op", "2 events 10:01:40–10:01:41\nx"}},
		},
		{
			name: "a long run lists three labels, then an ellipsis",
			marks: []Mark{
				{At: ms(10), Class: "mark-ufd", Label: "a"}, {At: ms(20), Class: "mark-ufd", Label: "b"},
				{At: ms(30), Class: "mark-ufd", Label: "c"}, {At: ms(40), Class: "mark-ufd", Label: "d"},
			},
			want: []want{{4, "mark-ufd", "4 events at 10:01:00\na\nb\nc\n…"}},
		},
		{
			name: "marks a pixel apart stay separate",
			marks: []Mark{
				{At: ms(0), Class: "mark-op", Label: "A", ID: "a"},
				{At: ms(600), Class: "mark-op", Label: "B", ID: "b"},
			},
			want: []want{{1, "mark-op", "A"}, {1, "mark-op", "B"}},
		},
		{
			name: "different kinds on one pixel are not hidden in each other",
			marks: []Mark{
				{At: ms(100), Class: "mark-op", Label: "Mute", ID: "a"},
				{At: ms(150), Class: "mark-fail", Shape: "diamond", Label: "failed", ID: "b"},
				{At: ms(200), Class: "mark-op", Label: "Unmute", ID: "c"},
			},
			want: []want{{2, "mark-op", "2 events at 10:01:00\nMute\nUnmute"}, {1, "mark-fail", "failed"}},
		},
		{
			name: "unsorted marks merge as if sorted",
			marks: []Mark{
				{At: ms(300), Class: "mark-op", Label: "late", ID: "c"},
				{At: ms(1000), Class: "mark-op", Label: "other pixel", ID: "z"},
				{At: ms(-20000), Class: "mark-op", Label: "early", ID: "a"},
				{At: ms(200), Class: "mark-op", Label: "mid", ID: "b"},
			},
			want: []want{{1, "mark-op", "early"}, {2, "mark-op", "2 events at 10:01:00\nmid\nlate"}, {1, "mark-op", "other pixel"}},
		},
		{
			name: "marks outside the window are not drawn",
			marks: []Mark{
				{At: at(0, 0).Add(-time.Millisecond), Class: "mark-op", Label: "before"},
				{At: at(5, 0).Add(time.Millisecond), Class: "mark-op", Label: "after"},
				{At: at(5, 0), Class: "mark-leave", Label: "at the end"},
			},
			want: []want{{1, "mark-leave", "at the end"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ax := a
			if tc.axis.Width != 0 {
				ax = tc.axis
			}
			root := parseSVG(t, string(Timeline(ax, []Lane{{ID: "p", Label: "p", Marks: tc.marks}}, nil)))
			got := root.all(isMark)
			if len(got) != len(tc.want) {
				t.Fatalf("%d marks drawn, want %d", len(got), len(tc.want))
			}
			for i, g := range got {
				w := tc.want[i]
				count := 1
				if c, ok := g.attrs["data-count"]; ok {
					count, _ = strconv.Atoi(c)
				}
				if count != w.count || !g.hasClass(w.class) || g.title() != w.title {
					t.Errorf("mark %d: count %d, class %q, title %q; want count %d, class %q, title %q",
						i, count, g.attrs["class"], g.title(), w.count, w.class, w.title)
				}
				if (count > 1) != g.hasClass("merged") {
					t.Errorf("mark %d: class %q, merged is for counts above 1", i, g.attrs["class"])
				}
			}
		})
	}
}

func TestTimelineMergedMarkLinksToTheFirstEvent(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	marks := []Mark{
		{At: at(1, 0).Add(200 * time.Millisecond), Label: "second", ID: "b", Href: "?event=b#details"},
		{At: at(1, 0).Add(100 * time.Millisecond), Label: "first", ID: "a", Href: "?event=a#details"},
	}
	root := parseSVG(t, string(Timeline(a, []Lane{{ID: "p", Marks: marks}}, nil)))
	links := root.all(func(n *node) bool { return n.name == "a" })
	if len(links) != 1 || links[0].attrs["href"] != "?event=a#details" {
		t.Fatalf("links %v, want one to the first event", links)
	}
	if m := links[0].all(isMark); len(m) != 1 || m[0].attrs["data-event"] != "a" {
		t.Errorf("the merged mark does not carry data-event=a")
	}
}

func TestTimelineEscapesText(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	evil := `<script>alert("x")</script> & 'q'`
	lanes := []Lane{{
		ID: `a"b<c>`, Label: evil, Title: evil, Href: "javascript:alert(1)",
		Bars:  []Bar{{From: at(1, 0), To: at(2, 0), Class: `bar-x" onclick="alert(1)`, Label: evil, Href: "//evil.example/"}},
		Marks: []Mark{{At: at(3, 0), Class: "mark-op", Label: evil, ID: `e"1`, Href: "?event=" + evil}},
	}}
	hl := []Highlight{{From: at(1, 0), To: at(2, 0), Class: "hl-issue", Label: evil}}
	out := string(Timeline(a, lanes, hl))
	root := parseSVG(t, out)
	for _, bad := range []string{"<script", "javascript:", "//evil.example", `onclick="`} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	// What the browser reads back is the original text, shown as text.
	titles := root.all(func(n *node) bool { return n.name == "title" && n.text == evil })
	if len(titles) != 4 { // lane label, bar, mark, highlight
		t.Errorf("%d titles read back as the original text, want 4", len(titles))
	}
	links := root.all(func(n *node) bool { return n.name == "a" })
	if len(links) != 1 || links[0].attrs["href"] != "?event="+evil {
		t.Errorf("links %d; want only the relative mark link kept, its text escaped", len(links))
	}
	marks := root.all(isMark)
	if len(marks) != 1 || marks[0].attrs["data-event"] != `e"1` {
		t.Errorf("data-event does not read back as the event id")
	}
	for _, g := range root.all(func(n *node) bool { return n.hasClass("lane") }) {
		if id := g.attrs["id"]; strings.ContainsAny(id, `"<> `) {
			t.Errorf("lane id %q is not sanitized", id)
		}
	}
}

func TestTimelineLayout(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	lanes := []Lane{
		{ID: "p/1", Label: "participant one with a rather long name indeed"},
		{ID: "p/1", Label: "audio", Sub: true},
		{ID: "p.1", Label: "video", Sub: true},
		{ID: "p2", Label: "p2"},
	}
	root := parseSVG(t, string(Timeline(a, lanes, nil)))
	if got, want := root.attrs["height"], strconv.Itoa(axisHeight+2*LaneHeight+2*SubLaneHeight+bottomPad); got != want {
		t.Errorf("height %s, want %s", got, want)
	}
	if got, want := root.attrs["viewBox"], "0 0 760 "+root.attrs["height"]; got != want {
		t.Errorf("viewBox %q, want %q", got, want)
	}
	if got, want := root.attrs["aria-label"], "Timeline of 4 lanes from 10:00:00 to 10:05:00"; got != want {
		t.Errorf("aria-label %q, want %q", got, want)
	}
	if root.attrs["class"] != "timeline" || root.attrs["role"] != "img" || root.attrs["width"] != "760" {
		t.Errorf("root attributes %v", root.attrs)
	}
	ids := map[string]bool{}
	var subs int
	for _, g := range root.all(func(n *node) bool { return n.hasClass("lane") }) {
		if ids[g.attrs["id"]] {
			t.Errorf("duplicate element id %q", g.attrs["id"])
		}
		ids[g.attrs["id"]] = true
		if g.hasClass("sub") {
			subs++
		}
	}
	if len(ids) != 4 || subs != 2 {
		t.Errorf("%d lanes with ids, %d sub-lanes; want 4 and 2", len(ids), subs)
	}
	labels := root.all(func(n *node) bool { return n.hasClass("lane-label") })
	if len(labels) != 4 {
		t.Fatalf("%d labels, want 4", len(labels))
	}
	if got := labels[0].text; !strings.HasSuffix(got, "…") || len([]rune(got)) > 24 {
		t.Errorf("long label shown as %q, want it cut to fit the gutter", got)
	}
	if labels[0].title() != lanes[0].Label {
		t.Errorf("cut label's tooltip %q, want the full label", labels[0].title())
	}
}

func TestTimelineClipsBarsAndHighlights(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760} // 2 px a second from x=160
	tests := []struct {
		name       string
		bar        Bar
		drawn      bool
		wantX      string
		wantWidth  string
		highlight  bool
		wantHLX    string
		wantHLWide string
	}{
		{name: "inside", bar: Bar{From: at(1, 0), To: at(2, 0)}, drawn: true, wantX: "280", wantWidth: "120"},
		{name: "crossing the start", bar: Bar{From: at(0, 0).Add(-time.Hour), To: at(0, 30)}, drawn: true, wantX: "160", wantWidth: "60"},
		{name: "crossing the end", bar: Bar{From: at(4, 0), To: at(9, 0)}, drawn: true, wantX: "640", wantWidth: "120"},
		{name: "open-ended runs to the end", bar: Bar{From: at(4, 30)}, drawn: true, wantX: "700", wantWidth: "60"},
		{name: "an instant is 2 px wide", bar: Bar{From: at(2, 0), To: at(2, 0)}, drawn: true, wantX: "400", wantWidth: "2"},
		{name: "an instant at the end stays inside", bar: Bar{From: at(5, 0), To: at(5, 0)}, drawn: true, wantX: "758", wantWidth: "2"},
		{name: "before the window", bar: Bar{From: at(0, 0).Add(-time.Hour), To: at(0, 0).Add(-time.Minute)}},
		{name: "after the window", bar: Bar{From: at(6, 0), To: at(7, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.bar.Class = "bar-x"
			hl := []Highlight{{From: tc.bar.From, To: tc.bar.To, Class: "hl-x"}}
			if tc.bar.To.IsZero() {
				hl = nil
			}
			root := parseSVG(t, string(Timeline(a, []Lane{{ID: "p", Bars: []Bar{tc.bar}}}, hl)))
			bars := root.all(func(n *node) bool { return n.hasClass("bar") })
			if !tc.drawn {
				if len(bars) != 0 {
					t.Errorf("bar outside the window drawn: %v", bars[0].attrs)
				}
				if len(root.all(func(n *node) bool { return n.hasClass("hl") })) != 0 {
					t.Errorf("highlight outside the window drawn")
				}
				return
			}
			if len(bars) != 1 {
				t.Fatalf("%d bars drawn, want 1", len(bars))
			}
			if bars[0].attrs["x"] != tc.wantX || bars[0].attrs["width"] != tc.wantWidth {
				t.Errorf("bar x=%s width=%s, want x=%s width=%s", bars[0].attrs["x"], bars[0].attrs["width"], tc.wantX, tc.wantWidth)
			}
			if hl == nil {
				return
			}
			hls := root.all(func(n *node) bool { return n.hasClass("hl") })
			if len(hls) != 1 || hls[0].attrs["x"] != tc.wantX || hls[0].attrs["width"] != tc.wantWidth {
				t.Errorf("highlight %v, want x=%s width=%s like the bar", hls, tc.wantX, tc.wantWidth)
			}
		})
	}
}

func TestTimelineDrawsHighlightsBehindLanes(t *testing.T) {
	a, lanes, hl := smallTimeline()
	out := string(Timeline(a, lanes, hl))
	if h, l := strings.Index(out, `class="hl `), strings.Index(out, `class="lane`); h < 0 || l < 0 || h > l {
		t.Errorf("the highlight must come before the lanes, so it is drawn behind them")
	}
}

func TestTimelineMarksAreLargeEnoughToClick(t *testing.T) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	var marks []Mark
	for i, shape := range []string{"", "dot", "diamond", "triangle", "square", "unknown"} {
		marks = append(marks, Mark{At: at(i, 0), Shape: shape, Class: "mark-op"})
	}
	for _, sub := range []bool{false, true} {
		root := parseSVG(t, string(Timeline(a, []Lane{{ID: "p", Sub: sub, Marks: marks}}, nil)))
		got := root.all(isMark)
		if len(got) != len(marks) {
			t.Fatalf("%d marks drawn, want %d", len(got), len(marks))
		}
		for _, m := range got {
			var size float64
			switch m.name {
			case "circle":
				r, _ := strconv.ParseFloat(m.attrs["r"], 64)
				size = 2 * r
			case "rect":
				size, _ = strconv.ParseFloat(m.attrs["width"], 64)
				size++ // the square is drawn 1 px inside its 7 or 9 px box
			case "path":
				size = pathExtent(m.attrs["d"])
			}
			if size < 7 {
				t.Errorf("sub=%v: %s mark %v is %.1f px, want at least 7", sub, m.name, m.attrs, size)
			}
		}
	}
}

// pathExtent is the width of a mark path "Mx,yl… h…z" drawn with
// relative moves after its start.
func pathExtent(d string) float64 {
	_, rel, _ := strings.Cut(strings.TrimSuffix(d, "z"), "l")
	var x, lo, hi float64
	for _, f := range strings.Fields(strings.ReplaceAll(rel, "h", " h")) {
		dx, _, _ := strings.Cut(strings.TrimPrefix(f, "h"), ",")
		v, _ := strconv.ParseFloat(dx, 64)
		x += v
		lo, hi = min(lo, x), max(hi, x)
	}
	return hi - lo
}
