package simulate

import (
	"math"
	"strconv"
	"time"
)

// This file turns the planned call into records, one function per category.

// participantField writes a leg's participantId: the id in group calls
// (with the occasional stray leading space real exports show when spaced
// is set), a null in P2P calls.
func (c *call) participantField(w *line, key string, l *leg, spaced bool) {
	if l.participantID == "" {
		w.null(key)
		return
	}
	if spaced && chance(c.r, 0.005) {
		w.str(key, " "+l.participantID)
		return
	}
	w.str(key, l.participantID)
}

// variant returns k with its first letter's case flipped when alt is set:
// exports spell the newer columns both ways.
func variant(k string, alt bool) string {
	if !alt || k == "" {
		return k
	}
	b := []byte(k)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	} else if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

func (c *call) updatesVersion(w *line, v int) {
	if chance(c.r, 0.5) {
		w.integer("callupdatesversion", int64(v))
	} else {
		w.integer("CallUpdatesVersion", int64(v))
	}
}

func (s *stream) codec() string {
	switch {
	case s.media == mediaAudio && (s.owner.kind == kindPSTN && s.send):
		return "G722"
	case s.media == mediaAudio:
		return "OPUS"
	case s.remote != nil:
		return s.remote.videoCodec
	}
	return s.owner.videoCodec
}

// statStatic holds the parts of a stream's media stats records that do not
// change from one record to the next, pre-encoded: they are most of every
// record, and media stats are most of the records.
type statStatic struct {
	head []byte    // from "resourceId" to the opening quote of CallClientTimeStamp
	tail [2][]byte // from MediaStreamDirection to RemoteEndpointId; [1] spells null as "null"
}

func (c *call) statStatic(s *stream) *statStatic {
	l := s.owner
	st := &statStatic{}
	w := &c.w
	w.reset(false, false)
	w.str("resourceId", c.g.res[l.res].id)
	w.str("category", catMediaStats)
	w.str("operationName", catMediaStats)
	w.str("operationVersion", "1.0")
	w.str("correlationId", c.id)
	w.str("level", "Informational")
	w.open("properties")
	w.str("CallId", c.id)
	w.key("CallClientTimeStamp")
	st.head = append([]byte{','}, w.b[1:]...)
	st.head = append(st.head, '"')
	for i := range st.tail {
		w.reset(false, i == 1)
		if s.send {
			w.str("MediaStreamDirection", "send")
		} else {
			w.str("MediaStreamDirection", "recv")
		}
		w.str("MediaStreamType", s.media.statsType())
		w.str("MediaStreamCodec", s.codec())
		if l.participantID == "" {
			w.null("ParticipantId")
		} else {
			w.str("ParticipantId", l.participantID)
		}
		w.str("ClientInstanceId", l.clientID)
		w.str("EndpointId", l.endpointID)
		if s.remote != nil {
			if s.remote.participantID != "" {
				w.str("RemoteParticipantId", s.remote.participantID)
			}
			w.str("RemoteEndpointId", s.remote.endpointID)
		}
		st.tail[i] = append([]byte{','}, w.b[1:]...)
	}
	return st
}

