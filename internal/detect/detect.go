// Package detect finds the media-quality and reliability issues of one
// call: it reads the call's overview, timeline events and media-stats
// series, applies the thresholds in Rules, and returns issues with their
// evidence, likely culprit and a recommendation citing knowledge-base ids
// (code-{code}-{subcode}, ufd-{name}, kind-{kind}, guide-{slug}). It also
// gives the call's quality verdict, a MOS estimate per audio stream, the
// survey rating and a summary of which telemetry the call has.
//
// Detection is a pure function of its input and rules: it reads no store
// and knows no input format. It may import only the standard library,
// model and catalog.
package detect

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"calldiag/internal/model"
)

// Input is everything detection reads about one call: the overview and
// the whole timeline (all pages), with events in time order as the
// timeline gives them.
type Input struct {
	Call   model.Call
	Events []model.TimelineEvent
	Series []model.Series
}

// Quality verdicts of a call.
const (
	QualityGood    = "Good"
	QualityPoor    = "Poor"
	QualityUnknown = "Unknown"
)

// Rating buckets of a call's surveys.
const (
	RatingGood    = "Good"
	RatingAverage = "Average"
	RatingPoor    = "Poor"
	RatingUnknown = "Unknown"
)

// Result is the outcome of detection on one call.
type Result struct {
	// Issues, most severe first, then by start, then by id.
	Issues []model.Issue
	// Quality is Good, Poor or Unknown by the ACS Call Diagnostics rule:
	// Poor when any stream breaks a per-stream rule, Unknown when the
	// call has no diagnostics rows.
	Quality string
	// MOS estimates per audio stream, keyed participantId+"/"+streamId.
	MOS map[string]float64
	// Rating is the survey bucket; RatingScore the average overall score
	// on a 5-point scale (nil without surveys).
	Rating      string
	RatingScore *float64
	// Completeness says what telemetry the call has.
	Completeness Completeness
}

// Completeness summarizes which telemetry a call and each participant has
// (see model.Completeness).
type Completeness = model.Completeness

// ParticipantCompleteness is the telemetry one participant leg has.
type ParticipantCompleteness = model.ParticipantCompleteness

// run carries the state of one detection.
type run struct {
	in     Input
	rules  Rules
	issues []model.Issue
	// legs maps participant id to its participant.
	legs map[string]*model.Participant
	// aggs names the stream behind each issue raised from whole-call
	// aggregates, by issue id.
	aggs map[string]streamRef
	// mutedPIDs and connUFDs index the events, built on first use.
	mutedPIDs map[string]bool
	connUFDs  map[string][]*model.TimelineEvent
	// quality holds the network-quality UFD intervals, built on first use.
	quality map[string]map[string][]span
	// pcs are the WebRTC peer connections with their events, built on
	// first use; pcCount counts, per participant, the connections that
	// tried to reach a far end, and unseen the least number of others
	// they reached that sent no telemetry.
	pcs             []*peerConn
	pcsBuilt        bool
	pcCount, unseen map[string]int
}

