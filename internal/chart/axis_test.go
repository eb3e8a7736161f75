package chart

import (
	"slices"
	"testing"
	"time"
)

func TestAxisX(t *testing.T) {
	win := Axis{From: at(0, 0), To: at(10, 0), Width: 1160}
	tests := []struct {
		name string
		a    Axis
		t    time.Time
		want float64
	}{
		{"start maps to the gutter edge", win, at(0, 0), 160},
		{"end maps to the width", win, at(10, 0), 1160},
		{"middle", win, at(5, 0), 660},
		{"before the window clamps", win, at(0, 0).Add(-time.Hour), 160},
		{"after the window clamps", win, at(20, 0), 1160},
		{"explicit gutter", Axis{From: at(0, 0), To: at(10, 0), Width: 1100, Gutter: 100}, at(1, 0), 200},
		{"empty window", Axis{From: at(1, 0), To: at(1, 0), Width: 800}, at(1, 0), 160},
		{"inverted window", Axis{From: at(2, 0), To: at(1, 0), Width: 800}, at(1, 30), 160},
		{"default width", Axis{From: at(0, 0), To: at(10, 0)}, at(10, 0), DefaultWidth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.X(tc.t); got != tc.want {
				t.Errorf("X(%s) = %v, want %v", tc.t.Format(time.TimeOnly), got, tc.want)
			}
		})
	}
}

func TestAxisTicks(t *testing.T) {
	start := time.Date(2025, 3, 14, 10, 0, 7, 0, time.UTC)
	tests := []struct {
		span       time.Duration
		wantStep   time.Duration
		wantLayout string
	}{
		{10 * time.Second, 2 * time.Second, "15:04:05"},
		{30 * time.Second, 5 * time.Second, "15:04:05"},
		{time.Minute, 10 * time.Second, "15:04:05"},
		{2 * time.Minute, 15 * time.Second, "15:04:05"},
		{5 * time.Minute, 30 * time.Second, "15:04:05"},
		{20 * time.Minute, 2 * time.Minute, "15:04"},
		{time.Hour, 10 * time.Minute, "15:04"},
		{3 * time.Hour, 30 * time.Minute, "15:04"},
		{8 * time.Hour, time.Hour, "15:04"},
		{30 * 24 * time.Hour, 7 * 24 * time.Hour, "Jan 2 15:04"},
		{24 * time.Hour, 3 * time.Hour, "Jan 2 15:04"},
		{72 * time.Hour, 12 * time.Hour, "Jan 2 15:04"},
	}
	for _, tc := range tests {
		t.Run(tc.span.String(), func(t *testing.T) {
			a := Axis{From: start, To: start.Add(tc.span), Width: 1000}
			ticks, layout := a.Ticks()
			if layout != tc.wantLayout {
				t.Errorf("layout = %q, want %q", layout, tc.wantLayout)
			}
			if len(ticks) < 4 || len(ticks) > 10 {
				t.Errorf("%d ticks, want 4 to 10: %v", len(ticks), ticks)
			}
			for i, tk := range ticks {
				if tk.Before(a.From) || tk.After(a.To) {
					t.Errorf("tick %s outside the window", tk)
				}
				if tk.Sub(tk.Truncate(24*time.Hour))%tc.wantStep != 0 {
					t.Errorf("tick %s is not a multiple of %s", tk.Format(time.TimeOnly), tc.wantStep)
				}
				if i > 0 && tk.Sub(ticks[i-1]) != tc.wantStep {
					t.Errorf("step %s between ticks %d and %d, want %s", tk.Sub(ticks[i-1]), i-1, i, tc.wantStep)
				}
			}
			if len(ticks) > 0 && ticks[0].Sub(a.From) >= tc.wantStep {
				t.Errorf("first tick %s leaves a whole step empty after %s", ticks[0], a.From)
			}
		})
	}
}

func TestAxisTicksNarrowAndEmpty(t *testing.T) {
	narrow := Axis{From: at(0, 0), To: at(10, 0), Width: 400} // 240 px of plot
	ticks, _ := narrow.Ticks()
	if len(ticks) > 3 || len(ticks) < 2 {
		t.Errorf("narrow axis: %d ticks, want 2 or 3 so the labels fit", len(ticks))
	}
	if ticks, _ := (Axis{From: at(1, 0), To: at(1, 0)}).Ticks(); len(ticks) != 0 {
		t.Errorf("empty window: ticks %v, want none", ticks)
	}
}

func TestAxisTicksAlignInTheWindowsZone(t *testing.T) {
	// A zone half an hour off UTC: hourly ticks fall on its full hours.
	zone := time.FixedZone("IST", 5*3600+1800)
	from := time.Date(2025, 3, 14, 9, 20, 0, 0, zone)
	a := Axis{From: from, To: from.Add(8 * time.Hour), Width: 1000}
	ticks, _ := a.Ticks()
	var mins []int
	for _, tk := range ticks {
		mins = append(mins, tk.Minute())
	}
	if len(ticks) == 0 || slices.ContainsFunc(mins, func(m int) bool { return m != 0 }) {
		t.Errorf("ticks %v are not on the zone's full hours", ticks)
	}
}
