package simulate

import (
	"math"
	"time"
)

// The network model. Each leg has an access link to the ACS edge with a
// base round-trip time, jitter and loss, plus the impairments causes add
// (episodes, outages) and short unlabelled spikes. A path between two
// points combines the links it crosses: loss as independent drops
// (1-(1-a)(1-b)), jitter and delay as sums. In group calls media goes
// client -> server -> client; in P2P calls it goes straight from one
// client to the other, so both access links are on the path.
//
// Per-second noise is hashed from the leg and the second rather than drawn,
// so a sender's link looks the same to every stream that crosses it.

// serverLoss is the loss the service itself adds to a path.
const serverLoss = 0.0003

// linkState is one direction of a leg's access link during one second.
type linkState struct {
	loss, jit float64
	out       bool // no connectivity at all
}

// link returns the state of l's uplink (up) or downlink during the second
// that contains t.
func (l *leg) link(t time.Time, up bool) linkState {
	sec := uint64(t.Unix())
	dir := uint64(1)
	if up {
		dir = 2
	}
	u1 := hashUnit(l.nseed, sec, dir)
	u2 := hashUnit(l.nseed, sec, dir+16)
	s := linkState{
		jit:  l.jitBase * (0.6 + 0.8*u1),
		loss: math.Min(0.05, l.lossBase*-math.Log(1-u2)),
	}
	for i := range l.eps {
		e := &l.eps[i]
		if (up && !e.up) || (!up && !e.down) || !e.contains(t) {
			continue
		}
		f := 0.65 + 0.7*hashUnit(l.nseed, sec, dir+32+uint64(i))
		s.loss = 1 - (1-s.loss)*(1-math.Min(0.9, e.loss*f))
		s.jit += e.jit * f
	}
	for i := range l.spikes {
		sp := &l.spikes[i]
		if sp.up == up && sp.contains(t) {
			s.loss = 1 - (1-s.loss)*(1-sp.loss)
			s.jit += sp.jit
		}
	}
	for _, o := range l.outages {
		if o.contains(t) {
			s.out = true
		}
	}
	return s
}

// rtt returns l's access round-trip time in ms during the second of t.
func (l *leg) rtt(t time.Time) float64 {
	sec := uint64(t.Unix())
	v := l.rttBase * (0.93 + 0.14*hashUnit(l.nseed, sec, 7))
	for i := range l.eps {
		e := &l.eps[i]
		if e.rtt > 0 && e.contains(t) {
			v += e.rtt * (0.75 + 0.5*hashUnit(l.nseed, sec, 48+uint64(i)))
		}
	}
	return v
}

// pathState is the condition of a media path during one second.
type pathState struct {
	loss, jit, rtt float64
	out            bool
}

func combine(a, b linkState) (loss, jit float64) {
	return 1 - (1-a.loss)*(1-b.loss)*(1-serverLoss), a.jit + b.jit
}

// sendPath is the path of what l sends: to the server in group calls, to
// peer in P2P calls.
func sendPath(l, peer *leg, t time.Time) pathState {
	up := l.link(t, true)
	p := pathState{out: up.out, rtt: l.rtt(t)}
	if peer == nil {
		p.loss, p.jit = combine(up, linkState{})
		return p
	}
	down := peer.link(t, false)
	p.loss, p.jit = combine(up, down)
	p.rtt += peer.rtt(t)
	p.out = p.out || down.out
	return p
}

// recvPath is the path of what l receives from sender (nil: the server's
// own mixed audio). p2p adds the sender's round trip as well.
func recvPath(l, sender *leg, p2p bool, t time.Time) pathState {
	down := l.link(t, false)
	p := pathState{out: down.out, rtt: l.rtt(t)}
	if sender == nil {
		p.loss, p.jit = combine(down, linkState{})
		return p
	}
	up := sender.link(t, true)
	p.loss, p.jit = combine(up, down)
	p.out = p.out || up.out
	if p2p {
		p.rtt += sender.rtt(t)
	}
	return p
}

// audioState says what l's microphone sends at t.
type audioState uint8

const (
	audioSilent audioState = iota // nothing: no permission, dead microphone or no network
	audioMuted                    // muted: comfort-noise packets only
	audioActive
)

func (l *leg) audioAt(t time.Time) audioState {
	if l.noAudioSend {
		return audioSilent
	}
	for _, s := range l.micDead {
		if s.contains(t) {
			return audioSilent
		}
	}
	for _, s := range l.muted {
		if s.contains(t) {
			return audioMuted
		}
	}
	return audioActive
}

// quality maps a path to the share of the nominal video quality a sender
// can sustain over it (bandwidth estimation backs off on loss and delay).
func quality(p pathState) float64 {
	q := 1 - 2.8*p.loss - math.Max(0, p.rtt-250)/1100 - math.Max(0, p.jit-30)/220
	return clamp(q, 0.08, 1)
}

// ladder maps quality to the resolution a simulcast layer offers.
func ladder(q, top float64) float64 {
	switch {
	case q >= 0.85:
		return top
	case q >= 0.65:
		return math.Min(top, 540)
	case q >= 0.45:
		return math.Min(top, 360)
	case q >= 0.3:
		return math.Min(top, 270)
	}
	return math.Min(top, 180)
}
