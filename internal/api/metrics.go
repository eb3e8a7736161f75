package api

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"calldiag/internal/pipeline"
)

type metrics struct {
	ingested  prometheus.Counter
	rejected  prometheus.Counter
	dupes     prometheus.Counter
	latency   prometheus.Histogram
	throttles prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, queue chan struct{}) *metrics {
	m := &metrics{
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calldiag_records_ingested_total", Help: "Records stored by HTTP ingest."}),
		dupes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calldiag_records_duplicate_total", Help: "Records skipped by HTTP ingest because they were already stored."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calldiag_records_rejected_total", Help: "Records rejected by HTTP ingest."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "calldiag_ingest_duration_seconds", Help: "Time from receiving an upload to its records being committed.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		throttles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "calldiag_ingest_throttled_total", Help: "Uploads answered 429 because the ingest queue was full."}),
	}
	if reg != nil {
		reg.MustRegister(m.ingested, m.dupes, m.rejected, m.latency, m.throttles,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "calldiag_ingest_queue_depth", Help: "Uploads being ingested now."},
				func() float64 { return float64(len(queue)) }))
	}
	return m
}

func (m *metrics) observe(res pipeline.Result, d time.Duration) {
	m.ingested.Add(float64(res.Stored))
	m.dupes.Add(float64(res.Duplicates))
	m.rejected.Add(float64(res.Rejected))
	m.latency.Observe(d.Seconds())
}

func (m *metrics) throttled() { m.throttles.Inc() }
