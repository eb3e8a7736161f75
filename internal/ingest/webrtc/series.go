package webrtc

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// A webrtc-internals dump keeps, per peer connection, one series per stats
// field: "<report id>-<field>" → {startTime, endTime, statsType, values},
// values being the field's value at each poll (about one a second) in
// which the report was present, written as a string of JSON. This file
// turns those series back into snapshots.
//
// The series say when their first and last values were taken but not when
// the ones between were. The page takes each time from the report's own
// timestamp, which for most reports is the time of the poll, but for the
// remote-inbound-rtp and remote-outbound-rtp reports is the arrival of the
// last RTCP report: it lags, and repeats while no RTCP arrives. So:
//
//  1. The polls are found from the reports that carry the poll's time:
//     their "timestamp" series where the dump has one (recent versions), or
//     else their values spread evenly over [startTime, endTime]. Times
//     within pollGap of each other are one poll.
//  2. Each value of such a report goes to the poll nearest its time.
//  3. A remote-* report was present in consecutive polls from the first
//     one at or after its first timestamp; its values go there in order.
//  4. A field that appeared after its report did lines up with the report's
//     samples by its start and end times, or else with the report's last
//     samples.
//
// A report is in a snapshot when it has a value in that poll, so reports
// that went away are gone from later snapshots; a field without a value in
// a poll where its report has some is left out of that snapshot.

// pollGap is the largest spread of times counted as one poll:
// webrtc-internals polls every second.
const pollGap = 500.0 // milliseconds

// series is one field's values.
type series struct {
	field      string
	start, end float64 // startTime and endTime, in ms since the epoch
	nums       []float64
	strs       []string // used instead of nums when any value is not a number
	null       []bool   // nil unless some value is null (no value in that poll)
	slots      []int32  // the poll of each value; -1 when it has none
	cur        int      // cursor while snapshots are built
}

func (s *series) len() int { return max(len(s.nums), len(s.strs)) }

// at returns the series' time of value i, spreading the values evenly over
// [start, end].
func (s *series) at(i int) float64 {
	n := s.len()
	if n <= 1 {
		return s.start
	}
	return s.start + (s.end-s.start)*float64(i)/float64(n-1)
}

// statsReport gathers the series of one report.
type statsReport struct {
	id        string
	typ       string
	fields    []*series
	timestamp *series // the report's "timestamp" series, when the dump has one
	typeField *series // its "type" series, when the dump has one
}

func (r *statsReport) remote() bool {
	return r.typ == "remote-inbound-rtp" || r.typ == "remote-outbound-rtp"
}

// snapshots rebuilds one peer connection's snapshots from its stats
// series.
func (ip *internalsParser) snapshots(pcID string, stats *fastjson.Object) []Snapshot {
	byID := map[string]*statsReport{}
	var reports []*statsReport
	stats.Visit(func(k []byte, v *fastjson.Value) {
		key := string(k)
		entry := pcID + " stats " + key
		if strings.Contains(key, "-[") {
			// A rate or ratio the page computes for its graphs
			// ("…-[bytesReceived_in_bits/s]"), not a getStats field.
			return
		}
		i := strings.LastIndexByte(key, '-')
		if i <= 0 || i == len(key)-1 {
			ip.fail(entry, "not a <report id>-<field> name")
			return
		}
		s, statsType, reason := ip.readSeries(key[i+1:], v)
		if reason != "" {
			ip.fail(entry, reason)
			return
		}
		id := key[:i]
		r := byID[id]
		if r == nil {
			r = &statsReport{id: id}
			byID[id] = r
			reports = append(reports, r)
		}
		if statsType != "" {
			r.typ = statsType
		}
		switch s.field {
		case "timestamp":
			// The report's own time; kept apart, and only when numeric.
			if s.nums != nil {
				r.timestamp = s
			}
		case "type":
			r.typeField = s
		default:
			r.fields = append(r.fields, s)
		}
	})
	if len(reports) == 0 {
		return nil
	}
	slices.SortFunc(reports, func(a, b *statsReport) int { return strings.Compare(a.id, b.id) })
	for _, r := range reports {
		if r.typ == "" {
			r.typ = inferType(r)
		}
		slices.SortFunc(r.fields, func(a, b *series) int { return strings.Compare(a.field, b.field) })
	}
	polls := pollTimes(reports)
	for _, r := range reports {
		placeReport(r, polls)
	}
	return buildSnapshots(reports, polls)
}

