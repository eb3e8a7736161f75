package clickhouse

import (
	"math"
	"slices"
	"strings"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// The writing process keeps the media-stats points of the calls it wrote
// from their first record on, so that the timeline reads right after an
// ingest (detection reads every point of every touched call) answer from
// memory instead of reading back what was just written. A call whose
// earlier records this process did not write, or that has too many points,
// is read from the points table as before.

// maxCallPoints bounds the points kept for one call.
const maxCallPoints = 250_000

// memPoint is one point with a value, as the points table holds it.
type memPoint struct {
	t                   int64
	resource            string
	pid, stream, metric string
	value               float64
	id                  string
}

// comparePoints orders points as the points query does: by time, series,
// value, then record id.
func comparePoints(a, b *memPoint) int {
	if c := compareSeries(a, b); c != 0 {
		return c
	}
	switch {
	case a.value < b.value:
		return -1
	case a.value > b.value:
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// callPoints are the points of one call in query order. They are never
// changed once made: readers share them without a lock.
type callPoints []memPoint

// freshPoints collects, by call, the points of fresh records in query
// order. Repeated strings are shared.
func freshPoints(fresh []*model.Record) map[string]callPoints {
	out := make(map[string]callPoints)
	intern := make(map[string]string)
	in := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		s = strings.Clone(s)
		intern[s] = s
		return s
	}
	for _, r := range fresh {
		if r.Sample == nil || r.CallID == "" || kindOf(r) != kindSample {
			continue
		}
		v, ok := callfold.SampleValue(r.Sample)
		if !ok {
			continue // never shown
		}
		s := r.Sample
		out[r.CallID] = append(out[r.CallID], memPoint{t: callfold.NS(callfold.EventTime(r)), resource: in(r.Resource),
			pid: in(callfold.SeriesParticipant(s)), stream: in(callfold.SeriesStream(s)), metric: in(s.Metric),
			value: v, id: strings.Clone(r.ID)})
	}
	for id, ps := range out {
		slices.SortFunc(ps, func(a, b memPoint) int { return comparePoints(&a, &b) })
		out[id] = ps
	}
	return out
}

// merge returns a new list of the points of a and b, in query order.
func merge(a, b callPoints) callPoints {
	out := make(callPoints, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if comparePoints(&b[j], &a[i]) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// memPointItems is the in-memory counterpart of the points query and
// pointRows: it appends up to limit+1 points of the window after the
// cursor, in item order.
func memPointItems(pts callPoints, q store.TimelineQuery, h *callRow, v *callfold.Call, from, to int64,
	after *itemKey, limit int, items []item) ([]item, error) {
	var resources map[string]bool
	if len(h.resources) > 0 {
		resources = map[string]bool{"": true}
		for _, r := range h.resources {
			resources[r] = true
		}
	}
	var pids map[string]bool
	if q.ParticipantID != "" {
		pids = map[string]bool{q.ParticipantID: true}
		for ci, pid := range v.Clients {
			if pid == q.ParticipantID {
				pids[callfold.ClientPlaceholder+ci] = true
			}
		}
	}
	// The lower bound the query puts on (time, series).
	var floor *memPoint
	start := 0
	if after != nil {
		switch {
		case after.Kind < model.KindMetric:
			from = max(from, after.T)
		case after.Kind > model.KindMetric:
			if after.T == math.MaxInt64 {
				return items, nil
			}
			from = max(from, after.T+1)
		default:
			f := strings.SplitN(after.ID, "\x00", 3)
			if len(f) != 3 {
				return nil, store.ErrBadCursor
			}
			floor = &memPoint{t: after.T, pid: f[0], stream: f[1], metric: f[2]}
		}
	}
	if from > math.MinInt64 {
		start, _ = slices.BinarySearchFunc(pts, from, func(p memPoint, t int64) int {
			if p.t < t {
				return -1
			}
			return 1
		})
	}
	var last itemKey
	var lastID string
	read, added := 0, 0
	for i := start; i < len(pts) && added <= limit; i++ {
		p := &pts[i]
		switch {
		case p.t < from:
			continue
		case p.t >= to:
			return items, nil
		case resources != nil && !resources[p.resource]:
			continue
		case pids != nil && !pids[p.pid]:
			continue
		case floor != nil && compareSeries(p, floor) < 0:
			continue
		}
		read++
		k := itemKey{T: p.t, Kind: model.KindMetric, ID: store.SeriesOrderKey(p.pid, p.stream, p.metric),
			VBits: int64(math.Float64bits(p.value))}
		if read > 1 && k.T == last.T && k.ID == last.ID && p.value == math.Float64frombits(uint64(last.VBits)) {
			if p.id == lastID {
				continue
			}
			k.Dup = last.Dup + 1
		}
		last, lastID = k, p.id
		if after != nil && !after.Less(k) {
			continue
		}
		items = append(items, item{key: k, series: p.pid + "|" + p.stream + "|" + p.metric, value: p.value})
		added++
	}
	return items, nil
}

// compareSeries orders points by time and series only.
func compareSeries(a, b *memPoint) int {
	switch {
	case a.t != b.t:
		if a.t < b.t {
			return -1
		}
		return 1
	case a.pid != b.pid:
		return strings.Compare(a.pid, b.pid)
	case a.stream != b.stream:
		return strings.Compare(a.stream, b.stream)
	}
	return strings.Compare(a.metric, b.metric)
}