func (c *call) emitStat(s *stream, st *statStatic, at, ts time.Time, metric string, n int, sum, mn, mx float64) error {
	w := &c.w
	w.reset(chance(c.r, 0.7), chance(c.r, 0.5))
	w.ts("time", at)
	w.b = append(w.b, st.head...)
	w.b = appendTime(w.b, ts)
	w.b = append(w.b, `","MetricName":"`...)
	w.b = append(w.b, metric...)
	w.b = append(w.b, '"')
	w.depth = 1
	w.integer("Count", int64(n))
	w.real("Sum", sum)
	w.real("Average", sum/float64(n))
	w.real("Minimum", mn)
	w.real("Maximum", mx)
	w.b = append(w.b, st.tail[b2i(w.nullStr)]...)
	w.integer("AggregationIntervalSeconds", 10)
	return c.emit(catMediaStats, s.owner.res, at)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// emitDiagnostics writes one stream row as it matures: an early update
// with the newer columns still empty (for most rows), a complete update,
// and the final CallDiagnostics row hours later. Each copy can be lost.
func (c *call) emitDiagnostics(a *acc) error {
	r := c.r
	l := a.leg
	if chance(r, 0.6) && !chance(r, 0.015) {
		if err := c.diagRow(a, 1, l.end.Add(secs(uniform(r, 120, 900)))); err != nil {
			return err
		}
	}
	if !chance(r, 0.015) {
		if err := c.diagRow(a, 2, l.end.Add(secs(uniform(r, 900, 3000)))); err != nil {
			return err
		}
	}
	if !chance(r, 0.015) {
		return c.diagRow(a, 0, c.end.Add(secs(uniform(r, 3*3600, 5*3600))))
	}
	return nil
}

func (c *call) diagRow(a *acc, version int, at time.Time) error {
	r := c.r
	l := a.leg
	cat := catDiagnostics
	if version > 0 {
		cat = catDiagnosticsUpdates
	}
	w := c.begin(l.res, at, cat, "CallDiagnostics", "1.0", c.id)
	server := !a.send
	switch {
	case server && chance(r, 0.5):
		w.jsonNull("identifier")
	case server:
		w.null("identifier")
	default:
		w.strOrNull("identifier", l.identifier)
	}
	c.participantField(w, "participantId", l, true)
	switch {
	case server:
		w.jsonNull("endpointId")
		w.str("endpointType", "Server")
	default:
		w.str("endpointId", l.endpointID)
		if l.kind == kindPSTN {
			w.str("endpointType", "PSTN")
		} else {
			w.str("endpointType", "VoIP")
		}
	}
	w.str("mediaType", a.media.diagType())
	w.integer("streamId", a.streamID)
	if l.tcp {
		w.str("transportType", "TCP")
	} else {
		w.str("transportType", "UDP")
	}
	has := a.n > 0
	n := math.Max(a.n, 1)
	w.optInt("roundTripTimeAvg", a.rttSum/n, has)
	w.optInt("roundTripTimeMax", a.rttMax, has)
	w.optInt("jitterAvg", a.jitSum/n, has)
	w.optInt("jitterMax", a.jitMax, has)
	w.optReal("packetLossRateAvg", sig7(a.lossSum/math.Max(a.lossN, 1)), a.lossN > 0)
	w.optReal("packetLossRateMax", sig7(a.lossMax), a.lossN > 0)
	full := version != 1
	alt := chance(r, 0.15)
	k := func(s string) string { return variant(s, alt) }
	inAudio := server && a.media == mediaAudio
	visual := a.media != mediaAudio
	w.optInt(k("JitterBufferSizeAvg"), a.jbSum/n, full && has && inAudio)
	w.optInt(k("JitterBufferSizeMax"), a.jbMax, full && has && inAudio)
	w.optReal(k("HealedDataRatioAvg"), sig7(a.healSum/n), full && has && inAudio)
	w.optReal(k("HealedDataRatioMax"), a.healMax, full && has && inAudio)
	w.optReal(k("VideoFrameRateAvg"), math.Round(a.fpsSum/n*100)/100, full && has && visual)
	w.optInt(k("RecvResolutionHeight"), a.heightSum/n, full && has && visual && server)
	w.optReal(k("RecvFreezeDurationPerMinuteInMs"), math.Round(a.freezeSum/n*60*10)/10, full && has && visual && server)
	w.optInt(k("PacketUtilization"), a.packets, full)
	w.optInt(k("VideoBitRateAvg"), a.brSum/n, full && has && visual)
	w.optInt(k("VideoBitRateMax"), a.brMax, full && has && visual)
	if server {
		w.str(k("StreamDirection"), "Inbound")
	} else {
		w.str(k("StreamDirection"), "Outbound")
	}
	switch {
	case a.media == mediaAudio && l.kind == kindPSTN && !server:
		w.str(k("CodecName"), "G722")
	case a.media == mediaAudio:
		w.str(k("CodecName"), "OPUS")
	default:
		w.str(k("CodecName"), l.videoCodec)
	}
	if chance(r, 0.7) {
		w.boolean("TPE", false)
	}
	if version > 0 {
		c.updatesVersion(w, version)
	}
	return c.emit(cat, l.res, at)
}

// sig7 rounds to seven significant digits, the precision the logs use.
func sig7(v float64) float64 {
	if v == 0 {
		return 0
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'G', 7, 64), 64)
	return f
}

