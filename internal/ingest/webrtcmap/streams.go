package webrtcmap

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"calldiag/internal/ingest/webrtc"
	"calldiag/internal/model"
)

// reading is what one snapshot says of one RTP stream; a field is NaN when
// the snapshot does not say.
type reading struct {
	t                time.Time
	packets, lost    float64 // cumulative: received (inbound) or sent (outbound); lost as reported
	bytes            float64 // cumulative
	jitterMs, rttMs  float64
	fps, height      float64
	freezeS          float64 // cumulative totalFreezesDuration
	concealed, total float64 // cumulative concealed and received audio samples
	jbDelay, jbCount float64 // cumulative jitter-buffer delay (s) and emitted samples
	rttTotal, rttN   float64 // cumulative round trip (s) and measurements, from RTCP
	limitation       string  // qualityLimitationReason of an outbound video stream
	poll             time.Time
}

// rtpStream is one RTP stream of a peer connection over the snapshots.
type rtpStream struct {
	key       string // report id
	ssrc      string
	media     model.MediaType
	dir       model.Direction
	codec     string
	transport string
	readings  []reading
	// remote is the participant at the far end, when known.
	remote string
}

var nan = math.NaN()

// streamsOf gathers the RTP streams of a peer connection from its
// snapshots, in the order they first appear.
func streamsOf(pc *webrtc.PeerConnection, f webrtc.Features) []*rtpStream {
	byKey := map[string]*rtpStream{}
	var order []*rtpStream
	transport := strings.ToUpper(f.SelectedPair.LocalProtocol)
	if f.SelectedPair.LocalType == "relay" && transport != "" {
		transport = "RELAY-" + transport
	}
	for _, snap := range pc.Snapshots {
		for id, r := range snap.Reports {
			dir, ok := direction(id, r)
			if !ok {
				continue
			}
			s := byKey[id]
			if s == nil {
				s = &rtpStream{key: id, dir: dir, transport: transport, ssrc: r.Text("ssrc")}
				byKey[id] = s
				order = append(order, s)
			}
			if s.media == "" {
				s.media = mediaOf(r)
			}
			if s.codec == "" {
				s.codec = codecOf(snap, r)
			}
			s.readings = append(s.readings, readingOf(snap, id, r, dir))
		}
	}
	// A stream that never carried a packet (a receiver set up for a
	// sender that never came) says nothing about the call.
	kept := order[:0]
	for _, s := range order {
		slices.SortStableFunc(s.readings, func(a, b reading) int { return a.t.Compare(b.t) })
		if s.media == "" {
			s.media = model.MediaAudio
		}
		if slices.ContainsFunc(s.readings, func(x reading) bool { return x.packets > 0 }) {
			kept = append(kept, s)
		}
	}
	order = kept
	// Reports of a map come in no order: streams are ordered by their
	// first reading, then id.
	slices.SortFunc(order, func(a, b *rtpStream) int {
		return cmp.Or(a.readings[0].t.Compare(b.readings[0].t), strings.Compare(a.key, b.key))
	})
	return order
}

// direction tells whether a report is an RTP stream, and which way it
// goes as the recording browser sees it.
func direction(id string, r webrtc.Report) (model.Direction, bool) {
	switch r.Type {
	case "inbound-rtp":
		return model.DirInbound, true
	case "outbound-rtp":
		return model.DirOutbound, true
	case "ssrc":
		switch {
		case strings.HasSuffix(id, "_recv"):
			return model.DirInbound, true
		case strings.HasSuffix(id, "_send"):
			return model.DirOutbound, true
		}
		if _, ok := r.Number("packetsReceived"); ok {
			return model.DirInbound, true
		}
		if _, ok := r.Number("packetsSent"); ok {
			return model.DirOutbound, true
		}
	}
	return "", false
}

func mediaOf(r webrtc.Report) model.MediaType {
	k := strings.ToLower(first(r.Text("kind"), r.Text("mediaType")))
	switch {
	case k == "video" && strings.Contains(strings.ToLower(r.Text("contentType")), "screenshare"):
		return model.MediaScreenshare
	case k == "video":
		return model.MediaVideo
	case k == "audio":
		return model.MediaAudio
	}
	return ""
}

