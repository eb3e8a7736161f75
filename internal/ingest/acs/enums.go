package acs

import (
	"strings"
	"unicode/utf8"

	"calldiag/internal/model"
)

// lowerKey lower-cases ASCII s into buf, dropping spaces, and returns the
// result; ok is false when s does not fit buf. The caller switches on
// string(result), which the compiler does without allocating.
func lowerKey(buf []byte, s string) ([]byte, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			continue
		}
		if n == len(buf) {
			return nil, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return buf[:n], true
}

// lookupCategory maps a diagnostic-setting category, a Log Analytics table
// name or one of the spellings the documentation uses for them to the
// category calldiag knows it by, case-insensitively.
func lookupCategory(s string) (model.Category, bool) {
	var arr [48]byte
	b, ok := lowerKey(arr[:], s)
	if !ok {
		return "", false
	}
	switch string(b) {
	case "callsummary", "acscallsummary":
		return model.CatCallSummary, true
	case "callsummaryupdates", "acscallsummaryupdates":
		return model.CatCallSummaryUpdates, true
	case "calldiagnostics", "acscalldiagnostics":
		return model.CatCallDiagnostics, true
	case "calldiagnosticsupdates", "acscalldiagnosticsupdates":
		return model.CatCallDiagnosticsUpdates, true
	case "callclientoperations", "acscallclientoperations":
		return model.CatCallClientOperations, true
	case "callclientmediastatstimeseries", "acscallclientmediastatstimeseries":
		return model.CatCallClientMediaStatsTimeSeries, true
	case "callsurvey", "acscallsurvey":
		return model.CatCallSurvey, true
	case "callingmetrics", "acscallingmetrics":
		return model.CatCallingMetrics, true
	case "callclientservicerequestandoutcome", "acscallclientservicerequestandoutcome":
		return model.CatCallClientServiceRequest, true
	case "callautomationoperational", "acscallautomationoperational",
		"callautomationincomingoperations", "acscallautomationincomingoperations":
		return model.CatCallAutomationOperational, true
	case "callautomationmediasummary", "acscallautomationmediasummary":
		return model.CatCallAutomationMediaSummary, true
	case "callautomationstreamingusage", "acscallautomationstreamingusage":
		return model.CatCallAutomationStreamingUsage, true
	case "callrecordingsummary", "acscallrecordingsummary", "recordingsummary":
		return model.CatCallRecordingSummary, true
	case "callrecordingoperational", "acscallrecordingoperational",
		"callrecordingincomingoperations", "acscallrecordingincomingoperations":
		return model.CatCallRecordingOperational, true
	case "callclosedcaptionssummary", "acscallclosedcaptionssummary", "closedcaptionssummary":
		return model.CatCallClosedCaptionsSummary, true
	}
	return "", false
}

// endpointType folds the endpoint type spellings of the summary and
// diagnostics tables (VOIP and VoIP, BOT and Bot, …) into the model's
// values. Voicemail, Anonymous and anything unrecognised are Unknown.
func endpointType(s string) model.EndpointType {
	var arr [32]byte
	b, ok := lowerKey(arr[:], s)
	if !ok {
		return model.EndpointUnknown
	}
	switch string(b) {
	case "voip":
		return model.EndpointVoIP
	case "pstn":
		return model.EndpointPSTN
	case "bot":
		return model.EndpointBot
	case "server":
		return model.EndpointServer
	}
	// Teams clients appear under several names (Teams, TeamsUser,
	// MicrosoftTeams, TeamsVoiceApp …); they are one kind of endpoint here.
	if strings.Contains(string(b), "teams") {
		return model.EndpointTeams
	}
	return model.EndpointUnknown
}

// mediaType folds the diagnostics MediaType and the media-stats
// MediaStreamType spellings into the model's media types; "" when the value
// is not one of them.
func mediaType(s string) model.MediaType {
	var arr [32]byte
	b, ok := lowerKey(arr[:], s)
	if !ok {
		return ""
	}
	switch string(b) {
	case "audio":
		return model.MediaAudio
	case "video":
		return model.MediaVideo
	case "vbss", "screensharing", "screenshare", "screen":
		return model.MediaScreenshare
	case "appsharing":
		return model.MediaAppsharing
	}
	return ""
}

// streamDirection reads a diagnostics StreamDirection or a media-stats
// MediaStreamDirection; "" when the value is not a direction.
func streamDirection(s string) model.Direction {
	var arr [16]byte
	b, ok := lowerKey(arr[:], s)
	if !ok {
		return ""
	}
	switch string(b) {
	case "inbound", "recv", "receive", "incoming":
		return model.DirInbound
	case "outbound", "send", "outgoing":
		return model.DirOutbound
	}
	return ""
}

// callType folds P2P and Group in any case; other values are kept as they
// arrived.
func callType(s string) model.CallType {
	switch {
	case strings.EqualFold(s, "p2p"):
		return model.CallTypeP2P
	case strings.EqualFold(s, "group"):
		return model.CallTypeGroup
	}
	return model.CallType(s)
}

// normalizeResource lower-cases an ARM resource id and gives it exactly one
// leading slash, so an export's "SUBSCRIPTIONS/…" and Log Analytics'
// "/subscriptions/…" agree.
func normalizeResource(s string) string {
	s = strings.TrimLeft(s, "/")
	if s == "" {
		return ""
	}
	b := make([]byte, 0, len(s)+1)
	b = append(b, '/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return "/" + strings.ToLower(s) // rare: leave Unicode to the library
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}
