package simulate

import "time"

// Labels lists the causes injected into every generated call. It is the
// ground truth the detection engine is scored against.
type Labels struct {
	Seed  uint64       `json:"seed"`
	Calls []CallLabels `json:"calls"`
}

// CallLabels lists the causes injected into one call; a healthy call has an
// empty (not null) Faults list.
type CallLabels struct {
	CallID string  `json:"callId"`
	Faults []Fault `json:"faults"`
}

// Fault is one injected cause. The records of the call show its symptoms,
// derived from it through the simulator's network and device model; the
// magnitudes here are the size of the cause, not of any one measurement.
type Fault struct {
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// ParticipantID names the affected leg the way model.ParticipantKey
	// does: its participantId in group calls, its endpointId in P2P calls.
	ParticipantID string `json:"participantId,omitempty"`
	// Direction is "outbound" or "inbound" for faults that affect one
	// direction of media, empty otherwise.
	Direction string `json:"direction,omitempty"`
	// Culprit is one of the Culprit constants.
	Culprit string `json:"culprit"`
	// Start and End bound the cause in time (UTC, millisecond precision).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// LossRate is the packet loss added to the affected path (fraction).
	LossRate float64 `json:"lossRate,omitempty"`
	// JitterMs is the jitter added to the affected path.
	JitterMs float64 `json:"jitterMs,omitempty"`
	// RTTMs is the round-trip time added to the affected leg.
	RTTMs float64 `json:"rttMs,omitempty"`
	// Code and SubCode are the end or operation code the cause produced.
	Code    *int `json:"code,omitempty"`
	SubCode *int `json:"subCode,omitempty"`
	// Rating is a survey's overall score scaled to 1–5 (poor-rating only).
	Rating *float64 `json:"rating,omitempty"`
	// UFD names the user-facing diagnostic the cause raises, if any.
	UFD string `json:"ufd,omitempty"`
}

// Fault kinds (Fault.Kind).
const (
	// KindPoorUplink: loss, jitter or delay on what one participant sends.
	KindPoorUplink = "poor-uplink"
	// KindPoorDownlink: loss, jitter or delay on what one participant receives.
	KindPoorDownlink = "poor-downlink"
	// KindSharedNetwork: several participants at one site share a bad
	// network; one fault is recorded per affected participant.
	KindSharedNetwork = "shared-network"
	// KindNetworkReconnect: a participant's network drops for seconds and
	// the client reconnects.
	KindNetworkReconnect = "network-reconnect"
	// KindDropped: a participant's leg ends on a network end code.
	KindDropped = "dropped"
	// KindSetupFailed: a participant's join fails within seconds.
	KindSetupFailed = "setup-failed"
	// KindSpeakingWhileMuted: a participant talks with the microphone muted.
	KindSpeakingWhileMuted = "speaking-while-muted"
	// KindMicrophoneNotFunctioning: the microphone delivers no audio.
	KindMicrophoneNotFunctioning = "microphone-not-functioning"
	// KindCameraStartFailed: starting the camera fails with an SDK code.
	KindCameraStartFailed = "camera-start-failed"
	// KindCameraPermissionDenied: the camera permission is refused.
	KindCameraPermissionDenied = "camera-permission-denied"
	// KindMicrophonePermissionDenied: the microphone permission is refused.
	KindMicrophonePermissionDenied = "microphone-permission-denied"
	// KindPoorRating: a participant rated the call poorly in the survey.
	KindPoorRating = "poor-rating"
	// KindMediaOverTCP: a participant's media runs over TCP (UDP blocked).
	KindMediaOverTCP = "media-over-tcp"
)

// Culprits (Fault.Culprit).
const (
	CulpritParticipantUplink   = "participant-uplink"
	CulpritParticipantDownlink = "participant-downlink"
	// CulpritParticipantNetwork: the participant's network as a whole
	// (connectivity or firewall), not one direction of it.
	CulpritParticipantNetwork = "participant-network"
	CulpritSharedNetwork      = "shared-network"
	CulpritDevice             = "device"
	CulpritPermissions        = "permissions"
	CulpritUser               = "user"
	CulpritService            = "service"
	CulpritClientApp          = "client-app"
)

// Directions (Fault.Direction).
const (
	DirectionOutbound = "outbound"
	DirectionInbound  = "inbound"
)

// Kinds returns every fault kind.
func Kinds() []string {
	return []string{KindPoorUplink, KindPoorDownlink, KindSharedNetwork, KindNetworkReconnect,
		KindDropped, KindSetupFailed, KindSpeakingWhileMuted, KindMicrophoneNotFunctioning,
		KindCameraStartFailed, KindCameraPermissionDenied, KindMicrophonePermissionDenied,
		KindPoorRating, KindMediaOverTCP}
}

// Culprits returns every culprit.
func Culprits() []string {
	return []string{CulpritParticipantUplink, CulpritParticipantDownlink, CulpritParticipantNetwork,
		CulpritSharedNetwork, CulpritDevice, CulpritPermissions, CulpritUser, CulpritService,
		CulpritClientApp}
}

func intp(v int) *int { return &v }