func codecOf(snap webrtc.Snapshot, r webrtc.Report) string {
	if c, ok := snap.Reports[r.Text("codecId")]; ok {
		return strings.TrimPrefix(strings.TrimPrefix(c.Text("mimeType"), "audio/"), "video/")
	}
	return r.Text("googCodecName")
}

// num reads the first of several fields a report has, scaled.
func num(r webrtc.Report, scale float64, fields ...string) float64 {
	for _, f := range fields {
		if v, ok := r.Number(f); ok {
			return v * scale
		}
	}
	return nan
}

func readingOf(snap webrtc.Snapshot, id string, r webrtc.Report, dir model.Direction) reading {
	t := r.Time
	if t.IsZero() {
		t = snap.Time
	}
	x := reading{t: t, poll: snap.Time, rttMs: nan, jitterMs: nan, fps: nan, height: nan, freezeS: nan, concealed: nan, total: nan,
		jbDelay: nan, jbCount: nan, lost: nan, rttTotal: nan, rttN: nan}
	legacy := r.Type == "ssrc"
	if dir == model.DirInbound {
		x.packets = num(r, 1, "packetsReceived")
		x.bytes = num(r, 1, "bytesReceived")
		x.lost = num(r, 1, "packetsLost")
		if legacy {
			x.jitterMs = num(r, 1, "googJitterReceived")
			x.fps = num(r, 1, "googFrameRateReceived", "googFrameRateDecoded")
			x.height = num(r, 1, "googFrameHeightReceived")
			x.jbDelay = nan
		} else {
			x.jitterMs = num(r, 1000, "jitter")
			x.fps = num(r, 1, "framesPerSecond")
			x.height = num(r, 1, "frameHeight")
			x.freezeS = num(r, 1, "totalFreezesDuration")
			x.concealed = num(r, 1, "concealedSamples")
			x.total = num(r, 1, "totalSamplesReceived")
			x.jbDelay = num(r, 1, "jitterBufferDelay")
			x.jbCount = num(r, 1, "jitterBufferEmittedCount")
		}
		return x
	}
	x.packets = num(r, 1, "packetsSent")
	x.bytes = num(r, 1, "bytesSent")
	if legacy {
		x.lost = num(r, 1, "packetsLost")
		x.rttMs = num(r, 1, "googRtt")
		x.fps = num(r, 1, "googFrameRateSent")
		x.height = num(r, 1, "googFrameHeightSent")
		return x
	}
	x.fps = num(r, 1, "framesPerSecond")
	x.height = num(r, 1, "frameHeight")
	x.limitation = r.Text("qualityLimitationReason")
	remote, ok := snap.Reports[r.Text("remoteId")]
	if !ok {
		for _, o := range snap.Reports {
			if o.Type == "remote-inbound-rtp" && o.Text("localId") == id {
				remote, ok = o, true
				break
			}
		}
	}
	if ok {
		x.lost = num(remote, 1, "packetsLost")
		x.jitterMs = num(remote, 1000, "jitter")
		x.rttMs = num(remote, 1000, "roundTripTime")
		x.rttTotal = num(remote, 1, "totalRoundTripTime")
		x.rttN = num(remote, 1, "roundTripTimeMeasurements")
	}
	return x
}

// Media-stats metric names, as the ACS web SDK spells its own.
const (
	mPackets    = "PacketsPerSecond"
	mLost       = "PacketsLostPerSecond"
	mJitter     = "JitterInMs"
	mRTT        = "RttInMs"
	mBitrate    = "Bitrate"
	mFPS        = "FrameRate"
	mHeight     = "FrameHeight"
	mFreeze     = "FreezeDurationInMs"
	mHealed     = "HealedRatio"
	mJitterBuf  = "JitterBufferInMs"
	bucketWidth = 10 * time.Second
)

// metricOrder lists the metrics in the order their samples are written.
var metricOrder = []string{mPackets, mLost, mJitter, mRTT, mBitrate, mFPS, mHeight, mFreeze, mHealed, mJitterBuf}

