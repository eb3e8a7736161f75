package chart

import (
	"strconv"
	"testing"
	"time"
)

// call250 builds the timeline of a 250-participant, one-hour call: each
// participant has a lane and two stream sub-lanes, about 21,000 bars and
// marks in all, with bursts of events that land on one pixel.
func call250() (Axis, []Lane) {
	start := at(0, 0)
	a := Axis{From: start, To: start.Add(time.Hour), Width: 1400}
	shapes := []string{"dot", "diamond", "triangle", "square"}
	classes := []string{"mark-op", "mark-fail", "mark-ufd", "mark-survey"}
	lanes := make([]Lane, 0, 750)
	for p := range 250 {
		id := "8:acs:" + strconv.Itoa(100000+p)
		join := start.Add(time.Duration(p) * 3 * time.Second)
		main := Lane{ID: id, Label: id + " (web)", Title: id + " web", Href: "?participant=" + id,
			Bars: []Bar{{From: join, To: join.Add(50 * time.Minute), Class: "bar-connected", Label: "in the call"}}}
		for m := range 5 {
			from := join.Add(time.Duration(m*9) * time.Minute)
			main.Bars = append(main.Bars, Bar{From: from, To: from.Add(3 * time.Minute), Class: "bar-muted", Label: "muted"})
		}
		for e := range 40 {
			at := join.Add(time.Duration(e*70) * time.Second)
			if e%10 < 3 { // a burst: three events within a few milliseconds
				at = join.Add(time.Duration(e/10*700)*time.Second + time.Duration(e%10)*time.Millisecond)
			}
			ev := "ev-" + strconv.Itoa(p) + "-" + strconv.Itoa(e)
			main.Marks = append(main.Marks, Mark{At: at, Class: classes[e%4], Shape: shapes[e%4],
				Label: "CreateView 200", ID: ev, Href: "?event=" + ev + "#details"})
		}
		lanes = append(lanes, main)
		for _, stream := range []string{"audio", "video"} {
			sub := Lane{ID: id + "/" + stream, Label: stream, Sub: true}
			for s := range 5 {
				from := join.Add(time.Duration(s*10) * time.Minute)
				sub.Bars = append(sub.Bars, Bar{From: from, To: from.Add(4 * time.Minute), Class: "bar-video", Label: stream + " on"})
			}
			for e := range 14 {
				ev := "ev-" + strconv.Itoa(p) + "-" + stream + "-" + strconv.Itoa(e)
				sub.Marks = append(sub.Marks, Mark{At: join.Add(time.Duration(e*200) * time.Second), Class: "mark-ufd",
					Label: "networkReceiveQuality = Bad", ID: ev, Href: "?event=" + ev + "#details"})
			}
			lanes = append(lanes, sub)
		}
	}
	return a, lanes
}

func BenchmarkTimeline250(b *testing.B) {
	a, lanes := call250()
	hl := []Highlight{{From: a.From.Add(10 * time.Minute), To: a.From.Add(12 * time.Minute), Class: "hl-issue sev-critical", Label: "poor network"}}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(Timeline(a, lanes, hl))
	}
	b.ReportMetric(float64(size), "bytes/svg")
}

func BenchmarkLines(b *testing.B) {
	a := Axis{From: at(0, 0), To: at(0, 0).Add(time.Hour), Width: 1400}
	c := LineChart{Title: "Jitter (ms)", Unit: " ms", Threshold: ptr(30)}
	for s := range 250 {
		c.Series = append(c.Series, Series{Label: "p" + strconv.Itoa(s) + " audio", Class: "s" + strconv.Itoa(s%8),
			Points: series(a.From, time.Minute, 60, func(i int) float64 { return float64((i*s)%40 + 2) })})
	}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(Lines(a, c))
	}
	b.ReportMetric(float64(size), "bytes/svg")
}
