// Package callfold derives what a store shows of one call — its search
// summary, participants with their streams, surveys, timeline events, search
// keys and facet values — from the call's records alone. It is pure: a
// backend that keeps records as an append-only log (ClickHouse) folds them
// when it needs a view, and the result depends only on the set of records,
// never on the order they arrived in or on repeats of one record.
//
// It imports only model and store.
package callfold

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"calldiag/internal/model"
)

// ClientPlaceholder prefixes the client instance id that stands for the
// participant of a series whose samples named none (P2P media stats carry
// neither a participant nor an endpoint id); views resolve it through the
// call's client instance mapping.
const ClientPlaceholder = "ci:"

// Finite drops NaN and infinite values, which JSON cannot carry: a metric
// that is not a number is as good as missing.
func Finite(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	return p
}

func finiteRating(r model.Rating) model.Rating {
	return model.Rating{Score: Finite(r.Score), LowerBound: Finite(r.LowerBound), UpperBound: Finite(r.UpperBound), Threshold: Finite(r.Threshold)}
}

func finiteStream(r *model.StreamRow) model.StreamRow {
	c := *r
	for _, f := range []**float64{&c.RoundTripTimeAvgMs, &c.RoundTripTimeMaxMs, &c.JitterAvgMs, &c.JitterMaxMs,
		&c.PacketLossRateAvg, &c.PacketLossRateMax, &c.JitterBufferAvgMs, &c.JitterBufferMaxMs,
		&c.HealedDataRatioAvg, &c.HealedDataRatioMax, &c.VideoFrameRateAvg, &c.RecvResolutionHeight,
		&c.RecvFreezeMsPerMin, &c.PacketUtilization, &c.VideoBitRateAvg, &c.VideoBitRateMax} {
		*f = Finite(*f)
	}
	return c
}

// NS converts a time to Unix nanoseconds, 0 for the zero time.
func NS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNS is the inverse of NS; it returns UTC times.
func FromNS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func secondsNS(s float64) int64 { return int64(s * 1e9) }

// EventTime is the time a record is placed at on the timeline: the client's
// clock for client records, the named start for service records, else the
// envelope time.
func EventTime(r *model.Record) time.Time {
	switch {
	case r.Operation != nil && !r.Operation.ClientTime.IsZero():
		return r.Operation.ClientTime
	case r.Sample != nil && !r.Sample.ClientTime.IsZero():
		return r.Sample.ClientTime
	case r.Event != nil && !r.Event.StartTime.IsZero():
		return r.Event.StartTime
	}
	return r.Time
}

// CategoryName is the category a record is counted and stored under.
func CategoryName(r *model.Record) string {
	if r.Category != "" {
		return string(r.Category)
	}
	return r.RawCategory
}

// Usable reports whether an id is present and not redacted.
func Usable(s string) bool {
	return s != "" && !strings.EqualFold(s, "redacted")
}

// minNonEmpty keeps the lexically smallest non-empty value, which makes the
// choice independent of arrival order.
func minNonEmpty(cur, v string) string {
	if v == "" || (cur != "" && cur <= v) {
		return cur
	}
	return v
}

// SeriesStream names the stream of a media-stats sample.
func SeriesStream(s *model.Sample) string {
	id := string(s.MediaType) + "-" + string(s.Direction)
	if s.RemoteParticipantID != "" {
		id += "-" + s.RemoteParticipantID
	}
	return id
}

// SeriesParticipant is the participant a sample's series is filed under:
// its participant id, else the placeholder of its client instance.
func SeriesParticipant(s *model.Sample) string {
	if s.ParticipantID == "" && s.ClientInstanceID != "" {
		return ClientPlaceholder + s.ClientInstanceID
	}
	return s.ParticipantID
}

// SampleValue is the value of a point: the bucket average, else sum/count.
func SampleValue(s *model.Sample) (float64, bool) {
	v := math.NaN()
	switch {
	case s.Average != nil:
		v = *s.Average
	case s.Sum != nil && s.Count != nil && *s.Count > 0:
		v = *s.Sum / *s.Count
	}
	return v, Finite(&v) != nil
}

// rank orders competing versions of one participant or stream row: a final
// row beats any Updates row, a higher Updates version beats a lower one,
// then the later record time, then the greater record id.
type rank struct {
	final bool
	ver   int64
	ns    int64
	rid   string
}

