// Package model holds calldiag's normalized view of a call: resources, calls,
// participants, media streams, time-series samples, client operations and
// surveys, and the normalized form of one ingested record.
//
// It is the bottom of the import graph: it imports only the standard library
// and must never import another calldiag package.
package model

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Category is a diagnostic-setting log category, normalized to the names
// Azure uses for the diagnostic setting (for example CallSummaryUpdates).
type Category string

// The ACS voice and video log categories calldiag understands.
const (
	CatCallSummary                    Category = "CallSummary"
	CatCallSummaryUpdates             Category = "CallSummaryUpdates"
	CatCallDiagnostics                Category = "CallDiagnostics"
	CatCallDiagnosticsUpdates         Category = "CallDiagnosticsUpdates"
	CatCallClientOperations           Category = "CallClientOperations"
	CatCallClientMediaStatsTimeSeries Category = "CallClientMediaStatsTimeSeries"
	CatCallSurvey                     Category = "CallSurvey"
	CatCallingMetrics                 Category = "CallingMetrics"
	CatCallClientServiceRequest       Category = "CallClientServiceRequestAndOutcome"
	CatCallAutomationOperational      Category = "CallAutomationOperational"
	CatCallAutomationMediaSummary     Category = "CallAutomationMediaSummary"
	CatCallAutomationStreamingUsage   Category = "CallAutomationStreamingUsage"
	CatCallRecordingSummary           Category = "CallRecordingSummary"
	CatCallRecordingOperational       Category = "CallRecordingOperational"
	CatCallClosedCaptionsSummary      Category = "CallClosedCaptionsSummary"
)

// The categories of records calldiag derives from browser WebRTC
// telemetry (webrtc-internals and rtcstats dumps, the browser collector).
// They carry the same payloads as their ACS counterparts, so a WebRTC call
// is searched, folded, shown and diagnosed as an ACS one is.
const (
	// CatWebRTCSession is the browser that recorded the telemetry, as a
	// participant (ParticipantRow).
	CatWebRTCSession Category = "WebRTCSession"
	// CatWebRTCStream is one RTP stream of a peer connection with its
	// whole-stream aggregates (StreamRow).
	CatWebRTCStream Category = "WebRTCStream"
	// CatWebRTCEvent is an API call, callback or state change of a peer
	// connection, or a media-capture request (Operation).
	CatWebRTCEvent Category = "WebRTCEvent"
	// CatWebRTCStats is one metric of one stream over a getStats interval
	// (Sample).
	CatWebRTCStats Category = "WebRTCStats"
	// CatWebRTCPeerConnection is the summary of one peer connection
	// (PeerConnectionRow).
	CatWebRTCPeerConnection Category = "WebRTCPeerConnection"
)

// CallType is P2P or Group.
type CallType string

// Call types.
const (
	CallTypeP2P   CallType = "P2P"
	CallTypeGroup CallType = "Group"
)

// EndpointType classifies a participant's endpoint.
type EndpointType string

// Endpoint types as calldiag reports them (ACS spellings such as VOIP and BOT
// are folded into these).
const (
	EndpointVoIP    EndpointType = "VoIP"
	EndpointPSTN    EndpointType = "PSTN"
	EndpointBot     EndpointType = "Bot"
	EndpointServer  EndpointType = "Server"
	EndpointTeams   EndpointType = "Teams"
	EndpointUnknown EndpointType = "Unknown"
)

// MediaType is the kind of media a stream carries.
type MediaType string

// Media types (ACS VBSS is screenshare).
const (
	MediaAudio       MediaType = "audio"
	MediaVideo       MediaType = "video"
	MediaScreenshare MediaType = "screenshare"
	MediaAppsharing  MediaType = "appsharing"
)

// Direction is the direction of a stream as seen from its participant.
type Direction string

// Stream directions.
const (
	DirInbound  Direction = "inbound"
	DirOutbound Direction = "outbound"
)