// acc sums a metric over a bucket, or a stream.
type acc struct {
	n, sum, min, max float64
}

func (a *acc) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	a.sum += v
}

func (a *acc) mean() *float64 {
	if a.n == 0 {
		return nil
	}
	v := a.sum / a.n
	return &v
}

func (a *acc) maximum() *float64 {
	if a.n == 0 {
		return nil
	}
	v := a.max
	return &v
}

// delta is b−a of a cumulative counter, or NaN when either is unknown or
// the counter went back (a reset).
func delta(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b < a {
		return nan
	}
	return b - a
}

// stream writes one RTP stream: its aggregates as a stream row and its
// intervals as 10-second samples, and a client operation at each change of
// an outbound video stream's quality limitation.
func (m *mapper) stream(pc *webrtc.PeerConnection, s *rtpStream) error {
	buckets := map[int64]map[string]*acc{}
	whole := map[string]*acc{}
	// A collector batch starts with the last snapshot of the batch before
	// (when there was one), so that the interval between them is measured
	// too; that snapshot's own values belong to the batch before, and each
	// later snapshot is a point of its own at the poll's time, so that no
	// two batches write a point at one time. A dump's polls go in
	// 10-second buckets.
	collector := m.id.Seq > 0
	when := func(x reading) time.Time {
		if collector && !x.poll.IsZero() {
			return x.poll
		}
		return x.t
	}
	note := func(t time.Time, metric string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		b := t.Truncate(bucketWidth).UnixNano()
		if collector {
			b = t.UnixNano()
		}
		if buckets[b] == nil {
			buckets[b] = map[string]*acc{}
		}
		if buckets[b][metric] == nil {
			buckets[b][metric] = &acc{}
		}
		buckets[b][metric].add(v)
		if whole[metric] == nil {
			whole[metric] = &acc{}
		}
		whole[metric].add(v)
	}
	var lossRates acc // per interval: lost ÷ (received + lost), or lost ÷ sent
	var lostTotal, pktTotal, freezeTotal, concealTotal, samplesTotal, jbDelayTotal, jbCountTotal, seconds float64
	limitation := ""
	for i, x := range s.readings {
		if collector && i == 0 {
			limitation = x.limitation
			continue
		}
		note(when(x), mJitter, x.jitterMs)
		note(when(x), mRTT, x.rttMs)
		if s.media != model.MediaAudio {
			if x.fps > 0 {
				note(when(x), mFPS, x.fps)
			}
			if x.height > 0 {
				note(when(x), mHeight, x.height)
			}
		}
		if s.dir == model.DirOutbound && x.limitation != "" && x.limitation != limitation {
			if i > 0 || x.limitation != "none" {
				if err := m.limitationChange(pc, s, x, limitation); err != nil {
					return err
				}
			}
			limitation = x.limitation
		}
		if i == 0 {
			continue
		}
		p := s.readings[i-1]
		dt := x.t.Sub(p.t).Seconds()
		if dt <= 0 {
			continue
		}
		seconds += dt
		dp, dl := delta(p.packets, x.packets), x.lost-p.lost
		if !math.IsNaN(dp) {
			note(when(x), mPackets, dp/dt)
			pktTotal += dp
		}
		if !math.IsNaN(dl) {
			dl = max(dl, 0)
			note(when(x), mLost, dl/dt)
			lostTotal += dl
			if !math.IsNaN(dp) {
				den := dp
				if s.dir == model.DirInbound {
					den = dp + dl
				}
				if den > 0 {
					lossRates.add(min(dl/den, 1))
				}
			}
		}
		if db := delta(p.bytes, x.bytes); !math.IsNaN(db) {
			note(when(x), mBitrate, db*8/dt)
		}
		if s.dir == model.DirInbound {
			if df := delta(p.freezeS, x.freezeS); !math.IsNaN(df) && s.media != model.MediaAudio {
				note(when(x), mFreeze, df*1000)
				freezeTotal += df * 1000
			}
			if dc, dn := delta(p.concealed, x.concealed), delta(p.total, x.total); !math.IsNaN(dc) && dn > 0 && s.media == model.MediaAudio {
				note(when(x), mHealed, min(dc/dn, 1))
				concealTotal += dc
				samplesTotal += dn
			}
			if dd, dn := delta(p.jbDelay, x.jbDelay), delta(p.jbCount, x.jbCount); !math.IsNaN(dd) && dn > 0 {
				note(when(x), mJitterBuf, dd/dn*1000)
				jbDelayTotal += dd
				jbCountTotal += dn
			}
		}
	}
	row := &model.StreamRow{ParticipantID: m.id.ParticipantID, RawParticipantID: m.id.ParticipantID,
		Identifier: m.id.Label, EndpointType: model.EndpointVoIP, RawEndpointType: "Browser", MediaType: s.media,
		RawMediaType: string(s.media), ACSStreamID: pc.ID + ":" + first(s.ssrc, s.key), Direction: s.dir,
		TransportType: s.transport, Codec: s.codec, Version: m.version}
	get := func(k string) *acc {
		if a := whole[k]; a != nil {
			return a
		}
		return &acc{}
	}
	row.JitterAvgMs, row.JitterMaxMs = get(mJitter).mean(), get(mJitter).maximum()
	row.RoundTripTimeAvgMs, row.RoundTripTimeMaxMs = get(mRTT).mean(), get(mRTT).maximum()
	den := pktTotal
	if s.dir == model.DirInbound {
		den += lostTotal
	}
	if den > 0 {
		rate := min(lostTotal/den, 1)
		row.PacketLossRateAvg = &rate
		row.PacketLossRateMax = lossRates.maximum()
	}
	if jbCountTotal > 0 {
		v := jbDelayTotal / jbCountTotal * 1000
		row.JitterBufferAvgMs = &v
	}
	row.JitterBufferMaxMs = get(mJitterBuf).maximum()
	if samplesTotal > 0 {
		v := concealTotal / samplesTotal
		row.HealedDataRatioAvg = &v
		row.HealedDataRatioMax = get(mHealed).maximum()
	}
	if s.media != model.MediaAudio {
		row.VideoFrameRateAvg = get(mFPS).mean()
		if s.dir == model.DirInbound {
			row.RecvResolutionHeight = get(mHeight).mean()
			if seconds > 0 && whole[mFreeze] != nil {
				v := freezeTotal / (seconds / 60)
				row.RecvFreezeMsPerMin = &v
			}
		}
		row.VideoBitRateAvg, row.VideoBitRateMax = get(mBitrate).mean(), get(mBitrate).maximum()
	}
	if m.id.Seq > 0 {
		m.wholeStream(row, s, pc)
	}
	first, last := time.Time{}, time.Time{}
	if n := len(s.readings); n > 0 {
		first, last = s.readings[0].t, s.readings[n-1].t
	}
	raw := map[string]any{"pc": pc.ID, "report": s.key, "ssrc": s.ssrc, "mediaType": string(s.media),
		"direction": string(s.dir), "codec": s.codec, "transport": s.transport, "first": first, "last": last,
		"readings": len(s.readings), "packets": pktTotal, "lost": lostTotal}
	if m.id.Seq > 0 {
		raw["seq"] = m.id.Seq
	}
	if err := m.add(model.CatWebRTCStream, last, raw, func(r *model.Record) { r.Stream = row }); err != nil {
		return err
	}
	m.collect(s, buckets)
	return nil
}

