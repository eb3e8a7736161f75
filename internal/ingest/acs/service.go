package acs

import "calldiag/internal/model"

// eventAlloc holds a ServiceEvent and the storage its optional values
// point into.
type eventAlloc struct {
	e    model.ServiceEvent
	code int
	sub  int
	dur  float64
}

// serviceEvent maps the call-scoped service records shown on a call's
// timeline: Call Automation requests, media outcomes and streaming
// sessions, Call Recording requests and summaries, and closed-captions
// sessions. Detail carries the one piece of text that says most about the
// record in each category.
func (r *rec) serviceEvent(cat model.Category) *model.ServiceEvent {
	a := new(eventAlloc)
	e := &a.e
	e.Name = r.text(slotOperationName)
	e.ParticipantID = r.text(slotParticipantID)
	e.Result = r.text(slotResultType)
	if r.has(slotResultSignature) {
		e.Code = r.integer(slotResultSignature, &a.code)
	} else {
		e.Code = r.integer(slotResultCode, &a.code)
	}
	e.SubCode = r.integer(slotResultSubcode, &a.sub)
	switch cat {
	case model.CatCallAutomationOperational, model.CatCallRecordingOperational:
		e.DurationMs = r.number(slotDurationMs, &a.dur)
		e.Detail = r.text(slotSubOperationName)
	case model.CatCallAutomationMediaSummary:
		e.Detail = r.text(slotResultMessage)
	case model.CatCallAutomationStreamingUsage:
		e.DurationMs = r.number(slotStreamingDuration, &a.dur)
		e.StartTime = r.timeOf(slotStreamingStartTime)
		e.Detail = r.text(slotStreamingModality)
	case model.CatCallRecordingSummary:
		// RecordingLength is in seconds.
		if r.number(slotRecordingLength, &a.dur) != nil {
			a.dur *= 1000
			e.DurationMs = &a.dur
		}
		e.StartTime = r.timeOf(slotRecordingStartTime)
		e.Detail = r.text(slotRecordingEndReason)
	case model.CatCallClosedCaptionsSummary:
		// Duration is in seconds.
		if r.number(slotDuration, &a.dur) != nil {
			a.dur *= 1000
			e.DurationMs = &a.dur
		}
		e.StartTime = r.timeOf(slotStartTime)
		e.Detail = r.text(slotEndReason)
		if e.Detail == "" {
			e.Detail = r.text(slotCancelReason)
		}
	}
	return e
}
