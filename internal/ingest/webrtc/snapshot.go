package webrtc

import (
	"maps"
	"time"
)

// snapshotBuilder keeps the current state of a peer connection's reports
// and turns it into complete Snapshots. Both formats feed it field by field:
// rtcstats with each record's delta, webrtc-internals with each poll's
// samples. A report whose fields do not change keeps sharing its maps with
// the previous snapshot, which is what keeps long dumps affordable: most
// reports (codecs, certificates, candidates) never change.
type snapshotBuilder struct {
	cur   map[string]*reportState
	round int // counts commits; 1 during the first round
}

// reportState is one report as it stands, with the bookkeeping that lets a
// round change its maps in place once they are its own.
type reportState struct {
	Report
	numOwned int // the round in which Num was copied, so may be written
	strOwned int // the same for Str
	touched  int // the last round that mentioned the report
}

func newSnapshotBuilder() *snapshotBuilder {
	return &snapshotBuilder{cur: make(map[string]*reportState), round: 1}
}

// reset forgets every report: the next round starts from nothing, as a
// full (not delta-compressed) snapshot does.
func (b *snapshotBuilder) reset() {
	clear(b.cur)
}

// report returns the state of a report, creating it (with time t) if it is
// new, and marks it as mentioned in this round.
func (b *snapshotBuilder) report(id string, t time.Time) (s *reportState, isNew bool) {
	s, ok := b.cur[id]
	if !ok {
		s = &reportState{Report: Report{Time: t}}
		b.cur[id] = s
		isNew = true
	}
	s.touched = b.round
	return s, isNew
}

func (b *snapshotBuilder) ownNum(s *reportState) {
	if s.numOwned != b.round {
		m := make(map[string]float64, len(s.Num)+1)
		maps.Copy(m, s.Num)
		s.Num = m
		s.numOwned = b.round
	}
}

func (b *snapshotBuilder) ownStr(s *reportState) {
	if s.strOwned != b.round {
		m := make(map[string]string, len(s.Str)+1)
		maps.Copy(m, s.Str)
		s.Str = m
		s.strOwned = b.round
	}
}

func (b *snapshotBuilder) setNum(s *reportState, field string, v float64) {
	if old, ok := s.Num[field]; ok && old == v {
		return
	}
	b.ownNum(s)
	s.Num[field] = v
	if _, ok := s.Str[field]; ok {
		b.ownStr(s)
		delete(s.Str, field)
	}
}

func (b *snapshotBuilder) setStr(s *reportState, field, v string) {
	if old, ok := s.Str[field]; ok && old == v {
		return
	}
	b.ownStr(s)
	s.Str[field] = v
	if _, ok := s.Num[field]; ok {
		b.ownNum(s)
		delete(s.Num, field)
	}
}

func (b *snapshotBuilder) del(s *reportState, field string) {
	if _, ok := s.Num[field]; ok {
		b.ownNum(s)
		delete(s.Num, field)
	}
	if _, ok := s.Str[field]; ok {
		b.ownStr(s)
		delete(s.Str, field)
	}
}

// commit ends the round and returns the snapshot. With dropUnmentioned,
// reports the round did not mention are gone (webrtc-internals: their
// series ended); without it they stand unchanged (rtcstats deltas).
func (b *snapshotBuilder) commit(t time.Time, dropUnmentioned bool) Snapshot {
	snap := Snapshot{Time: t, Reports: make(map[string]Report, len(b.cur))}
	for id, s := range b.cur {
		if dropUnmentioned && s.touched != b.round {
			delete(b.cur, id)
			continue
		}
		snap.Reports[id] = s.Report
	}
	b.round++
	return snap
}