// Record is one ingested log record after normalization. Exactly one of the
// typed payload pointers is set for the categories calldiag models; records of
// other categories (resource-level metrics, unknown categories) carry only the
// envelope and the raw bytes.
type Record struct {
	// ID is the record's identity: a hash of its canonical content, the same
	// whichever shape (Storage, Event Hub, Log Analytics JSON or CSV), key
	// casing or number spelling it arrived in.
	ID       string
	Category Category
	// RawCategory is the category or table name as it arrived, kept for
	// records of unknown categories.
	RawCategory string
	// Resource is the normalized (lower-case, leading slash) ARM resource id.
	Resource string
	// CallID is the call the record belongs to; empty for resource-level
	// records and for client operations logged before the call existed.
	CallID string
	// Time is the record's event time (envelope time / TimeGenerated).
	Time time.Time
	// Known reports whether Category is one calldiag understands.
	Known bool
	// Raw is the record exactly as it arrived (one line, array element or
	// CSV row re-encoded as JSON with its header names).
	Raw []byte

	Participant *ParticipantRow
	Stream      *StreamRow
	Operation   *Operation
	Sample      *Sample
	Survey      *Survey
	Event       *ServiceEvent
	PeerConn    *PeerConnectionRow
}

// ParticipantRow is one CallSummary(Updates) row: one participant leg.
type ParticipantRow struct {
	ParticipantID     string // normalized participant key (see ParticipantKey)
	RawParticipantID  string // participantId as logged ("" in P2P)
	EndpointID        string
	Identifier        string
	EndpointType      EndpointType
	RawEndpointType   string
	ParticipantType   string
	SDKVersion        string
	OSVersion         string
	CallStartTime     time.Time
	CallDuration      *float64 // seconds
	CallType          CallType
	TeamsThreadID     string
	StartTime         time.Time // participantStartTime (falls back to callStartTime)
	Duration          *float64  // seconds
	EndReason         *int
	EndSubCode        *int
	ResultCategory    string
	TenantID          string
	PSTNCallType      string
	DiagnosticOptions string
	CallDebuggingInfo string
	TPE               *bool
	// Version is CallUpdatesVersion for *Updates rows, nil for final rows.
	Version *int
}

// StreamRow is one CallDiagnostics(Updates) row: one media stream of one
// participant with its whole-stream aggregates. Missing metrics are nil.
type StreamRow struct {
	ParticipantID    string // normalized participant key
	RawParticipantID string
	EndpointID       string
	Identifier       string
	EndpointType     EndpointType
	RawEndpointType  string
	MediaType        MediaType
	RawMediaType     string
	ACSStreamID      string // streamId as logged
	Direction        Direction
	TransportType    string
	Codec            string

	RoundTripTimeAvgMs   *float64
	RoundTripTimeMaxMs   *float64
	JitterAvgMs          *float64
	JitterMaxMs          *float64
	PacketLossRateAvg    *float64 // fraction 0-1
	PacketLossRateMax    *float64
	JitterBufferAvgMs    *float64
	JitterBufferMaxMs    *float64
	HealedDataRatioAvg   *float64
	HealedDataRatioMax   *float64
	VideoFrameRateAvg    *float64
	RecvResolutionHeight *float64
	RecvFreezeMsPerMin   *float64
	PacketUtilization    *float64
	VideoBitRateAvg      *float64
	VideoBitRateMax      *float64
	TPE                  *bool
	Version              *int
}

// Operation is one CallClientOperations row: an SDK API call or event, or a
// user-facing diagnostic (UFD) value change.
type Operation struct {
	Name             string
	Type             string // OperationType, e.g. client-api-request
	OperationID      string
	ParticipantID    string
	ClientInstanceID string
	EndpointID       string
	ClientTime       time.Time // CallClientTimeStamp
	DurationMs       *float64
	ResultType       string
	ResultSignature  *int
	SDKVersion       string
	UserAgent        string
	// Payload is OperationPayload as canonical JSON ("" when absent).
	Payload string
	// UFD fields, set when Name is UserFacingDiagnostics.
	UFDName  string // DiagnosticChanged
	UFDValue string // DiagnosticQuality / value
	Code     *int   // code found in the payload, if any
	SubCode  *int   // subcode found in the payload, if any
}

