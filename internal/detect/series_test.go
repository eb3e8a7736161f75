package detect

import (
	"slices"
	"testing"
	"time"

	"calldiag/internal/model"
)

// ser is a series sampled every 10 s from the call start.
func ser(pid, stream, metric string, values ...float64) model.Series {
	s := model.Series{ParticipantID: pid, StreamID: stream, Metric: metric}
	for i, v := range values {
		s.Points = append(s.Points, model.Point{Time: t0.Add(time.Duration(i) * 10 * time.Second), Value: v})
	}
	return s
}

func flat(v float64, count int) []float64 {
	out := make([]float64, count)
	for i := range out {
		out[i] = v
	}
	return out
}

// bump is count samples at base with high from index from to to inclusive.
func bump(base, high float64, count, from, to int) []float64 {
	out := flat(base, count)
	for i := from; i <= to; i++ {
		out[i] = high
	}
	return out
}

func TestSeriesIntervals(t *testing.T) {
	cases := []struct {
		name    string
		series  []model.Series
		want    []string // participant stream from-to (seconds)
		culprit string
	}{
		{"single spike is no issue", []model.Series{ser("a", "audio-outbound", metricJitter, 5, 5, 90, 5, 5, 5)}, nil, ""},
		{"sustained jitter", []model.Series{ser("a", "audio-outbound", metricJitter, 5, 5, 40, 45, 50, 40, 5, 5, 5)},
			[]string{"a audio-outbound 20-50"}, model.CulpritUplink},
		{"at the threshold is fine", []model.Series{ser("a", "audio-outbound", metricJitter, flat(30, 10)...)}, nil, ""},
		{"flapping is one issue", []model.Series{ser("a", "audio-outbound", metricJitter, 5, 40, 40, 28, 40, 10, 40, 27, 26, 45, 5, 5, 5)},
			[]string{"a audio-outbound 10-90"}, model.CulpritUplink},
		{"two episodes", []model.Series{ser("a", "audio-outbound", metricRTT, 50, 600, 700, 50, 50, 50, 800, 900, 50, 50)},
			[]string{"a audio-outbound 10-20", "a audio-outbound 60-70"}, model.CulpritUplink},
		{"loss from packet rates", []model.Series{
			ser("a", "audio-inbound", metricLost, 0, 0, 20, 30, 25, 0, 0, 0),
			ser("a", "audio-inbound", metricPackets, 50, 50, 80, 70, 75, 50, 50, 50)},
			[]string{"a audio-inbound 20-40"}, model.CulpritDownlink},
		{"metrics overlapping on one stream are one issue", []model.Series{
			ser("a", "audio-outbound", metricJitter, 5, 40, 40, 40, 5, 5, 5),
			ser("a", "audio-outbound", metricRTT, 50, 50, 600, 600, 600, 50, 50)},
			[]string{"a audio-outbound 10-40"}, model.CulpritUplink},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a"))
			in.Series = tc.series
			res := Run(in, DefaultRules())
			var got []string
			for _, is := range problems(res) {
				got = append(got, is.ParticipantID+" "+is.StreamID+" "+itoa(is.Start.Sub(t0))+"-"+itoa(is.End.Sub(t0)))
				if is.Kind != KindPoorStream || is.Culprit.Type != tc.culprit {
					t.Errorf("got %s culprit %s, want poor-stream culprit %s", is.Kind, is.Culprit.Type, tc.culprit)
				}
				for _, e := range is.Evidence {
					if e.From == nil || e.To == nil || e.Source != srcSeries {
						t.Errorf("evidence without interval or source: %+v", e)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOutboundOrDownlink checks a two-party call in which only one side's
// outbound statistics degrade: the sender's own SDK decides whether its
// sending or the other side's receiving is to blame.
func TestOutboundOrDownlink(t *testing.T) {
	cases := []struct {
		name string
		ufds []model.TimelineEvent
		want string // participant/culprit
	}{
		{"no UFDs: the sender's uplink", nil, "a/uplink"},
		{"sender reports poor sending", []model.TimelineEvent{ufd("a", 20, "networkSendQuality", "Poor"), ufd("a", 60, "networkSendQuality", "Good")}, "a/uplink"},
		{"only the receiver reports poor receiving", []model.TimelineEvent{ufd("b", 25, "networkReceiveQuality", "Bad"), ufd("b", 55, "networkReceiveQuality", "Good")}, "b/downlink"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a"), leg("b"))
			in.Series = []model.Series{ser("a", "audio-outbound", metricRTT, 50, 50, 700, 700, 700, 700, 50, 50, 50)}
			in.Events = tc.ufds
			res := Run(in, DefaultRules())
			var got []string
			for _, is := range problems(res) {
				if is.Kind == KindPoorStream {
					got = append(got, is.ParticipantID+"/"+is.Culprit.Type)
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("poor-stream issues %v, want [%s]", got, tc.want)
			}
		})
	}
}

func TestHysteresis(t *testing.T) {
	pts := func(vs ...float64) []model.Point {
		return ser("", "", "", vs...).Points
	}
	cases := []struct {
		name   string
		values []float64
		want   [][2]int
	}{
		{"empty", nil, nil},
		{"spike", []float64{1, 9, 1}, nil},
		{"enter", []float64{1, 9, 9, 1, 1}, [][2]int{{1, 2}}},
		{"open to the end", []float64{9, 9, 9}, [][2]int{{0, 2}}},
		{"dip in the band keeps it", []float64{9, 9, 4, 4, 4, 9, 1, 1}, [][2]int{{0, 5}}},
		{"one release point keeps it", []float64{9, 9, 1, 9, 1, 1}, [][2]int{{0, 3}}},
		{"two intervals", []float64{9, 9, 1, 1, 9, 9, 1, 1}, [][2]int{{0, 1}, {4, 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := hysteresis(pts(tc.values...), 5, 3, 2, 2)
			if !slices.Equal(got, tc.want) {
				t.Errorf("hysteresis(%v) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
}

// group builds a 4-party call a, b, c, d: every participant receives a
// video stream from each other one and the mixed audio; poor(receiver,
// sender) says which received streams degrade from 60 s to 120 s.
func group(poor func(recv, send string) bool) Input {
	ids := []string{"a", "b", "c", "d"}
	var parts []model.Participant
	var series []model.Series
	for _, r := range ids {
		audio := goodAudio(model.DirInbound)
		mixedBad := false
		for _, s := range ids {
			if s == r {
				continue
			}
			v := flat(5, 30)
			if poor(r, s) {
				v = bump(5, 60, 30, 6, 12)
				mixedBad = true
			}
			series = append(series, ser(r, "video-inbound-"+s, metricJitter, v...))
		}
		mixed := flat(5, 30)
		if mixedBad {
			mixed = bump(5, 60, 30, 6, 12)
			audio.JitterAvgMs, audio.HealedDataRatioAvg = f(45), f(0.2)
		}
		series = append(series, ser(r, "audio-inbound", metricJitter, mixed...))
		parts = append(parts, leg(r, audio, goodAudio(model.DirOutbound)))
	}
	in := call(parts...)
	in.Series = series
	return in
}

func TestAttribution(t *testing.T) {
	cases := []struct {
		name    string
		poor    func(recv, send string) bool
		want    []string // kind@participant
		culprit string
		blamed  []string
	}{
		{"healthy", func(string, string) bool { return false }, nil, "", nil},
		{"bad uplink of b blames b only", func(_, s string) bool { return s == "b" },
			[]string{"poor-stream@b"}, model.CulpritUplink, []string{"b"}},
		{"bad downlink of c blames c only", func(r, _ string) bool { return r == "c" },
			[]string{"poor-stream@c"}, model.CulpritDownlink, []string{"c"}},
		{"a and d on one network", func(r, s string) bool { return r == "a" || r == "d" || s == "a" || s == "d" },
			[]string{"poor-stream@a", "poor-stream@d"}, model.CulpritSharedNetwork, []string{"a", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(group(tc.poor), DefaultRules())
			got := kinds(res)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("issues %v, want %v", got, tc.want)
			}
			for _, is := range problems(res) {
				if is.Culprit.Type != tc.culprit || !slices.Equal(is.Culprit.ParticipantIDs, tc.blamed) {
					t.Errorf("%s culprit %s %v, want %s %v", is.ParticipantID, is.Culprit.Type, is.Culprit.ParticipantIDs, tc.culprit, tc.blamed)
				}
				if !is.Start.Equal(at(60)) || !is.End.Equal(at(120)) {
					t.Errorf("interval %v-%v, want 60s-120s", is.Start.Sub(t0), is.End.Sub(t0))
				}
			}
		})
	}
}
