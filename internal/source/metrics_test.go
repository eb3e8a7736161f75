package source

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	a := NewStatus("dir:///logs", "dir")
	a.update(func(s *Snapshot) {
		s.State, s.Records, s.Stored, s.Rejected, s.LagBytes = "following", 12, 10, 2, 300
		s.LastRead = time.Unix(1700000000, 0)
	})
	b := NewStatus("dir:///other", "dir")
	b.fail(errTest("permission denied"), time.Unix(1700000001, 0))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(func() []Snapshot { return []Snapshot{a.Snapshot(), b.Snapshot()} }))
	want := `
# HELP calldiag_source_records_total Records read from the source.
# TYPE calldiag_source_records_total counter
calldiag_source_records_total{kind="dir",source="dir:///logs"} 12
calldiag_source_records_total{kind="dir",source="dir:///other"} 0
# HELP calldiag_source_rejected_total Records of the source rejected as bad.
# TYPE calldiag_source_rejected_total counter
calldiag_source_rejected_total{kind="dir",source="dir:///logs"} 2
calldiag_source_rejected_total{kind="dir",source="dir:///other"} 0
# HELP calldiag_source_up 1 while the source is followed without error, else 0.
# TYPE calldiag_source_up gauge
calldiag_source_up{kind="dir",source="dir:///logs"} 1
calldiag_source_up{kind="dir",source="dir:///other"} 0
# HELP calldiag_source_errors_total Failures of the source itself (connection, permission, store).
# TYPE calldiag_source_errors_total counter
calldiag_source_errors_total{kind="dir",source="dir:///logs"} 0
calldiag_source_errors_total{kind="dir",source="dir:///other"} 1
# HELP calldiag_source_lag_bytes Bytes delivered to the source and not read yet.
# TYPE calldiag_source_lag_bytes gauge
calldiag_source_lag_bytes{kind="dir",source="dir:///logs"} 300
calldiag_source_lag_bytes{kind="dir",source="dir:///other"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "calldiag_source_records_total",
		"calldiag_source_rejected_total", "calldiag_source_up", "calldiag_source_errors_total", "calldiag_source_lag_bytes"); err != nil {
		t.Error(err)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
