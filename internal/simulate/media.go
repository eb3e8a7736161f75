package simulate

import (
	"math"
	"time"
)

// mediaKind is the kind of media a stream carries.
type mediaKind uint8

const (
	mediaAudio mediaKind = iota
	mediaVideo
	mediaScreen
)

// statsType is the MediaStreamType spelling of media stats.
func (m mediaKind) statsType() string {
	return [...]string{"audio", "video", "screen"}[m]
}

// diagType is the MediaType spelling of call diagnostics.
func (m mediaKind) diagType() string {
	return [...]string{"Audio", "Video", "VBSS"}[m]
}

type metricID uint8

const (
	metBitrate metricID = iota
	metPackets
	metLost
	metRTT
	metJitter
	metJitterBuffer
	metHealed
	metFPSSent
	metFPSReceived
	metHeight
)

var metricNames = [...]string{"Bitrate", "PacketsPerSecond", "PacketsLostPerSecond", "RttInMs",
	"JitterInMs", "JitterBufferInMs", "HealedRatio", "FrameRateSent", "FrameRateReceived",
	"FrameHeightReceived"}

// The metrics each stream reports: five each, so that large calls stay
// manageable.
var (
	audioSendMetrics = []metricID{metBitrate, metPackets, metLost, metRTT, metJitter}
	audioRecvMetrics = []metricID{metPackets, metLost, metJitter, metJitterBuffer, metHealed}
	videoSendMetrics = []metricID{metBitrate, metFPSSent, metPackets, metLost, metRTT}
	videoRecvMetrics = []metricID{metBitrate, metFPSReceived, metHeight, metPackets, metLost}
)

// stream is one media stream as one client measures it.
type stream struct {
	span
	owner     *leg
	send      bool
	media     mediaKind
	remote    *leg // sender of a received stream; nil for the server's mixed audio
	peer      *leg // P2P: the receiving endpoint of a sent stream
	renderCap float64
	acc       *acc
}

func (s *stream) metrics() []metricID {
	switch {
	case s.media == mediaAudio && s.send:
		return audioSendMetrics
	case s.media == mediaAudio:
		return audioRecvMetrics
	case s.send:
		return videoSendMetrics
	}
	return videoRecvMetrics
}

// acc accumulates what one call-diagnostics row reports: the aggregates of
// all samples of the streams of one leg, media type and direction.
type acc struct {
	leg      *leg
	media    mediaKind
	send     bool
	streamID int64

	n                              float64
	rttSum, rttMax, jitSum, jitMax float64
	jbSum, jbMax, healSum, healMax float64
	fpsSum, heightSum, freezeSum   float64
	brSum, brMax                   float64
	lossSum, lossN, lossMax        float64
	packets                        float64
}

// sample is one second of one stream.
type sample struct {
	v        [6]float64 // in the order of stream.metrics()
	pk, lost float64    // packets sent (or due) and lost, for the loss rate
	rtt      float64
	jit      float64
	freeze   float64 // ms frozen in this second (received video)
}

// buildStreams derives every leg's streams and the diagnostics rows they
// feed, in a fixed order.
func (c *call) buildStreams() ([]*stream, []*acc) {
	var streams []*stream
	var accs []*acc
	accOf := map[[3]int]*acc{}
	get := func(l *leg, m mediaKind, send bool) *acc {
		k := [3]int{l.idx, int(m), int(b2f(send))}
		if a, ok := accOf[k]; ok {
			return a
		}
		a := &acc{leg: l, media: m, send: send, streamID: c.streamID(m, send)}
		accOf[k] = a
		accs = append(accs, a)
		return a
	}
	add := func(s *stream) {
		if s.empty() || s.to.Sub(s.from) < time.Second {
			return
		}
		s.acc = get(s.owner, s.media, s.send)
		streams = append(streams, s)
		if !s.send && s.media != mediaAudio {
			s.owner.views = append(s.owner.views, s)
		}
	}
	for _, l := range c.legs {
		if l.kind == kindBot || l.setupFailed {
			continue
		}
		whole := span{l.start, l.end}
		var peer *leg
		if c.p2p {
			peer = c.other(l)
		}
		get(l, mediaAudio, true)
		if !l.noAudioSend {
			add(&stream{span: whole, owner: l, send: true, media: mediaAudio, peer: peer})
		}
		if c.p2p {
			add(&stream{span: intersect(whole, span{peer.start, peer.end}), owner: l, media: mediaAudio, remote: peer})
		} else {
			add(&stream{span: whole, owner: l, media: mediaAudio})
		}
		for _, v := range l.video {
			add(&stream{span: intersect(whole, v), owner: l, send: true, media: mediaVideo, peer: peer, renderCap: 720})
		}
		for _, v := range l.screen {
			add(&stream{span: intersect(whole, v), owner: l, send: true, media: mediaScreen, peer: peer, renderCap: 1080})
		}
		if l.kind == kindPSTN {
			continue
		}
		var senders []*leg
		maxViews := 4
		if len(c.legs) >= 20 {
			maxViews = 2 // large meetings show the active speakers only
		}
		for _, o := range c.legs {
			if o == l || o.setupFailed || len(o.video) == 0 || len(senders) == maxViews {
				continue
			}
			for _, v := range o.video {
				if !intersect(whole, v).empty() {
					senders = append(senders, o)
					break
				}
			}
		}
		renderCap := [...]float64{720, 720, 540, 360, 360}[len(senders)]
		for _, o := range senders {
			for _, v := range o.video {
				add(&stream{span: intersect(whole, intersect(v, span{o.start, o.end})), owner: l, media: mediaVideo, remote: o, renderCap: renderCap})
			}
		}
		for _, o := range c.legs {
			if o == l {
				continue
			}
			for _, v := range o.screen {
				add(&stream{span: intersect(whole, v), owner: l, media: mediaScreen, remote: o, renderCap: 1080})
			}
		}
	}
	if c.p2p {
		kept := accs[:0]
		for _, a := range accs {
			if a.send {
				kept = append(kept, a)
			}
		}
		accs = kept
	}
	return streams, accs
}

