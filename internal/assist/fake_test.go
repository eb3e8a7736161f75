package assist_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// fakeCalls serves a few calls from memory.
type fakeCalls struct {
	calls  map[string]model.Call
	events map[string][]model.TimelineEvent // by call id
	// eventsErr, when set, fails Events.
	eventsErr error
}

func (f *fakeCalls) Overview(_ context.Context, id string) (model.Call, error) {
	c, ok := f.calls[id]
	if !ok {
		return model.Call{}, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	}
	return c, nil
}

func (f *fakeCalls) Events(_ context.Context, callID, pid string, from, to time.Time) ([]model.TimelineEvent, error) {
	if f.eventsErr != nil {
		return nil, f.eventsErr
	}
	if _, ok := f.calls[callID]; !ok {
		return nil, fmt.Errorf("call %s: %w", callID, store.ErrNotFound)
	}
	var out []model.TimelineEvent
	for _, ev := range f.events[callID] {
		if pid != "" && ev.ParticipantID != pid {
			continue
		}
		if !from.IsZero() && ev.Time.Before(from) || !to.IsZero() && !ev.Time.Before(to) {
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}

func (f *fakeCalls) Search(_ context.Context, q string, limit int) ([]model.CallSummary, error) {
	var out []model.CallSummary
	for _, c := range f.calls {
		match := strings.EqualFold(c.ID, q)
		for _, p := range c.Participants {
			match = match || strings.EqualFold(p.ID, q) || strings.EqualFold(p.EndpointID, q) ||
				len(q) >= 8 && strings.HasPrefix(strings.ToLower(p.ID), strings.ToLower(q))
		}
		if match {
			out = append(out, model.CallSummary{ID: c.ID, StartTime: c.StartTime})
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

var errBroken = errors.New("disk on fire")

func ptr[T any](v T) *T { return &v }

// Ids of the fake call.
const (
	fakeCallID = "5f0c2d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
	dropperID  = "a1b2c3d4-0000-4000-8000-000000000001" // drops after a reconnect
	silentID   = "b2c3d4e5-0000-4000-8000-000000000002" // sent no media stats
	dropID     = "0d1e2f3a4b5c6d7e8f90"
	reconnID   = "1a2b3c4d5e6f7a8b9c0d"
	ufdRecord  = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	legRecord  = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

// fakeCall is a group call in which one participant reconnects and then
// drops with 410/301005, and another sent no media stats.
func fakeCall() model.Call {
	start := time.Date(2026, 9, 14, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	return model.Call{
		ID: fakeCallID, StartTime: start, EndTime: at(600), DurationSeconds: 600, CallType: model.CallTypeGroup,
		Quality: "Good", Rating: "Unknown",
		Participants: []model.Participant{
			{ID: dropperID, EndpointType: model.EndpointVoIP, StartTime: ptr(start), DurationSeconds: ptr(300.0),
				EndReason: ptr(410), EndSubCode: ptr(301005), Source: "summary",
				Streams: []model.Stream{{StreamID: "audio-outbound", ParticipantID: dropperID, MediaType: model.MediaAudio,
					Direction: model.DirOutbound, JitterAvgMs: ptr(12.0), PacketLossRateAvg: ptr(0.01), MOS: ptr(4.1), RecordID: legRecord}}},
			{ID: silentID, EndpointType: model.EndpointVoIP, StartTime: ptr(start), DurationSeconds: ptr(600.0),
				EndReason: ptr(0), EndSubCode: ptr(0), Source: "summary"},
		},
		Completeness: &model.Completeness{Diagnostics: true, MediaStats: true, Participants: []model.ParticipantCompleteness{
			{ParticipantID: dropperID, Summary: true, Diagnostics: true, MediaStats: true, ClientOperations: true},
			{ParticipantID: silentID, Summary: true, Diagnostics: true, MediaStats: false, ClientOperations: true},
		}},
		Issues: []model.Issue{
			{ID: dropID, Kind: "dropped-ungracefully", Category: model.CategoryReliability, Severity: model.SeverityCritical,
				ParticipantID: dropperID, Start: at(300), End: at(310),
				Summary: "the participant dropped out of the call without hanging up (end code 410/301005)",
				Culprit: model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{dropperID}, Summary: "the end code points at this participant's client or network"},
				Rule:    "reliability.ungraceful_end", Related: []string{reconnID},
				Recommendation: model.Recommendation{Text: "See the end code's explanation and the network events before it.",
					KB: []string{"kind-dropped-ungracefully", "code-410-301005"}}},
			{ID: reconnID, Kind: "network-reconnect", Category: model.CategoryNetwork, Severity: model.SeverityWarning,
				ParticipantID: dropperID, Start: at(280), End: at(310),
				Summary: "the client lost its connection and reconnected: the client reported networkReconnect = Bad",
				Culprit: model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{dropperID}, Summary: "this participant's network connection"},
				Evidence: []model.Evidence{{Metric: "networkReconnect", Text: "Bad", Op: "!=", Source: "CallClientOperations (UserFacingDiagnostics)",
					RecordIDs: []string{ufdRecord}}},
				Rule: "ufd.network-reconnect", Related: []string{dropID}},
			{ID: "2b3c4d5e6f7a8b9c0d1e", Kind: "missing-telemetry", Category: model.CategoryData, Severity: model.SeverityInfo,
				ParticipantID: silentID, Start: start, End: at(600),
				Summary: "this participant sent no media stats while others did, so its quality over time is unknown"},
		},
	}
}

func fakeEvents() []model.TimelineEvent {
	start := time.Date(2026, 9, 14, 10, 0, 0, 0, time.UTC)
	return []model.TimelineEvent{
		{ID: "e1", Time: start.Add(280 * time.Second), ParticipantID: dropperID, Kind: model.KindUFD, Name: "networkReconnect", Detail: "Bad", RecordID: ufdRecord},
		{ID: "e2", Time: start.Add(295 * time.Second), ParticipantID: dropperID, Kind: model.KindUFD, Name: "networkReceiveQuality", Detail: "Poor", RecordID: "77aa"},
		{ID: "e3", Time: start.Add(300 * time.Second), ParticipantID: dropperID, Kind: model.KindLeave, Name: "leave", RecordID: legRecord},
	}
}

func newFakeCalls() *fakeCalls {
	return &fakeCalls{calls: map[string]model.Call{fakeCallID: fakeCall()}, events: map[string][]model.TimelineEvent{fakeCallID: fakeEvents()}}
}