func rankOf(version *int, t time.Time, rid string) rank {
	if version == nil {
		return rank{final: true, ns: NS(t), rid: rid}
	}
	return rank{ver: int64(*version), ns: NS(t), rid: rid}
}

func (a rank) beats(b rank) bool {
	if a.final != b.final {
		return a.final
	}
	if a.ver != b.ver {
		return a.ver > b.ver
	}
	if a.ns != b.ns {
		return a.ns > b.ns
	}
	return a.rid > b.rid
}

// summaryRow is the winning CallSummary(Updates) row of a participant.
type summaryRow struct {
	rank
	res                  string
	row                  model.ParticipantRow
	callStart, start     int64
	callEnd, end         int64
	hasCallEnd, hasEndNS bool
}

func newSummaryRow(r *model.Record) *summaryRow {
	p := *r.Participant
	p.CallDuration, p.Duration = Finite(p.CallDuration), Finite(p.Duration)
	s := &summaryRow{rank: rankOf(p.Version, r.Time, r.ID), res: r.Resource, row: p,
		callStart: NS(p.CallStartTime), start: NS(p.StartTime)}
	if s.callStart != 0 && p.CallDuration != nil {
		s.callEnd, s.hasCallEnd = s.callStart+secondsNS(*p.CallDuration), true
	}
	if s.start != 0 && p.Duration != nil {
		s.end, s.hasEndNS = s.start+secondsNS(*p.Duration), true
	}
	return s
}

// part is one participant leg merged from every source that names it.
type part struct {
	pid string

	grp    bool // named by a participantId, which only group legs carry
	client bool // known from client operations or media stats
	diag   bool // known from diagnostics rows

	dEtype     string // endpoint type of client-side diagnostics rows
	endpoint   string
	identifier string

	ua     string
	uaNS   int64
	uaRID  string
	sdk    string
	sdkNS  int64
	sdkRID string

	resources map[string]bool
	sum       *summaryRow
}

func (p *part) addResource(res string) {
	if res != "" {
		p.resources[res] = true
	}
}

// earliest keeps the value of the earliest record (by time, then id) that
// carries one.
func earliest(val *string, at *int64, rid *string, v string, t int64, id string) {
	if v == "" {
		return
	}
	if *val != "" && (*at < t || (*at == t && *rid <= id)) {
		return
	}
	*val, *at, *rid = v, t, id
}

// endpointType is how the participant is counted in a call's client types.
func (p *part) endpointType() model.EndpointType {
	switch {
	case p.sum != nil && p.sum.row.EndpointType != "":
		return p.sum.row.EndpointType
	case p.dEtype != "":
		return model.EndpointType(p.dEtype)
	case p.client:
		return model.EndpointVoIP
	}
	return model.EndpointUnknown
}

type streamKey struct{ pid, media, dir, acs string }

type streamRow struct {
	rank
	server bool
	row    model.StreamRow
}

type surveyRow struct {
	t   int64
	rid string
	s   model.Survey
}

// Orphan is a client operation stored without a call id. A store attaches
// it to a call through its client instance (see ChooseCall) and passes it
// to Result with ParticipantID filled in from the mapping when it named
// none.
type Orphan struct {
	RecordID, ClientID string
	T                  int64
	Kind               string
	ParticipantID      string
	Name, Result       string
	Code, SubCode      *int
	DurationMs         *float64
	Detail             string
	UserAgent, SDK     string
}

// OrphanOf describes an operation record that carries no call id.
func OrphanOf(r *model.Record) Orphan {
	op := r.Operation
	kind, name, result, detail, code := OpEvent(op)
	return Orphan{RecordID: r.ID, ClientID: op.ClientInstanceID, T: NS(EventTime(r)), Kind: kind,
		ParticipantID: op.ParticipantID, Name: name, Result: result, Code: code, SubCode: op.SubCode,
		DurationMs: Finite(op.DurationMs), Detail: detail, UserAgent: op.UserAgent, SDK: op.SDKVersion}
}

// OpEvent maps a client operation to its timeline fields.
func OpEvent(op *model.Operation) (kind, name, result, detail string, code *int) {
	code = op.Code
	if code == nil {
		code = op.ResultSignature
	}
	if op.UFDName != "" || strings.EqualFold(op.Name, "UserFacingDiagnostics") {
		return model.KindUFD, op.UFDName, op.UFDValue, op.UFDValue, code
	}
	return model.KindOperation, op.Name, op.ResultType, op.Payload, code
}

