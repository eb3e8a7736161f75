package detect

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"calldiag/internal/model"
)

// completeness summarizes the telemetry of the call and of each
// participant, and raises missing-telemetry (info) for what is absent:
// no diagnostics at all, a participant reported only by another
// resource, a participant without media stats while others have them,
// gaps inside a participant's series, and the far ends of WebRTC peer
// connections that sent no telemetry (a one-sided call).
func (d *run) completeness() Completeness {
	c := Completeness{MediaStats: len(d.in.Series) > 0, Surveys: len(d.in.Call.Surveys)}
	index := map[string]int{}
	entry := func(pid string) *ParticipantCompleteness {
		i, ok := index[pid]
		if !ok {
			i = len(c.Participants)
			index[pid] = i
			c.Participants = append(c.Participants, ParticipantCompleteness{ParticipantID: pid})
		}
		return &c.Participants[i]
	}
	for i := range d.in.Call.Participants {
		p := &d.in.Call.Participants[i]
		e := entry(p.ID)
		e.Summary = p.Source == "summary"
		e.Diagnostics = len(p.Streams) > 0
		e.OtherResource = p.OtherResource
		if e.Diagnostics {
			c.Diagnostics = true
		}
	}
	for i := range d.in.Events {
		ev := &d.in.Events[i]
		if ev.ParticipantID != "" && (ev.Kind == model.KindOperation || ev.Kind == model.KindUFD) {
			entry(ev.ParticipantID).ClientOperations = true
		}
	}
	type gap struct {
		from, to time.Time
		series   string
	}
	gaps := map[string][]gap{}
	for i := range d.in.Series {
		s := &d.in.Series[i]
		e := entry(s.ParticipantID)
		e.MediaStats = true
		step := medianStep(s.Points)
		if step <= 0 {
			continue
		}
		limit := time.Duration(float64(step) * d.rules.SeriesGapFactor)
		for j := 1; j < len(s.Points); j++ {
			if s.Points[j].Time.Sub(s.Points[j-1].Time) > limit {
				e.SeriesGaps++
				gaps[s.ParticipantID] = append(gaps[s.ParticipantID], gap{s.Points[j-1].Time, s.Points[j].Time, s.StreamID + "/" + s.Metric})
			}
		}
	}
	for _, pid := range slices.Sorted(maps.Keys(d.pcCount)) {
		e := entry(pid)
		e.PeerConnections, e.UnseenPeers = d.pcCount[pid], d.unseen[pid]
		if e.UnseenPeers > 0 {
			c.OneSided = true
			c.UnseenPeers = max(c.UnseenPeers, e.UnseenPeers)
		}
	}
	call := d.in.Call
	if !c.Diagnostics {
		d.add(model.Issue{Kind: KindMissingTelemetry, StreamID: "diagnostics", Start: call.StartTime, End: call.EndTime,
			Summary:  "the call has no CallDiagnostics rows, so its quality is Unknown and no stream rule could run",
			Evidence: []model.Evidence{{Metric: "CallDiagnostics rows", Value: ptr(0.0), Source: srcDiagnostics}},
			Rule:     "telemetry.diagnostics"})
	}
	for _, e := range c.Participants {
		start, end := d.legSpan(e.ParticipantID)
		p := d.legs[e.ParticipantID]
		switch {
		case e.OtherResource:
			d.add(model.Issue{Kind: KindMissingTelemetry, ParticipantID: e.ParticipantID, StreamID: "resource", Start: start, End: end,
				Summary:  "this participant was reported by another ACS resource, so only limited data about it exists here",
				Evidence: []model.Evidence{{Metric: "Resource", Text: resourceOf(p), Source: srcSummary}},
				Rule:     "telemetry.other_resource"})
		case c.MediaStats && !e.MediaStats && p != nil && p.EndpointType == model.EndpointVoIP &&
			end.Sub(start) >= seconds(d.rules.SetupMaxSeconds):
			d.add(model.Issue{Kind: KindMissingTelemetry, ParticipantID: e.ParticipantID, StreamID: "media-stats", Start: start, End: end,
				Summary:  "this participant sent no media stats while others did, so its quality over time is unknown",
				Evidence: []model.Evidence{{Metric: "media-stats series", Value: ptr(0.0), Source: srcSeries}},
				Rule:     "telemetry.media_stats"})
		}
		if e.UnseenPeers > 0 {
			ids, recs := d.peerIDs(e.ParticipantID)
			d.add(model.Issue{Kind: KindMissingTelemetry, ParticipantID: e.ParticipantID, StreamID: "peers", Start: start, End: end,
				Summary: fmt.Sprintf("only this browser sent telemetry, but its %d peer connection(s) reached out to other participants "+
					"(or a media server) that sent none: how they heard and saw the call is known only from the reports this browser got back",
					e.PeerConnections),
				Evidence: []model.Evidence{{Metric: "participants with telemetry", Value: ptr(float64(len(call.Participants))), Op: "<",
					Threshold: ptr(float64(len(call.Participants) + e.UnseenPeers)), Text: "peer connections: " + strings.Join(ids, ", "),
					Source: srcPeerConnection, RecordIDs: recs}},
				Rule: "telemetry.one_sided"})
		}
		if g := gaps[e.ParticipantID]; len(g) > 0 {
			slices.SortFunc(g, func(a, b gap) int { return cmp.Compare(b.to.Sub(b.from), a.to.Sub(a.from)) })
			w := g[0]
			d.add(model.Issue{Kind: KindMissingTelemetry, ParticipantID: e.ParticipantID, StreamID: "series-gaps", Start: w.from, End: w.to,
				Summary: fmt.Sprintf("the participant's media stats have %d gap(s); the longest lasts %s", len(g), w.to.Sub(w.from).Round(time.Second)),
				Evidence: []model.Evidence{{Metric: "gaps", Value: ptr(float64(len(g))), Text: "longest in " + w.series,
					Source: srcSeries, From: &w.from, To: &w.to}},
				Rule: "telemetry.series_gaps"})
		}
	}
	return c
}

func resourceOf(p *model.Participant) string {
	if p == nil {
		return ""
	}
	return p.Resource
}

// medianStep is the median time between consecutive points among the
// first few of the series: enough to know its sampling interval without
// sorting every step of a long series.
func medianStep(pts []model.Point) time.Duration {
	const sample = 15
	if len(pts) < 3 {
		return 0
	}
	var buf [sample]time.Duration
	steps := buf[:0]
	for i := 1; i < len(pts) && len(steps) < sample; i++ {
		steps = append(steps, pts[i].Time.Sub(pts[i-1].Time))
	}
	slices.Sort(steps)
	return steps[len(steps)/2]
}
