package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/model"
)

const srcSeries = "CallClientMediaStatsTimeSeries"

// Series metric names as the media-stats records spell them.
const (
	metricJitter  = "JitterInMs"
	metricRTT     = "RttInMs"
	metricLost    = "PacketsLostPerSecond"
	metricPackets = "PacketsPerSecond"
	// metricLoss is derived: lost / (received + lost) per sample.
	metricLoss = "PacketLossRate"
)

// streamRef is a series stream id taken apart: media-direction[-remote].
type streamRef struct {
	pid, stream string
	media       model.MediaType
	dir         model.Direction
	remote      string
}

func parseStreamRef(pid, stream string) streamRef {
	r := streamRef{pid: pid, stream: stream}
	parts := strings.SplitN(stream, "-", 3)
	if len(parts) >= 2 {
		r.media, r.dir = model.MediaType(parts[0]), model.Direction(parts[1])
	}
	if len(parts) == 3 {
		r.remote = parts[2]
	}
	return r
}

// span is a closed time interval.
type span struct{ from, to time.Time }

func (s span) overlaps(o span, slack time.Duration) bool {
	return !s.from.After(o.to.Add(slack)) && !o.from.After(s.to.Add(slack))
}

// coveredBy returns the share of s that lies within o: 0 when they do not
// meet, 1 when o contains s (or s is an instant within o).
func (s span) coveredBy(o span) float64 {
	from, to := s.from, s.to
	if o.from.After(from) {
		from = o.from
	}
	if o.to.Before(to) {
		to = o.to
	}
	if to.Before(from) {
		return 0
	}
	length := s.to.Sub(s.from)
	if length <= 0 {
		return 1
	}
	return float64(to.Sub(from)) / float64(length)
}

func (s span) union(o span) span {
	if o.from.Before(s.from) {
		s.from = o.from
	}
	if o.to.After(s.to) {
		s.to = o.to
	}
	return s
}

// episode is a stretch of one stream during which one or more metrics
// stayed past their thresholds.
type episode struct {
	ref      streamRef
	span     span
	evidence []model.Evidence
	consumed bool
}

// hysteresis finds the intervals in which pts stay above enter: an
// interval opens at the first of enterN consecutive points above enter
// and closes at the last point before releaseN consecutive points at or
// below release. A lone spike therefore never opens one, and a metric
// that dips briefly stays in one interval.
func hysteresis(pts []model.Point, enter, release float64, enterN, releaseN int) [][2]int {
	var out [][2]int
	in := false
	run, start, lastHigh := 0, 0, 0
	for i, p := range pts {
		if !in {
			if p.Value > enter {
				if run == 0 {
					start = i
				}
				run++
				if run >= enterN {
					in, run, lastHigh = true, 0, i
				}
			} else {
				run = 0
			}
			continue
		}
		switch {
		case p.Value <= release:
			run++
			if run >= releaseN {
				out = append(out, [2]int{start, lastHigh})
				in, run = false, 0
			}
		case p.Value > enter:
			run, lastHigh = 0, i
		default:
			run = 0
		}
	}
	if in {
		out = append(out, [2]int{start, lastHigh})
	}
	return out
}

// lossSeries derives a loss-rate series from the lost and received packet
// rates, pairing samples by time.
func lossSeries(dst, lost, packets []model.Point) []model.Point {
	out := dst[:0]
	j := 0
	for _, l := range lost {
		for j < len(packets) && packets[j].Time.Before(l.Time) {
			j++
		}
		if j == len(packets) || !packets[j].Time.Equal(l.Time) {
			continue
		}
		total := packets[j].Value + l.Value
		v := 0.0
		if total > 0 {
			v = l.Value / total
		}
		out = append(out, model.Point{Time: l.Time, Value: v})
	}
	return out
}

// pooledLossSeries is lossSeries for a series that holds several RTP
// streams (a browser's streams of one media and direction, whose samples
// name no far end): it has one sample per stream at each time, and the
// lost and received samples of one stream cannot be told from the
// others', so the samples of one time are summed before the rate is taken.
func pooledLossSeries(dst, lost, packets []model.Point) []model.Point {
	out := dst[:0]
	i, j := 0, 0
	for i < len(lost) {
		t, l := lost[i].Time, lost[i].Value
		for i++; i < len(lost) && !lost[i].Time.After(t); i++ {
			l += lost[i].Value
		}
		for j < len(packets) && packets[j].Time.Before(t) {
			j++
		}
		if j == len(packets) || packets[j].Time.After(t) {
			continue
		}
		p := packets[j].Value
		for k := j + 1; k < len(packets) && !packets[k].Time.After(t); k++ {
			p += packets[k].Value
		}
		v := 0.0
		if total := p + l; total > 0 {
			v = l / total
		}
		out = append(out, model.Point{Time: t, Value: v})
	}
	return out
}

