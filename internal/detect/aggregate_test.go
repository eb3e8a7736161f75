package detect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
)

// raised is a network UFD raised at from and cleared at to (seconds).
func raised(pid, name string, from, to int) []model.TimelineEvent {
	return []model.TimelineEvent{ufd(pid, from, name, "Poor"), ufd(pid, to, name, "Good")}
}

func streamIssues(res Result) []string {
	var out []string
	for _, is := range problems(res) {
		switch is.Kind {
		case KindPoorStream, KindPoorVideo, KindPoorScreenshare, KindPoorAudioConcealment:
			out = append(out, is.Kind+"@"+is.ParticipantID+"/"+is.Culprit.Type+":"+joinIDs(is.Culprit.ParticipantIDs))
		}
	}
	slices.Sort(out)
	return out
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}

// frozenVideo is a received video stream whose only fault is its freeze
// rate.
func frozenVideo(msPerMin float64) model.Stream {
	return model.Stream{MediaType: model.MediaVideo, Direction: model.DirInbound, TransportType: "UDP",
		JitterAvgMs: f(6), PacketLossRateAvg: f(0.01), RoundTripTimeAvgMs: f(40),
		VideoFrameRateAvg: f(25), RecvResolutionHeight: f(720), RecvFreezeMsPerMin: f(msPerMin), PacketUtilization: f(900)}
}

