package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
)

// callHeader is what the three tabs of a call page share.
type callHeader struct {
	Call     model.Call
	Tab      string // overview, issues, timeline
	Counts   map[string]int
	Warnings int // issues of severity warning and above
	Types    string
	Base     string // /calls/{id}
}

func newCallHeader(c model.Call, tab string) callHeader {
	h := callHeader{Call: c, Tab: tab, Counts: map[string]int{}, Base: "/calls/" + url.PathEscape(c.ID)}
	for _, is := range c.Issues {
		h.Counts[string(is.Severity)]++
		if is.Severity.Rank() >= model.SeverityWarning.Rank() {
			h.Warnings++
		}
	}
	types := map[model.EndpointType]int{}
	for _, p := range c.Participants {
		types[p.EndpointType]++
	}
	h.Types = clientTypes(types)
	return h
}

type overviewPage struct {
	Layout
	callHeader
	Metrics      []metricInfo
	Participants []participantView
	Missing      []string
	Resources    []resourceView
	PeerConns    []peerConnView
}

// peerConnView is a WebRTC peer connection as the overview lists it.
type peerConnView struct {
	model.PeerConnection
	State, Pair, Setup, RecvLost, SentLost, RTT, Lasted string
	Failed                                              bool
}

func peerConnViews(pcs []model.PeerConnection) []peerConnView {
	out := make([]peerConnView, 0, len(pcs))
	ms := func(p *float64) string {
		if p == nil {
			return "–"
		}
		if *p >= 1000 {
			return fmt.Sprintf("%.1f s", *p/1000)
		}
		return fmt.Sprintf("%.0f ms", *p)
	}
	pct := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f%%", *p)
	}
	for _, pc := range pcs {
		v := peerConnView{PeerConnection: pc, Setup: ms(pc.SetupMs), RecvLost: pct(pc.ReceivedPacketsLostPct),
			SentLost: pct(pc.SentPacketsLostPct), RTT: ms(pc.MeanRoundTripMs), Failed: pc.ConnectionFailed}
		switch {
		case pc.ConnectionFailed:
			v.State = "failed"
		case pc.Connected:
			v.State = "connected"
		default:
			v.State = "never connected"
		}
		if pc.LocalCandidateType != "" || pc.RemoteCandidateType != "" {
			v.Pair = strings.TrimSpace(fmt.Sprintf("%s %s ↔ %s %s", pc.LocalCandidateType, pc.LocalProtocol,
				pc.RemoteCandidateType, pc.RemoteProtocol))
		}
		if !pc.Start.IsZero() && pc.End.After(pc.Start) {
			v.Lasted = fmtDur(pc.End.Sub(pc.Start))
		}
		out = append(out, v)
	}
	return out
}

type resourceView struct{ ID, Name string }

type participantView struct {
	model.Participant
	Joined, Left  time.Time
	End           endReason
	Issues        int
	Worst         model.Severity
	TimelineURL   string
	Streams       []streamView
	Open          bool
	Missing       []string
	OS            string
	ClientVersion string
}

type streamView struct {
	model.Stream
	Cells []cell
}

// cell is one metric of a stream, judged against the rules in force.
type cell struct {
	Key   string
	Text  string
	Poor  bool
	Title string
}