func (c *call) streamID(m mediaKind, send bool) int64 {
	r := c.r
	switch {
	case c.p2p:
		if chance(r, 0.5) {
			return int64(r.Uint32() >> 1)
		}
		return int64(between(r, 1000, 9999))
	case !send:
		return int64(between(r, 1000, 3000))
	case m == mediaAudio:
		return int64(between(r, 10000, 20000))
	}
	return int64(between(r, 2000, 9999))
}

// second computes one second of s at t. ok is false when the measuring
// client has no connectivity and so reports nothing.
func (c *call) second(s *stream, t time.Time) (sm sample, ok bool) {
	r := c.r
	l := s.owner
	noise := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	switch {
	case s.send:
		p := sendPath(l, s.peer, t)
		if l.link(t, true).out || l.link(t, false).out {
			return sm, false
		}
		sm.rtt = math.Round(p.rtt * noise(0.95, 1.05))
		sm.jit = math.Round(p.jit * noise(0.85, 1.15))
		if s.media == mediaAudio {
			var pps, br float64
			switch l.audioAt(t) {
			case audioActive:
				pps, br = float64(50-r.IntN(2)), math.Round(34000*noise(0.9, 1.1))
			case audioMuted:
				pps, br = float64(3+r.IntN(4)), math.Round(2000*noise(0.8, 1.2))
			}
			if p.out {
				pps, br = 0, 0
			}
			lost := math.Min(pps, float64(poisson(r, pps*p.loss)))
			sm.v = [6]float64{br, pps, lost, sm.rtt, sm.jit}
			sm.pk, sm.lost = pps, lost
			return sm, true
		}
		q := quality(p)
		fps, br := videoRate(s.media, q, noise)
		pps := math.Round(br / 9600)
		if p.out {
			fps, br, pps = 0, 0, 0
		}
		lost := math.Min(pps, float64(poisson(r, pps*p.loss)))
		sm.v = [6]float64{br, fps, pps, lost, sm.rtt}
		sm.pk, sm.lost = pps, lost
		return sm, true

	case s.media == mediaAudio:
		down := l.link(t, false)
		if down.out || l.link(t, true).out {
			return sm, false
		}
		p := recvPath(l, s.remote, c.p2p, t)
		due := 50.0
		if s.remote != nil {
			switch s.remote.audioAt(t) {
			case audioSilent:
				due = 0
			case audioMuted:
				due = float64(3 + r.IntN(4))
			}
			if p.out {
				due = 0
			}
		}
		lost := math.Min(due, float64(poisson(r, due*p.loss)))
		got := due - lost
		sm.rtt = p.rtt
		sm.jit = math.Round(p.jit * noise(0.85, 1.15))
		jb := math.Round(20 + 1.7*sm.jit + 8*r.Float64())
		healed := 0.0
		if due > 0 {
			healed = math.Round(clamp(lost/due*1.15+math.Max(0, sm.jit-25)/250+0.004*r.Float64(), 0, 1)*1000) / 1000
		}
		sm.v = [6]float64{got, lost, sm.jit, jb, healed}
		sm.pk, sm.lost = due, lost
		return sm, true

	default: // received video or screen share
		down := l.link(t, false)
		if down.out || l.link(t, true).out {
			return sm, false
		}
		p := recvPath(l, s.remote, c.p2p, t)
		var senderPeer *leg
		if c.p2p {
			senderPeer = l
		}
		qs := quality(sendPath(s.remote, senderPeer, t))
		q := qs
		if !c.p2p {
			q = math.Min(qs, quality(pathState{loss: down.loss, jit: down.jit, rtt: l.rtt(t)}))
		}
		fps, br := videoRate(s.media, qs, noise)
		height := ladder(q, s.renderCap)
		br = br * math.Min(1, height/720) * (1 - p.loss)
		fps = math.Round(fps*(1-math.Min(0.95, 3.5*p.loss))*10) / 10
		sm.freeze = 1000 * clamp((p.loss-0.04)*6, 0, 1)
		if p.out {
			fps, br, sm.freeze = 0, 0, 1000
		}
		pps := math.Round(br / 9600)
		lost := float64(poisson(r, pps/(1-p.loss)*p.loss))
		sm.rtt = p.rtt
		sm.jit = math.Round(p.jit * noise(0.85, 1.15))
		sm.v = [6]float64{math.Round(br), fps, height, pps, lost}
		sm.pk, sm.lost = pps+lost, lost
		return sm, true
	}
}

