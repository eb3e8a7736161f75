package acs

import "calldiag/internal/model"

// participantAlloc holds a ParticipantRow and the storage its optional
// values point into, so one record costs one allocation.
type participantAlloc struct {
	row     model.ParticipantRow
	f       [2]float64
	i       [3]int
	tpe     bool
	version int
}

// participantRow maps a CallSummary or CallSummaryUpdates row: one
// participant leg (one endpoint in a P2P call).
//
// A row whose participantId equals its correlationId is kept as it is;
// Microsoft's own queries drop such rows, but they are real records and
// dropping them is a presentation decision for later stages.
func (r *rec) participantRow(updates bool) *model.ParticipantRow {
	a := new(participantAlloc)
	p := &a.row
	p.RawParticipantID = r.text(slotParticipantID)
	p.EndpointID = r.text(slotEndpointID)
	p.Identifier = r.text(slotIdentifier)
	p.RawEndpointType = r.text(slotEndpointType)
	p.EndpointType = endpointType(p.RawEndpointType)
	p.ParticipantID = model.ParticipantKey(p.RawParticipantID, p.EndpointID, p.EndpointType, p.Identifier)
	p.ParticipantType = r.text(slotParticipantType)
	p.SDKVersion = r.text(slotSDKVersion)
	p.OSVersion = r.text(slotOSVersion)
	p.CallStartTime = r.timeOf(slotCallStartTime)
	p.CallDuration = r.number(slotCallDuration, &a.f[0])
	p.CallType = callType(r.text(slotCallType))
	p.TeamsThreadID = r.text(slotTeamsThreadID)
	p.StartTime = r.timeOf(slotParticipantStartTime)
	if p.StartTime.IsZero() {
		p.StartTime = p.CallStartTime
	}
	p.Duration = r.number(slotParticipantDuration, &a.f[1])
	p.EndReason = r.integer(slotParticipantEndReason, &a.i[0])
	p.EndSubCode = r.integer(slotParticipantEndSubCode, &a.i[1])
	p.ResultCategory = r.text(slotResultCategory)
	p.TenantID = r.text(slotParticipantTenantID)
	p.PSTNCallType = r.text(slotPSTNCallType)
	p.DiagnosticOptions = r.jsonText(slotDiagnosticOptions, false)
	p.CallDebuggingInfo = r.jsonText(slotCallDebuggingInfo, false)
	p.TPE = r.boolean(slotTPE, &a.tpe)
	if updates {
		p.Version = r.integer(slotUpdatesVersion, &a.version)
	}
	return p
}