func TestAggregateAttribution(t *testing.T) {
	cases := []struct {
		name   string
		p2p    bool
		parts  []model.Participant
		events []model.TimelineEvent
		want   []string
	}{
		{
			name:  "receivers' frozen video with no diagnostics stays theirs",
			parts: []model.Participant{leg("a"), leg("b", frozenVideo(9000)), leg("c", frozenVideo(9000))},
			want:  []string{"poor-video@b/downlink:b", "poor-video@c/downlink:c"},
		},
		{
			name:   "the one sender reporting poor sending takes the receivers' frozen video",
			parts:  []model.Participant{leg("a"), leg("b", frozenVideo(9000)), leg("c", frozenVideo(9000))},
			events: raised("a", "networkSendQuality", 100, 400),
			want:   []string{"poor-video@a/uplink:a"},
		},
		{
			name:   "a receiver reporting poor receiving keeps its issue",
			parts:  []model.Participant{leg("a"), leg("b", frozenVideo(9000)), leg("c", frozenVideo(9000))},
			events: append(raised("a", "networkSendQuality", 100, 400), raised("c", "networkReceiveQuality", 100, 400)...),
			want:   []string{"poor-video@a/uplink:a", "poor-video@c/downlink:c"},
		},
		{
			name:   "two senders reporting poor sending are both named",
			parts:  []model.Participant{leg("a"), leg("b", frozenVideo(9000)), leg("d")},
			events: append(raised("a", "networkSendQuality", 100, 400), raised("d", "networkSendQuality", 200, 300)...),
			want:   []string{"poor-video@b/uplink:a,d"},
		},
		{
			name: "P2P: the sender's outgoing stream is the receiver's downlink when only the receiver complains",
			p2p:  true,
			parts: []model.Participant{leg("a", model.Stream{MediaType: model.MediaAudio, Direction: model.DirOutbound,
				TransportType: "UDP", JitterAvgMs: f(43), PacketLossRateAvg: f(0.001), RoundTripTimeAvgMs: f(60), PacketUtilization: f(900)}), leg("b")},
			events: raised("b", "networkReceiveQuality", 100, 400),
			want:   []string{"poor-stream@a/downlink:b"},
		},
		{
			name: "group call: the sender's outgoing stream stays its uplink",
			parts: []model.Participant{leg("a", model.Stream{MediaType: model.MediaAudio, Direction: model.DirOutbound,
				TransportType: "UDP", JitterAvgMs: f(43), PacketLossRateAvg: f(0.001), RoundTripTimeAvgMs: f(60), PacketUtilization: f(900)}), leg("b")},
			events: raised("b", "networkReceiveQuality", 100, 400),
			want:   []string{"poor-stream@a/uplink:a"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(tc.parts...)
			if tc.p2p {
				in.Call.CallType = model.CallTypeP2P
			}
			in.Events = tc.events
			got := streamIssues(Run(in, DefaultRules()))
			if !slices.Equal(got, tc.want) {
				t.Errorf("stream issues %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFoldedIssueInterval(t *testing.T) {
	in := call(leg("a"), leg("b", frozenVideo(9000)))
	in.Events = raised("a", "networkSendQuality", 100, 400)
	for _, is := range problems(Run(in, DefaultRules())) {
		if is.Kind != KindPoorVideo {
			continue
		}
		if !is.Start.Equal(at(100)) || !is.End.Equal(at(400)) {
			t.Errorf("interval %v-%v, want the sender's 100s-400s", is.Start.Sub(t0), is.End.Sub(t0))
		}
		if len(is.Evidence) != 2 || is.Evidence[0].Metric != "RecvFreezeDurationPerMinuteInMs" || is.Evidence[1].Metric != "networkSendQuality" {
			t.Errorf("evidence %+v", is.Evidence)
		}
		return
	}
	t.Error("no poor-video issue")
}

func TestOutageFreezes(t *testing.T) {
	cases := []struct {
		name      string
		outage    int // seconds a is reconnecting
		freeze    float64
		streamFor int // seconds b's media stats show a's video; 0 for none
		wantVideo bool
	}{
		// 9000 ms/min over 10 minutes is 90 s frozen.
		{"a long outage of the sender explains the freezes", 60, 9000, 0, false},
		{"a short outage does not", 20, 9000, 0, true},
		{"no outage", 0, 9000, 0, true},
		// Over the 2 minutes the video lasted, 9000 ms/min is 18 s.
		{"a short outage explains the freezes of a short stream", 20, 9000, 120, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := call(leg("a"), leg("b", frozenVideo(tc.freeze)))
			if tc.streamFor > 0 {
				in.Series = []model.Series{ser("b", "video-inbound-a", metricJitter, flat(5, tc.streamFor/10+1)...)}
				for i := range in.Series[0].Points {
					in.Series[0].Points[i].Time = in.Series[0].Points[i].Time.Add(150 * time.Second)
				}
			}
			if tc.outage > 0 {
				in.Events = []model.TimelineEvent{ufd("a", 200, "networkReconnect", "Bad"), ufd("a", 200+tc.outage, "networkReconnect", "Good")}
			}
			res := Run(in, DefaultRules())
			if got := countKind(res, KindPoorVideo) > 0; got != tc.wantVideo {
				t.Errorf("poor-video raised %v, want %v (%v)", got, tc.wantVideo, kinds(res))
			}
			if tc.outage > 0 && !tc.wantVideo {
				for _, is := range problems(res) {
					if is.Kind == KindNetworkReconnect && len(is.Evidence) < 2 {
						t.Errorf("the reconnect issue lacks the freeze as evidence: %+v", is.Evidence)
					}
				}
			}
		})
	}
}

func TestSeriesAttributionByDiagnostics(t *testing.T) {
	t.Run("two uplinks failing at once are two problems, not a shared network", func(t *testing.T) {
		res := Run(group(func(r, s string) bool { return (s == "b" || s == "c") && r != s }), DefaultRules())
		got := streamIssues(res)
		want := []string{"poor-stream@b/uplink:b", "poor-stream@c/uplink:c"}
		if !slices.Equal(got, want) {
			t.Errorf("stream issues %v, want %v", got, want)
		}
	})
	t.Run("P2P: the round trip both ends measure is the uplink of the end that reports it", func(t *testing.T) {
		in := call(leg("a"), leg("b"))
		in.Call.CallType = model.CallTypeP2P
		in.Series = []model.Series{
			ser("a", "audio-outbound", metricRTT, bump(50, 700, 30, 6, 12)...),
			ser("b", "audio-outbound", metricRTT, bump(50, 700, 30, 6, 12)...),
		}
		in.Events = raised("a", "networkSendQuality", 60, 130)
		got := streamIssues(Run(in, DefaultRules()))
		want := []string{"poor-stream@a/uplink:a"}
		if !slices.Equal(got, want) {
			t.Errorf("stream issues %v, want %v", got, want)
		}
	})
	t.Run("P2P: poor media received from a sender that reports poor sending is its uplink", func(t *testing.T) {
		in := call(leg("a"), leg("b"))
		in.Call.CallType = model.CallTypeP2P
		in.Series = []model.Series{
			ser("b", "audio-inbound-a", metricLost, bump(0, 10, 30, 6, 12)...),
			ser("b", "audio-inbound-a", metricPackets, flat(50, 30)...),
		}
		in.Events = append(raised("a", "networkSendQuality", 60, 130), raised("b", "networkReceiveQuality", 60, 130)...)
		got := streamIssues(Run(in, DefaultRules()))
		want := []string{"poor-stream@a/uplink:a"}
		if !slices.Equal(got, want) {
			t.Errorf("stream issues %v, want %v", got, want)
		}
	})
	t.Run("a sender with clean outbound stats is not blamed for receivers that report their own trouble", func(t *testing.T) {
		in := group(func(r, s string) bool { return s == "a" && r != "a" })
		in.Series = append(in.Series, ser("a", "audio-outbound", metricJitter, flat(5, 30)...))
		for _, r := range []string{"b", "c", "d"} {
			in.Events = append(in.Events, raised(r, "networkReceiveQuality", 60, 130)...)
		}
		for _, is := range streamIssues(Run(in, DefaultRules())) {
			if is == "poor-stream@a/uplink:a" {
				t.Errorf("a's uplink blamed: %v", is)
			}
		}
	})
	t.Run("an incoming interval mostly outside the sender's window keeps its own cause", func(t *testing.T) {
		in := call(leg("a"), leg("b"))
		in.Call.CallType = model.CallTypeP2P
		in.Series = []model.Series{
			ser("a", "audio-outbound", metricJitter, bump(5, 60, 30, 10, 12)...),
			ser("b", "audio-inbound-a", metricLost, bump(0, 10, 30, 2, 25)...),
			ser("b", "audio-inbound-a", metricPackets, flat(50, 30)...),
		}
		in.Events = append(raised("a", "networkSendQuality", 100, 130), raised("b", "networkReceiveQuality", 20, 260)...)
		got := streamIssues(Run(in, DefaultRules()))
		want := []string{"poor-stream@a/uplink:a", "poor-stream@b/downlink:b"}
		if !slices.Equal(got, want) {
			t.Errorf("stream issues %v, want %v", got, want)
		}
	})
	t.Run("participants whose clients report trouble both ways at once share a network", func(t *testing.T) {
		in := group(func(r, s string) bool { return true })
		for _, p := range []string{"a", "b", "c", "d"} {
			in.Events = append(in.Events, raised(p, "networkSendQuality", 60, 130)...)
			in.Events = append(in.Events, raised(p, "networkReceiveQuality", 60, 130)...)
		}
		got := streamIssues(Run(in, DefaultRules()))
		if len(got) == 0 {
			t.Fatal("no stream issues")
		}
		for _, is := range got {
			if !strings.Contains(is, "/shared-network:") {
				t.Errorf("%s is not blamed on a shared network", is)
			}
		}
	})
	t.Run("two downlinks failing at once are two problems", func(t *testing.T) {
		in := group(func(r, s string) bool { return r == "b" || r == "c" })
		in.Events = append(raised("b", "networkReceiveQuality", 60, 130), raised("c", "networkReceiveQuality", 60, 130)...)
		got := streamIssues(Run(in, DefaultRules()))
		want := []string{"poor-stream@b/downlink:b", "poor-stream@c/downlink:c"}
		if !slices.Equal(got, want) {
			t.Errorf("stream issues %v, want %v", got, want)
		}
	})
}
