package detect

import (
	"fmt"
	"math"
	"strings"

	"calldiag/internal/model"
)

const srcDiagnostics = "CallDiagnostics"

// check is one per-stream rule: a metric compared with a threshold. A nil
// metric never fires, as in the ACS query where a comparison with null is
// false.
type check struct {
	rule   string
	metric string
	value  *float64
	op     string
	limit  float64
}

func (c check) fires() bool {
	if c.value == nil {
		return false
	}
	if c.op == "<" {
		return *c.value < c.limit
	}
	return *c.value > c.limit
}

func (c check) evidence(s *model.Stream) model.Evidence {
	return model.Evidence{Metric: c.metric, Value: ptr(*c.value), Op: c.op, Threshold: ptr(c.limit),
		Source: srcDiagnostics, RecordIDs: recordIDs(s.RecordID)}
}

func recordIDs(ids ...string) []string {
	out := []string{}
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

// streamChecks returns the ACS per-stream rules for s, grouped by the
// issue kind each group raises.
func (r Rules) streamChecks(s *model.Stream) (network, concealment, media []check) {
	network = []check{
		{"stream.jitter", "JitterAvg", s.JitterAvgMs, ">", r.JitterAvgMs},
		{"stream.packet_loss", "PacketLossRateAvg", s.PacketLossRateAvg, ">", r.PacketLossAvg},
		{"stream.rtt", "RoundTripTimeAvg", s.RoundTripTimeAvgMs, ">", r.RTTAvgMs},
		{"stream.jitter_buffer", "JitterBufferSizeAvg", s.JitterBufferAvgMs, ">", r.JitterBufferAvgMs},
	}
	concealment = []check{{"stream.healed_ratio", "HealedDataRatioAvg", s.HealedDataRatioAvg, ">", r.HealedRatioAvg}}
	switch s.MediaType {
	case model.MediaVideo:
		media = []check{
			{"video.frame_rate", "VideoFrameRateAvg", s.VideoFrameRateAvg, "<", r.VideoFPSMin},
			{"video.freeze", "RecvFreezeDurationPerMinuteInMs", s.RecvFreezeMsPerMin, ">", r.VideoFreezeMsPerMin},
			{"video.height", "RecvResolutionHeight", s.RecvResolutionHeight, "<", r.VideoHeightMin},
		}
	case model.MediaScreenshare:
		media = []check{
			{"screenshare.frame_rate", "VideoFrameRateAvg", s.VideoFrameRateAvg, "<", r.ShareFPSMin},
			{"screenshare.freeze", "RecvFreezeDurationPerMinuteInMs", s.RecvFreezeMsPerMin, ">", r.ShareFreezeMsPerMin},
			{"screenshare.height", "RecvResolutionHeight", s.RecvResolutionHeight, "<", r.ShareHeightMin},
		}
	}
	return network, concealment, media
}

// streams applies the per-stream rules to every stream's latest
// aggregates, records a MOS estimate per audio stream, and returns the
// call's quality verdict.
func (d *run) streams(mos map[string]float64) string {
	quality := QualityUnknown
	for i := range d.in.Call.Participants {
		p := &d.in.Call.Participants[i]
		for j := range p.Streams {
			s := &p.Streams[j]
			if quality == QualityUnknown {
				quality = QualityGood
			}
			pid := s.ParticipantID
			if pid == "" {
				pid = p.ID
			}
			if s.MediaType == model.MediaAudio {
				if m, ok := estimateMOS(s); ok {
					mos[pid+"/"+s.StreamID] = m
				}
			}
			network, concealment, media := d.rules.streamChecks(s)
			poor := false
			start, end := d.legSpan(pid)
			base := model.Issue{ParticipantID: pid, StreamID: s.StreamID, Start: start, End: end}
			if ev, rules := fired(s, network); len(ev) > 0 {
				poor = true
				is := base
				is.Kind, is.Evidence, is.Rule = KindPoorStream, ev, strings.Join(rules, ",")
				is.Summary = fmt.Sprintf("%s %s stream was poor over the call (%s)", dirWord(s.Direction), s.MediaType, metricList(ev))
				is.Culprit = streamCulprit(s, pid)
				d.addAgg(is, s)
			}
			if ev, rules := fired(s, concealment); len(ev) > 0 {
				poor = true
				is := base
				is.Kind, is.Evidence, is.Rule = KindPoorAudioConcealment, ev, strings.Join(rules, ",")
				is.Summary = fmt.Sprintf("%.0f%% of the %s audio had to be concealed", 100**s.HealedDataRatioAvg, dirWord(s.Direction))
				is.Culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{pid},
					Summary: "packet loss between the sender and this participant"}
				d.addAgg(is, s)
			}
			if ev, rules := fired(s, media); len(ev) > 0 {
				poor = true
				is := base
				is.Kind = KindPoorVideo
				if s.MediaType == model.MediaScreenshare {
					is.Kind = KindPoorScreenshare
				}
				is.Evidence, is.Rule = ev, strings.Join(rules, ",")
				is.Summary = fmt.Sprintf("%s %s quality was poor (%s)", dirWord(s.Direction), s.MediaType, metricList(ev))
				is.Culprit = streamCulprit(s, pid)
				d.addAgg(is, s)
			}
			// A browser's transport is judged per peer connection (see
			// transport), not once per stream.
			if strings.EqualFold(s.TransportType, "tcp") && !d.browser(pid) {
				is := base
				is.Kind, is.Rule = KindMediaOverTCP, "stream.transport"
				is.Evidence = []model.Evidence{{Metric: "TransportType", Text: s.TransportType, Op: "=", Source: srcDiagnostics, RecordIDs: recordIDs(s.RecordID)}}
				is.Summary = fmt.Sprintf("%s %s media ran over TCP instead of UDP", dirWord(s.Direction), s.MediaType)
				is.Culprit = model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: []string{pid},
					Summary: "UDP is blocked on this participant's network"}
				d.add(is)
			}
			if s.PacketUtilization != nil && *s.PacketUtilization == 0 && !(s.MediaType == model.MediaAudio && s.Direction == model.DirOutbound && d.muted(pid)) {
				is := base
				is.Kind, is.Rule = KindNoMediaFlow, "stream.packet_utilization"
				is.Evidence = []model.Evidence{{Metric: "PacketUtilization", Value: ptr(0.0), Op: "=", Threshold: ptr(0.0), Source: srcDiagnostics, RecordIDs: recordIDs(s.RecordID)}}
				is.Summary = fmt.Sprintf("no packets flowed on the %s %s stream", dirWord(s.Direction), s.MediaType)
				d.add(is)
			}
			if poor {
				quality = QualityPoor
			}
		}
	}
	return quality
}

