package sqlite

import (
	"database/sql"
	"encoding/json"
	"sort"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store/callfold"
)

func finiteRating(r model.Rating) model.Rating {
	return model.Rating{Score: callfold.Finite(r.Score), LowerBound: callfold.Finite(r.LowerBound), UpperBound: callfold.Finite(r.UpperBound), Threshold: callfold.Finite(r.Threshold)}
}

// finiteStream returns a copy of a stream row without non-finite metrics.
func finiteStream(r *model.StreamRow) *model.StreamRow {
	c := *r
	for _, f := range []**float64{&c.RoundTripTimeAvgMs, &c.RoundTripTimeMaxMs, &c.JitterAvgMs, &c.JitterMaxMs,
		&c.PacketLossRateAvg, &c.PacketLossRateMax, &c.JitterBufferAvgMs, &c.JitterBufferMaxMs,
		&c.HealedDataRatioAvg, &c.HealedDataRatioMax, &c.VideoFrameRateAvg, &c.RecvResolutionHeight,
		&c.RecvFreezeMsPerMin, &c.PacketUtilization, &c.VideoBitRateAvg, &c.VideoBitRateMax} {
		*f = callfold.Finite(*f)
	}
	return &c
}

// secondsNS converts a duration in seconds to nanoseconds.
func secondsNS(s float64) int64 { return int64(s * 1e9) }

// minNonEmpty keeps the lexically smallest non-empty value, which makes the
// choice independent of arrival order.
func minNonEmpty(cur, v string) (string, bool) {
	if v == "" || (cur != "" && cur <= v) {
		return cur, false
	}
	return v, true
}

// insertSorted adds s to the sorted set, reporting whether it was absent.
func insertSorted(set []string, s string) ([]string, bool) {
	i := sort.SearchStrings(set, s)
	if i < len(set) && set[i] == s {
		return set, false
	}
	set = append(set, "")
	copy(set[i+1:], set[i:])
	set[i] = s
	return set, true
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
		return rank{final: true, ns: callfold.NS(t), rid: rid}
	}
	return rank{ver: int64(*version), ns: callfold.NS(t), rid: rid}
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

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// summaryRow is the winning CallSummary(Updates) row of a participant.
type summaryRow struct {
	rank
	res       string
	callStart int64
	callEnd   sql.NullInt64
	start     int64
	end       sql.NullInt64
	callType  string
	etype     string
	teams     string
	sdk       string // SDKVersion of the row
	os        string // OSVersion of the row
	data      []byte // JSON of model.ParticipantRow, packed (packRow)
}

func newSummaryRow(r *model.Record) (*summaryRow, error) {
	c := *r.Participant
	c.CallDuration, c.Duration = callfold.Finite(c.CallDuration), callfold.Finite(c.Duration)
	p := &c
	data, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	data = packRow(data)
	s := &summaryRow{
		rank:      rankOf(p.Version, r.Time, r.ID),
		res:       r.Resource,
		callStart: callfold.NS(p.CallStartTime),
		start:     callfold.NS(p.StartTime),
		callType:  string(p.CallType),
		etype:     string(p.EndpointType),
		teams:     p.TeamsThreadID,
		sdk:       p.SDKVersion,
		os:        p.OSVersion,
		data:      data,
	}
	if s.callStart != 0 && p.CallDuration != nil {
		s.callEnd = sql.NullInt64{Int64: s.callStart + secondsNS(*p.CallDuration), Valid: true}
	}
	if s.start != 0 && p.Duration != nil {
		s.end = sql.NullInt64{Int64: s.start + secondsNS(*p.Duration), Valid: true}
	}
	return s, nil
}

// partState is one participant of a call merged from every source.
type partState struct {
	cid   int64
	pid   string
	dirty bool

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

	resources []string // sorted resources of the participant's records
	sum       *summaryRow
}

func (p *partState) set(changed bool) {
	if changed {
		p.dirty = true
	}
}

func (p *partState) addResource(res string) {
	if res == "" {
		return
	}
	var changed bool
	p.resources, changed = insertSorted(p.resources, res)
	p.set(changed)
}

func (p *partState) flag(f *bool) {
	if !*f {
		*f = true
		p.dirty = true
	}
}

func (p *partState) minField(f *string, v string) {
	var changed bool
	*f, changed = minNonEmpty(*f, v)
	p.set(changed)
}

// earliest keeps the value of the earliest record (by time, then id) that
// carries one.
func (p *partState) earliest(val *string, at *int64, rid *string, v string, t int64, id string) {
	if v == "" {
		return
	}
	if *val != "" && (*at < t || (*at == t && *rid <= id)) {
		return
	}
	*val, *at, *rid = v, t, id
	p.dirty = true
}