// readSeries reads one series entry.
func (ip *internalsParser) readSeries(field string, v *fastjson.Value) (s *series, statsType, reason string) {
	if v.Type() != fastjson.TypeObject {
		return nil, "", "not an object"
	}
	s = &series{field: field}
	start, ok1 := valueTime(v.Get("startTime"))
	end, ok2 := valueTime(v.Get("endTime"))
	if !ok1 || !ok2 {
		return nil, "", "startTime or endTime missing or not a time"
	}
	s.start, s.end = msOf(start), msOf(end)
	if s.end < s.start {
		return nil, "", "endTime before startTime"
	}
	vals := v.Get("values")
	if kind(vals) == fastjson.TypeString {
		parsed, err := ip.values.ParseBytes(vals.GetStringBytes())
		if err != nil {
			return nil, "", "values are not JSON: " + err.Error()
		}
		vals = parsed
	}
	if kind(vals) != fastjson.TypeArray {
		return nil, "", "values are not an array"
	}
	arr, _ := vals.Array()
	if len(arr) == 0 {
		return nil, "", "no values"
	}
	numeric := true
	for _, x := range arr {
		switch x.Type() {
		case fastjson.TypeNumber:
		case fastjson.TypeNull:
			if s.null == nil {
				s.null = make([]bool, len(arr))
			}
		default:
			numeric = false
		}
	}
	if numeric {
		s.nums = make([]float64, len(arr))
	} else {
		s.strs = make([]string, len(arr))
	}
	for i, x := range arr {
		switch {
		case x.Type() == fastjson.TypeNull:
			s.null[i] = true
		case numeric:
			s.nums[i] = x.GetFloat64()
		default:
			s.strs[i] = textOf(x)
		}
	}
	return s, string(v.GetStringBytes("statsType")), ""
}

// textOf renders a series value as text.
func textOf(x *fastjson.Value) string {
	if t, ok := scalarText(x); ok {
		return t
	}
	return string(x.MarshalTo(nil))
}

func msOf(t time.Time) float64 { return float64(t.UnixMicro()) / 1000 }

// typePrefixes infer a report's type from its id, for old dumps without
// statsType. Longer prefixes come before the shorter ones they extend.
var typePrefixes = []struct{ prefix, typ string }{
	{"RTCInboundRTP", "inbound-rtp"},
	{"RTCOutboundRTP", "outbound-rtp"},
	{"RTCRemoteInboundRTP", "remote-inbound-rtp"},
	{"RTCRemoteOutboundRTP", "remote-outbound-rtp"},
	{"RTCIceCandidatePair_", "candidate-pair"},
	{"RTCIceCandidate_", "local-candidate"}, // or remote-candidate: see inferType
	{"RTCTransport_", "transport"},
	{"RTCCodec_", "codec"},
	{"RTCCertificate_", "certificate"},
	{"RTCMediaStreamTrack_", "track"},
	{"RTCMediaStream_", "stream"},
	{"RTCPeerConnection", "peer-connection"},
	{"RTCDataChannel_", "data-channel"},
	{"RTCAudioSource_", "media-source"},
	{"RTCVideoSource_", "media-source"},
	{"RTCAudioPlayout_", "media-playout"},
	{"ssrc_", "ssrc"},
	{"Conn-", "googCandidatePair"},
	{"Channel-", "googComponent"},
	{"bweforvideo", "VideoBwe"},
	{"googTrack_", "googTrack"},
	{"googCertificate_", "googCertificate"},
	{"googLibjingleSession_", "googLibjingleSession"},
}

// inferType names the type of a report whose series carry no statsType:
// from its "type" series, or else from its id.
func inferType(r *statsReport) string {
	if t := r.typeField; t != nil && len(t.strs) > 0 {
		return t.strs[len(t.strs)-1]
	}
	for _, p := range typePrefixes {
		if len(r.id) >= len(p.prefix) && strings.EqualFold(r.id[:len(p.prefix)], p.prefix) {
			if p.typ == "local-candidate" {
				for _, f := range r.fields {
					if f.field == "isRemote" && len(f.strs) > 0 && f.strs[0] == "true" {
						return "remote-candidate"
					}
				}
			}
			return p.typ
		}
	}
	return ""
}

// pollTimes finds the polls (step 1 above), in time order.
func pollTimes(reports []*statsReport) []float64 {
	var times []float64
	collect := func(remote bool) {
		for _, r := range reports {
			if r.remote() != remote {
				continue
			}
			if r.timestamp != nil {
				times = append(times, r.timestamp.nums...)
				continue
			}
			for _, f := range r.fields {
				for i := range f.len() {
					times = append(times, f.at(i))
				}
			}
		}
	}
	collect(false)
	if len(times) == 0 {
		collect(true)
	}
	slices.Sort(times)
	var polls []float64
	for _, t := range times {
		if len(polls) == 0 || t-polls[len(polls)-1] > pollGap {
			polls = append(polls, t)
		}
	}
	return polls
}

