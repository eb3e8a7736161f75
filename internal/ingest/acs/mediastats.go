package acs

import (
	"time"

	"calldiag/internal/model"
)

// sampleAlloc holds a Sample and the storage its optional values point
// into.
type sampleAlloc struct {
	s model.Sample
	f [6]float64
}

// sample maps a CallClientMediaStatsTimeSeries row: one metric of one
// stream aggregated over a bucket. recTime stands in for a missing
// CallClientTimeStamp.
func (r *rec) sample(recTime time.Time) *model.Sample {
	a := new(sampleAlloc)
	s := &a.s
	s.ParticipantID = r.text(slotParticipantID)
	s.ClientInstanceID = r.text(slotClientInstanceID)
	s.EndpointID = r.text(slotEndpointID)
	s.RemoteParticipantID = r.text(slotRemoteParticipantID)
	s.RemoteEndpointID = r.text(slotRemoteEndpointID)
	s.MediaStreamID = r.text(slotMediaStreamID)
	s.MediaType = mediaType(r.text(slotStreamTypeStats))
	s.Direction = streamDirection(r.text(slotStreamDirectionStats))
	s.Codec = r.text(slotStreamCodec)
	s.Metric = r.text(slotMetricName)
	if t, ok := r.timeAt(slotClientTime); ok {
		s.ClientTime = t
	} else {
		s.ClientTime = recTime
	}
	s.Count = r.number(slotCount, &a.f[0])
	s.Sum = r.number(slotSum, &a.f[1])
	s.Average = r.number(slotAverage, &a.f[2])
	s.Minimum = r.number(slotMinimum, &a.f[3])
	s.Maximum = r.number(slotMaximum, &a.f[4])
	s.IntervalSeconds = r.number(slotIntervalSeconds, &a.f[5])
	return s
}