// worstPerTime keeps, of several samples of one time in a series that
// holds several RTP streams, the highest: the worst of the streams at that
// time.
func worstPerTime(dst, pts []model.Point) []model.Point {
	out := dst[:0]
	for _, p := range pts {
		if n := len(out); n > 0 && !p.Time.After(out[n-1].Time) {
			out[n-1].Value = max(out[n-1].Value, p.Value)
			continue
		}
		out = append(out, p)
	}
	return out
}

// episodes finds the threshold intervals of every stream's series and
// merges overlapping intervals of one stream into one episode.
func (d *run) episodes() []*episode {
	type key struct{ pid, stream string }
	streams := map[key]map[string][]model.Point{}
	var order []key
	for i := range d.in.Series {
		s := &d.in.Series[i]
		k := key{s.ParticipantID, s.StreamID}
		if streams[k] == nil {
			streams[k] = map[string][]model.Point{}
			order = append(order, k)
		}
		streams[k][s.Metric] = s.Points
	}
	r := d.rules
	en, rn := max(1, int(r.EnterPoints)), max(1, int(r.ReleasePoints))
	var out []*episode
	var scratch []model.Point
	for _, k := range order {
		m := streams[k]
		type hit struct {
			span span
			ev   model.Evidence
		}
		var hits []hit
		look := func(metric string, pts []model.Point, enter, release float64) {
			for _, iv := range hysteresis(pts, enter, release, en, rn) {
				peak, sum := pts[iv[0]].Value, 0.0
				for _, p := range pts[iv[0] : iv[1]+1] {
					peak = max(peak, p.Value)
					sum += p.Value
				}
				from, to := pts[iv[0]].Time, pts[iv[1]].Time
				mean := sum / float64(iv[1]-iv[0]+1)
				hits = append(hits, hit{span{from, to}, model.Evidence{Metric: metric, Value: ptr(round3(mean)), Op: ">",
					Threshold: ptr(enter), Source: srcSeries, RecordIDs: []string{}, From: &from, To: &to,
					Text: fmt.Sprintf("mean over %d samples, peak %g", iv[1]-iv[0]+1, round3(peak))}})
			}
		}
		jitter, rtt, loss := m[metricJitter], m[metricRTT], lossSeries
		if d.browser(k.pid) {
			// A browser's series hold all its streams of one media and
			// direction.
			jitter, rtt, loss = worstPerTime(nil, jitter), worstPerTime(nil, rtt), pooledLossSeries
		}
		look(metricJitter, jitter, r.SeriesJitterMs, r.SeriesJitterReleaseMs)
		look(metricRTT, rtt, r.SeriesRTTMs, r.SeriesRTTReleaseMs)
		if lost, pk := m[metricLost], m[metricPackets]; lost != nil && pk != nil {
			scratch = loss(scratch, lost, pk)
			look(metricLoss, scratch, r.SeriesLoss, r.SeriesLossRelease)
		}
		slices.SortFunc(hits, func(a, b hit) int { return a.span.from.Compare(b.span.from) })
		ref := parseStreamRef(k.pid, k.stream)
		var cur *episode
		for _, h := range hits {
			if cur != nil && cur.span.overlaps(h.span, 0) {
				cur.span = cur.span.union(h.span)
				cur.evidence = append(cur.evidence, h.ev)
				continue
			}
			cur = &episode{ref: ref, span: h.span, evidence: []model.Evidence{h.ev}}
			out = append(out, cur)
		}
	}
	return out
}

// covered reports whether participant pid has series for the metrics
// behind an aggregate poor-stream issue on media and dir, so that the
// series' intervals supersede the whole-call aggregate. A browser's series
// supersede only when they are long enough to open an interval: its
// aggregates come from the same statistics, and a dump a few seconds long
// has a sample or two, too few to judge.
func (d *run) covered(pid string, media model.MediaType, dir model.Direction) bool {
	for i := range d.in.Series {
		s := &d.in.Series[i]
		if s.ParticipantID != pid {
			continue
		}
		ref := parseStreamRef(pid, s.StreamID)
		if ref.media == media && ref.dir == dir {
			switch s.Metric {
			case metricJitter, metricRTT, metricLost:
				if d.browser(pid) && distinctTimes(s.Points) < max(1, int(d.rules.EnterPoints)) {
					continue
				}
				return true
			}
		}
	}
	return false
}

// distinctTimes counts the sample times of a series.
func distinctTimes(pts []model.Point) int {
	n := 0
	for i := range pts {
		if i == 0 || !pts[i].Time.Equal(pts[i-1].Time) {
			n++
		}
	}
	return n
}