// emitSummaries writes a leg's CallSummaryUpdates versions (the first with
// fields still null, later ones complete, now and then one arriving a day
// late) and its final CallSummary row 3–5 hours after the call.
func (c *call) emitSummaries(l *leg) error {
	r := c.r
	t1 := l.end.Add(secs(uniform(r, 60, 600)))
	if err := c.summaryRow(l, 1, t1); err != nil {
		return err
	}
	t2 := l.end.Add(secs(uniform(r, 600, 2400)))
	if err := c.summaryRow(l, 2, t2); err != nil {
		return err
	}
	v := 2
	if chance(r, 0.3) {
		t3 := c.end.Add(secs(uniform(r, 1200, 3300)))
		if min := t2.Add(secs(uniform(r, 120, 600))); t3.Before(min) {
			t3 = min
		}
		v = 3
		if err := c.summaryRow(l, v, t3); err != nil {
			return err
		}
	}
	if chance(r, 0.02) {
		if err := c.summaryRow(l, v+1, c.end.Add(secs(uniform(r, 6*3600, 30*3600)))); err != nil {
			return err
		}
	}
	if chance(r, 0.005) {
		return nil // the final row was lost
	}
	return c.summaryRow(l, 0, c.end.Add(secs(uniform(r, 3*3600, 5*3600))))
}

func (c *call) summaryRow(l *leg, version int, at time.Time) error {
	r := c.r
	cat := catSummary
	if version > 0 {
		cat = catSummaryUpdates
	}
	early := version == 1
	w := c.begin(l.res, at, cat, "CallSummary", "1.0", c.id)
	w.strOrNull("identifier", l.identifier)
	w.ts("callStartTime", c.start)
	if early || at.Before(c.end) {
		w.null("callDuration")
	} else {
		strNums := w.strNums
		w.strNums = chance(r, 0.2) // usually a number, as in the samples
		w.integer("callDuration", int64(math.Round(c.end.Sub(c.start).Seconds())))
		w.strNums = strNums
	}
	if c.p2p {
		w.str("callType", "P2P")
	} else {
		w.str("callType", "Group")
	}
	w.strOrNull("teamsThreadId", c.thread)
	c.participantField(w, "participantId", l, true)
	w.ts("participantStartTime", l.join)
	w.integer("participantDuration", int64(math.Round(l.end.Sub(l.join).Seconds())))
	w.str("participantEndReason", strconv.Itoa(l.endCode))
	alt := chance(r, 0.3)
	if early || l.endSub < 0 {
		w.null(variant("ParticipantEndSubCode", alt))
	} else {
		w.integer(variant("ParticipantEndSubCode", alt), int64(l.endSub))
	}
	if early {
		w.null(variant("ResultCategory", alt))
	} else {
		w.str(variant("ResultCategory", alt), l.resultCategory)
	}
	w.str("endpointId", l.endpointID)
	switch l.kind {
	case kindPSTN:
		w.str("endpointType", "PSTN")
	case kindBot:
		if chance(r, 0.2) {
			w.str("endpointType", "BOT")
		} else {
			w.str("endpointType", "Bot")
		}
	default:
		if chance(r, 0.1) {
			w.str("endpointType", "VOIP")
		} else {
			w.str("endpointType", "VoIP")
		}
	}
	if early {
		w.null("sdkVersion")
		w.null("osVersion")
	} else {
		w.strOrNull("sdkVersion", l.sdk)
		w.strOrNull("osVersion", l.os)
	}
	if l.tenantID != "" {
		w.str("participantTenantId", l.tenantID)
	}
	w.str("participantType", l.partType)
	if l.diagOptions != "" {
		w.str(variant("DiagnosticOptions", alt), l.diagOptions)
	}
	if chance(r, 0.7) {
		w.boolean("TPE", false)
	}
	if version > 0 {
		c.updatesVersion(w, version)
	}
	return c.emit(cat, l.res, at)
}