func (h *Handler) callOverview(w http.ResponseWriter, r *http.Request) (string, any, error) {
	id := r.PathValue("id")
	rules := h.cfg.Rules.Load()
	c, err := callview.Overview(r.Context(), h.cfg.Store, id, rules)
	if err != nil {
		return "", nil, notFound(err, "call", id)
	}
	v := overviewPage{Layout: h.layout(r, "Call "+shortID(c.ID)), callHeader: newCallHeader(c, "overview"), Metrics: metricInfos(rules),
		PeerConns: peerConnViews(c.PeerConnections)}
	v.Section = "search"
	v.APILink = "/api/v1/calls/" + url.PathEscape(c.ID)
	for _, res := range c.ResourceIDs {
		v.Resources = append(v.Resources, resourceView{res, resourceName(res)})
	}
	if c.Completeness != nil {
		if !c.Completeness.Diagnostics {
			v.Missing = append(v.Missing, "no CallDiagnostics rows: stream quality and the quality verdict are unknown")
		}
		if !c.Completeness.MediaStats {
			v.Missing = append(v.Missing, "no media-stats time series: quality over time is unknown")
		}
		if c.Completeness.Surveys == 0 {
			v.Missing = append(v.Missing, "no end-of-call survey")
		}
		if c.Completeness.OneSided {
			v.Missing = append(v.Missing, fmt.Sprintf("one-sided data: at least %d participant%s reached by these peer connections sent no telemetry, "+
				"so what they sent and received is known only from what this side measured", c.Completeness.UnseenPeers,
				map[bool]string{true: "", false: "s"}[c.Completeness.UnseenPeers == 1]))
		}
	}
	comp := map[string]model.ParticipantCompleteness{}
	if c.Completeness != nil {
		for _, pc := range c.Completeness.Participants {
			comp[pc.ParticipantID] = pc
		}
	}
	perPID := map[string][]model.Issue{}
	for _, is := range c.Issues {
		perPID[is.ParticipantID] = append(perPID[is.ParticipantID], is)
	}
	for _, p := range c.Participants {
		pv := participantView{Participant: p, End: explainEnd(p.EndReason, p.EndSubCode, p.ResultCategory),
			TimelineURL: v.Base + "/timeline?participant=" + url.QueryEscape(p.ID), OS: osLabel(p)}
		if p.StartTime != nil {
			pv.Joined = *p.StartTime
			if p.DurationSeconds != nil {
				pv.Left = p.StartTime.Add(time.Duration(*p.DurationSeconds * float64(time.Second)))
			}
		}
		for _, is := range perPID[p.ID] {
			if is.Severity.Rank() >= model.SeverityWarning.Rank() {
				pv.Issues++
			}
			if is.Severity.Rank() > pv.Worst.Rank() {
				pv.Worst = is.Severity
			}
		}
		if pc, ok := comp[p.ID]; ok {
			if !pc.Summary {
				pv.Missing = append(pv.Missing, "no CallSummary row")
			}
			if !pc.Diagnostics {
				pv.Missing = append(pv.Missing, "no diagnostics")
			}
			if !pc.MediaStats {
				pv.Missing = append(pv.Missing, "no media stats")
			}
			if !pc.ClientOperations {
				pv.Missing = append(pv.Missing, "no client logs")
			}
			if pc.OtherResource {
				pv.Missing = append(pv.Missing, "reported by another resource")
			}
			if pc.SeriesGaps > 0 {
				pv.Missing = append(pv.Missing, fmt.Sprintf("%d gap(s) in its media stats", pc.SeriesGaps))
			}
			if pc.UnseenPeers > 0 {
				pv.Missing = append(pv.Missing, fmt.Sprintf("its peer connections reached %d participant(s) without telemetry", pc.UnseenPeers))
			}
		}
		for _, s := range p.Streams {
			pv.Streams = append(pv.Streams, streamView{Stream: s, Cells: streamCells(s, rules)})
		}
		// Large calls open only the participants with problems.
		pv.Open = len(c.Participants) <= 12 || pv.Issues > 0
		v.Participants = append(v.Participants, pv)
	}
	// Participants with the worst problems first, then by join time.
	sort.SliceStable(v.Participants, func(i, j int) bool {
		a, b := v.Participants[i], v.Participants[j]
		if a.Worst.Rank() != b.Worst.Rank() {
			return a.Worst.Rank() > b.Worst.Rank()
		}
		return a.Joined.Before(b.Joined)
	})
	return "call", v, nil
}

// osLabel is what a participant's client runs on, from the OS version or
// the browser's user agent.
func osLabel(p model.Participant) string {
	switch {
	case p.OSVersion != "" && p.UserAgent != "":
		return p.OSVersion + " · " + p.UserAgent
	case p.OSVersion != "":
		return p.OSVersion
	}
	return p.UserAgent
}

// streamCells judges a stream's metrics against the rules detection uses.
func streamCells(s model.Stream, r detect.Rules) []cell {
	video := s.MediaType == model.MediaVideo
	share := s.MediaType == model.MediaScreenshare
	over := func(v *float64, limit float64) bool { return v != nil && *v > limit }
	under := func(v *float64, limit float64) bool { return v != nil && *v < limit }
	avgMax := func(avg, max *float64, f func(*float64) string) string {
		if avg == nil && max == nil {
			return "–"
		}
		if max == nil {
			return f(avg)
		}
		return f(avg) + " / " + f(max)
	}
	ms := func(v *float64) string {
		if v == nil {
			return "–"
		}
		return fmtNum(*v)
	}
	cells := []cell{
		{Key: "jitter", Text: avgMax(s.JitterAvgMs, s.JitterMaxMs, ms), Poor: over(s.JitterAvgMs, r.JitterAvgMs)},
		{Key: "loss", Text: avgMax(s.PacketLossRateAvg, s.PacketLossRateMax, fmtPct), Poor: over(s.PacketLossRateAvg, r.PacketLossAvg)},
		{Key: "rtt", Text: ms(s.RoundTripTimeAvgMs), Poor: over(s.RoundTripTimeAvgMs, r.RTTAvgMs)},
		{Key: "mos", Text: ms(s.MOS), Poor: under(s.MOS, 3.1)},
	}
	fps, height, freeze := cell{Key: "fps", Text: ms(s.VideoFrameRateAvg)}, cell{Key: "height", Text: ms(s.RecvResolutionHeight)}, cell{Key: "freeze", Text: ms(s.RecvFreezeMsPerMin)}
	switch {
	case video:
		fps.Poor, height.Poor, freeze.Poor = under(s.VideoFrameRateAvg, r.VideoFPSMin), under(s.RecvResolutionHeight, r.VideoHeightMin), over(s.RecvFreezeMsPerMin, r.VideoFreezeMsPerMin)
	case share:
		fps.Poor, height.Poor, freeze.Poor = under(s.VideoFrameRateAvg, r.ShareFPSMin), under(s.RecvResolutionHeight, r.ShareHeightMin), over(s.RecvFreezeMsPerMin, r.ShareFreezeMsPerMin)
	}
	cells = append(cells, fps, height, freeze)
	for i := range cells {
		if cells[i].Poor {
			cells[i].Title = "past its threshold"
		}
	}
	return cells
}

// streamName is a stream's media and direction in words.
func streamName(s model.Stream) string {
	dir := map[model.Direction]string{model.DirInbound: "in", model.DirOutbound: "out"}[s.Direction]
	return strings.TrimSpace(string(s.MediaType) + " " + dir)
}
