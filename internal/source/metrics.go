package source

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the status of sources as Prometheus metrics, labelled
// by source and kind.
type Collector struct {
	list func() []Snapshot
}

// NewCollector returns a collector of the sources list returns.
func NewCollector(list func() []Snapshot) *Collector { return &Collector{list: list} }

var (
	labels      = []string{"source", "kind"}
	descRecords = prometheus.NewDesc("calldiag_source_records_total", "Records read from the source.", labels, nil)
	descStored  = prometheus.NewDesc("calldiag_source_stored_total", "Records of the source newly stored.", labels, nil)
	descDups    = prometheus.NewDesc("calldiag_source_duplicates_total", "Records of the source already stored.", labels, nil)
	descReject  = prometheus.NewDesc("calldiag_source_rejected_total", "Records of the source rejected as bad.", labels, nil)
	descErrors  = prometheus.NewDesc("calldiag_source_errors_total", "Failures of the source itself (connection, permission, store).", labels, nil)
	descLagB    = prometheus.NewDesc("calldiag_source_lag_bytes", "Bytes delivered to the source and not read yet.", labels, nil)
	descLagM    = prometheus.NewDesc("calldiag_source_lag_messages", "Messages delivered to the source and not read yet.", labels, nil)
	descLagS    = prometheus.NewDesc("calldiag_source_lag_seconds", "Age of the oldest unread data of the source (0 when caught up).", labels, nil)
	descLast    = prometheus.NewDesc("calldiag_source_last_read_timestamp_seconds", "When records were last read from the source (Unix time).", labels, nil)
	descUp      = prometheus.NewDesc("calldiag_source_up", "1 while the source is followed without error, else 0.", labels, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecords, descStored, descDups, descReject, descErrors, descLagB, descLagM, descLagS, descLast, descUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.list() {
		l := []string{s.Name, s.Kind}
		counter := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
		}
		counter(descRecords, s.Records)
		counter(descStored, s.Stored)
		counter(descDups, s.Duplicates)
		counter(descReject, s.Rejected)
		counter(descErrors, s.Errors)
		gauge(descLagB, float64(s.LagBytes))
		gauge(descLagM, float64(s.LagMessages))
		gauge(descLagS, s.LagSeconds)
		last := 0.0
		if !s.LastRead.IsZero() {
			last = float64(s.LastRead.UnixNano()) / 1e9
		}
		gauge(descLast, last)
		up := 0.0
		if s.State == "following" {
			up = 1
		}
		gauge(descUp, up)
	}
}