// Sample is one CallClientMediaStatsTimeSeries row: one metric of one stream
// aggregated over a bucket (10 s).
type Sample struct {
	ParticipantID       string
	ClientInstanceID    string
	EndpointID          string
	RemoteParticipantID string
	RemoteEndpointID    string
	MediaStreamID       string
	MediaType           MediaType
	Direction           Direction
	Codec               string
	Metric              string
	ClientTime          time.Time
	Count               *float64
	Sum                 *float64
	Average             *float64
	Minimum             *float64
	Maximum             *float64
	IntervalSeconds     *float64
}

// Survey is one CallSurvey row.
type Survey struct {
	SurveyID          string
	ParticipantID     string
	Overall           Rating
	Audio             Rating
	Video             Rating
	Screenshare       Rating
	OverallIssues     string
	AudioIssues       string
	VideoIssues       string
	ScreenshareIssues string
}

// Rating is one rated dimension of a survey. Score is nil when not rated.
type Rating struct {
	Score      *float64
	LowerBound *float64
	UpperBound *float64
	Threshold  *float64
}

// ServiceEvent is a call-scoped record from the service side that is shown
// on the timeline: Call Automation, Call Recording and Closed Captions.
type ServiceEvent struct {
	Name          string // OperationName
	ParticipantID string
	Result        string // ResultType
	Code          *int   // ResultSignature or ResultCode
	SubCode       *int   // ResultSubcode
	DurationMs    *float64
	StartTime     time.Time // when the record names one (recording, captions, streaming)
	Detail        string    // short human text: end reason, message, modality …
}

// PeerConnectionRow sums up one WebRTC peer connection of a participant as
// its telemetry measured it up to the record's time. A later row of the
// same connection supersedes an earlier one.
type PeerConnectionRow struct {
	ParticipantID string
	// ID names the connection in its telemetry (PC_0, 12345-1).
	ID string
	// Connected: ICE or the connection reached connected at least once.
	// ConnectionFailed: it went to failed and did not connect again.
	Connected        bool
	ConnectionFailed bool
	// ICEReconnects counts returns to connected after a disconnection.
	ICEReconnects int
	// UsingRelay: the candidate pair in use goes through a TURN relay.
	UsingRelay bool
	// The candidate pair in use: candidate types (host, srflx, prflx,
	// relay) and transport protocols.
	LocalCandidateType  string
	RemoteCandidateType string
	LocalProtocol       string
	RemoteProtocol      string
	// Packet totals over the connection's RTP streams; lost sent packets
	// are those the far end reported missing.
	PacketsReceived     int64
	PacketsReceivedLost int64
	PacketsSent         int64
	PacketsSentLost     int64
	// Loss in percent (nil when no packet was counted) and the mean round
	// trip (nil when none was measured).
	ReceivedPacketsLostPct *float64
	SentPacketsLostPct     *float64
	MeanRoundTripMs        *float64
	// SetupMs is the time from the connection's creation to its first
	// connected state (nil when it never connected or the creation was
	// not seen).
	SetupMs *float64
	// Start is the connection's first record, End its last.
	Start, End time.Time
	// StatsPolls counts the getStats results the row was made from: with
	// none, its packet counts are unknown rather than zero.
	StatsPolls int
}

// DescribeClientTypes writes endpoint counts the way people say them, most
// common first: {"VoIP":3,"PSTN":1} is "3 VoIP, 1 PSTN"; none is "".
func DescribeClientTypes(m map[EndpointType]int) string {
	type kv struct {
		k EndpointType
		n int
	}
	var all []kv
	for k, n := range m {
		if n > 0 {
			all = append(all, kv{k, n})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return all[i].k < all[j].k
	})
	parts := make([]string, len(all))
	for i, x := range all {
		parts[i] = strconv.Itoa(x.n) + " " + string(x.k)
	}
	return strings.Join(parts, ", ")
}