func fired(s *model.Stream, checks []check) ([]model.Evidence, []string) {
	var ev []model.Evidence
	var rules []string
	for _, c := range checks {
		if c.fires() {
			ev = append(ev, c.evidence(s))
			rules = append(rules, c.rule)
		}
	}
	return ev, rules
}

func metricList(ev []model.Evidence) string {
	parts := make([]string, len(ev))
	for i, e := range ev {
		parts[i] = fmt.Sprintf("%s %g %s %g", e.Metric, round3(*e.Value), e.Op, *e.Threshold)
	}
	return strings.Join(parts, "; ")
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func dirWord(d model.Direction) string {
	switch d {
	case model.DirInbound:
		return "incoming"
	case model.DirOutbound:
		return "outgoing"
	}
	return "the"
}

// streamCulprit is the side a single stream's problem points at before any
// cross-participant evidence: the participant's uplink for what it sends,
// its downlink for what it receives.
func streamCulprit(s *model.Stream, pid string) model.Culprit {
	switch s.Direction {
	case model.DirOutbound:
		return model.Culprit{Type: model.CulpritUplink, ParticipantIDs: []string{pid}, Summary: "this participant's outgoing network path"}
	case model.DirInbound:
		return model.Culprit{Type: model.CulpritDownlink, ParticipantIDs: []string{pid}, Summary: "this participant's incoming network path"}
	}
	return model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{}}
}

// estimateMOS is a simplified ITU-T G.107 E-model for a wideband-free,
// G.711-like voice path:
//
//	delay d   = RTT/2 + 2*jitter + 10 ms (one-way network delay plus a
//	            jitter buffer of twice the jitter and codec framing)
//	Id        = 0.024*d + 0.11*(d-177.3)*[d > 177.3]
//	Ie,eff    = Ie + (95-Ie) * Ppl/(Ppl + Bpl), Ie = 0, Bpl = 25.1,
//	            Ppl = packet loss in percent (random loss, BurstR = 1)
//	R         = 93.2 - Id - Ie,eff
//	MOS       = 1 + 0.035*R + 7e-6*R*(R-60)*(100-R), clamped to 1..4.5
//
// Missing metrics count as zero; a stream with none of the three has no
// estimate.
func estimateMOS(s *model.Stream) (float64, bool) {
	if s.JitterAvgMs == nil && s.PacketLossRateAvg == nil && s.RoundTripTimeAvgMs == nil {
		return 0, false
	}
	val := func(p *float64) float64 {
		if p == nil || math.IsNaN(*p) || *p < 0 {
			return 0
		}
		return *p
	}
	return mosFrom(val(s.RoundTripTimeAvgMs), val(s.JitterAvgMs), val(s.PacketLossRateAvg)), true
}

func mosFrom(rttMs, jitterMs, loss float64) float64 {
	d := rttMs/2 + 2*jitterMs + 10
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	const ie, bpl = 0.0, 25.1
	ppl := math.Min(loss, 1) * 100
	ieEff := ie + (95-ie)*ppl/(ppl+bpl)
	r := 93.2 - id - ieEff
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	m := 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
	return math.Round(math.Min(math.Max(m, 1), 4.5)*100) / 100
}

// addAgg adds an issue raised from a stream's whole-call aggregates and
// remembers the stream, so that series intervals and cross-participant
// findings can supersede it.
func (d *run) addAgg(is model.Issue, s *model.Stream) {
	added := d.add(is)
	d.aggs[added.ID] = streamRef{pid: added.ParticipantID, stream: s.StreamID, media: s.MediaType, dir: s.Direction}
}

// browser reports whether the participant's telemetry came from a browser
// with WebRTC peer connections.
func (d *run) browser(pid string) bool {
	for _, p := range d.peerConns() {
		if p.pc.ParticipantID == pid {
			return true
		}
	}
	return false
}

// muted reports whether the participant muted its microphone during the
// call: an outgoing audio stream that carried no packets is then a
// listener who stayed muted, not media that failed to flow.
func (d *run) muted(pid string) bool {
	if d.mutedPIDs == nil {
		d.mutedPIDs = map[string]bool{}
		for i := range d.in.Events {
			e := &d.in.Events[i]
			if e.Kind == model.KindOperation &&
				(strings.EqualFold(e.Name, "MuteMicrophone") || strings.Contains(e.Detail, `"IsMuted":true`)) {
				d.mutedPIDs[e.ParticipantID] = true
			}
		}
	}
	return d.mutedPIDs[pid]
}