// endpointType is how the participant is counted in a call's client types.
func (p *partState) endpointType() model.EndpointType {
	switch {
	case p.sum != nil && p.sum.etype != "":
		return model.EndpointType(p.sum.etype)
	case p.dEtype != "":
		return model.EndpointType(p.dEtype)
	case p.client:
		return model.EndpointVoIP
	}
	return model.EndpointUnknown
}

// callState is what Append keeps of a touched call to rebuild its summary.
type callState struct {
	cid       int64
	id        string
	isNew     bool
	first     sql.NullInt64
	last      sql.NullInt64
	records   int
	unknown   int
	counts    map[string]int
	resources []string
	parts     []*partState

	resChanged bool   // a record added a resource to the call
	callType   string // the call type writeCalls stored
}

func (c *callState) addRecord(r *model.Record) {
	c.records++
	if !r.Known {
		c.unknown++
	}
	c.counts[callfold.CategoryName(r)]++
	if r.Resource != "" {
		var added bool
		c.resources, added = insertSorted(c.resources, r.Resource)
		c.resChanged = c.resChanged || added
	}
	t := callfold.NS(callfold.EventTime(r))
	if t == 0 {
		return
	}
	if !c.first.Valid || t < c.first.Int64 {
		c.first = sql.NullInt64{Int64: t, Valid: true}
	}
	if !c.last.Valid || t > c.last.Int64 {
		c.last = sql.NullInt64{Int64: t, Valid: true}
	}
}

// callRow is the search summary of a call as stored in the calls table.
type callRow struct {
	start, end   int64
	duration     float64
	callType     string
	teams        string
	participants int
	clientTypes  string
	resources    string
	counts       string
}

// summarize derives a call's summary row from its merged state. It depends
// only on sets, counts and winning rows, never on arrival order.
func summarize(c *callState) (callRow, error) {
	var row callRow
	var haveStart, haveEnd bool
	groupLeg := false
	clientTypes := make(map[model.EndpointType]int)
	for _, p := range c.parts {
		clientTypes[p.endpointType()]++
		if p.grp {
			groupLeg = true
		}
		s := p.sum
		if s == nil {
			continue
		}
		switch {
		case s.callType == string(model.CallTypeGroup):
			row.callType = s.callType
		case s.callType != "" && row.callType == "":
			row.callType = s.callType
		}
		row.teams, _ = minNonEmpty(row.teams, s.teams)
		st := s.callStart
		if st == 0 {
			st = s.start
		}
		if st != 0 && (!haveStart || st < row.start) {
			row.start, haveStart = st, true
		}
		for _, e := range []sql.NullInt64{s.callEnd, s.end} {
			if e.Valid && (!haveEnd || e.Int64 > row.end) {
				row.end, haveEnd = e.Int64, true
			}
		}
	}
	if row.callType == "" && groupLeg {
		row.callType = string(model.CallTypeGroup)
	}
	if !haveStart && c.first.Valid {
		row.start = c.first.Int64
	}
	if !haveEnd && c.last.Valid {
		row.end = c.last.Int64
	}
	if row.end < row.start {
		row.end = row.start
	}
	row.duration = float64(row.end-row.start) / 1e9
	row.participants = len(c.parts)
	b, err := json.Marshal(clientTypes)
	if err != nil {
		return row, err
	}
	row.clientTypes = string(b)
	res := c.resources
	if res == nil {
		res = []string{}
	}
	if b, err = json.Marshal(res); err != nil {
		return row, err
	}
	row.resources = string(b)
	if b, err = json.Marshal(c.counts); err != nil {
		return row, err
	}
	row.counts = string(b)
	return row, nil
}

// mappedCall is one call a client instance is known in.
type mappedCall struct {
	cid   int64
	id    string
	first int64
	pid   string
}

// chooseCall picks the call an operation logged at t without a call id
// belongs to: the call with the earliest first record at or after t, else
// the one with the latest first record before t. Ties go to the smaller call
// id. It returns -1 when there is no candidate.
func chooseCall(t int64, cands []mappedCall) int {
	best, after := -1, false
	for i, c := range cands {
		isAfter := c.first >= t
		switch {
		case best < 0:
		case isAfter && !after:
		case isAfter == after && isAfter && (c.first < cands[best].first || (c.first == cands[best].first && c.id < cands[best].id)):
		case isAfter == after && !isAfter && (c.first > cands[best].first || (c.first == cands[best].first && c.id < cands[best].id)):
		default:
			continue
		}
		best, after = i, isAfter
	}
	return best
}
