package acs

import (
	"strconv"
	"strings"

	"calldiag/internal/model"
)

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
		e.DurationMs = r.millis(slotRecordingLength, &a.dur)
		e.StartTime = r.timeOf(slotRecordingStartTime)
		e.Detail = r.text(slotRecordingEndReason)
	case model.CatCallClosedCaptionsSummary:
		e.DurationMs = r.millis(slotDuration, &a.dur)
		e.StartTime = r.timeOf(slotStartTime)
		e.Detail = r.text(slotEndReason)
		if e.Detail == "" {
			e.Detail = r.text(slotCancelReason)
		}
	}
	return e
}

// millis reads a duration logged in seconds and returns it in
// milliseconds. The decimal text is scaled before it is parsed, so that
// 73872.94 s becomes exactly 73872940 ms rather than a float product a hair
// off it.
func (r *rec) millis(s slot, dst *float64) *float64 {
	if r.number(s, dst) == nil {
		return nil
	}
	v, _ := r.value(s)
	t := strings.TrimSpace(v.Str)
	if !strings.ContainsAny(t, "eE") {
		var buf [64]byte
		if f, err := strconv.ParseFloat(string(append(append(buf[:0], t...), 'e', '3')), 64); err == nil {
			*dst = f
			return dst
		}
	}
	*dst *= 1000
	return dst
}
