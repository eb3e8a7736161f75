package bench

import (
	"math"
	"strings"
	"testing"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"no values", nil, 50, 0},
		{"one value", []float64{7}, 95, 7},
		{"median of odd count, unsorted", []float64{9, 1, 5}, 50, 5},
		{"median of even count interpolates", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p0 is the minimum", []float64{3, 1, 2}, 0, 1},
		{"p100 is the maximum", []float64{3, 1, 2}, 100, 3},
		{"p95 of 1..21", seq(21), 95, 20},
		{"p95 between ranks", seq(10), 95, 9.55},
		{"out of range clamps", []float64{1, 2}, 150, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.xs, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
}

func TestMedianLeavesInputAlone(t *testing.T) {
	xs := []float64{3, 1, 2}
	if got := Median(xs); got != 2 {
		t.Errorf("Median = %v, want 2", got)
	}
	if xs[0] != 3 || xs[1] != 1 || xs[2] != 2 {
		t.Errorf("Median sorted its input: %v", xs)
	}
}

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	return xs
}

func TestDecodeOnly(t *testing.T) {
	long := strings.Repeat(`{"category":"CallSummary","properties":{"n":1}}`+"\n", 1000)
	tests := []struct {
		name    string
		input   string
		workers int
		want    int
		wantErr bool
	}{
		{"empty", "", 2, 0, false},
		{"one line without a line end", `{"a":1}`, 2, 1, false},
		{"blank lines and CRLF skipped", "{\"a\":1}\r\n\n  \n{\"b\":2}\r\n", 2, 2, false},
		{"many lines on two workers", long, 2, 1000, false},
		{"more workers than lines", "{\"a\":1}\n{\"b\":2}\n", 8, 2, false},
		{"zero workers means one", long, 0, 1000, false},
		{"bad JSON", "{\"a\":1}\n{\"a\":\n", 2, 0, true},
		{"not an object", "{\"a\":1}\n[1,2]\n", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeOnly(strings.NewReader(tt.input), int64(len(tt.input)), tt.workers)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodeOnly: err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("DecodeOnly = %d lines, want %d", got, tt.want)
			}
		})
	}
}

func TestLineBoundsCutAtLineEnds(t *testing.T) {
	input := "aaaa\nbb\ncccccccc\nd\neeeeee\n"
	for workers := 1; workers <= 6; workers++ {
		b, err := lineBounds(strings.NewReader(input), int64(len(input)), workers)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 0 || b[len(b)-1] != int64(len(input)) || len(b)-1 > workers {
			t.Errorf("%d workers: bounds %v", workers, b)
		}
		for _, at := range b[1 : len(b)-1] {
			if input[at-1] != '\n' {
				t.Errorf("%d workers: cut at %d is not after a line end (%v)", workers, at, b)
			}
		}
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tcalldiag\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\n"
	if got := parseVmHWM(status); got != 123456*1024 {
		t.Errorf("parseVmHWM = %d, want %d", got, 123456*1024)
	}
	if got := parseVmHWM("Name:\tx\n"); got != 0 {
		t.Errorf("parseVmHWM without VmHWM = %d, want 0", got)
	}
}