// SampleGroup stands for the media-stats records of a call that share a
// participant, endpoint, client instance, resource and category: what the
// fold needs of them without reading each one.
type SampleGroup struct {
	ParticipantID, EndpointID, ClientID, Resource, Category string
	Records                                                 int
	// First and Last are the earliest and latest sample times (Unix ns).
	First, Last int64
}

// GroupOf is the group a sample record belongs to, with the record alone.
func GroupOf(r *model.Record) SampleGroup {
	s := r.Sample
	t := NS(EventTime(r))
	return SampleGroup{ParticipantID: s.ParticipantID, EndpointID: s.EndpointID, ClientID: s.ClientInstanceID,
		Resource: r.Resource, Category: CategoryName(r), Records: 1, First: t, Last: t}
}

// Fold gathers the records of one call.
type Fold struct {
	id        string
	seen      map[string]bool
	records   int
	unknown   int
	first     int64
	last      int64
	counts    map[string]int
	resources map[string]bool
	parts     map[string]*part
	streams   map[streamKey]*streamRow
	events    []model.TimelineEvent
	surveys   []surveyRow
	pcs       []PeerConnRow
	keys      map[string]bool
	clients   map[string]string
}

// New starts the fold of call id.
func New(id string) *Fold {
	f := &Fold{id: id, seen: map[string]bool{}, counts: map[string]int{}, resources: map[string]bool{},
		parts: map[string]*part{}, streams: map[streamKey]*streamRow{}, keys: map[string]bool{},
		clients: map[string]string{}}
	f.addKey(id)
	return f
}

func (f *Fold) addKey(s string) {
	if s = strings.TrimSpace(s); Usable(s) {
		f.keys[strings.ToLower(s)] = true
	}
}

func (f *Fold) addClient(ci, pid string) {
	if ci == "" {
		return
	}
	cur, ok := f.clients[ci]
	if !ok {
		f.clients[ci] = pid
		return
	}
	f.clients[ci] = minNonEmpty(cur, pid)
}

func (f *Fold) part(pid string) *part {
	if pid == "" || pid == f.id {
		return nil
	}
	p := f.parts[pid]
	if p == nil {
		p = &part{pid: pid, resources: map[string]bool{}}
		f.parts[pid] = p
	}
	return p
}

func (f *Fold) count(category, resource string, known bool, n int, first, last int64) {
	f.records += n
	if !known {
		f.unknown += n
	}
	f.counts[category] += n
	if resource != "" {
		f.resources[resource] = true
	}
	if first != 0 && (f.first == 0 || first < f.first) {
		f.first = first
	}
	if last != 0 && last > f.last {
		f.last = last
	}
}

// Add folds one record of the call in. A record other than a media-stats
// sample whose id was folded before is ignored; samples, the bulk of a
// call, are not remembered, so the caller passes each sample once.
func (f *Fold) Add(r *model.Record) {
	if r.Sample != nil {
		f.AddSamples(GroupOf(r))
		return
	}
	if f.seen[r.ID] {
		return
	}
	f.seen[r.ID] = true
	t := NS(EventTime(r))
	f.count(CategoryName(r), r.Resource, r.Known, 1, t, t)
	switch {
	case r.Participant != nil:
		f.addSummary(r)
	case r.Stream != nil:
		f.addStream(r)
	case r.Operation != nil:
		f.addOperation(r)
	case r.Survey != nil:
		f.addSurvey(r)
	case r.PeerConn != nil:
		f.addKey(r.PeerConn.ParticipantID)
		f.pcs = append(f.pcs, PeerConnRow{T: NS(r.Time), RID: r.ID, Row: *r.PeerConn})
	case r.Event != nil:
		ev := r.Event
		f.events = append(f.events, model.TimelineEvent{ID: r.ID, Time: FromNS(t), ParticipantID: ev.ParticipantID,
			Kind: model.KindService, Name: ev.Name, Result: ev.Result, Code: ev.Code, SubCode: ev.SubCode,
			DurationMs: Finite(ev.DurationMs), RecordID: r.ID, Detail: ev.Detail})
	}
}