// wholeStream sets the aggregates that the stream's cumulative counters
// give for its whole life from its last reading: loss, concealment,
// jitter-buffer delay, the round trip of RTCP and freezes per minute.
// A collector batch holds a few seconds of a stream, but its counters
// count from the stream's start, so its row stands for the whole stream
// all the same. (A whole dump keeps the sums of its intervals, which
// cover what it recorded.)
func (m *mapper) wholeStream(row *model.StreamRow, s *rtpStream, pc *webrtc.PeerConnection) {
	if len(s.readings) == 0 {
		return
	}
	x := s.readings[len(s.readings)-1]
	ok := func(vs ...float64) bool {
		for _, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
		return true
	}
	lost := max(x.lost, 0)
	switch {
	case s.dir == model.DirInbound && ok(x.packets, x.lost) && x.packets+lost > 0:
		v := lost / (x.packets + lost)
		row.PacketLossRateAvg = &v
	case s.dir == model.DirOutbound && ok(x.packets, x.lost) && x.packets > 0:
		v := min(lost/x.packets, 1)
		row.PacketLossRateAvg = &v
	}
	if row.PacketLossRateAvg != nil && (row.PacketLossRateMax == nil || *row.PacketLossRateMax < *row.PacketLossRateAvg) {
		v := *row.PacketLossRateAvg
		row.PacketLossRateMax = &v
	}
	if s.media == model.MediaAudio && ok(x.concealed, x.total) && x.total > 0 {
		v := min(x.concealed/x.total, 1)
		row.HealedDataRatioAvg = &v
		if row.HealedDataRatioMax == nil || *row.HealedDataRatioMax < v {
			row.HealedDataRatioMax = &v
		}
	}
	if ok(x.jbDelay, x.jbCount) && x.jbCount > 0 {
		v := x.jbDelay / x.jbCount * 1000
		row.JitterBufferAvgMs = &v
	}
	if ok(x.rttTotal, x.rttN) && x.rttN > 0 {
		v := x.rttTotal / x.rttN * 1000
		row.RoundTripTimeAvgMs = &v
		if row.RoundTripTimeMaxMs == nil || *row.RoundTripTimeMaxMs < v {
			row.RoundTripTimeMaxMs = &v
		}
	}
	if s.media != model.MediaAudio && s.dir == model.DirInbound && ok(x.freezeS) {
		start := s.readings[0].t
		if created, _ := setupTimes(pc); !created.IsZero() && created.Before(start) {
			start = created
		}
		if minutes := x.t.Sub(start).Minutes(); minutes > 0 {
			v := x.freezeS * 1000 / minutes
			row.RecvFreezeMsPerMin = &v
		}
	}
}

