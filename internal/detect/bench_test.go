package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
)

// bigCall is a 250-participant, 30-minute call with full media stats
// (10 s samples): every participant sends audio and video, receives the
// mixed audio and nine remote videos, five metrics per stream. One
// participant has a poor uplink for five minutes and another one
// reconnects and drops.
func bigCall() Input {
	const parties, samples, videos = 250, 180, 9
	ids := make([]string, parties)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%03d", i)
	}
	metrics := []string{metricJitter, metricRTT, metricLost, metricPackets, "Bitrate"}
	base := map[string]float64{metricJitter: 6, metricRTT: 80, metricLost: 0.2, metricPackets: 50, "Bitrate": 32000}
	values := func(metric string, bad bool, seed int) []float64 {
		v := make([]float64, samples)
		for i := range v {
			v[i] = base[metric] * (1 + 0.1*float64((i*7+seed)%5))
			if bad && i >= 60 && i < 90 {
				switch metric {
				case metricJitter:
					v[i] = 70
				case metricLost:
					v[i] = 20
				}
			}
		}
		return v
	}
	var parts []model.Participant
	var series []model.Series
	add := func(pid, stream string, bad bool, seed int) {
		for _, m := range metrics {
			s := model.Series{ParticipantID: pid, StreamID: stream, Metric: m, Points: make([]model.Point, samples)}
			for i, v := range values(m, bad, seed) {
				s.Points[i] = model.Point{Time: t0.Add(time.Duration(i) * 10 * time.Second), Value: v}
			}
			series = append(series, s)
		}
	}
	for i, p := range ids {
		video := model.Stream{MediaType: model.MediaVideo, Direction: model.DirInbound, VideoFrameRateAvg: f(24),
			RecvFreezeMsPerMin: f(50), RecvResolutionHeight: f(540), PacketUtilization: f(4000)}
		parts = append(parts, leg(p, goodAudio(model.DirInbound), goodAudio(model.DirOutbound), video))
		add(p, "audio-outbound", p == "p007", i)
		add(p, "video-outbound", p == "p007", i)
		add(p, "audio-inbound", false, i)
		for k := 1; k <= videos; k++ {
			remote := ids[(i+k)%parties]
			add(p, "video-inbound-"+remote, remote == "p007", i+k)
		}
	}
	parts[42].DurationSeconds, parts[42].EndReason, parts[42].EndSubCode = f(900), n(410), n(301005)
	in := call(parts...)
	in.Call.EndTime = t0.Add(30 * time.Minute)
	in.Series = series
	in.Events = []model.TimelineEvent{ufd("p042", 880, "networkReconnect", "Bad")}
	for i, p := range ids {
		in.Events = append(in.Events, op(p, i%20, "Join", "Succeeded", nil, nil))
	}
	return in
}

func TestBigCall(t *testing.T) {
	res := Run(bigCall(), DefaultRules())
	var got []string
	for _, is := range res.Issues {
		got = append(got, is.Kind+"@"+is.ParticipantID+"/"+is.Culprit.Type)
	}
	want := []string{"dropped-ungracefully@p042/path", "poor-stream@p007/uplink", "network-reconnect@p042/path"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func BenchmarkRun(b *testing.B) { benchRun(b, bigCall()) }

// BenchmarkRunAllDegraded is the attribution's worst case: every
// participant's sending and receiving degrade for ten minutes at once.
func BenchmarkRunAllDegraded(b *testing.B) {
	in := bigCall()
	for i := range in.Series {
		s := &in.Series[i]
		if s.Metric == metricJitter && (strings.HasPrefix(s.StreamID, "video-inbound") || strings.HasSuffix(s.StreamID, "outbound")) {
			for j := 60; j < 120; j++ {
				s.Points[j].Value = 80
			}
		}
	}
	benchRun(b, in)
}

func benchRun(b *testing.B, in Input) {
	rules := DefaultRules()
	points := 0
	for _, s := range in.Series {
		points += len(s.Points)
	}
	b.ReportAllocs()
	b.ReportMetric(float64(points), "points/op")
	b.ResetTimer()
	for b.Loop() {
		Run(in, rules)
	}
}
