package detect

import (
	"slices"
	"strings"
	"testing"

	"calldiag/internal/model"
)

func TestStreamRules(t *testing.T) {
	mod := func(fn func(*model.Stream)) model.Stream {
		s := goodAudio(model.DirInbound)
		fn(&s)
		return s
	}
	video := func(fn func(*model.Stream)) model.Stream {
		s := model.Stream{MediaType: model.MediaVideo, Direction: model.DirInbound, VideoFrameRateAvg: f(25),
			RecvFreezeMsPerMin: f(100), RecvResolutionHeight: f(720), PacketUtilization: f(500)}
		fn(&s)
		return s
	}
	share := func(fn func(*model.Stream)) model.Stream {
		s := model.Stream{MediaType: model.MediaScreenshare, Direction: model.DirInbound, VideoFrameRateAvg: f(5),
			RecvFreezeMsPerMin: f(100), RecvResolutionHeight: f(1080), PacketUtilization: f(500)}
		fn(&s)
		return s
	}
	cases := []struct {
		name    string
		stream  model.Stream
		kind    string
		rules   string // comma-joined rule ids of the issue, "" when no issue
		quality string
	}{
		{"healthy", goodAudio(model.DirInbound), "", "", QualityGood},
		{"jitter", mod(func(s *model.Stream) { s.JitterAvgMs = f(31) }), KindPoorStream, "stream.jitter", QualityPoor},
		{"jitter at threshold", mod(func(s *model.Stream) { s.JitterAvgMs = f(30) }), "", "", QualityGood},
		{"loss", mod(func(s *model.Stream) { s.PacketLossRateAvg = f(0.2) }), KindPoorStream, "stream.packet_loss", QualityPoor},
		{"rtt", mod(func(s *model.Stream) { s.RoundTripTimeAvgMs = f(800) }), KindPoorStream, "stream.rtt", QualityPoor},
		{"jitter buffer", mod(func(s *model.Stream) { s.JitterBufferAvgMs = f(250) }), KindPoorStream, "stream.jitter_buffer", QualityPoor},
		{"all network rules in one issue", mod(func(s *model.Stream) {
			s.JitterAvgMs, s.PacketLossRateAvg, s.RoundTripTimeAvgMs, s.JitterBufferAvgMs = f(40), f(0.3), f(600), f(300)
		}), KindPoorStream, "stream.jitter,stream.packet_loss,stream.rtt,stream.jitter_buffer", QualityPoor},
		{"nulls never fire", model.Stream{MediaType: model.MediaAudio, Direction: model.DirInbound}, "", "", QualityGood},
		{"healed", mod(func(s *model.Stream) { s.HealedDataRatioAvg = f(0.2) }), KindPoorAudioConcealment, "stream.healed_ratio", QualityPoor},
		{"video fps", video(func(s *model.Stream) { s.VideoFrameRateAvg = f(5) }), KindPoorVideo, "video.frame_rate", QualityPoor},
		{"video freeze", video(func(s *model.Stream) { s.RecvFreezeMsPerMin = f(7000) }), KindPoorVideo, "video.freeze", QualityPoor},
		{"video height", video(func(s *model.Stream) { s.RecvResolutionHeight = f(180) }), KindPoorVideo, "video.height", QualityPoor},
		{"healthy video", video(func(*model.Stream) {}), "", "", QualityGood},
		{"screenshare fps 5 is fine", share(func(*model.Stream) {}), "", "", QualityGood},
		{"screenshare fps", share(func(s *model.Stream) { s.VideoFrameRateAvg = f(0.5) }), KindPoorScreenshare, "screenshare.frame_rate", QualityPoor},
		{"screenshare freeze", share(func(s *model.Stream) { s.RecvFreezeMsPerMin = f(30000) }), KindPoorScreenshare, "screenshare.freeze", QualityPoor},
		{"screenshare height", share(func(s *model.Stream) { s.RecvResolutionHeight = f(720) }), KindPoorScreenshare, "screenshare.height", QualityPoor},
		{"tcp", mod(func(s *model.Stream) { s.TransportType = "TCP" }), KindMediaOverTCP, "stream.transport", QualityGood},
		{"no media flow", mod(func(s *model.Stream) { s.PacketUtilization = f(0) }), KindNoMediaFlow, "stream.packet_utilization", QualityGood},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(call(leg("a", tc.stream)), DefaultRules())
			if res.Quality != tc.quality {
				t.Errorf("quality = %s, want %s", res.Quality, tc.quality)
			}
			if tc.kind == "" {
				if len(problems(res)) != 0 {
					t.Fatalf("want no issues, got %v", kinds(res))
				}
				return
			}
			if len(problems(res)) != 1 {
				t.Fatalf("want one %s issue, got %v", tc.kind, kinds(res))
			}
			is := problems(res)[0]
			if is.Kind != tc.kind || is.Rule != tc.rules {
				t.Errorf("got %s rule %q, want %s rule %q", is.Kind, is.Rule, tc.kind, tc.rules)
			}
			if is.ParticipantID != "a" || is.StreamID != tc.stream.StreamID && tc.stream.StreamID != "" {
				t.Errorf("issue on %s/%s", is.ParticipantID, is.StreamID)
			}
			if len(is.Evidence) != strings.Count(tc.rules, ",")+1 {
				t.Errorf("evidence %d items for rules %q", len(is.Evidence), tc.rules)
			}
			for _, e := range is.Evidence {
				if !slices.Contains(e.RecordIDs, "rec-a-"+is.StreamID) {
					t.Errorf("evidence %s lacks the record id: %v", e.Metric, e.RecordIDs)
				}
			}
			if is.Summary == "" || is.ID == "" || !slices.Contains(is.Recommendation.KB, "kind-"+tc.kind) {
				t.Errorf("incomplete issue: %+v", is)
			}
		})
	}
}

