package model

import "time"

// CallSummary is one row of a call search: the per-call summary that the
// store keeps up to date as records arrive.
type CallSummary struct {
	ID               string    `json:"id"`
	StartTime        time.Time `json:"startTime"`
	EndTime          time.Time `json:"endTime"`
	DurationSeconds  float64   `json:"durationSeconds"`
	CallType         CallType  `json:"callType,omitempty"`
	ParticipantCount int       `json:"participantCount"`
	// ClientTypes counts participants per endpoint type, e.g. {"VoIP":3,"PSTN":1}.
	ClientTypes map[EndpointType]int `json:"clientTypes"`
	ResourceIDs []string             `json:"resourceIds"`
	RecordCount int                  `json:"recordCount"`
	// Quality (Good, Poor, Unknown) and Rating (Good, Average, Poor,
	// Unknown) come from the latest detection; both are Unknown before it.
	Quality string `json:"quality"`
	Rating  string `json:"rating"`
	// IssueCount counts issues of severity warning and worse; IssueKinds
	// lists their kinds, most severe first, then by name, each once.
	IssueCount int      `json:"issueCount"`
	IssueKinds []string `json:"issueKinds"`
	// Pinned calls are kept whatever the retention window.
	Pinned bool `json:"pinned"`
}

// Call is the overview of one call: its summary and its participants with
// their streams.
type Call struct {
	ID              string        `json:"id"`
	StartTime       time.Time     `json:"startTime"`
	EndTime         time.Time     `json:"endTime"`
	DurationSeconds float64       `json:"durationSeconds"`
	CallType        CallType      `json:"callType,omitempty"`
	TeamsThreadID   string        `json:"teamsThreadId,omitempty"`
	ResourceIDs     []string      `json:"resourceIds"`
	Participants    []Participant `json:"participants"`
	Surveys         []SurveyView  `json:"surveys"`
	// PeerConnections are the WebRTC peer connections of the call's
	// participants, from browser telemetry; empty for ACS logs.
	PeerConnections []PeerConnection `json:"peerConnections"`
	// RecordCounts counts stored records per category.
	RecordCounts map[Category]int `json:"recordCounts"`
	// UnknownRecords counts records of unknown categories attached to the call.
	UnknownRecords int `json:"unknownRecords"`
	// Pinned calls are kept whatever the retention window.
	Pinned bool `json:"pinned"`

	// The outcome of issue detection, filled in by the overview (the store
	// leaves them empty): the quality verdict (Good, Poor, Unknown), the
	// survey rating (Good, Average, Poor, Unknown) and its score on a
	// 5-point scale, what telemetry the call has, and its issues, most
	// severe first.
	Quality      string        `json:"quality"`
	Rating       string        `json:"rating"`
	RatingScore  *float64      `json:"ratingScore"`
	Completeness *Completeness `json:"completeness"`
	Issues       []Issue       `json:"issues"`
}

// Participant is one participant leg of a call as the overview shows it.
// Participants are ordered by start time, then id.
type Participant struct {
	ID              string       `json:"id"`
	EndpointID      string       `json:"endpointId,omitempty"`
	Identifier      string       `json:"identifier,omitempty"`
	EndpointType    EndpointType `json:"endpointType"`
	ParticipantType string       `json:"participantType,omitempty"`
	SDKVersion      string       `json:"sdkVersion,omitempty"`
	OSVersion       string       `json:"osVersion,omitempty"`
	UserAgent       string       `json:"userAgent,omitempty"`
	StartTime       *time.Time   `json:"startTime"`
	DurationSeconds *float64     `json:"durationSeconds"`
	EndReason       *int         `json:"endReason"`
	EndSubCode      *int         `json:"endSubCode"`
	ResultCategory  string       `json:"resultCategory,omitempty"`
	// RejoinOf names the earlier leg of the same endpoint when this leg is a rejoin.
	RejoinOf string `json:"rejoinOf,omitempty"`
	// Resource is the resource that reported this participant's summary.
	Resource string `json:"resource,omitempty"`
	// OtherResource is true when the participant was reported only by
	// another ACS resource than the call's own, so only limited data exists.
	OtherResource bool `json:"otherResource,omitempty"`
	// Source says where the participant is known from: "summary" (a
	// CallSummary row) or "client" (client operations or media stats only).
	Source  string   `json:"source"`
	Version *int     `json:"summaryVersion,omitempty"`
	Streams []Stream `json:"streams"`
}