// AddSamples folds in a group of media-stats records.
func (f *Fold) AddSamples(g SampleGroup) {
	f.count(g.Category, g.Resource, true, g.Records, g.First, g.Last)
	f.addKey(g.ParticipantID)
	f.addKey(g.EndpointID)
	f.addClient(g.ClientID, g.ParticipantID)
	if p := f.part(g.ParticipantID); p != nil {
		p.client = true
		p.grp = p.grp || Usable(g.ParticipantID)
		p.addResource(g.Resource)
	}
}

func (f *Fold) addSummary(r *model.Record) {
	row := r.Participant
	for _, k := range []string{row.ParticipantID, row.RawParticipantID, row.EndpointID, row.Identifier} {
		f.addKey(k)
	}
	p := f.part(row.ParticipantID)
	if p == nil {
		return
	}
	p.grp = p.grp || Usable(row.RawParticipantID)
	p.addResource(r.Resource)
	if rk := rankOf(row.Version, r.Time, r.ID); p.sum == nil || rk.beats(p.sum.rank) {
		p.sum = newSummaryRow(r)
	}
}

func (f *Fold) addStream(r *model.Record) {
	row := r.Stream
	for _, k := range []string{row.ParticipantID, row.RawParticipantID, row.EndpointID, row.Identifier} {
		f.addKey(k)
	}
	server := row.EndpointType == model.EndpointServer
	if p := f.part(row.ParticipantID); p != nil {
		p.diag = true
		p.grp = p.grp || Usable(row.RawParticipantID) || server
		if !server {
			p.dEtype = minNonEmpty(p.dEtype, string(row.EndpointType))
			p.endpoint = minNonEmpty(p.endpoint, row.EndpointID)
			p.identifier = minNonEmpty(p.identifier, row.Identifier)
		}
		p.addResource(r.Resource)
	}
	k := streamKey{row.ParticipantID, string(row.MediaType), string(row.Direction), row.ACSStreamID}
	rk := rankOf(row.Version, r.Time, r.ID)
	if cur := f.streams[k]; cur == nil || rk.beats(cur.rank) {
		f.streams[k] = &streamRow{rank: rk, server: server, row: finiteStream(row)}
	}
}

func (f *Fold) addOperation(r *model.Record) {
	op := r.Operation
	f.addKey(op.ParticipantID)
	f.addKey(op.EndpointID)
	f.addClient(op.ClientInstanceID, op.ParticipantID)
	t := NS(EventTime(r))
	if p := f.part(op.ParticipantID); p != nil {
		p.client = true
		p.grp = p.grp || Usable(op.ParticipantID)
		p.endpoint = minNonEmpty(p.endpoint, op.EndpointID)
		earliest(&p.ua, &p.uaNS, &p.uaRID, op.UserAgent, t, r.ID)
		earliest(&p.sdk, &p.sdkNS, &p.sdkRID, op.SDKVersion, t, r.ID)
		p.addResource(r.Resource)
	}
	kind, name, result, detail, code := OpEvent(op)
	f.events = append(f.events, model.TimelineEvent{ID: r.ID, Time: FromNS(t), ParticipantID: op.ParticipantID,
		Kind: kind, Name: name, Result: result, Code: code, SubCode: op.SubCode, DurationMs: Finite(op.DurationMs),
		RecordID: r.ID, Detail: detail})
}

func (f *Fold) addSurvey(r *model.Record) {
	sv := *r.Survey
	sv.Overall, sv.Audio = finiteRating(sv.Overall), finiteRating(sv.Audio)
	sv.Video, sv.Screenshare = finiteRating(sv.Video), finiteRating(sv.Screenshare)
	t := NS(r.Time)
	f.surveys = append(f.surveys, surveyRow{t: t, rid: r.ID, s: sv})
	var issues []string
	for _, v := range []string{sv.OverallIssues, sv.AudioIssues, sv.VideoIssues, sv.ScreenshareIssues} {
		if v != "" {
			issues = append(issues, v)
		}
	}
	f.events = append(f.events, model.TimelineEvent{ID: r.ID, Time: FromNS(t), ParticipantID: sv.ParticipantID,
		Kind: model.KindSurvey, Name: "CallSurvey", RecordID: r.ID, Detail: strings.Join(issues, ", ")})
}

