package chart

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, or rewrites the file with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/chart -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\nIf the change is intended, run go test ./internal/chart -update and review the diff.", path, i+1, g, w)
		}
	}
}

func ptr(v float64) *float64 { return &v }

// smallTimeline is three lanes in a five-minute window: bars crossing both
// edges of the window, marks of every shape, marks merged on one pixel, a
// mark outside the window, a refused link and a highlight.
func smallTimeline() (Axis, []Lane, []Highlight) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	lanes := []Lane{
		{
			ID: "8:acs:alice", Label: "alice (web)", Title: "8:acs:alice web", Href: "?participant=alice",
			Bars: []Bar{
				{From: at(0, 0).Add(-time.Minute), To: at(6, 0), Class: "bar-connected", Label: "in the call"},
				{From: at(1, 0), To: at(2, 0), Class: "bar-muted", Label: "muted 10:01:00–10:02:00", Href: "?event=m1#details"},
				{From: at(3, 0), To: at(3, 0), Class: "bar-share", Label: "share for an instant"},
			},
			Marks: []Mark{
				{At: at(0, 30), Class: "mark-join", Label: "joined", ID: "e1", Href: "?event=e1#details"},
				{At: at(1, 10), Class: "mark-fail", Shape: "diamond", Label: "CreateView failed 40x", ID: "e2", Href: "?event=e2#details"},
				{At: at(2, 0), Class: "mark-ufd", Shape: "triangle", Label: "networkReconnect = Bad", ID: "e3"},
				{At: at(3, 0), Class: "mark-survey", Shape: "square", Label: "survey: 2 stars", ID: "e4"},
				{At: at(7, 0), Class: "mark-op", Label: "after the window", ID: "e5"},
			},
		},
		{
			ID: "8:acs:alice/audio", Label: "audio out", Sub: true,
			Bars: []Bar{
				{From: at(4, 30), Class: "bar-issue sev-warning", Label: "jitter above 30 ms from 10:04:30"},
			},
			Marks: []Mark{
				{At: at(2, 0).Add(100 * time.Millisecond), Class: "mark-op", Label: "MuteMicrophone", ID: "e6"},
				{At: at(2, 0).Add(200 * time.Millisecond), Class: "mark-op", Label: "UnmuteMicrophone", ID: "e7"},
				{At: at(2, 0).Add(300 * time.Millisecond), Class: "mark-op", Label: "MuteMicrophone", ID: "e8"},
				{At: at(2, 0).Add(300 * time.Millisecond), Class: "mark-fail", Shape: "diamond", Label: "failed", ID: "e9"},
			},
		},
		{
			ID: "4:+15550100", Label: "+1 555 0100 (PSTN, a very long label)", Href: "javascript:alert(1)",
			Bars: []Bar{
				{From: at(0, 0).Add(-2 * time.Minute), To: at(0, 10), Class: "bar-video", Label: "camera on"},
				{From: at(5, 30), To: at(6, 0), Class: "bar-video", Label: "after the window"},
			},
			Marks: []Mark{
				{At: at(4, 59), Class: "mark-leave", Shape: "square", Label: "left", ID: "e10", Href: "https://example.com/"},
			},
		},
	}
	hl := []Highlight{{From: at(1, 30), To: at(2, 30), Class: "hl-issue sev-critical", Label: "poor network 10:01:30–10:02:30"}}
	return a, lanes, hl
}

// series returns n points from start, every step, with values from f.
func series(start time.Time, step time.Duration, n int, f func(i int) float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{T: start.Add(time.Duration(i) * step), V: f(i)}
	}
	return pts
}

func jitterChart() (Axis, LineChart) {
	a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
	gap := series(at(0, 0), 10*time.Second, 30, func(i int) float64 { return float64(10 + i%5) })
	gap = append(gap[:10], gap[20:]...) // 100 s without samples
	return a, LineChart{
		Title: "Jitter (ms)", Unit: " ms", Threshold: ptr(30),
		Series: []Series{
			{Label: "alice audio out", Class: "s0", Points: series(at(0, 0), 10*time.Second, 31, func(i int) float64 { return float64(i) * 1.5 })},
			{Label: "bob audio out", Class: "s1", Points: gap},
			{Label: "carol audio in", Class: "s2", Points: series(at(0, 0).Add(-time.Minute), 15*time.Second, 30, func(i int) float64 { return 5 })},
		},
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		file string
		draw func() string
	}{
		{"timeline_small.svg", func() string { return string(Timeline(smallTimeline())) }},
		{"lines_threshold.svg", func() string { return string(Lines(jitterChart())) }},
		{"lines_below.svg", func() string {
			a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
			return string(Lines(a, LineChart{
				Title: "Frame rate received (fps)", Threshold: ptr(15), Below: true, Height: 80,
				Series: []Series{{Label: "alice video in", Class: "s0",
					Points: series(at(0, 0), 20*time.Second, 16, func(i int) float64 { return float64(30 - i) })}},
			}))
		}},
		{"lines_empty.svg", func() string {
			a := Axis{From: at(0, 0), To: at(5, 0), Width: 760}
			return string(Lines(a, LineChart{
				Title: "Packet loss (%)", Unit: "%", Scale: 100, Threshold: ptr(0.1),
				Series: []Series{{Label: "alice audio in", Class: "s0", Points: series(at(10, 0), time.Second, 5, func(int) float64 { return 0.2 })}},
			}))
		}},
		{"spark.svg", func() string {
			pts := series(at(0, 0), 5*time.Second, 20, func(i int) float64 { return []float64{12, 14, 18, 35, 41, 38, 22, 15}[i%8] })
			return string(Spark(pts, ptr(30), false, 120, 24))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got := tc.draw()
			parseSVG(t, got)
			checkGolden(t, tc.file, got)
		})
	}
}