// seriesKey groups the streams whose samples make one series: a
// participant's streams of one media type and direction (towards one far
// end, when known), whichever peer connection or simulcast layer carries
// them, as a media-stats series of ACS does.
type seriesKey struct {
	media  model.MediaType
	dir    model.Direction
	remote string
}

// collect keeps a stream's 10-second buckets for its series, written by
// samples once every stream is in.
func (m *mapper) collect(s *rtpStream, buckets map[int64]map[string]*acc) {
	if m.series == nil {
		m.series = map[seriesKey]map[int64]map[string][]*acc{}
	}
	k := seriesKey{s.media, s.dir, s.remote}
	if m.series[k] == nil {
		m.series[k] = map[int64]map[string][]*acc{}
	}
	for b, metrics := range buckets {
		if m.series[k][b] == nil {
			m.series[k][b] = map[string][]*acc{}
		}
		for metric, a := range metrics {
			m.series[k][b][metric] = append(m.series[k][b][metric], a)
		}
	}
}

// combine is one bucket's value of a series from its streams' values:
// rates add up (so the derived loss rate is the share of all packets
// lost), anything else takes the worst or best stream as detection reads
// it: the highest jitter, round trip, freeze and concealment, and the
// highest frame rate and height (the top simulcast layer).
func combine(metric string, as []*acc) (avg, lo, hi, n float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, a := range as {
		mean := a.sum / a.n
		n += a.n
		lo, hi = min(lo, a.min), max(hi, a.max)
		switch metric {
		case mPackets, mLost, mBitrate:
			avg += mean
		default:
			if i == 0 || mean > avg {
				avg = mean
			}
		}
	}
	return avg, lo, hi, n
}