// Clients maps each client instance seen in the call's records to the
// participant it was seen as (the smallest non-empty one).
func (f *Fold) Clients() map[string]string { return f.clients }

// Records is the number of records folded in.
func (f *Fold) Records() int { return f.records }

// First is the earliest record time of the call (Unix ns, 0 for none).
func (f *Fold) First() int64 { return f.first }

// Call is everything the fold derives.
type Call struct {
	// Summary is the call's search summary (no detection fields).
	Summary model.CallSummary
	// Call is the overview without detection: participants with their
	// streams, surveys, counts.
	Call model.Call
	// StartNS and EndNS are the summary's start and end in Unix ns; First
	// and Last the earliest and latest record times (0 for none).
	StartNS, EndNS, First, Last int64
	// Records and Unknown count the call's records and those of unknown
	// categories.
	Records, Unknown int
	// Keys are the lower-cased ids a search can find the call by.
	Keys []string
	// Clients maps client instances to participants.
	Clients map[string]string
	// Facets are the call's values of the search facets.
	Facets Facets
	// Events are the timeline events: operations, diagnostics, service
	// events, surveys, attached orphans, joins and leaves, in timeline
	// order (time, kind, id).
	Events []model.TimelineEvent
}

// Result derives the views, with the orphan operations attached to the
// call.
func (f *Fold) Result(orphans []Orphan) (*Call, error) {
	out := &Call{Records: f.records, Unknown: f.unknown, First: f.first, Last: f.last, Clients: f.clients}
	parts := make([]*part, 0, len(f.parts))
	for _, p := range f.parts {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *part) int { return strings.Compare(a.pid, b.pid) })

	// Agent strings from unlinked operations compete with the ones from
	// operations that carried the call id: the earliest record wins.
	merged := make(map[string]*part)
	for _, op := range orphans {
		p := f.parts[op.ParticipantID]
		if p == nil {
			continue
		}
		m := merged[p.pid]
		if m == nil {
			cp := *p
			m = &cp
			merged[p.pid] = m
		}
		earliest(&m.ua, &m.uaNS, &m.uaRID, op.UserAgent, op.T, op.RecordID)
		earliest(&m.sdk, &m.sdkNS, &m.sdkRID, op.SDK, op.T, op.RecordID)
	}
	for i, p := range parts {
		if m := merged[p.pid]; m != nil {
			parts[i] = m
		}
	}

	sum := f.summarize(parts)
	out.StartNS, out.EndNS = sum.start, sum.end
	resources := make([]string, 0, len(f.resources))
	for r := range f.resources {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	counts := make(map[model.Category]int, len(f.counts))
	for c, n := range f.counts {
		counts[model.Category(c)] = n
	}
	out.Summary = model.CallSummary{ID: f.id, StartTime: FromNS(sum.start), EndTime: FromNS(sum.end),
		DurationSeconds: sum.duration, CallType: model.CallType(sum.callType), ParticipantCount: len(parts),
		ClientTypes: sum.clientTypes, ResourceIDs: resources, RecordCount: f.records,
		Quality: "Unknown", Rating: "Unknown", IssueKinds: []string{}}
	out.Call = model.Call{ID: f.id, StartTime: FromNS(sum.start), EndTime: FromNS(sum.end),
		DurationSeconds: sum.duration, CallType: model.CallType(sum.callType), TeamsThreadID: sum.teams,
		ResourceIDs: resources, RecordCounts: counts, UnknownRecords: f.unknown,
		Participants: buildParticipants(parts), Surveys: f.surveyViews(), PeerConnections: PeerConnectionViews(f.pcs)}
	f.attachStreams(out.Call.Participants)

	out.Keys = make([]string, 0, len(f.keys))
	for k := range f.keys {
		out.Keys = append(out.Keys, k)
	}
	sort.Strings(out.Keys)
	out.Facets = callFacets(sum.callType, resources, parts)
	out.Events = f.timelineEvents(parts, orphans)
	return out, nil
}

type summary struct {
	start, end  int64
	duration    float64
	callType    string
	teams       string
	clientTypes map[model.EndpointType]int
}

