package detect

import (
	"fmt"
	"strings"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

// Issue kinds.
const (
	KindPoorStream             = "poor-stream"
	KindPoorAudioConcealment   = "poor-audio-concealment"
	KindPoorVideo              = "poor-video"
	KindPoorScreenshare        = "poor-screenshare"
	KindMediaOverTCP           = "media-over-tcp"
	KindNoMediaFlow            = "no-media-flow"
	KindNetworkReconnect       = "network-reconnect"
	KindNetworkSendQuality     = "network-send-quality"
	KindNetworkReceiveQuality  = "network-receive-quality"
	KindNoNetwork              = "no-network"
	KindRelaysUnreachable      = "relays-unreachable"
	KindSpeakingWhileMuted     = "speaking-while-muted"
	KindMicNotFunctioning      = "microphone-not-functioning"
	KindMicMutedUnexpectedly   = "microphone-muted-unexpectedly"
	KindNoMicrophone           = "no-microphone"
	KindMicPermissionDenied    = "microphone-permission-denied"
	KindMicBusy                = "microphone-busy"
	KindNoSpeaker              = "no-speaker"
	KindSpeakerMutedOrZero     = "speaker-muted-or-zero-volume"
	KindSpeakerBusy            = "speaker-busy"
	KindSpeakerNotFunctioning  = "speaker-not-functioning"
	KindCameraStartFailed      = "camera-start-failed"
	KindCameraStartTimedOut    = "camera-start-timed-out"
	KindCameraPermissionDenied = "camera-permission-denied"
	KindCameraStopped          = "camera-stopped-unexpectedly"
	KindCameraFreeze           = "camera-freeze"
	KindSharePermissionDenied  = "screenshare-permission-denied"
	KindCapturerFailed         = "capturer-failed"
	KindCallSetupFailed        = "call-setup-failed"
	KindDropped                = "dropped-ungracefully"
	KindOperationFailed        = "operation-failed"
	KindRejoined               = "rejoined"
	KindPoorRating             = "poor-rating"
	KindMissingTelemetry       = "missing-telemetry"

	// Kinds only browser WebRTC telemetry raises.
	KindICEFailed          = "ice-failed"
	KindRelayUsed          = "relay-used"
	KindQualityLimited     = "quality-limited"
	KindSlowSetup          = "slow-connection-setup"
	KindGetUserMediaFailed = "getusermedia-failed"
)

// kindInfo is what every issue of one kind shares.
type kindInfo struct {
	category model.IssueCategory
	severity model.Severity
	// advice is the recommendation text.
	advice string
	// events are the timeline event kinds that show the evidence.
	events []string
}

var (
	evUFD    = []string{model.KindUFD}
	evMetric = []string{model.KindMetric}
	evOps    = []string{model.KindOperation, model.KindJoin, model.KindLeave}
)

// info returns the shared facts of kind; unknown kinds get a neutral entry.
func info(kind string) kindInfo {
	const w, c, i = model.SeverityWarning, model.SeverityCritical, model.SeverityInfo
	n, a, v, s, d := model.CategoryNetwork, model.CategoryAudio, model.CategoryVideo, model.CategoryScreenShare, model.CategoryDevice
	switch kind {
	case KindPoorStream:
		return kindInfo{n, w, "Check the participant's network path: prefer a wired or stronger wireless connection, close bandwidth-heavy applications, and make sure UDP to the media relays is allowed.", evMetric}
	case KindPoorAudioConcealment:
		return kindInfo{a, w, "Much of the received audio was reconstructed to hide lost packets; look at packet loss on the sending side and on this receiver's downlink.", evMetric}
	case KindPoorVideo:
		return kindInfo{v, w, "Received video was choppy, frozen or low resolution; check the bandwidth of the sender and of this receiver, and the sender's camera and CPU load.", evMetric}
	case KindPoorScreenshare:
		return kindInfo{s, w, "The shared screen arrived slowly or at low resolution; check the presenter's upstream bandwidth and CPU load.", evMetric}
	case KindMediaOverTCP:
		return kindInfo{n, w, "Media fell back to TCP, which adds delay under loss; open UDP 3478-3481 and the media ranges in the firewall or proxy.", evMetric}
	case KindNoMediaFlow:
		return kindInfo{n, w, "No packets flowed on this stream; check whether the device was muted or blocked, and whether a firewall dropped the media.", evMetric}
	case KindNetworkReconnect:
		return kindInfo{n, w, "The client lost its network connection and had to reconnect; look for unstable Wi-Fi, VPN switches or a network change on that device.", evUFD}
	case KindNetworkSendQuality:
		return kindInfo{n, w, "The client had trouble sending media; check its upstream bandwidth and loss.", evUFD}
	case KindNetworkReceiveQuality:
		return kindInfo{n, w, "The client had trouble receiving media; check its downstream bandwidth and loss.", evUFD}
	case KindNoNetwork:
		return kindInfo{n, w, "The device had no usable network when the call needed one; check its connectivity.", evUFD}
	case KindRelaysUnreachable:
		return kindInfo{n, w, "Something on the network blocked the media relays; allow the ACS relay addresses and UDP/TCP ports in the firewall or proxy.", evUFD}
	case KindSpeakingWhileMuted:
		return kindInfo{a, i, "The user talked while muted; nothing is broken, but the others did not hear them.", evUFD}
	case KindMicNotFunctioning:
		return kindInfo{d, w, "The microphone could not send audio; check that it is enabled and not held by another application.", evUFD}
	case KindMicMutedUnexpectedly:
		return kindInfo{d, w, "The system muted the microphone without the user asking (for example an incoming phone call); the user must unmute.", evUFD}
	case KindNoMicrophone:
		return kindInfo{d, w, "No microphone was found; connect or enable one.", evUFD}
	case KindMicPermissionDenied:
		return kindInfo{d, w, "The operating system or browser denied microphone access; allow it in the privacy settings.", evUFD}
	case KindMicBusy:
		return kindInfo{d, w, "Another application held the microphone; close it and retry.", evUFD}
	case KindNoSpeaker:
		return kindInfo{d, w, "No audio output device was found; connect or enable one.", evUFD}
	case KindSpeakerMutedOrZero:
		return kindInfo{d, w, "The output device was muted or its volume was zero, so the user could not hear the call.", evUFD}
	case KindSpeakerBusy:
		return kindInfo{d, w, "Another application held the speaker; close it and retry.", evUFD}
	case KindSpeakerNotFunctioning:
		return kindInfo{d, w, "The speaker stopped working or could not start; check the output device.", evUFD}
	case KindCameraStartFailed:
		return kindInfo{d, w, "The camera could not start; check that it is enabled and not in use by another application.", evUFD}
	case KindCameraStartTimedOut:
		return kindInfo{d, w, "The camera timed out while starting; reconnect it or restart the device.", evUFD}
	case KindCameraPermissionDenied:
		return kindInfo{d, w, "Camera access was denied; allow it in the browser and operating system settings.", evUFD}
	case KindCameraStopped:
		return kindInfo{d, w, "The camera stopped on its own; check the device and its driver.", evUFD}
	case KindCameraFreeze:
		return kindInfo{v, w, "The local camera produced no frames for a while; check the camera and the sender's upstream network.", evUFD}
	case KindSharePermissionDenied:
		return kindInfo{s, w, "Screen recording permission was denied; allow it in the operating system settings.", evUFD}
	case KindCapturerFailed:
		return kindInfo{s, w, "Screen capture failed to start or stopped on its own; retry sharing and check capture permissions.", evUFD}
	case KindCallSetupFailed:
		return kindInfo{model.CategoryReliability, c, "The participant never got into the call; see the end code's explanation.", evOps}
	case KindDropped:
		return kindInfo{model.CategoryReliability, c, "The participant left the call without hanging up; see the end code's explanation and the network events just before it.", evOps}
	case KindOperationFailed:
		return kindInfo{model.CategoryReliability, w, "A client operation failed; see the code's explanation.", evOps}
	case KindRejoined:
		return kindInfo{model.CategoryReliability, w, "The participant had to join again; look at what ended the earlier leg.", evOps}
	case KindPoorRating:
		return kindInfo{model.CategoryFeedback, w, "The participant rated the call poorly; compare with the other issues of the call.", []string{model.KindSurvey}}
	case KindMissingTelemetry:
		return kindInfo{model.CategoryData, i, "Some telemetry is missing, so the absence of issues here proves less; make sure every client and resource sends its logs.", nil}
	case KindICEFailed:
		return kindInfo{n, c, "No network path to the far end worked; configure a TURN server reachable over UDP and over TCP/TLS 443, check its credentials, and allow UDP to it in the firewall.", evOps}
	case KindRelayUsed:
		return kindInfo{n, i, "Media went through a TURN relay, which adds delay and relay traffic; it usually means UDP between the two ends is blocked, so allow it if a direct path is wanted.", evOps}
	case KindQualityLimited:
		return kindInfo{v, w, "The browser lowered its outgoing video to fit the upstream bandwidth or the CPU; improve the uplink or close heavy applications, or send a lower resolution.", []string{model.KindOperation, model.KindMetric}}
	case KindSlowSetup:
		return kindInfo{model.CategoryReliability, w, "The connection took long to come up; look at whether ICE checks or the offer/answer exchange took the time, and offer a reachable TURN server so ICE need not wait for failing candidates.", evOps}
	case KindGetUserMediaFailed:
		return kindInfo{d, w, "The browser could not open the camera or microphone; see the error in the evidence for its fix.", evOps}
	}
	return kindInfo{model.CategoryData, w, "", nil}
}

// allKinds lists every kind detection can produce.
func allKinds() []string {
	return []string{KindPoorStream, KindPoorAudioConcealment, KindPoorVideo, KindPoorScreenshare,
		KindMediaOverTCP, KindNoMediaFlow, KindNetworkReconnect, KindNetworkSendQuality,
		KindNetworkReceiveQuality, KindNoNetwork, KindRelaysUnreachable, KindSpeakingWhileMuted,
		KindMicNotFunctioning, KindMicMutedUnexpectedly, KindNoMicrophone, KindMicPermissionDenied,
		KindMicBusy, KindNoSpeaker, KindSpeakerMutedOrZero, KindSpeakerBusy, KindSpeakerNotFunctioning,
		KindCameraStartFailed, KindCameraStartTimedOut, KindCameraPermissionDenied, KindCameraStopped,
		KindCameraFreeze, KindSharePermissionDenied, KindCapturerFailed, KindCallSetupFailed,
		KindDropped, KindOperationFailed, KindRejoined, KindPoorRating, KindMissingTelemetry,
		KindICEFailed, KindRelayUsed, KindQualityLimited, KindSlowSetup, KindGetUserMediaFailed}
}

// Kinds returns every issue kind detection can produce.
func Kinds() []string { return allKinds() }

func knownKind(k string) bool {
	for _, x := range allKinds() {
		if x == k {
			return true
		}
	}
	return false
}

// ufdKind maps a user-facing diagnostic to the issue kind it raises: the
// catalog's mapping, else the table in localUFDKind (which matches any
// spelling of the name's case).
func ufdKind(name string) string {
	if k, ok := catalog.UFDKind(name); ok {
		return k
	}
	return localUFDKind(strings.ToLower(name))
}

// localUFDKind maps a lower-cased UFD name to its issue kind. Every UFD of
// the reference table has an entry; it agrees with the catalog's mapping
// (a test checks) and covers spellings the catalog does not match.
func localUFDKind(lowerName string) string {
	switch lowerName {
	case "nonetwork", "networkunavailable":
		return KindNoNetwork
	case "networkrelaysnotreachable", "networkrelaysunreachable":
		return KindRelaysUnreachable
	case "networkreconnect", "networkreconnectionquality":
		return KindNetworkReconnect
	case "networkreceivequality":
		return KindNetworkReceiveQuality
	case "networksendquality":
		return KindNetworkSendQuality
	case "nospeakerdevicesenumerated", "nospeakerdevicesavailable":
		return KindNoSpeaker
	case "speakingwhilemicrophoneismuted":
		return KindSpeakingWhileMuted
	case "nomicrophonedevicesenumerated", "nomicrophonedevicesavailable":
		return KindNoMicrophone
	case "microphonenotfunctioning":
		return KindMicNotFunctioning
	case "microphonemuteunexpectedly":
		return KindMicMutedUnexpectedly
	case "microphonepermissiondenied":
		return KindMicPermissionDenied
	case "microphonebusy":
		return KindMicBusy
	case "camerafreeze", "camerafrozen":
		return KindCameraFreeze
	case "camerastartfailed":
		return KindCameraStartFailed
	case "camerastarttimedout":
		return KindCameraStartTimedOut
	case "camerapermissiondenied":
		return KindCameraPermissionDenied
	case "camerastoppedunexpectedly":
		return KindCameraStopped
	case "screensharerecordingdisabled":
		return KindSharePermissionDenied
	case "capturerstartfailed", "capturerstoppedunexpectedly":
		return KindCapturerFailed
	case "speakervolumeiszero", "speakermuted":
		return KindSpeakerMutedOrZero
	case "speakerbusy":
		return KindSpeakerBusy
	case "speakernotfunctioning":
		return KindSpeakerNotFunctioning
	}
	return ""
}

// guide names the troubleshooting guide (knowledge-base id) that covers a
// kind, or "" when none does.
func guide(kind string) string {
	switch kind {
	case KindPoorStream, KindNetworkSendQuality, KindNetworkReceiveQuality:
		return "guide-poor-network"
	case KindMediaOverTCP, KindRelaysUnreachable, KindNoMediaFlow, KindICEFailed, KindRelayUsed:
		return "guide-turn-and-firewall"
	case KindPoorAudioConcealment, KindSpeakerMutedOrZero, KindNoSpeaker, KindSpeakerBusy, KindSpeakerNotFunctioning:
		return "guide-cant-hear-others"
	case KindSpeakingWhileMuted, KindMicNotFunctioning, KindMicMutedUnexpectedly, KindNoMicrophone, KindMicBusy:
		return "guide-others-cant-hear-me"
	case KindMicPermissionDenied, KindCameraPermissionDenied, KindGetUserMediaFailed:
		return "guide-device-permissions"
	case KindPoorVideo, KindQualityLimited:
		return "guide-choppy-or-frozen-video"
	case KindCameraStartFailed, KindCameraStartTimedOut, KindCameraStopped, KindCameraFreeze:
		return "guide-others-cant-see-me"
	case KindPoorScreenshare, KindSharePermissionDenied, KindCapturerFailed:
		return "guide-screen-share-fails"
	case KindCallSetupFailed, KindNoNetwork, KindSlowSetup:
		return "guide-call-wont-connect"
	case KindDropped, KindRejoined, KindNetworkReconnect:
		return "guide-call-dropped"
	}
	return ""
}

// codeKB is the knowledge-base id of a code and subcode pair, in the form
// the catalog uses: code-{code}-{subcode}, or code-{code} without subcode.
func codeKB(code, sub *int) string {
	if code == nil {
		return ""
	}
	if sub == nil {
		return fmt.Sprintf("code-%d", *code)
	}
	return fmt.Sprintf("code-%d-%d", *code, *sub)
}

// ufdKB is the knowledge-base id of a UFD: its name with the first letter
// lower-cased, as the catalog keys it.
func ufdKB(name string) string {
	if name == "" {
		return ""
	}
	return "ufd-" + strings.ToLower(name[:1]) + name[1:]
}
