// Package source follows the places Azure delivers diagnostic logs to — a
// folder laid out as a Storage account archives them, a Storage account
// itself, an Event Hub or any Kafka topic — and ingests what arrives, with
// a checkpoint per stream kept in the store.
package source

import (
	"log/slog"
	"sync"
	"time"

	"calldiag/internal/pipeline"
)

// Status is what a source has done so far; it is safe for concurrent use.
type Status struct {
	mu sync.Mutex
	s  Snapshot
}

// Snapshot is a Status at one moment.
type Snapshot struct {
	// Name is the source's URL as given, secrets left out.
	Name string `json:"name"`
	// Kind is "dir", "blob", "eventhub" or "kafka".
	Kind string `json:"kind"`
	// State is "starting", "following", "retrying" or "stopped".
	State string `json:"state"`
	// LastError is the last failure (empty once the source recovers);
	// LastErrorAt is when it happened.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	// Errors counts failures of the source itself (not of its records).
	Errors int64 `json:"errors"`
	// Records counts the records read; Stored, Duplicates and Rejected
	// split them as ingest does.
	Records    int64 `json:"records"`
	Stored     int64 `json:"stored"`
	Duplicates int64 `json:"duplicates"`
	Rejected   int64 `json:"rejected"`
	// LagBytes and LagMessages are what has arrived and is not read yet;
	// LagSeconds is the age of the oldest of it (0 when caught up).
	LagBytes    int64   `json:"lagBytes"`
	LagMessages int64   `json:"lagMessages"`
	LagSeconds  float64 `json:"lagSeconds"`
	// LastRead is when records were last read; Streams is the number of
	// files, blobs or partitions followed.
	LastRead time.Time `json:"lastRead,omitzero"`
	Streams  int       `json:"streams"`
}

// NewStatus returns the status of a source that has not started yet.
func NewStatus(name, kind string) *Status {
	return &Status{s: Snapshot{Name: name, Kind: kind, State: "starting"}}
}

// Snapshot returns a copy of the status.
func (st *Status) Snapshot() Snapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s
}

// update changes the status under its lock.
func (st *Status) update(fn func(*Snapshot)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fn(&st.s)
}

// fail records a failure of the source.
func (st *Status) fail(err error, now time.Time) {
	st.update(func(s *Snapshot) {
		s.State, s.LastError, s.LastErrorAt = "retrying", err.Error(), now
		s.Errors++
	})
}

// ingested counts what one ingest of the source read, at now.
func (st *Status) ingested(res pipeline.Result, now time.Time) {
	st.update(func(s *Snapshot) {
		s.Records += int64(res.Read)
		s.Stored += int64(res.Stored)
		s.Duplicates += int64(res.Duplicates)
		s.Rejected += int64(res.Rejected)
		if res.Read > 0 {
			s.LastRead = now
		}
	})
}

// common fills in the defaults every source shares: no logging, the
// system clock and a new status of the given kind.
func common(logger **slog.Logger, now *func() time.Time, status **Status, name, kind string) {
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
	if *now == nil {
		*now = time.Now
	}
	if *status == nil {
		*status = NewStatus(name, kind)
	}
}