// summarize derives a call's summary from its merged state. It depends only
// on sets, counts and winning rows, never on arrival order.
func (f *Fold) summarize(parts []*part) summary {
	var s summary
	var haveStart, haveEnd bool
	groupLeg := false
	s.clientTypes = make(map[model.EndpointType]int)
	for _, p := range parts {
		s.clientTypes[p.endpointType()]++
		if p.grp {
			groupLeg = true
		}
		r := p.sum
		if r == nil {
			continue
		}
		ct := string(r.row.CallType)
		switch {
		case ct == string(model.CallTypeGroup):
			s.callType = ct
		case ct != "" && s.callType == "":
			s.callType = ct
		}
		s.teams = minNonEmpty(s.teams, r.row.TeamsThreadID)
		st := r.callStart
		if st == 0 {
			st = r.start
		}
		if st != 0 && (!haveStart || st < s.start) {
			s.start, haveStart = st, true
		}
		for _, e := range []struct {
			v  int64
			ok bool
		}{{r.callEnd, r.hasCallEnd}, {r.end, r.hasEndNS}} {
			if e.ok && (!haveEnd || e.v > s.end) {
				s.end, haveEnd = e.v, true
			}
		}
	}
	if s.callType == "" && groupLeg {
		s.callType = string(model.CallTypeGroup)
	}
	if !haveStart && f.first != 0 {
		s.start = f.first
	}
	if !haveEnd && f.last != 0 {
		s.end = f.last
	}
	if s.end < s.start {
		s.end = s.start
	}
	s.duration = float64(s.end-s.start) / 1e9
	return s
}

// buildParticipants turns merged participant state into the overview,
// ordered by start time (unknown last), then id.
func buildParticipants(parts []*part) []model.Participant {
	primary := primaryResource(parts)
	out := make([]model.Participant, 0, len(parts))
	for _, p := range parts {
		mp := model.Participant{ID: p.pid, EndpointType: p.endpointType(), Source: "client", UserAgent: p.ua,
			Streams: []model.Stream{}}
		var row *model.ParticipantRow
		var res string
		if s := p.sum; s != nil {
			row, res = &s.row, s.res
		}
		FillParticipant(&mp, row, res, p.endpoint, p.identifier, p.sdk)
		if primary != "" && len(p.resources) > 0 {
			mp.OtherResource = !p.resources[primary]
		}
		out = append(out, mp)
	}
	OrderParticipants(out)
	return out
}

// FillParticipant completes an overview participant from its winning
// summary row (nil when it has none) with the resource that reported it,
// and falls back on what the other sources said of its endpoint,
// identifier and SDK.
func FillParticipant(mp *model.Participant, row *model.ParticipantRow, resource, endpoint, identifier, sdk string) {
	if row != nil {
		mp.Source = "summary"
		mp.EndpointID = row.EndpointID
		mp.Identifier = row.Identifier
		mp.ParticipantType = row.ParticipantType
		mp.SDKVersion = row.SDKVersion
		mp.OSVersion = row.OSVersion
		if !row.StartTime.IsZero() {
			t := row.StartTime.UTC()
			mp.StartTime = &t
		}
		mp.DurationSeconds = row.Duration
		mp.EndReason = row.EndReason
		mp.EndSubCode = row.EndSubCode
		mp.ResultCategory = row.ResultCategory
		mp.Resource = resource
		mp.Version = row.Version
	}
	if mp.EndpointID == "" {
		mp.EndpointID = endpoint
	}
	if mp.Identifier == "" {
		mp.Identifier = identifier
	}
	if mp.SDKVersion == "" {
		mp.SDKVersion = sdk
	}
}

// OrderParticipants orders an overview's participants by start time
// (unknown last), then id, and names each rejoin's earlier leg.
func OrderParticipants(out []model.Participant) {
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].StartTime, out[j].StartTime
		switch {
		case a != nil && b != nil && !a.Equal(*b):
			return a.Before(*b)
		case (a == nil) != (b == nil):
			return a != nil
		}
		return out[i].ID < out[j].ID
	})
	markRejoins(out)
}

// primaryResource is the resource that reported the most summary rows of a
// call, ties going to the lexically smallest.
func primaryResource(parts []*part) string {
	n := make(map[string]int)
	for _, p := range parts {
		if p.sum != nil && p.sum.res != "" {
			n[p.sum.res]++
		}
	}
	best := ""
	for res, c := range n {
		if best == "" || c > n[best] || (c == n[best] && res < best) {
			best = res
		}
	}
	return best
}