// nearestPoll returns the index of the poll nearest t.
func nearestPoll(polls []float64, t float64) int32 {
	i := sort.SearchFloat64s(polls, t)
	if i == len(polls) || (i > 0 && t-polls[i-1] <= polls[i]-t) {
		i--
	}
	return int32(i)
}

// placeReport gives every value of a report its poll (steps 2 to 4).
func placeReport(r *statsReport, polls []float64) {
	// samples are the report's polls, one per value of its longest series.
	var samples []int32
	switch {
	case r.remote():
		n, first := 0, math.Inf(1)
		if ts := r.timestamp; ts != nil {
			n, first = ts.len(), ts.nums[0]
		} else {
			for _, f := range r.fields {
				if f.len() > n || (f.len() == n && f.start < first) {
					n, first = f.len(), f.start
				}
			}
		}
		start := sort.SearchFloat64s(polls, first-pollGap)
		start = min(start, len(polls)-n)
		start = max(start, 0)
		samples = make([]int32, n)
		for i := range samples {
			samples[i] = -1
			if p := start + i; p < len(polls) {
				samples[i] = int32(p)
			}
		}
	case r.timestamp != nil:
		samples = make([]int32, r.timestamp.len())
		for i, t := range r.timestamp.nums {
			samples[i] = nearestPoll(polls, t)
		}
	default:
		// No per-sample times: each series is spread over its own span.
		for _, f := range r.fields {
			f.slots = make([]int32, f.len())
			for i := range f.slots {
				f.slots[i] = nearestPoll(polls, f.at(i))
			}
		}
		return
	}
	place := func(f *series) {
		first := alignField(r, f, len(samples))
		f.slots = make([]int32, f.len())
		for i := range f.slots {
			f.slots[i] = -1
			if j := first + i; j >= 0 && j < len(samples) {
				f.slots[i] = samples[j]
			}
		}
	}
	for _, f := range r.fields {
		place(f)
	}
	if r.timestamp != nil {
		place(r.timestamp)
	}
}

// alignField returns the index of the report sample that a field's first
// value belongs to (step 4).
func alignField(r *statsReport, f *series, n int) int {
	k := f.len()
	if ts := r.timestamp; ts != nil && f != ts {
		// Times in the series are whole milliseconds; the timestamps are not.
		near := func(a, b float64) bool { return math.Abs(a-b) < 1.5 }
		for i := 0; i+k <= len(ts.nums); i++ {
			if near(ts.nums[i], f.start) && near(ts.nums[i+k-1], f.end) {
				return i
			}
		}
	}
	return max(n-k, 0)
}

// buildSnapshots walks the polls in order and builds one snapshot per poll.
func buildSnapshots(reports []*statsReport, polls []float64) []Snapshot {
	b := newSnapshotBuilder()
	snaps := make([]Snapshot, 0, len(polls))
	at := make([]int, 0, 64) // per series of the current report: the value index in this poll, or -1
	for p := range polls {
		slot := int32(p)
		pollTime, _ := msTime(polls[p])
		for _, r := range reports {
			at = at[:0]
			present := false
			for _, f := range r.fields {
				i := f.valueAt(slot)
				at = append(at, i)
				present = present || i >= 0
			}
			tsAt := -1
			if r.timestamp != nil {
				tsAt = r.timestamp.valueAt(slot)
				present = present || tsAt >= 0
			}
			if !present {
				continue
			}
			t := pollTime
			if tsAt >= 0 {
				if rt, ok := msTime(r.timestamp.nums[tsAt]); ok {
					t = rt
				}
			}
			s, _ := b.report(r.id, t)
			s.Type, s.Time = r.typ, t
			for j, f := range r.fields {
				i := at[j]
				switch {
				case i < 0:
					b.del(s, f.field)
				case f.nums != nil:
					b.setNum(s, f.field, f.nums[i])
				default:
					b.setStr(s, f.field, f.strs[i])
				}
			}
		}
		snaps = append(snaps, b.commit(pollTime, true))
	}
	return snaps
}

// valueAt returns the index of the series' value in a poll, or -1. Values
// come in poll order, so a cursor walks them; of two values that landed in
// the same poll the later one counts.
func (s *series) valueAt(slot int32) int {
	for s.cur < len(s.slots) && s.slots[s.cur] < slot {
		s.cur++
	}
	found := -1
	for s.cur < len(s.slots) && s.slots[s.cur] == slot {
		if s.null == nil || !s.null[s.cur] {
			found = s.cur
		}
		s.cur++
	}
	return found
}

// String describes a series for test failures.
func (s *series) String() string {
	return fmt.Sprintf("%s: %d values %v…%v", s.field, s.len(), s.start, s.end)
}