func TestQualityUnknownWithoutDiagnostics(t *testing.T) {
	res := Run(call(leg("a"), leg("b")), DefaultRules())
	if res.Quality != QualityUnknown {
		t.Errorf("quality = %s, want Unknown", res.Quality)
	}
}

func TestMOS(t *testing.T) {
	good := goodAudio(model.DirInbound)
	bad := goodAudio(model.DirInbound)
	bad.JitterAvgMs, bad.PacketLossRateAvg, bad.RoundTripTimeAvgMs = f(60), f(0.15), f(700)
	none := model.Stream{MediaType: model.MediaAudio, Direction: model.DirOutbound}
	video := model.Stream{MediaType: model.MediaVideo, Direction: model.DirOutbound, JitterAvgMs: f(3)}
	res := Run(call(leg("a", good), leg("b", bad), leg("c", none, video)), DefaultRules())
	if len(res.MOS) != 2 {
		t.Errorf("MOS = %v, want two audio streams", res.MOS)
	}
	var a, b float64
	for k, v := range res.MOS {
		switch k[:1] {
		case "a":
			a = v
		case "b":
			b = v
		case "c":
			t.Errorf("MOS for a stream without metrics or not audio: %s", k)
		}
	}
	if a < 4.2 || a > 4.5 {
		t.Errorf("healthy MOS = %v, want 4.2..4.5", a)
	}
	if b >= 3 || b < 1 {
		t.Errorf("poor MOS = %v, want 1..3", b)
	}
	cases := []struct {
		rtt, jit, loss float64
		lo, hi         float64
	}{
		{0, 0, 0, 4.4, 4.5},
		{1000, 0, 0, 1, 3.6},
		{0, 0, 0.5, 1, 1.8},
	}
	for _, c := range cases {
		if m := mosFrom(c.rtt, c.jit, c.loss); m < c.lo || m > c.hi {
			t.Errorf("mosFrom(%v,%v,%v) = %v, want %v..%v", c.rtt, c.jit, c.loss, m, c.lo, c.hi)
		}
	}
}
