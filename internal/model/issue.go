package model

import "time"

// Severity of an issue. Critical and warning issues count as "has issues";
// info issues explain but are not counted.
type Severity string

// Severities, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: critical 3, warning 2, info 1, anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// IssueCategory groups issue kinds.
type IssueCategory string

// Issue categories.
const (
	CategoryNetwork     IssueCategory = "network"
	CategoryAudio       IssueCategory = "audio"
	CategoryVideo       IssueCategory = "video"
	CategoryScreenShare IssueCategory = "screen-share"
	CategoryDevice      IssueCategory = "device"
	CategoryReliability IssueCategory = "reliability"
	CategoryFeedback    IssueCategory = "feedback"
	CategoryData        IssueCategory = "data"
)

// Culprit types: who or what most likely caused an issue.
const (
	CulpritUplink        = "uplink"
	CulpritDownlink      = "downlink"
	CulpritPath          = "path"
	CulpritSharedNetwork = "shared-network"
	CulpritService       = "service"
	CulpritDevice        = "device"
	CulpritUser          = "user"
	CulpritConfiguration = "configuration"
	CulpritUnknown       = "unknown"
)

// Issue is one media-quality or reliability problem detected in a call: an
// interval during which something hurt the call, with the evidence behind
// it, the likely culprit and what to do about it.
type Issue struct {
	// ID is deterministic (from call, kind, participant, stream and start)
	// so links to an issue survive recomputation.
	ID            string        `json:"id"`
	Kind          string        `json:"kind"`
	Category      IssueCategory `json:"category"`
	Severity      Severity      `json:"severity"`
	ParticipantID string        `json:"participantId,omitempty"`
	EndpointID    string        `json:"endpointId,omitempty"`
	StreamID      string        `json:"streamId,omitempty"`
	Start         time.Time     `json:"start"`
	End           time.Time     `json:"end"`
	Summary       string        `json:"summary"`
	Culprit       Culprit       `json:"culprit"`
	Evidence      []Evidence    `json:"evidence"`
	// Rule names the rule that fired (e.g. "stream.jitter").
	Rule           string         `json:"rule"`
	Recommendation Recommendation `json:"recommendation"`
	TimelineFilter TimelineFilter `json:"timelineFilter"`
	// Related lists the ids of issues that belong to the same story (a
	// reconnect, the poor stream around it, the drop after it), root first.
	Related []string `json:"related"`
}

// Culprit says who or what most likely caused an issue.
type Culprit struct {
	Type           string   `json:"type"`
	ParticipantIDs []string `json:"participantIds"`
	Summary        string   `json:"summary"`
}

// Evidence is one measured fact behind an issue: a value compared with a
// threshold by a rule, and the records or samples it came from.
type Evidence struct {
	Metric    string     `json:"metric"`
	Value     *float64   `json:"value"`
	Text      string     `json:"text,omitempty"`
	Op        string     `json:"op,omitempty"`
	Threshold *float64   `json:"threshold"`
	Source    string     `json:"source"`
	RecordIDs []string   `json:"recordIds"`
	From      *time.Time `json:"from,omitempty"`
	To        *time.Time `json:"to,omitempty"`
}

// Recommendation is what to do about an issue, citing knowledge-base
// entries (ids such as code-410-3112, ufd-networkReconnect, kind-poor-stream).
type Recommendation struct {
	Text string   `json:"text"`
	KB   []string `json:"kb"`
}

// TimelineFilter selects the part of the timeline that shows an issue's
// evidence.
type TimelineFilter struct {
	Participant string    `json:"participant,omitempty"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Kind        []string  `json:"kind,omitempty"`
}

// Completeness summarizes which telemetry a call and each participant has,
// so that "no issue" is not mistaken for "no data".
type Completeness struct {
	Diagnostics  bool                      `json:"diagnostics"`
	MediaStats   bool                      `json:"mediaStats"`
	Surveys      int                       `json:"surveys"`
	Participants []ParticipantCompleteness `json:"participants"`
	// OneSided is true when the call's WebRTC peer connections imply more
	// participants than sent telemetry (one browser's dump of a two-party
	// call): what the unseen participants sent and received is known only
	// from the reports the seen side got back.
	OneSided bool `json:"oneSided,omitempty"`
	// UnseenPeers is the least number of participants the peer
	// connections imply beyond those with telemetry.
	UnseenPeers int `json:"unseenPeers,omitempty"`
}

// ParticipantCompleteness is the telemetry one participant leg has.
type ParticipantCompleteness struct {
	ParticipantID string `json:"participantId"`
	// Summary is true when a CallSummary row describes the leg.
	Summary bool `json:"summary"`
	// Diagnostics is true when the leg has CallDiagnostics stream rows.
	Diagnostics bool `json:"diagnostics"`
	// MediaStats is true when the leg has media-stats series.
	MediaStats bool `json:"mediaStats"`
	// ClientOperations is true when the leg has client operations or UFDs.
	ClientOperations bool `json:"clientOperations"`
	// OtherResource is true when only another resource reported the leg.
	OtherResource bool `json:"otherResource"`
	// SeriesGaps counts gaps in the leg's media-stats series.
	SeriesGaps int `json:"seriesGaps"`
	// PeerConnections counts the leg's WebRTC peer connections that tried
	// to reach a far end (loopback pairs within the browser left out).
	PeerConnections int `json:"peerConnections,omitempty"`
	// UnseenPeers is the least number of other participants (or media
	// servers) those connections reached that sent no telemetry.
	UnseenPeers int `json:"unseenPeers,omitempty"`
}
