package simulate

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestAppendTime(t *testing.T) {
	times := []time.Time{
		time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2000, 1, 1, 12, 30, 45, 123_000_000, time.UTC),
		time.Date(2100, 12, 31, 1, 2, 3, 4_000_000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC),
		time.Date(2025, 7, 4, 9, 8, 7, 0, time.FixedZone("x", 5*3600)),
	}
	for i := 0; i < 2000; i++ {
		times = append(times, time.Unix(int64(i)*7_919_999+946_684_800, int64(i%1000)*1_000_000))
	}
	for _, tm := range times {
		got := string(appendTime(nil, tm))
		want := tm.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		if tm.Before(time.Unix(0, 0)) {
			want = time.UnixMilli(tm.UnixMilli()).UTC().Format("2006-01-02T15:04:05.000Z")
		}
		if got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestLineJSON(t *testing.T) {
	var w line
	w.reset(true, true)
	w.str("a", "quote\" back\\ tab\t nl\n ctl\x01 ünï")
	w.integer("n", 42)
	w.real("f", 3.146336e-05)
	w.null("x")
	w.open("p")
	w.optInt("i", 2.6, true)
	w.optReal("r", 0, false)
	w.jsonNull("j")
	w.boolean("b", true)
	b := w.done()
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	p := got["p"].(map[string]any)
	if got["a"] != "quote\" back\\ tab\t nl\n ctl\x01 ünï" || got["n"] != "42" || got["f"] != "3.146336E-05" ||
		got["x"] != "null" || p["i"] != "3" || p["r"] != "null" || p["j"] != nil || p["b"] != true {
		t.Errorf("decoded %v from %s", got, b)
	}
	w.reset(false, false)
	w.real("f", 0.5)
	w.integer("n", -3)
	w.real("big", math.Round(1.5e6))
	w.null("x")
	if s := string(w.done()); s != `{"f":0.5,"n":-3,"big":1500000,"x":null}` {
		t.Errorf("number record = %s", s)
	}
}