// samples writes the series as media-stats samples, one per metric and
// bucket.
func (m *mapper) samples() error {
	keys := make([]seriesKey, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return cmp.Or(strings.Compare(string(a.media), string(b.media)), strings.Compare(string(a.dir), string(b.dir)),
			strings.Compare(a.remote, b.remote))
	})
	width := bucketWidth.Seconds()
	interval := &width
	if m.id.Seq > 0 {
		interval = nil // a collector's points are polls, not buckets
	}
	for _, k := range keys {
		buckets := make([]int64, 0, len(m.series[k]))
		for b := range m.series[k] {
			buckets = append(buckets, b)
		}
		slices.Sort(buckets)
		stream := string(k.media) + "-" + string(k.dir)
		for _, b := range buckets {
			t := time.Unix(0, b).UTC()
			for _, metric := range metricOrder {
				as := m.series[k][b][metric]
				if len(as) == 0 {
					continue
				}
				avg, lo, hi, count := combine(metric, as)
				sum := avg * count
				smp := &model.Sample{ParticipantID: m.id.ParticipantID, ClientInstanceID: m.id.Session,
					RemoteParticipantID: k.remote, MediaStreamID: stream, MediaType: k.media, Direction: k.dir,
					Metric: metric, ClientTime: t, Count: &count, Sum: &sum, Average: &avg, Minimum: &lo, Maximum: &hi,
					IntervalSeconds: interval}
				raw := map[string]any{"stream": stream, "remote": k.remote, "metric": metric, "time": t,
					"streams": len(as), "count": count, "average": avg, "minimum": lo, "maximum": hi}
				if m.id.Seq > 0 {
					raw["seq"] = m.id.Seq
				}
				if err := m.add(model.CatWebRTCStats, t, raw, func(r *model.Record) { r.Sample = smp }); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// limitationChange records that an outbound video stream's encoder became
// limited (by bandwidth, CPU or other) or was no longer.
func (m *mapper) limitationChange(pc *webrtc.PeerConnection, s *rtpStream, x reading, was string) error {
	streamID := pc.ID + ":" + first(s.ssrc, s.key)
	op := &model.Operation{Name: "qualityLimitationChange", Type: "webrtc", OperationID: pc.ID,
		ParticipantID: m.id.ParticipantID, ClientInstanceID: m.id.Session, ClientTime: x.t.UTC(),
		ResultType: x.limitation, SDKVersion: m.browser, UserAgent: m.d.UserAgent,
		Payload: pc.ID + " " + string(s.media) + " " + first(s.ssrc, s.key) + ": " + first(was, "none") + " → " + x.limitation}
	raw := map[string]any{"event": "qualityLimitationChange", "pc": pc.ID, "stream": streamID, "time": x.t,
		"from": was, "to": x.limitation}
	return m.add(model.CatWebRTCEvent, x.t, raw, func(r *model.Record) { r.Operation = op })
}

// Browser names the browser and the operating system of a user agent:
// "Chrome 99.0.4844.51" and "Windows 10".
func Browser(ua string) (browser, os string) {
	version := func(token string) string {
		i := strings.Index(ua, token)
		if i < 0 {
			return ""
		}
		rest := ua[i+len(token):]
		if j := strings.IndexAny(rest, " ;)"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	switch {
	case strings.Contains(ua, "Edg/"):
		browser = "Edge " + version("Edg/")
	case strings.Contains(ua, "OPR/"):
		browser = "Opera " + version("OPR/")
	case strings.Contains(ua, "Firefox/"):
		browser = "Firefox " + version("Firefox/")
	case strings.Contains(ua, "Chrome/"):
		browser = "Chrome " + version("Chrome/")
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		browser = "Safari " + version("Version/")
	}
	switch {
	case strings.Contains(ua, "Windows NT 10.0"):
		os = "Windows 10"
	case strings.Contains(ua, "Windows NT"):
		os = "Windows " + version("Windows NT ")
	case strings.Contains(ua, "Android"):
		os = "Android " + version("Android ")
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		os = "iOS " + strings.ReplaceAll(version("OS "), "_", ".")
	case strings.Contains(ua, "Mac OS X"):
		os = "macOS " + strings.ReplaceAll(version("Mac OS X "), "_", ".")
	case strings.Contains(ua, "CrOS"):
		os = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		os = "Linux"
	}
	return strings.TrimSpace(browser), strings.TrimSpace(os)
}
