package acs

import "calldiag/internal/model"

// streamAlloc holds a StreamRow and the storage its optional values point
// into, so one record costs one allocation.
type streamAlloc struct {
	row     model.StreamRow
	f       [16]float64
	tpe     bool
	version int
}

// streamRow maps a CallDiagnostics or CallDiagnosticsUpdates row: one media
// stream of one endpoint with its whole-stream aggregates.
//
// In a group call the rows with endpointType Server describe the stream
// the server sends to a client; they carry that client leg's participantId
// and no endpointId or identifier, so the participant key is the client's
// and the stream is its inbound stream. Client rows describe the client's
// outbound streams. A row whose participantId equals its correlationId is
// kept as it is (see participantRow).
func (r *rec) streamRow(updates bool) *model.StreamRow {
	a := new(streamAlloc)
	p := &a.row
	p.RawParticipantID = r.text(slotParticipantID)
	p.EndpointID = r.text(slotEndpointID)
	p.Identifier = r.text(slotIdentifier)
	p.RawEndpointType = r.text(slotEndpointType)
	p.EndpointType = endpointType(p.RawEndpointType)
	p.ParticipantID = model.ParticipantKey(p.RawParticipantID, p.EndpointID, p.EndpointType, p.Identifier)
	p.RawMediaType = r.text(slotMediaType)
	p.MediaType = mediaType(p.RawMediaType)
	p.ACSStreamID = r.text(slotStreamID)
	p.Direction = streamDirection(r.text(slotStreamDirection))
	if p.Direction == "" {
		if p.EndpointType == model.EndpointServer {
			p.Direction = model.DirInbound
		} else {
			p.Direction = model.DirOutbound
		}
	}
	p.TransportType = r.text(slotTransportType)
	p.Codec = r.text(slotCodecName)

	p.RoundTripTimeAvgMs = r.number(slotRTTAvg, &a.f[0])
	p.RoundTripTimeMaxMs = r.number(slotRTTMax, &a.f[1])
	p.JitterAvgMs = r.number(slotJitterAvg, &a.f[2])
	p.JitterMaxMs = r.number(slotJitterMax, &a.f[3])
	// ACS logs loss as a fraction already (0.1 is 10 %).
	p.PacketLossRateAvg = r.number(slotLossAvg, &a.f[4])
	p.PacketLossRateMax = r.number(slotLossMax, &a.f[5])
	p.JitterBufferAvgMs = r.number(slotJitterBufferAvg, &a.f[6])
	p.JitterBufferMaxMs = r.number(slotJitterBufferMax, &a.f[7])
	p.HealedDataRatioAvg = r.number(slotHealedAvg, &a.f[8])
	p.HealedDataRatioMax = r.number(slotHealedMax, &a.f[9])
	p.VideoFrameRateAvg = r.number(slotFrameRateAvg, &a.f[10])
	p.RecvResolutionHeight = r.number(slotRecvHeight, &a.f[11])
	p.RecvFreezeMsPerMin = r.number(slotRecvFreeze, &a.f[12])
	p.PacketUtilization = r.number(slotPacketUtilization, &a.f[13])
	p.VideoBitRateAvg = r.number(slotVideoBitRateAvg, &a.f[14])
	p.VideoBitRateMax = r.number(slotVideoBitRateMax, &a.f[15])
	p.TPE = r.boolean(slotTPE, &a.tpe)
	if updates {
		p.Version = r.integer(slotUpdatesVersion, &a.version)
	}
	return p
}