// videoRate is the frame rate and bitrate a sender produces at quality q.
func videoRate(m mediaKind, q float64, noise func(lo, hi float64) float64) (fps, br float64) {
	if m == mediaScreen {
		fps = 10 * clamp(0.4+0.6*q, 0.2, 1) * noise(0.9, 1.1)
		br = 700_000 * math.Pow(q, 1.2) * noise(0.9, 1.1)
	} else {
		fps = 30 * clamp(0.3+0.75*q, 0.15, 1) * noise(0.95, 1.05)
		br = 1_400_000 * math.Pow(q, 1.4) * noise(0.9, 1.1)
	}
	return math.Round(fps*10) / 10, math.Round(br)
}

// add folds one second into the row aggregates.
func (a *acc) add(s *stream, sm *sample) {
	a.n++
	a.rttSum += sm.rtt
	a.rttMax = math.Max(a.rttMax, sm.rtt)
	a.jitSum += sm.jit
	a.jitMax = math.Max(a.jitMax, sm.jit)
	ids := s.metrics()
	for i, id := range ids {
		v := sm.v[i]
		switch id {
		case metJitterBuffer:
			a.jbSum += v
			a.jbMax = math.Max(a.jbMax, v)
		case metHealed:
			a.healSum += v
			a.healMax = math.Max(a.healMax, v)
		case metFPSSent, metFPSReceived:
			a.fpsSum += v
		case metHeight:
			a.heightSum += v
		case metBitrate:
			a.brSum += v
			a.brMax = math.Max(a.brMax, v)
		case metPackets:
			a.packets += v
		}
	}
	a.freezeSum += sm.freeze
}

// runStream generates s bucket by bucket: media stats rows when its owner
// uploads client logs, and the aggregates of its diagnostics row always.
func (c *call) runStream(s *stream) error {
	r := c.r
	l := s.owner
	ids := s.metrics()
	emit := l.hasClientLogs()
	var st *statStatic
	if emit {
		st = c.statStatic(s)
	}
	const bucket = 10 * time.Second
	b := l.start.Add(s.from.Sub(l.start).Truncate(bucket))
	var win [10]sample
	for ; b.Before(s.to); b = b.Add(bucket) {
		lo, hi := b, b.Add(bucket)
		if lo.Before(s.from) {
			lo = s.from
		}
		if hi.After(s.to) {
			hi = s.to
		}
		n := 0
		var pk, lost float64
		for t := lo; t.Before(hi) && n < 10; t = t.Add(time.Second) {
			sm, ok := c.second(s, t)
			if !ok {
				continue
			}
			win[n] = sm
			s.acc.add(s, &win[n])
			pk += sm.pk
			lost += sm.lost
			n++
		}
		if n == 0 {
			continue
		}
		if pk > 0 {
			frac := lost / pk
			s.acc.lossSum += frac * float64(n)
			s.acc.lossN += float64(n)
			s.acc.lossMax = math.Max(s.acc.lossMax, frac)
		}
		if !emit || chance(r, 0.003) {
			continue // the client's upload of this bucket was lost
		}
		at := b.Add(bucket + l.uploadLag + secs(r.Float64()*10))
		for i, id := range ids {
			sum, mn, mx := 0.0, math.Inf(1), math.Inf(-1)
			for j := 0; j < n; j++ {
				v := win[j].v[i]
				sum += v
				mn = math.Min(mn, v)
				mx = math.Max(mx, v)
			}
			if err := c.emitStat(s, st, at, b, metricNames[id], n, sum, mn, mx); err != nil {
				return err
			}
		}
	}
	return nil
}
