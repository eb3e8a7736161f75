package detect

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRulesGood(t *testing.T) {
	name := filepath.Join("testdata", "rules", "tuned.good.rules")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRules(name, data)
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	want := DefaultRules()
	want.JitterAvgMs, want.SeriesJitterMs, want.SeriesJitterReleaseMs = 20, 20, 15
	want.Disabled = []string{KindSpeakingWhileMuted}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
}

func TestParseRulesBad(t *testing.T) {
	cases := []struct {
		file string
		want []string // each must appear in the error
	}{
		{"unknown-key.bad.rules", []string{`unknown-key.bad.rules:2: unknown key "stream.jiter.avg_ms"`}},
		{"many.bad.rules", []string{
			`many.bad.rules:2: stream.rtt.avg_ms: "fast" is not a number`,
			`many.bad.rules:3: expected KEY = VALUE`,
			`many.bad.rules:4: stream.packet_loss.avg: 1.5 is outside 0..1`,
		}},
		{"duplicate.bad.rules", []string{`duplicate.bad.rules:2: video.height.min already set on line 1`}},
		{"release.bad.rules", []string{`release.bad.rules:1: series.rtt_ms.release (400) must not exceed series.rtt_ms.enter (300)`}},
		{"disable.bad.rules", []string{`disable.bad.rules:1: disable: unknown issue kind "no-such-kind"`}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			name := filepath.Join("testdata", "rules", tc.file)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseRules(tc.file, data)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tc.want) {
				t.Errorf("%d problems reported, want %d: %v", got, len(tc.want), err)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	tuned := DefaultRules()
	tuned.RTTAvgMs, tuned.SeriesLoss, tuned.AttributionShare = 350.5, 0.07, 0.6
	tuned.Disabled = []string{KindRejoined, KindMediaOverTCP}
	for _, r := range []Rules{DefaultRules(), tuned} {
		text := r.Format()
		got, err := ParseRules("formatted", []byte(text))
		if err != nil {
			t.Fatalf("ParseRules(Format()): %v\n%s", err, text)
		}
		want := r
		want.Disabled = append([]string(nil), r.Disabled...)
		if len(want.Disabled) == 0 {
			want.Disabled = nil
		}
		sortStrings(want.Disabled)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip changed the rules:\n got %+v\nwant %+v", got, want)
		}
		if !strings.Contains(text, "default from: ACS Call Diagnostics") {
			t.Errorf("format does not name the sources:\n%s", text)
		}
	}
}

func FuzzParseRules(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rules", "*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(DefaultRules().Format()))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules("fuzz", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz:") {
					t.Fatalf("error without a position: %q", line)
				}
			}
			return
		}
		back, err := ParseRules("again", []byte(r.Format()))
		if err != nil || !reflect.DeepEqual(back, r) {
			t.Fatalf("format does not round-trip: %v", err)
		}
	})
}
