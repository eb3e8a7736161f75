package storetest

import (
	"fmt"
	"time"

	"calldiag/internal/model"
)

// Resources the test records come from.
const (
	resA = "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs-a"
	resB = "/subscriptions/00000000-0000-0000-0000-000000000002/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs-b"
)

// t0 is the origin of every test timeline.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// at returns t0 plus sec seconds.
func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func ptr[T any](v T) *T { return &v }

// rawOf makes the "original bytes" of a test record: JSON with the
// irregular spacing, escapes and non-ASCII text real exports contain, so a
// round trip that re-encodes instead of keeping the bytes is caught.
func rawOf(id string, cat model.Category, call string) []byte {
	return []byte(fmt.Sprintf(`{ "time":"%s",  "category" : %q,"correlationId":%q, "id":%q, "note":"caf\u00e9 — ünïcode\ttab"}`,
		t0.Format(time.RFC3339), cat, call, id))
}

func envelope(id string, cat model.Category, call string, t time.Time) model.Record {
	return model.Record{
		ID: id, Category: cat, RawCategory: string(cat), Resource: resA, CallID: call, Time: t, Known: true,
		Raw: rawOf(id, cat, call),
	}
}

// summary is a final CallSummary row of a group-call leg. The call started
// at callStart; the leg ran from start for dur seconds.
func summary(id, call, pid string, callStart, start time.Time, dur float64) model.Record {
	end := start.Add(time.Duration(dur * float64(time.Second)))
	r := envelope(id, model.CatCallSummary, call, end.Add(time.Minute))
	r.Participant = &model.ParticipantRow{
		ParticipantID:    pid,
		RawParticipantID: pid,
		EndpointID:       "ep-" + pid,
		Identifier:       "8:acs:user-" + pid,
		EndpointType:     model.EndpointVoIP,
		RawEndpointType:  "VoIP",
		ParticipantType:  "ACS",
		SDKVersion:       "1.30.1",
		OSVersion:        "Windows 10",
		CallStartTime:    callStart,
		CallDuration:     ptr(end.Sub(callStart).Seconds()),
		CallType:         model.CallTypeGroup,
		StartTime:        start,
		Duration:         ptr(dur),
		EndReason:        ptr(0),
		EndSubCode:       ptr(0),
		ResultCategory:   "Success",
	}
	return r
}

// update is a CallSummaryUpdates row with the given version.
func update(id, call, pid string, callStart, start time.Time, dur float64, version int) model.Record {
	r := summary(id, call, pid, callStart, start, dur)
	r.Category, r.RawCategory = model.CatCallSummaryUpdates, string(model.CatCallSummaryUpdates)
	r.Participant.Version = ptr(version)
	return r
}

// diag is a final CallDiagnostics row for one stream of pid.
func diag(id, call, pid string, etype model.EndpointType, media model.MediaType, dir model.Direction, acs string, t time.Time, jitter float64) model.Record {
	r := envelope(id, model.CatCallDiagnostics, call, t)
	row := &model.StreamRow{
		ParticipantID:      pid,
		RawParticipantID:   pid,
		EndpointType:       etype,
		RawEndpointType:    string(etype),
		MediaType:          media,
		RawMediaType:       string(media),
		ACSStreamID:        acs,
		Direction:          dir,
		TransportType:      "UDP",
		Codec:              "OPUS",
		JitterAvgMs:        ptr(jitter),
		JitterMaxMs:        ptr(jitter * 3),
		RoundTripTimeAvgMs: ptr(40.0),
	}
	if etype != model.EndpointServer {
		row.EndpointID = "ep-" + pid
		row.Identifier = "8:acs:user-" + pid
	}
	r.Stream = row
	return r
}

// op is a CallClientOperations row.
func op(id, call, pid, ci string, t time.Time, name string) model.Record {
	r := envelope(id, model.CatCallClientOperations, call, t.Add(2*time.Second))
	r.Operation = &model.Operation{
		Name: name, Type: "client-api-request", OperationID: "op-" + id, ParticipantID: pid,
		ClientInstanceID: ci, EndpointID: "ep-" + pid, ClientTime: t, DurationMs: ptr(12.0),
		ResultType: "Succeeded", ResultSignature: ptr(200), SDKVersion: "1.30.1",
		UserAgent: "azsdk-js-communication-calling/1.30.1 " + pid,
	}
	return r
}

// ufd is a UserFacingDiagnostics operation.
func ufd(id, call, pid, ci string, t time.Time, name, value string) model.Record {
	r := op(id, call, pid, ci, t, "UserFacingDiagnostics")
	r.Operation.UFDName, r.Operation.UFDValue = name, value
	return r
}

// sample is one media-stats bucket of an inbound audio stream from remote.
func sample(id, call, pid, ci, remote string, t time.Time, metric string, v float64) model.Record {
	r := envelope(id, model.CatCallClientMediaStatsTimeSeries, call, t.Add(5*time.Second))
	r.Sample = &model.Sample{
		ParticipantID: pid, ClientInstanceID: ci, RemoteParticipantID: remote,
		MediaType: model.MediaAudio, Direction: model.DirInbound, Codec: "OPUS", Metric: metric,
		ClientTime: t, Count: ptr(10.0), Sum: ptr(v * 10), Average: ptr(v), Minimum: ptr(v), Maximum: ptr(v),
		IntervalSeconds: ptr(10.0),
	}
	return r
}

// survey is a CallSurvey row with an overall score.
func survey(id, call, pid string, t time.Time, score float64) model.Record {
	r := envelope(id, model.CatCallSurvey, call, t)
	r.Survey = &model.Survey{
		SurveyID: "survey-" + id, ParticipantID: pid,
		Overall:       model.Rating{Score: ptr(score), LowerBound: ptr(1.0), UpperBound: ptr(5.0), Threshold: ptr(2.0)},
		OverallIssues: "CallEndedUnexpectedly",
	}
	return r
}

// service is a Call Recording operational row.
func service(id, call string, t time.Time, name string) model.Record {
	r := envelope(id, model.CatCallRecordingOperational, call, t)
	r.Event = &model.ServiceEvent{Name: name, Result: "Succeeded", Code: ptr(202), DurationMs: ptr(30.0)}
	return r
}

// unknown is a record of a category calldiag does not model.
func unknown(id, call string, t time.Time) model.Record {
	r := envelope(id, "", call, t)
	r.RawCategory, r.Known = "SomeFutureCategory", false
	return r
}