// markRejoins names, for each summary leg of an endpoint that has several,
// the leg it follows. parts must be in start order.
func markRejoins(parts []model.Participant) {
	last := make(map[string]string)
	for i := range parts {
		p := &parts[i]
		if p.Source != "summary" || !Usable(p.EndpointID) {
			continue
		}
		if prev, ok := last[p.EndpointID]; ok && prev != p.ID {
			p.RejoinOf = prev
		}
		last[p.EndpointID] = p.ID
	}
}

// attachStreams adds the winning stream rows to their participants,
// ordered by media, direction and stream id.
func (f *Fold) attachStreams(parts []model.Participant) {
	idx := make(map[string]int, len(parts))
	for i := range parts {
		idx[parts[i].ID] = i
	}
	keys := make([]streamKey, 0, len(f.streams))
	for k := range f.streams {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b streamKey) int {
		return cmp.Or(strings.Compare(a.pid, b.pid), strings.Compare(a.media, b.media),
			strings.Compare(a.dir, b.dir), strings.Compare(a.acs, b.acs))
	})
	for _, k := range keys {
		i, ok := idx[k.pid]
		if !ok {
			continue
		}
		s := f.streams[k]
		parts[i].Streams = append(parts[i].Streams, StreamView(k.pid, s.rid, s.server, &s.row))
	}
}

// StreamView is the overview of one winning stream row.
func StreamView(pid, rid string, server bool, row *model.StreamRow) model.Stream {
	by := "client"
	if server {
		by = "server"
	}
	return model.Stream{
		StreamID:             string(row.MediaType) + "-" + string(row.Direction) + "-" + row.ACSStreamID,
		ParticipantID:        pid,
		MediaType:            row.MediaType,
		Direction:            row.Direction,
		ACSStreamID:          row.ACSStreamID,
		Codec:                row.Codec,
		TransportType:        row.TransportType,
		ReportedBy:           by,
		JitterAvgMs:          row.JitterAvgMs,
		JitterMaxMs:          row.JitterMaxMs,
		PacketLossRateAvg:    row.PacketLossRateAvg,
		PacketLossRateMax:    row.PacketLossRateMax,
		RoundTripTimeAvgMs:   row.RoundTripTimeAvgMs,
		RoundTripTimeMaxMs:   row.RoundTripTimeMaxMs,
		JitterBufferAvgMs:    row.JitterBufferAvgMs,
		JitterBufferMaxMs:    row.JitterBufferMaxMs,
		HealedDataRatioAvg:   row.HealedDataRatioAvg,
		HealedDataRatioMax:   row.HealedDataRatioMax,
		VideoFrameRateAvg:    row.VideoFrameRateAvg,
		RecvResolutionHeight: row.RecvResolutionHeight,
		RecvFreezeMsPerMin:   row.RecvFreezeMsPerMin,
		PacketUtilization:    row.PacketUtilization,
		VideoBitRateAvg:      row.VideoBitRateAvg,
		VideoBitRateMax:      row.VideoBitRateMax,
		Version:              row.Version,
		RecordID:             rid,
	}
}

func (f *Fold) surveyViews() []model.SurveyView {
	rows := slices.Clone(f.surveys)
	slices.SortFunc(rows, func(a, b surveyRow) int {
		return cmp.Or(cmp.Compare(a.t, b.t), strings.Compare(a.s.SurveyID, b.s.SurveyID), strings.Compare(a.rid, b.rid))
	})
	out := make([]model.SurveyView, 0, len(rows))
	for _, r := range rows {
		s := r.s
		out = append(out, model.SurveyView{
			SurveyID: s.SurveyID, ParticipantID: s.ParticipantID, Time: FromNS(r.t),
			Overall: s.Overall, Audio: s.Audio, Video: s.Video, Screenshare: s.Screenshare,
			OverallIssues: s.OverallIssues, AudioIssues: s.AudioIssues, VideoIssues: s.VideoIssues,
			ScreenshareIssues: s.ScreenshareIssues, RecordID: r.rid,
		})
	}
	return out
}

// PeerConnRow is a stored peer-connection summary: its record's time (Unix
// ns) and id, and the row.
type PeerConnRow struct {
	T   int64
	RID string
	Row model.PeerConnectionRow
}

