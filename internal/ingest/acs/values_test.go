package acs

import (
	"errors"
	"strings"
	"testing"

	"calldiag/internal/ingest"
	"calldiag/internal/model"
)

const (
	diagEnvelope    = `"time":"2024-03-05T10:16:02.5Z","category":"CallDiagnostics","correlationId":"c1","participantId":"p1","mediaType":"Audio"`
	summaryEnvelope = `"time":"2024-03-05T10:16:02.5Z","category":"CallSummary","correlationId":"c1","participantId":"p1"`
)

func TestBadValues(t *testing.T) {
	tests := []struct {
		name       string
		record     string
		wantField  string
		wantReason string // substring
	}{
		{"word for a number", `{` + diagEnvelope + `,"jitterAvg":"high"}`, "jitterAvg", `not a number: "high"`},
		{"object for a number", `{` + diagEnvelope + `,"roundTripTimeAvg":{"value":38}}`, "roundTripTimeAvg", "not a number: a JSON object"},
		{"array for a number", `{` + diagEnvelope + `,"properties":{"packetLossRateMax":[0.1]}}`, "packetLossRateMax", "not a number: a JSON array"},
		{"boolean for a number", `{` + diagEnvelope + `,"jitterMax":true}`, "jitterMax", "not a number: true"},
		{"NaN is not a number", `{` + diagEnvelope + `,"jitterAvg":"NaN"}`, "jitterAvg", `not a number: "NaN"`},
		{"N/A is not null", `{` + diagEnvelope + `,"jitterAvg":"N/A"}`, "jitterAvg", `not a number: "N/A"`},
		{"infinity", `{` + diagEnvelope + `,"jitterAvg":"Infinity"}`, "jitterAvg", "not a number"},
		{"hexadecimal", `{` + diagEnvelope + `,"jitterAvg":"0x10"}`, "jitterAvg", "not a number"},
		{"out of float range", `{` + diagEnvelope + `,"jitterAvg":1e400}`, "jitterAvg", "not a number"},
		{"fractional end reason", `{` + summaryEnvelope + `,"participantEndReason":"1.5"}`, "participantEndReason", `not an integer: "1.5"`},
		{"word for an end reason", `{` + summaryEnvelope + `,"participantEndReason":"abc"}`, "participantEndReason", `not a number: "abc"`},
		{"fractional subcode", `{` + summaryEnvelope + `,"ParticipantEndSubCode":560486.5}`, "ParticipantEndSubCode", "not an integer: 560486.5"},
		{"bad version", `{` + summaryEnvelope + `,"CallUpdatesVersion":"v2"}`, "CallUpdatesVersion", `not a number: "v2"`},
		{"bad boolean", `{` + summaryEnvelope + `,"TPE":"yes"}`, "TPE", `not a boolean: "yes"`},
		{"number for a boolean", `{` + summaryEnvelope + `,"TPE":1}`, "TPE", "not a boolean: 1"},
		{"bad time", `{` + summaryEnvelope + `,"callStartTime":"yesterday"}`, "callStartTime", `not a time: "yesterday"`},
		{"impossible date", `{` + summaryEnvelope + `,"callStartTime":"2024-02-30T10:00:00Z"}`, "callStartTime", "not a time"},
		{"object for a string", `{` + summaryEnvelope + `,"endpointId":{"id":"e1"}}`, "endpointId", "not a string: a JSON object"},
		{"object for a call id", `{"time":"2024-03-05T10:16:02.5Z","category":"CallSummary","correlationId":{"id":"c1"}}`, "correlationId", "not a string"},
		{"missing correlationId on a summary", `{"time":"2024-03-05T10:16:02.5Z","category":"CallSummary","participantId":"p1"}`, "correlationId", "missing call id"},
		{"null correlationId on diagnostics", `{"time":"2024-03-05T10:16:02.5Z","category":"CallDiagnostics","correlationId":"null"}`, "correlationId", "missing call id"},
		{"missing CallId on media stats", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Type":"ACSCallClientMediaStatsTimeSeries","MetricName":"JitterInMs"}`, "CallId", "missing call id"},
		{"empty CallId on a survey", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Category":"CallSurvey","CorrelationId":"p1","CallId":""}`, "CallId", "missing call id"},
		{"missing correlationId on recording", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Category":"CallRecordingSummary"}`, "correlationId", "missing call id"},
		{"missing time", `{"category":"CallSummary","correlationId":"c1"}`, "time", "missing record time"},
		{"bad envelope time", `{"time":"2024-13-01T00:00:00Z","category":"CallSummary","correlationId":"c1"}`, "time", `not a time: "2024-13-01T00:00:00Z"`},
		{"Log Analytics spelling kept", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Type":"ACSCallDiagnostics","CorrelationId":"c1","JitterAvg":"high"}`, "JitterAvg", "not a number"},
		{"decorated column", `{"TimeGenerated [UTC]":"2024-03-05T10:16:02.5Z","Category":"CallSummary","CorrelationId":"c1","CallStartTime [UTC]":"soon"}`, "CallStartTime", "not a time"},
		{"bad survey score", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Category":"CallSurvey","CallId":"c1","AudioRatingScore":"great"}`, "AudioRatingScore", "not a number"},
		{"bad operation duration", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Type":"ACSCallClientOperations","DurationMs":"fast"}`, "DurationMs", "not a number"},
		{"bad media-stats client time", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Type":"ACSCallClientMediaStatsTimeSeries","CallId":"c1","CallClientTimeStamp":"then"}`, "CallClientTimeStamp", "not a time"},
		{"bad automation code", `{"TimeGenerated":"2024-03-05T10:16:02.5Z","Category":"CallAutomationMediaSummary","CorrelationId":"c1","ResultCode":"OK"}`, "ResultCode", "not a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := mustItem(t, tc.record)
			it.Source, it.Line = "calls.jsonl", 42
			got, err := Normalize(it)
			var re *ingest.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("Normalize(%s) = %s, %v; want a *ingest.RecordError", tc.record, recordJSON(comparable(got)), err)
			}
			if re.Field != tc.wantField || !strings.Contains(re.Reason, tc.wantReason) {
				t.Errorf("error field %q reason %q; want field %q, reason containing %q", re.Field, re.Reason, tc.wantField, tc.wantReason)
			}
			if re.Source != "calls.jsonl" || re.Line != 42 {
				t.Errorf("error names %s:%d, want calls.jsonl:42", re.Source, re.Line)
			}
		})
	}
}

func TestAcceptedSpellings(t *testing.T) {
	tests := []struct {
		name  string
		field string // added to a diagnostics or summary record
		check func(r model.Record) bool
		want  string
	}{
		{"number as string", `"jitterAvg":"5"`, func(r model.Record) bool { return eqf(r.Stream.JitterAvgMs, 5) }, "jitter 5"},
		{"number", `"jitterAvg":5`, func(r model.Record) bool { return eqf(r.Stream.JitterAvgMs, 5) }, "jitter 5"},
		{"padded number", `"roundTripTimeAvg":" 82 "`, func(r model.Record) bool { return eqf(r.Stream.RoundTripTimeAvgMs, 82) }, "rtt 82"},
		{"exponent", `"packetLossRateAvg":"3.1E-05"`, func(r model.Record) bool { return eqf(r.Stream.PacketLossRateAvg, 0.000031) }, "loss 0.000031 (a fraction, not scaled)"},
		{"null string", `"jitterAvg":"null"`, func(r model.Record) bool { return r.Stream.JitterAvgMs == nil }, "no jitter"},
		{"NULL", `"jitterAvg":"NULL"`, func(r model.Record) bool { return r.Stream.JitterAvgMs == nil }, "no jitter"},
		{"empty", `"jitterAvg":""`, func(r model.Record) bool { return r.Stream.JitterAvgMs == nil }, "no jitter"},
		{"None", `"jitterAvg":"None"`, func(r model.Record) bool { return r.Stream.JitterAvgMs == nil }, "no jitter"},
		{"JSON null", `"jitterAvg":null`, func(r model.Record) bool { return r.Stream.JitterAvgMs == nil }, "no jitter"},
		{"True", `"TPE":"True"`, func(r model.Record) bool { return r.Stream.TPE != nil && *r.Stream.TPE }, "TPE true"},
		{"False", `"TPE":"False"`, func(r model.Record) bool { return r.Stream.TPE != nil && !*r.Stream.TPE }, "TPE false"},
		{"TRUE", `"TPE":"TRUE"`, func(r model.Record) bool { return r.Stream.TPE != nil && *r.Stream.TPE }, "TPE true"},
		{"false", `"TPE":false`, func(r model.Record) bool { return r.Stream.TPE != nil && !*r.Stream.TPE }, "TPE false"},
		{"string trimmed", `"codecName":"  OPUS "`, func(r model.Record) bool { return r.Stream.Codec == "OPUS" }, "codec OPUS"},
		{"number as a string field", `"streamId":1000`, func(r model.Record) bool { return r.Stream.ACSStreamID == "1000" }, "stream id 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Normalize(mustItem(t, `{`+diagEnvelope+`,`+tc.field+`}`))
			if err != nil {
				t.Fatalf("%s: %v", tc.field, err)
			}
			if !tc.check(r) {
				t.Errorf("%s: got %s, want %s", tc.field, recordJSON(comparable(r)), tc.want)
			}
		})
	}
	ints := []string{`"487"`, `487`, `487.0`, `"487.0"`, `" 487 "`, `4.87e2`}
	for _, v := range ints {
		r, err := Normalize(mustItem(t, `{`+summaryEnvelope+`,"participantEndReason":`+v+`}`))
		if err != nil {
			t.Fatalf("participantEndReason %s: %v", v, err)
		}
		if r.Participant.EndReason == nil || *r.Participant.EndReason != 487 {
			t.Errorf("participantEndReason %s: got %v, want 487", v, r.Participant.EndReason)
		}
	}
}

func eqf(p *float64, v float64) bool { return p != nil && *p == v }