// Stream is one media stream with its whole-stream aggregates. Streams are
// ordered by participant, media type, direction, stream id.
type Stream struct {
	StreamID      string    `json:"streamId"`
	ParticipantID string    `json:"participantId"`
	MediaType     MediaType `json:"mediaType"`
	Direction     Direction `json:"direction"`
	ACSStreamID   string    `json:"acsStreamId,omitempty"`
	Codec         string    `json:"codec,omitempty"`
	TransportType string    `json:"transportType,omitempty"`
	// ReportedBy is "server" for server-to-client rows, "client" otherwise.
	ReportedBy string `json:"reportedBy"`

	JitterAvgMs          *float64 `json:"jitterAvgMs"`
	JitterMaxMs          *float64 `json:"jitterMaxMs"`
	PacketLossRateAvg    *float64 `json:"packetLossRateAvg"`
	PacketLossRateMax    *float64 `json:"packetLossRateMax"`
	RoundTripTimeAvgMs   *float64 `json:"roundTripTimeAvgMs"`
	RoundTripTimeMaxMs   *float64 `json:"roundTripTimeMaxMs"`
	JitterBufferAvgMs    *float64 `json:"jitterBufferAvgMs"`
	JitterBufferMaxMs    *float64 `json:"jitterBufferMaxMs"`
	HealedDataRatioAvg   *float64 `json:"healedDataRatioAvg"`
	HealedDataRatioMax   *float64 `json:"healedDataRatioMax"`
	VideoFrameRateAvg    *float64 `json:"videoFrameRateAvg"`
	RecvResolutionHeight *float64 `json:"recvResolutionHeight"`
	RecvFreezeMsPerMin   *float64 `json:"recvFreezeDurationPerMinuteMs"`
	PacketUtilization    *float64 `json:"packetUtilization"`
	VideoBitRateAvg      *float64 `json:"videoBitRateAvg"`
	VideoBitRateMax      *float64 `json:"videoBitRateMax"`
	Version              *int     `json:"diagnosticsVersion,omitempty"`
	RecordID             string   `json:"recordId"`
	// MOS is the estimated mean opinion score of an audio stream, filled in
	// by the overview.
	MOS *float64 `json:"mos"`
}

// PeerConnection is a WebRTC peer connection as shown with a call,
// ordered by participant, then id.
type PeerConnection struct {
	ID                     string    `json:"id"`
	ParticipantID          string    `json:"participantId"`
	Connected              bool      `json:"connected"`
	ConnectionFailed       bool      `json:"connectionFailed"`
	ICEReconnects          int       `json:"iceReconnects"`
	UsingRelay             bool      `json:"usingRelay"`
	LocalCandidateType     string    `json:"localCandidateType,omitempty"`
	RemoteCandidateType    string    `json:"remoteCandidateType,omitempty"`
	LocalProtocol          string    `json:"localProtocol,omitempty"`
	RemoteProtocol         string    `json:"remoteProtocol,omitempty"`
	PacketsReceived        int64     `json:"packetsReceived"`
	PacketsReceivedLost    int64     `json:"packetsReceivedLost"`
	PacketsSent            int64     `json:"packetsSent"`
	PacketsSentLost        int64     `json:"packetsSentLost"`
	ReceivedPacketsLostPct *float64  `json:"receivedPacketsLostPct"`
	SentPacketsLostPct     *float64  `json:"sentPacketsLostPct"`
	MeanRoundTripMs        *float64  `json:"meanRoundTripMs"`
	SetupMs                *float64  `json:"setupMs"`
	StatsPolls             int       `json:"statsPolls"`
	Start                  time.Time `json:"start"`
	End                    time.Time `json:"end"`
	RecordID               string    `json:"recordId"`
}

// SurveyView is a survey as shown with a call.
type SurveyView struct {
	SurveyID          string    `json:"surveyId"`
	ParticipantID     string    `json:"participantId"`
	Time              time.Time `json:"time"`
	Overall           Rating    `json:"overall"`
	Audio             Rating    `json:"audio"`
	Video             Rating    `json:"video"`
	Screenshare       Rating    `json:"screenshare"`
	OverallIssues     string    `json:"overallIssues,omitempty"`
	AudioIssues       string    `json:"audioIssues,omitempty"`
	VideoIssues       string    `json:"videoIssues,omitempty"`
	ScreenshareIssues string    `json:"screenshareIssues,omitempty"`
	RecordID          string    `json:"recordId"`
}

// Timeline event kinds.
const (
	KindOperation = "operation" // a client SDK operation or event
	KindUFD       = "ufd"       // a user-facing diagnostic value change
	KindJoin      = "join"      // a participant's leg started
	KindLeave     = "leave"     // a participant's leg ended
	KindSurvey    = "survey"    // an end-of-call survey was submitted
	KindService   = "service"   // Call Automation, Recording or Captions record
	KindMetric    = "metric"    // a media-stats sample (series point)
)

// TimelineEvent is one event of a call's timeline.
type TimelineEvent struct {
	ID            string    `json:"id"`
	Time          time.Time `json:"time"`
	ParticipantID string    `json:"participantId"`
	Kind          string    `json:"kind"`
	Name          string    `json:"name"`
	Result        string    `json:"result"`
	Code          *int      `json:"code"`
	SubCode       *int      `json:"subCode"`
	DurationMs    *float64  `json:"durationMs"`
	RecordID      string    `json:"recordId"`
	// Detail carries the UFD value, payload or other short text.
	Detail string `json:"detail,omitempty"`
}

// Series is one metric of one stream over time; its points are in time order.
type Series struct {
	ParticipantID string  `json:"participantId"`
	StreamID      string  `json:"streamId"`
	Metric        string  `json:"metric"`
	Points        []Point `json:"points"`
}

// Point is one sample of a series; it encodes as [time, value].
type Point struct {
	Time  time.Time
	Value float64
}

// Timeline is one page of a call's timeline: events and series points in
// time order, with a cursor to the next page when more items exist.
type Timeline struct {
	Events     []TimelineEvent `json:"events"`
	Series     []Series        `json:"series"`
	NextCursor string          `json:"nextCursor,omitempty"`
}
