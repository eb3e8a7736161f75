package acs

import (
	"testing"
	"time"

	"calldiag/internal/model"
)

func TestCategory(t *testing.T) {
	tests := []struct {
		fields  string
		want    model.Category
		known   bool
		wantRaw string
	}{
		{`"category":"CallSummary"`, model.CatCallSummary, true, "CallSummary"},
		{`"category":"callsummary"`, model.CatCallSummary, true, "callsummary"},
		{`"Type":"ACSCallSummary"`, model.CatCallSummary, true, "ACSCallSummary"},
		{`"category":"CallSummary","callupdatesversion":"3"`, model.CatCallSummaryUpdates, true, "CallSummary"},
		{`"category":"CallSummary","callupdatesversion":null`, model.CatCallSummary, true, "CallSummary"},
		{`"Type":"ACSCallSummaryUpdates"`, model.CatCallSummaryUpdates, true, "ACSCallSummaryUpdates"},
		{`"category":"CallDiagnostics","CallUpdatesVersion":1`, model.CatCallDiagnosticsUpdates, true, "CallDiagnostics"},
		{`"Type":"ACSCallDiagnosticsUpdates"`, model.CatCallDiagnosticsUpdates, true, "ACSCallDiagnosticsUpdates"},
		{`"Type":"ACSCallClientOperations"`, model.CatCallClientOperations, true, "ACSCallClientOperations"},
		{`"category":"CALLCLIENTMEDIASTATSTIMESERIES"`, model.CatCallClientMediaStatsTimeSeries, true, "CALLCLIENTMEDIASTATSTIMESERIES"},
		{`"Type":"ACSCallSurvey"`, model.CatCallSurvey, true, "ACSCallSurvey"},
		{`"Type":"ACSCallAutomationIncomingOperations"`, model.CatCallAutomationOperational, true, "ACSCallAutomationIncomingOperations"},
		{`"Type":"ACSCallAutomationMediaSummary"`, model.CatCallAutomationMediaSummary, true, "ACSCallAutomationMediaSummary"},
		{`"Type":"ACSCallAutomationStreamingUsage"`, model.CatCallAutomationStreamingUsage, true, "ACSCallAutomationStreamingUsage"},
		{`"Type":"ACSCallRecordingIncomingOperations"`, model.CatCallRecordingOperational, true, "ACSCallRecordingIncomingOperations"},
		{`"category":"RecordingSummary"`, model.CatCallRecordingSummary, true, "RecordingSummary"},
		{`"Type":"ACSCallRecordingSummary"`, model.CatCallRecordingSummary, true, "ACSCallRecordingSummary"},
		{`"Category":"ACSCallClosedCaptionsSummary"`, model.CatCallClosedCaptionsSummary, true, "ACSCallClosedCaptionsSummary"},
		{`"category":"Usage"`, "", false, "Usage"},
		{`"Type":"ACSBillingUsage"`, "", false, "ACSBillingUsage"},
		{`"category":"Usage","Type":"ACSCallSummary"`, model.CatCallSummary, true, "Usage"},
		{``, "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.fields, func(t *testing.T) {
			src := `{"time":"2024-03-05T10:16:02.5Z","correlationId":"c1","CallId":"c1"`
			if tc.fields != "" {
				src += "," + tc.fields
			}
			r, err := Normalize(mustItem(t, src+"}"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Category != tc.want || r.Known != tc.known || r.RawCategory != tc.wantRaw {
				t.Errorf("got category %q known %v raw %q; want %q %v %q", r.Category, r.Known, r.RawCategory, tc.want, tc.known, tc.wantRaw)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC; "" when not a time
	}{
		{"2024-01-09T17:06:50.3Z", "2024-01-09T17:06:50.3Z"},
		{"2023-11-14T23:18:26.4332392Z", "2023-11-14T23:18:26.4332392Z"},
		{"2023-11-14T23:18:26.43323921234Z", "2023-11-14T23:18:26.433239212Z"},
		{"2022-08-07T13:53:12Z", "2022-08-07T13:53:12Z"},
		{"2024-01-09T17:06:50", "2024-01-09T17:06:50Z"},
		{"2024-01-09 17:06:50.3", "2024-01-09T17:06:50.3Z"},
		{"2024-01-09t17:06:50z", "2024-01-09T17:06:50Z"},
		{"2024-01-09T19:06:50+02:00", "2024-01-09T17:06:50Z"},
		{"2024-01-09T12:36:50-0430", "2024-01-09T17:06:50Z"},
		{"5/25/2023, 5:43:25.746 PM", "2023-05-25T17:43:25.746Z"},
		{"5/24/2023, 7:57:40.480 PM", "2023-05-24T19:57:40.48Z"},
		{"12/1/2023, 12:00:01 AM", "2023-12-01T00:00:01Z"},
		{"12/1/2023, 12:00:01 PM", "2023-12-01T12:00:01Z"},
		{"12/1/2023 17:00:01", "2023-12-01T17:00:01Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-01-09T24:00:00Z", ""},
		{"2024-01-09T17:06:60Z", ""},
		{"2024-01-09T17:06:50.Z", ""},
		{"2024-01-09T17:06:50Zjunk", ""},
		{"2024-01-09", ""},
		{"13/1/2023, 1:00:00 PM", ""},
		{"5/25/2023, 13:43:25 PM", ""},
		{"5/25/2023, 5:43:25 XM", ""},
		{"1.0.1.0", ""},
		{"3/6/23", ""},
		{"acs:5/25/2023", ""},
	}
	for _, tc := range tests {
		got, ok := parseTime(tc.in)
		switch {
		case tc.want == "" && ok:
			t.Errorf("parseTime(%q) = %v, want not a time", tc.in, got)
		case tc.want != "" && (!ok || got.Format(time.RFC3339Nano) != tc.want || got.Location() != time.UTC):
			t.Errorf("parseTime(%q) = %v, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}

func TestEnumerations(t *testing.T) {
	endpoints := map[string]model.EndpointType{
		"VOIP": model.EndpointVoIP, "VoIP": model.EndpointVoIP, "voip": model.EndpointVoIP, "PSTN": model.EndpointPSTN,
		"BOT": model.EndpointBot, "Bot": model.EndpointBot, "Server": model.EndpointServer, "Teams": model.EndpointTeams,
		"TeamsUser": model.EndpointTeams, "MicrosoftTeams": model.EndpointTeams, "Voicemail": model.EndpointUnknown,
		"Anonymous": model.EndpointUnknown, "Unknown": model.EndpointUnknown, "": model.EndpointUnknown,
	}
	for in, want := range endpoints {
		if got := endpointType(in); got != want {
			t.Errorf("endpointType(%q) = %q, want %q", in, got, want)
		}
	}
	media := map[string]model.MediaType{
		"Audio": model.MediaAudio, "audio": model.MediaAudio, "Video": model.MediaVideo, "VBSS": model.MediaScreenshare,
		"ScreenSharing": model.MediaScreenshare, "screen": model.MediaScreenshare, "screenshare": model.MediaScreenshare,
		"AppSharing": model.MediaAppsharing, "data": "", "": "",
	}
	for in, want := range media {
		if got := mediaType(in); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", in, got, want)
		}
	}
	dirs := map[string]model.Direction{
		"send": model.DirOutbound, "outgoing": model.DirOutbound, "Outbound": model.DirOutbound, "recv": model.DirInbound,
		"receive": model.DirInbound, "incoming": model.DirInbound, "Inbound": model.DirInbound, "both": "",
	}
	for in, want := range dirs {
		if got := streamDirection(in); got != want {
			t.Errorf("streamDirection(%q) = %q, want %q", in, got, want)
		}
	}
	calls := map[string]model.CallType{"P2P": model.CallTypeP2P, "p2p": model.CallTypeP2P, "GROUP": model.CallTypeGroup, "1 to 1": "1 to 1"}
	for in, want := range calls {
		if got := callType(in); got != want {
			t.Errorf("callType(%q) = %q, want %q", in, got, want)
		}
	}
	resources := map[string]string{
		"SUBSCRIPTIONS/A/RESOURCEGROUPS/B": "/subscriptions/a/resourcegroups/b",
		"/subscriptions/a":                 "/subscriptions/a",
		"//Subscriptions/A":                "/subscriptions/a",
		"":                                 "",
	}
	for in, want := range resources {
		if got := normalizeResource(in); got != want {
			t.Errorf("normalizeResource(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStreamDirectionAndParticipant(t *testing.T) {
	tests := []struct {
		name       string
		props      string
		wantDir    model.Direction
		wantKey    string
		wantMedia  model.MediaType
		wantRawMed string
	}{
		{"client row is outbound", `"participantId":"p1","endpointId":"e1","endpointType":"VOIP","mediaType":"Video"`, model.DirOutbound, "p1", model.MediaVideo, "Video"},
		{"server row is the participant's inbound", `"participantId":"p1","endpointId":null,"identifier":null,"endpointType":"Server","mediaType":"VBSS"`, model.DirInbound, "p1", model.MediaScreenshare, "VBSS"},
		{"logged direction wins", `"participantId":"p1","endpointType":"Server","StreamDirection":"Outbound","mediaType":"Audio"`, model.DirOutbound, "p1", model.MediaAudio, "Audio"},
		{"P2P row keyed by endpoint", `"participantId":"null","endpointId":"e1","endpointType":"VoIP","mediaType":"Audio"`, model.DirOutbound, "e1", model.MediaAudio, "Audio"},
		{"redacted ids fall back to identifier", `"participantId":"Redacted","endpointId":"Redacted","identifier":"8:acs:x","endpointType":"BOT","mediaType":"Audio"`, model.DirOutbound, "Bot:8:acs:x", model.MediaAudio, "Audio"},
		{"padded participant id", `"participantId":" p1 ","endpointType":"VoIP","mediaType":"AppSharing"`, model.DirOutbound, "p1", model.MediaAppsharing, "AppSharing"},
		{"unknown media type kept raw", `"participantId":"p1","endpointType":"VoIP","mediaType":"Hologram"`, model.DirOutbound, "p1", "", "Hologram"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Normalize(mustItem(t, `{"time":"2024-03-05T10:16:02.5Z","category":"CallDiagnostics","correlationId":"c1","properties":{`+tc.props+`}}`))
			if err != nil {
				t.Fatal(err)
			}
			s := r.Stream
			if s.Direction != tc.wantDir || s.ParticipantID != tc.wantKey || s.MediaType != tc.wantMedia || s.RawMediaType != tc.wantRawMed {
				t.Errorf("got direction %q key %q media %q raw %q; want %q %q %q %q",
					s.Direction, s.ParticipantID, s.MediaType, s.RawMediaType, tc.wantDir, tc.wantKey, tc.wantMedia, tc.wantRawMed)
			}
		})
	}
}

func TestSummaryDetails(t *testing.T) {
	// Microsoft's queries drop rows whose participantId equals the call id;
	// this package keeps them.
	r, err := Normalize(mustItem(t, `{"time":"2024-03-05T10:16:02.5Z","category":"CallSummary","correlationId":"c1","properties":{
		"participantId":"c1","callStartTime":"2024-03-05T09:00:00Z","participantStartTime":"null","participantEndReason":"487",
		"ParticipantEndSubCode":"560487","ResultCategory":"ExpectedError","endpointType":"PSTN","pstnPartcipantCallType":"Emergency",
		"DiagnosticOptions":{"tags":["b","a"],"appName":"x"},"callDebuggingInfo":"{\"k\": 1}","participantType":"ACS","TPE":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	p := r.Participant
	want := model.ParticipantRow{
		ParticipantID: "c1", RawParticipantID: "c1", EndpointType: model.EndpointPSTN, RawEndpointType: "PSTN",
		ParticipantType: "ACS", CallStartTime: ts("2024-03-05T09:00:00Z"), StartTime: ts("2024-03-05T09:00:00Z"),
		EndReason: ip(487), EndSubCode: ip(560487), ResultCategory: "ExpectedError", PSTNCallType: "Emergency",
		DiagnosticOptions: `{"appName":"x","tags":["b","a"]}`, CallDebuggingInfo: `{"k":1}`, TPE: bp(true),
	}
	if g, w := recordJSON(model.Record{Participant: p}), recordJSON(model.Record{Participant: &want}); g != w {
		t.Errorf("got  %s\nwant %s", g, w)
	}
	if r.CallID != "c1" {
		t.Errorf("CallID %q, want c1", r.CallID)
	}
}

func TestClientOperations(t *testing.T) {
	const env = `"TimeGenerated":"2024-03-05T10:05:41.209Z","Type":"ACSCallClientOperations","CallId":"c1"`
	tests := []struct {
		name string
		rec  string
		want model.Operation
	}{
		{"UFD with quality", `{` + env + `,"OperationName":"UserFacingDiagnostics","CallClientTimeStamp":"2024-03-05T10:05:39.871Z","OperationPayload":"{\"DiagnosticChanged\":\"networkSendQuality\",\"DiagnosticQuality\":\"Poor\"}"}`,
			model.Operation{Name: "UserFacingDiagnostics", ClientTime: ts("2024-03-05T10:05:39.871Z"),
				Payload: `{"DiagnosticChanged":"networkSendQuality","DiagnosticQuality":"Poor"}`, UFDName: "networkSendQuality", UFDValue: "Poor"}},
		{"UFD lower-case keys, object payload", `{` + env + `,"OperationName":"UserFacingDiagnostics","OperationPayload":{"diagnosticQuality":"Good","diagnosticChanged":"networkReconnect"}}`,
			model.Operation{Name: "UserFacingDiagnostics", ClientTime: ts("2024-03-05T10:05:41.209Z"),
				Payload: `{"diagnosticChanged":"networkReconnect","diagnosticQuality":"Good"}`, UFDName: "networkReconnect", UFDValue: "Good"}},
		{"UFD flag with name/value and codes", `{` + env + `,"OperationName":"UserFacingDiagnostics","OperationPayload":{"value":true,"name":"noNetwork","code":"410","subCode":3112}}`,
			model.Operation{Name: "UserFacingDiagnostics", ClientTime: ts("2024-03-05T10:05:41.209Z"),
				Payload: `{"code":"410","name":"noNetwork","subCode":3112,"value":true}`, UFDName: "noNetwork", UFDValue: "true", Code: ip(410), SubCode: ip(3112)}},
		{"UFD prefers DiagnosticChanged over name", `{` + env + `,"OperationName":"UserFacingDiagnostics","OperationPayload":{"name":"other","diagnostic":"third","DiagnosticChanged":"cameraFreeze","Value":"false"}}`,
			model.Operation{Name: "UserFacingDiagnostics", ClientTime: ts("2024-03-05T10:05:41.209Z"),
				Payload: `{"DiagnosticChanged":"cameraFreeze","Value":"false","diagnostic":"third","name":"other"}`, UFDName: "cameraFreeze", UFDValue: "false"}},
		{"result code of a failed join", `{` + env + `,"OperationName":"Join","ResultType":"Failed","ResultSignature":500.0,"OperationPayload":"{\"resultCode\":403,\"subcode\":\"41048\",\"FailureReason\":\"x\"}"}`,
			model.Operation{Name: "Join", ClientTime: ts("2024-03-05T10:05:41.209Z"), ResultType: "Failed", ResultSignature: ip(500),
				Payload: `{"FailureReason":"x","resultCode":403,"subcode":"41048"}`, Code: ip(403), SubCode: ip(41048)}},
		{"payload that is not JSON kept as written", `{` + env + `,"OperationName":"Hangup","OperationPayload":" {not json "}`,
			model.Operation{Name: "Hangup", ClientTime: ts("2024-03-05T10:05:41.209Z"), Payload: `{not json`}},
		{"escaped payload strings", `{` + env + `,"OperationName":"UserFacingDiagnostics","OperationPayload":{"DiagnosticChanged":"a\"b\u00e9","DiagnosticQuality":"Bad"}}`,
			model.Operation{Name: "UserFacingDiagnostics", ClientTime: ts("2024-03-05T10:05:41.209Z"),
				Payload: `{"DiagnosticChanged":"a\"bé","DiagnosticQuality":"Bad"}`, UFDName: `a"bé`, UFDValue: "Bad"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Normalize(mustItem(t, tc.rec))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := recordJSON(model.Record{Operation: r.Operation}), recordJSON(model.Record{Operation: &tc.want}); g != w {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
	// An operation logged before the call existed has no call id and is
	// still a good record.
	r, err := Normalize(mustItem(t, `{"TimeGenerated":"2024-03-05T10:05:41.209Z","Type":"ACSCallClientOperations","CallId":"","OperationName":"CallAgentInit","ClientInstanceId":"ci1"}`))
	if err != nil || r.CallID != "" || r.Operation == nil || r.Operation.ClientInstanceID != "ci1" {
		t.Errorf("pre-call operation: %v, %s", err, recordJSON(comparable(r)))
	}
}

func TestUnknownAndResourceLevel(t *testing.T) {
	// Unknown records are kept whatever their fields hold.
	r, err := Normalize(mustItem(t, `{"time":"soon","category":"Usage","resourceId":"SUBSCRIPTIONS/A","correlationId":"c1","jitterAvg":"high"}`))
	if err != nil {
		t.Fatalf("unknown record: %v", err)
	}
	if r.Known || r.RawCategory != "Usage" || r.Resource != "/subscriptions/a" || !r.Time.IsZero() || r.CallID != "" || !hexID.MatchString(r.ID) {
		t.Errorf("unknown record: %s", recordJSON(comparable(r)))
	}
	// Unknown records with unreadable times are still told apart.
	a, errA := Normalize(mustItem(t, `{"time":"soon","category":"Usage"}`))
	b, errB := Normalize(mustItem(t, `{"time":"later","category":"Usage"}`))
	if errA != nil || errB != nil || a.ID == b.ID {
		t.Errorf("unknown records differing in an unreadable time: %v %v, IDs %s %s", errA, errB, a.ID, b.ID)
	}
	for _, cat := range []string{"CallingMetrics", "CallClientServiceRequestAndOutcome"} {
		r, err := Normalize(mustItem(t, `{"TimeGenerated":"2025-02-03T05:17:39.184Z","Category":"`+cat+`","CorrelationId":"1f27dac9e6d64c82cafdd6da73cdb785","_ResourceId":"/subscriptions/a"}`))
		if err != nil {
			t.Fatal(err)
		}
		want := model.Record{Category: model.Category(cat), RawCategory: cat, Resource: "/subscriptions/a", Time: ts("2025-02-03T05:17:39.184Z"), Known: true}
		if g, w := recordJSON(comparable(r)), recordJSON(want); g != w {
			t.Errorf("%s: got %s, want %s", cat, g, w)
		}
	}
}

func TestServiceEvents(t *testing.T) {
	// Recording length and captions duration are seconds; DurationMs is ms.
	r, err := Normalize(mustItem(t, `{"TimeGenerated":"2023-11-14T23:18:26Z","Category":"CallClosedCaptionsSummary","CorrelationId":"c1","EndReason":"","CancelReason":"Error","Duration":2.5e1}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Event; e.Detail != "Error" || !eqf(e.DurationMs, 25000) {
		t.Errorf("captions: %s", recordJSON(comparable(r)))
	}
	r, err = Normalize(mustItem(t, `{"TimeGenerated":"2023-11-14T23:18:26Z","Category":"CallAutomationOperational","CorrelationId":"c1","ResultSignature":"400","ResultCode":"200"}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Event.Code == nil || *r.Event.Code != 400 {
		t.Errorf("automation: ResultSignature should win over ResultCode: %s", recordJSON(comparable(r)))
	}
}

func TestOriginalKey(t *testing.T) {
	raw := []byte(`{"properties": {"jitterAvg" : "x", "note":"jitteravg:"}, "Time Generated [UTC]":"a", "esc\"aped":1}`)
	for key, want := range map[string]string{"jitteravg": "jitterAvg", "time generated": "Time Generated", "missing": "missing"} {
		if got := originalKey(raw, key); got != want {
			t.Errorf("originalKey(%q) = %q, want %q", key, got, want)
		}
	}
}