// PeerConnectionViews shows the latest summary of each peer connection
// (by record time, then record id), ordered by participant, then id.
func PeerConnectionViews(rows []PeerConnRow) []model.PeerConnection {
	type key struct{ pid, id string }
	latest := make(map[key]PeerConnRow, len(rows))
	for _, r := range rows {
		k := key{r.Row.ParticipantID, r.Row.ID}
		if old, ok := latest[k]; !ok || cmp.Or(cmp.Compare(r.T, old.T), strings.Compare(r.RID, old.RID)) > 0 {
			latest[k] = r
		}
	}
	out := make([]model.PeerConnection, 0, len(latest))
	for _, r := range latest {
		pc := r.Row
		out = append(out, model.PeerConnection{ID: pc.ID, ParticipantID: pc.ParticipantID, Connected: pc.Connected,
			ConnectionFailed: pc.ConnectionFailed, ICEReconnects: pc.ICEReconnects, UsingRelay: pc.UsingRelay,
			LocalCandidateType: pc.LocalCandidateType, RemoteCandidateType: pc.RemoteCandidateType,
			LocalProtocol: pc.LocalProtocol, RemoteProtocol: pc.RemoteProtocol,
			PacketsReceived: pc.PacketsReceived, PacketsReceivedLost: pc.PacketsReceivedLost,
			PacketsSent: pc.PacketsSent, PacketsSentLost: pc.PacketsSentLost,
			ReceivedPacketsLostPct: Finite(pc.ReceivedPacketsLostPct), SentPacketsLostPct: Finite(pc.SentPacketsLostPct),
			MeanRoundTripMs: Finite(pc.MeanRoundTripMs), SetupMs: Finite(pc.SetupMs),
			Start: pc.Start.UTC(), End: pc.End.UTC(), StatsPolls: pc.StatsPolls, RecordID: r.RID})
	}
	slices.SortFunc(out, func(a, b model.PeerConnection) int {
		return cmp.Or(strings.Compare(a.ParticipantID, b.ParticipantID), strings.Compare(a.ID, b.ID))
	})
	return out
}

// timelineEvents lists every event of the call in timeline order.
func (f *Fold) timelineEvents(parts []*part, orphans []Orphan) []model.TimelineEvent {
	out := slices.Clone(f.events)
	for _, op := range orphans {
		out = append(out, model.TimelineEvent{ID: op.RecordID, Time: FromNS(op.T), ParticipantID: op.ParticipantID,
			Kind: op.Kind, Name: op.Name, Result: op.Result, Code: op.Code, SubCode: op.SubCode,
			DurationMs: op.DurationMs, RecordID: op.RecordID, Detail: op.Detail})
	}
	// Join and leave follow each participant's winning summary row.
	for _, p := range parts {
		s := p.sum
		if s == nil || s.row.StartTime.IsZero() {
			continue
		}
		row := s.row
		var durMs *float64
		if row.Duration != nil {
			d := *row.Duration * 1000
			durMs = &d
		}
		start := row.StartTime.UTC()
		out = append(out, model.TimelineEvent{ID: "join:" + p.pid, Time: start, ParticipantID: p.pid,
			Kind: model.KindJoin, Name: "join", DurationMs: durMs, RecordID: s.rid, Detail: string(row.EndpointType)})
		if row.Duration == nil {
			continue
		}
		out = append(out, model.TimelineEvent{ID: "leave:" + p.pid, Time: FromNS(NS(start) + secondsNS(*row.Duration)),
			ParticipantID: p.pid, Kind: model.KindLeave, Name: "leave", Result: row.ResultCategory,
			Code: row.EndReason, SubCode: row.EndSubCode, RecordID: s.rid, Detail: string(row.EndpointType)})
	}
	slices.SortFunc(out, func(a, b model.TimelineEvent) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.Kind, b.Kind), strings.Compare(a.ID, b.ID))
	})
	return out
}

// MarshalRecord encodes a record without its raw bytes, for stores that
// keep the normalized record beside the original.
func MarshalRecord(r *model.Record) ([]byte, error) {
	c := *r
	c.Raw = nil
	return json.Marshal(&c)
}

// UnmarshalRecord decodes what MarshalRecord wrote.
func UnmarshalRecord(b []byte) (model.Record, error) {
	var r model.Record
	err := json.Unmarshal(b, &r)
	return r, err
}