// Run detects the issues of one call. In order: the per-stream rules on
// the latest diagnostics aggregates (and the quality verdict and MOS), the
// media-stats series with cross-participant attribution (which supersede
// the aggregates they cover), the attribution of the remaining aggregate
// issues by the clients' network diagnostics, the reliability rules on legs and client
// operations, the UFD intervals (into whose outages receivers' video
// freezes fold), the survey rating and the telemetry
// summary; then switched-off kinds are dropped, related issues are linked
// and the issues are sorted. Run never fails: what it cannot judge it
// reports as missing telemetry.
func Run(in Input, rules Rules) Result {
	d := &run{in: in, rules: rules, legs: map[string]*model.Participant{}, aggs: map[string]streamRef{}}
	for i := range in.Call.Participants {
		p := &in.Call.Participants[i]
		d.legs[p.ID] = p
	}
	res := Result{MOS: map[string]float64{}}
	res.Quality = d.streams(res.MOS)
	d.series()
	d.aggregates()
	d.reliability()
	d.webrtc()
	d.ufds()
	d.outageFreezes()
	d.foldOperations()
	res.Rating, res.RatingScore = d.surveys()
	res.Completeness = d.completeness()
	d.browserSources()
	out := d.issues[:0]
	for _, is := range d.issues {
		if rules.enabled(is.Kind) {
			out = append(out, is)
		}
	}
	d.issues = out
	d.uniqueIDs()
	d.relate()
	slices.SortFunc(out, func(a, b model.Issue) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	res.Issues = out
	return res
}

// uniqueIDs keeps ids unique when two issues share call, kind,
// participant, stream and start (two UFDs of one kind raised at once):
// later ones get a numbered id, in the deterministic order detection
// produced them.
func (d *run) uniqueIDs() {
	seen := map[string]int{}
	for i := range d.issues {
		id := d.issues[i].ID
		if n := seen[id]; n > 0 {
			d.issues[i].ID = fmt.Sprintf("%s-%d", id, n+1)
		}
		seen[id]++
	}
}

// issueID is deterministic: the same call, kind, participant, stream and
// start always give the same id.
func issueID(callID, kind, participant, stream string, start time.Time) string {
	h := sha256.New()
	for _, s := range []string{callID, kind, participant, stream, start.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:10])
}

// add completes an issue from its kind's shared facts and keeps it.
func (d *run) add(is model.Issue, kb ...string) *model.Issue {
	ki := info(is.Kind)
	if is.Category == "" {
		is.Category = ki.category
	}
	if is.Severity == "" {
		is.Severity = ki.severity
	}
	if is.End.Before(is.Start) {
		is.End = is.Start
	}
	if p := d.legs[is.ParticipantID]; p != nil && is.EndpointID == "" {
		is.EndpointID = p.EndpointID
	}
	if is.Culprit.Type == "" {
		is.Culprit.Type = model.CulpritUnknown
	}
	if is.Culprit.ParticipantIDs == nil {
		is.Culprit.ParticipantIDs = []string{}
	}
	if is.Rule == "" {
		is.Rule = is.Kind
	}
	if is.Recommendation.Text == "" {
		is.Recommendation.Text = ki.advice
	}
	is.Recommendation.KB = []string{"kind-" + is.Kind}
	for _, id := range append(kb, guide(is.Kind)) {
		if id != "" && !slices.Contains(is.Recommendation.KB, id) {
			is.Recommendation.KB = append(is.Recommendation.KB, id)
		}
	}
	if is.Evidence == nil {
		is.Evidence = []model.Evidence{}
	}
	for i := range is.Evidence {
		if is.Evidence[i].RecordIDs == nil {
			is.Evidence[i].RecordIDs = []string{}
		}
	}
	pad := seconds(d.rules.PadSeconds)
	is.TimelineFilter = model.TimelineFilter{Participant: is.ParticipantID,
		From: is.Start.Add(-pad), To: is.End.Add(pad), Kind: ki.events}
	is.Related = []string{}
	is.ID = issueID(d.in.Call.ID, is.Kind, is.ParticipantID, is.StreamID, is.Start)
	d.issues = append(d.issues, is)
	return &d.issues[len(d.issues)-1]
}

// legSpan is the interval a participant was in the call, falling back to
// the call's own interval.
func (d *run) legSpan(pid string) (time.Time, time.Time) {
	start, end := d.in.Call.StartTime, d.in.Call.EndTime
	if p := d.legs[pid]; p != nil && p.StartTime != nil {
		start = *p.StartTime
		if p.DurationSeconds != nil {
			end = start.Add(seconds(*p.DurationSeconds))
		} else if end.Before(start) {
			end = start
		}
	}
	return start, end
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func ptr[T any](v T) *T { return &v }
