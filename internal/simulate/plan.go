package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// legKind is what kind of endpoint a leg is.
type legKind uint8

const (
	kindVoIP legKind = iota
	kindPSTN
	kindTeams
	kindBot
)

// platform is the client a VoIP leg runs.
type platform uint8

const (
	platWeb platform = iota
	platAndroid
	platIOS
	platWindows
)

// span is a half-open time interval [from, to).
type span struct{ from, to time.Time }

func (s span) contains(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }
func (s span) empty() bool               { return !s.from.Before(s.to) }

func intersect(a, b span) span {
	s := span{from: a.from, to: a.to}
	if b.from.After(s.from) {
		s.from = b.from
	}
	if b.to.Before(s.to) {
		s.to = b.to
	}
	return s
}

// episode is a network impairment on one leg: loss and jitter on the
// directions it names and added round-trip time.
type episode struct {
	span
	up, down  bool
	loss, jit float64
	rtt       float64
}

// spike is a short burst of loss or jitter lasting a few seconds: normal
// background noise of real networks, never labelled as a fault.
type spike struct {
	span
	up        bool
	loss, jit float64
}

// ufdEvent is one occurrence of a user-facing diagnostic: its value changes
// share one OperationId.
type ufdEvent struct {
	name    string
	changes []ufdChange
}

type ufdChange struct {
	at    time.Time
	value string
}

// opEvent is a client operation a cause adds to a leg's operations.
type opEvent struct {
	at      time.Time
	name    string
	durMs   float64
	result  string
	sig     int
	payload string
}

// leg is one participant leg: one connection of one endpoint to the call.
type leg struct {
	idx           int
	kind          legKind
	plat          platform
	res           int
	participantID string // "" in P2P calls
	endpointID    string
	identifier    string // "" when the logs show "null"
	tenantID      string
	partType      string
	redacted      bool
	sdk, os, ua   string
	clientID      string // ClientInstanceId
	diagOptions   string
	joinOp        string // Join, EnterCall or AcceptIncomingCall

	join, start, end time.Time // first attempt, connected, leg end
	endCode, endSub  int       // endSub is catalog.Absent when none
	resultCategory   string
	hangup           bool // ended by the user's own Hangup
	setupFailed      bool
	rejoin           bool // a later leg of an endpoint already in the call
	noClientLogs     bool
	uploadLag        time.Duration

	tcp                        bool
	rttBase, jitBase, lossBase float64
	nseed                      uint64
	eps                        []episode
	outages                    []span
	spikes                     []spike

	video, screen, muted, micDead []span
	noAudioSend                   bool
	videoCodec                    string
	presenter                     bool

	permAudio, permVideo bool
	ufds                 []ufdEvent
	ops                  []opEvent
	benignViewError      bool
	views                []*stream // received video and screen streams it renders

	initAt, askAt time.Time // CallAgentInit and AskDevicePermission, before the call

	// Survey issue tags the user's experience suggests.
	overall, audioIssue, videoIssue string
	survey                          *survey

	faulted  bool // carries an injected cause (at most one per leg)
	affected bool // the user experienced a cause (drives surveys)
	audioBad bool // the user experienced bad audio
	videoBad bool
}

// key is the leg's id as model.ParticipantKey derives it.
func (l *leg) key() string {
	if l.participantID != "" {
		return l.participantID
	}
	return l.endpointID
}

func (l *leg) hasClientLogs() bool { return l.kind == kindVoIP && !l.noClientLogs }

func (l *leg) native() bool { return l.kind == kindVoIP && l.plat != platWeb }

func (l *leg) dur() time.Duration { return l.end.Sub(l.start) }

// call is one call being generated.
type call struct {
	g      *generator
	r      *rand.Rand
	idx    int
	id     string
	p2p    bool
	start  time.Time // first connection attempt of any endpoint
	end    time.Time // end of the last leg
	thread string    // Teams meeting thread, "" when none
	legs   []*leg
	faults []Fault
	bot    *leg
	record bool
	seq    uint32
	w      line
	out    outRec
	sink   func(*outRec) error
}

type webSDK struct{ sdk, ua string }

var webSDKs = []webSDK{
	{"1.32.1.0_stable", "1.32.1"},
	{"1.31.2.1_stable", "1.31.2"},
	{"1.30.1.0_stable", "1.30.1"},
	{"1.33.1.1_beta", "1.33.1-beta.1"},
	{"1.19.2.2_beta", "1.19.2-beta.2"},
}

type browser struct{ ua, os string }

var browsers = []browser{
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Windows 10.0.19045 Arch: x64"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0", "Windows 10.0.22631 Arch: x64"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Darwin Kernel Version 23.4.0: Fri Mar 15 00:10:42 PDT 2024; root:xnu-10063.101.17~1/RELEASE_ARM64_T6000"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "Darwin Kernel Version 23.4.0: Fri Mar 15 00:10:42 PDT 2024; root:xnu-10063.101.17~1/RELEASE_ARM64_T8103"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Linux 6.5.0-41-generic Arch: x64"},
}

type nativeClient struct{ sdk, os, ua string }

var androids = []nativeClient{
	{"2.11.0.1", "Android 11.0; Manufacturer: Google; Product: redfin; Model: Pixel 5; OS Build: RQ3A.210805.001.A1", "azsdk-android-communication-calling/2.11.0 (Android 11; Google Pixel 5)"},
	{"2.11.0.1", "Android 13.0; Manufacturer: samsung; Product: r0sxeea; Model: SM-S901B; OS Build: TP1A.220624.014", "azsdk-android-communication-calling/2.11.0 (Android 13; samsung SM-S901B)"},
	{"2.9.1.0", "Android 14.0; Manufacturer: Google; Product: panther; Model: Pixel 7; OS Build: AP1A.240305.019.A1", "azsdk-android-communication-calling/2.9.1 (Android 14; Google Pixel 7)"},
}

var iphones = []nativeClient{
	{"2.10.0.0", "Darwin Kernel Version 22.6.0: Wed Jul  5 22:17:35 PDT 2023; root:xnu-8796.142.1~1/RELEASE_ARM64_T8101", "azsdk-ios-communication-calling/2.10.0 (iOS 16.6; iPhone14,5)"},
	{"2.12.1.0", "Darwin Kernel Version 23.5.0: Wed May  1 20:19:05 PDT 2024; root:xnu-10063.122.3~3/RELEASE_ARM64_T8110", "azsdk-ios-communication-calling/2.12.1 (iOS 17.5; iPhone15,3)"},
}

var windowsNative = []nativeClient{
	{"1.6.0.0", "Windows 10.0.17763 Arch: x64", "azsdk-windows-communication-calling/1.6.0 (Windows 10.0.17763; x64)"},
	{"1.8.0.1", "Windows 10.0.22631 Arch: x64", "azsdk-windows-communication-calling/1.8.0 (Windows 10.0.22631; x64)"},
}

var appTags = []string{
	`{"appName":"contoso-care","appVersion":"4.2.0","tags":["web","support"]}`,
	`{"appName":"contoso-care","appVersion":"4.3.1","tags":["web"]}`,
	`{"appName":"fabrikam-telehealth","appVersion":"1.9.7","tags":["clinic"]}`,
}

// groupSize draws a group call's participant count: heavily skewed to
// small calls, about 1% at 50 or more, never above 250.
func groupSize(r *rand.Rand) int {
	u := r.Float64()
	switch {
	case u < 0.80:
		return 2 + weighted(r, []float64{30, 28, 20, 13, 9})
	case u < 0.95:
		return between(r, 7, 20)
	case u < 0.99:
		return between(r, 21, 49)
	default:
		return int(math.Round(50 * math.Pow(5, r.Float64()))) // 50–250, log-uniform
	}
}

// acsUserID draws an ACS user id shaped like the ones ACS issues.
func acsUserID(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-%04x-%02x00-%012x", between(r, 0x0b, 0x28), r.IntN(1<<16), r.IntN(1<<16), r.IntN(256), r.Uint64()&(1<<48-1))
}

// callStart draws a call's first join time; plan draws the same values
// from a fresh source, so calls can be ordered before they are generated.
func (g *generator) callStart(r *rand.Rand) time.Time {
	guid(r)
	return g.cfg.Start.Add(secs(r.Float64() * 86400))
}

// plan draws the call's shape: type, legs, timing, endpoints and media.
func (c *call) plan() {
	r := c.r
	c.id = guid(r)
	t0 := c.g.cfg.Start.Add(secs(r.Float64() * 86400))
	dur := clamp(lognormal(r, 600, 0.7), 60, 3600)
	c.p2p = chance(r, 0.30) && c.g.cfg.GroupSize <= 0
	if c.p2p {
		c.planP2P(t0, dur)
	} else {
		c.planGroup(t0, dur)
	}
	c.planSecondResource()
	for _, l := range c.legs {
		c.planEndpoint(l)
	}
	c.planMedia()
	c.planFaults()
	c.finishTimes()
	c.planSurveys()
}

func (c *call) newLeg(kind legKind) *leg {
	l := &leg{idx: len(c.legs), kind: kind, endSub: 0, permAudio: true, permVideo: true}
	l.nseed = c.r.Uint64()
	c.legs = append(c.legs, l)
	return l
}

func (c *call) planP2P(t0 time.Time, dur float64) {
	r := c.r
	a := c.newLeg(kindVoIP)
	bk := kindVoIP
	if chance(r, 0.08) {
		bk = kindTeams
	}
	b := c.newLeg(bk)
	a.joinOp, b.joinOp = "EnterCall", "AcceptIncomingCall"
	a.join = t0
	b.join = t0.Add(secs(uniform(r, 2, 15)))
	connected := b.join.Add(secs(uniform(r, 0.4, 1.6)))
	a.start, b.start = connected, connected
	e := connected.Add(secs(dur))
	first, second := a, b
	if chance(r, 0.5) {
		first, second = b, a
	}
	first.end, first.hangup = e, true
	second.end = e.Add(secs(uniform(r, 0.2, 1.5)))
}

func (c *call) planGroup(t0 time.Time, dur float64) {
	r := c.r
	n := groupSize(r)
	if c.g.cfg.GroupSize > 0 {
		n = c.g.cfg.GroupSize
	}
	if chance(r, 0.12) {
		c.thread = "19:meeting_" + base64ish(r, 48) + "@thread.v2"
	}
	e := t0.Add(secs(dur))
	organizerEndsAll := chance(r, 0.15)
	for k := 0; k < n; k++ {
		kind := kindVoIP
		if k > 0 {
			switch u := r.Float64(); {
			case c.thread != "" && u < 0.25:
				kind = kindTeams
			case u < 0.12+0.25*b2f(c.thread != ""):
				kind = kindPSTN
			}
		}
		l := c.newLeg(kind)
		l.joinOp = "Join"
		if k == 0 {
			l.join = t0
		} else {
			var off float64
			switch u := r.Float64(); {
			case u < 0.70:
				off = uniform(r, 0, 60)
			case u < 0.92:
				off = uniform(r, 60, 0.6*dur)
			default:
				off = uniform(r, 0.6, 0.9) * dur
			}
			l.join = t0.Add(secs(math.Min(off, math.Max(0, dur-40))))
		}
		l.start = l.join.Add(secs(uniform(r, 0.6, 3.0)))
		if k == 0 || chance(r, 0.75) {
			l.end = e.Add(-secs(uniform(r, 0, 15)))
			if organizerEndsAll {
				l.end = e
			}
		} else {
			minEnd := l.start.Add(30 * time.Second)
			span := e.Sub(minEnd).Seconds()
			l.end = minEnd.Add(secs(r.Float64() * math.Max(0, span)))
		}
		if !l.end.After(l.start.Add(20 * time.Second)) {
			l.end = l.start.Add(20 * time.Second)
		}
		l.hangup = true
		if organizerEndsAll && k > 0 && l.end.Equal(e) {
			l.hangup = false
			l.endSub = 4097
		}
		if l.kind == kindVoIP && l.hangup && chance(r, 0.02) {
			l.hangup = false // tab closed without hanging up
			l.endSub = 4521
		}
	}
	if chance(r, 0.05) && n < 250 {
		b := c.newLeg(kindBot)
		b.joinOp = "AnswerCall"
		b.join = t0.Add(secs(uniform(r, 0.5, 4)))
		b.start = b.join.Add(secs(uniform(r, 0.3, 1)))
		b.end = c.legs[0].end.Add(secs(uniform(r, 0.5, 3)))
		b.hangup = false
		c.bot = b
		c.record = chance(r, 0.6)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// planSecondResource moves one or two VoIP participants of about 5% of
// calls to a second ACS resource: their logs go to that resource.
func (c *call) planSecondResource() {
	if !chance(c.r, 0.05) {
		return
	}
	var cand []*leg
	for _, l := range c.legs[1:] {
		if l.kind == kindVoIP {
			cand = append(cand, l)
		}
	}
	if len(cand) == 0 {
		return
	}
	n := min(len(cand), between(c.r, 1, 2))
	for _, i := range c.r.Perm(len(cand))[:n] {
		cand[i].res = 1
	}
}

func (c *call) planEndpoint(l *leg) {
	r := c.r
	res := c.g.res[l.res]
	if !c.p2p {
		l.participantID = guid(r)
	}
	l.endpointID = guid(r)
	l.clientID = guid(r)
	l.uploadLag = secs(uniform(r, 15, 150))
	l.initAt = l.join.Add(-secs(uniform(r, 5, 90)))
	l.askAt = l.join.Add(-secs(uniform(r, 1, 4)))
	l.rttBase = clamp(lognormal(r, 40, 0.45), 12, 250)
	l.jitBase = uniform(r, 1, 5)
	if chance(r, 0.8) {
		l.lossBase = uniform(r, 0, 0.003)
	} else {
		l.lossBase = uniform(r, 0.003, 0.008)
	}
	switch l.kind {
	case kindVoIP:
		l.tenantID = res.tenant
		l.partType = "ACS"
		prefix := "acs:"
		if chance(r, 0.3) {
			prefix = "8:acs:"
		}
		l.identifier = prefix + res.guid + "_" + acsUserID(r)
		switch weighted(r, []float64{62, 15, 13, 10}) {
		case 0:
			l.plat = platWeb
			s := webSDKs[weighted(r, []float64{40, 25, 15, 10, 10})]
			b := browsers[weighted(r, []float64{40, 25, 15, 12, 8})]
			l.sdk, l.os = s.sdk, b.os
			l.ua = "azure-communication-services/1.3.1-beta.1 azsdk-js-communication-calling/" + s.ua +
				" (javascript_calling_sdk;#clientTag:" + guid(r) + "). " + b.ua
			l.videoCodec = "VP8"
			if chance(r, 0.5) {
				l.videoCodec = "H264"
			}
		case 1:
			l.plat = platAndroid
			n := androids[r.IntN(len(androids))]
			l.sdk, l.os, l.ua = n.sdk, n.os, n.ua
			l.videoCodec = "H264"
		case 2:
			l.plat = platIOS
			n := iphones[r.IntN(len(iphones))]
			l.sdk, l.os, l.ua = n.sdk, n.os, n.ua
			l.videoCodec = "H264"
		default:
			l.plat = platWindows
			n := windowsNative[r.IntN(len(windowsNative))]
			l.sdk, l.os, l.ua = n.sdk, n.os, n.ua
			l.videoCodec = "H264"
		}
		if chance(r, 0.04) {
			// A user of another tenant: ACS redacts their SDK and OS, and
			// their client logs go to their own resource, not this one.
			l.redacted = true
			l.tenantID = guid(r)
			l.noClientLogs = true
		} else if chance(r, 0.03) {
			l.noClientLogs = true // client never uploaded its logs
		}
		if chance(r, 0.35) {
			l.diagOptions = appTags[r.IntN(len(appTags))]
		}
	case kindPSTN:
		l.partType = "PSTN"
		if chance(r, 0.6) {
			l.identifier = fmt.Sprintf("4:+1%03d555%04d", between(r, 201, 989), r.IntN(10000))
		}
		l.rttBase = clamp(lognormal(r, 25, 0.3), 10, 80)
		l.videoCodec = "H264"
	case kindTeams:
		l.partType = "Teams"
		l.identifier = guid(r)
		l.tenantID = guid(r)
		l.redacted = chance(r, 0.6)
		if !l.redacted {
			l.sdk, l.os = "1.0.0.0", "Windows 10.0.22631 Arch: x64"
		}
		l.videoCodec = "H264"
	case kindBot:
		l.partType = "ACS"
		l.identifier = guid(r)
		l.tenantID = res.tenant
		l.redacted = true
	}
	if l.redacted {
		l.sdk, l.os = "Redacted", "Redacted"
	}
}

// planMedia draws who turns the camera on, mutes, and shares the screen.
func (c *call) planMedia() {
	r := c.r
	n := len(c.legs)
	pVideo := 0.35
	switch {
	case n >= 50:
		pVideo = 0
	case n > 20:
		pVideo = 0.1
	case n > 6:
		pVideo = 0.22
	}
	for i, l := range c.legs {
		if l.kind != kindVoIP && l.kind != kindTeams {
			continue
		}
		p := pVideo
		if n >= 50 && i < 2 {
			p = 0.9 // the presenters of a town hall
		}
		if chance(r, p) {
			from := l.start.Add(secs(uniform(r, 1, 30)))
			to := l.end
			if chance(r, 0.25) {
				to = from.Add(secs(uniform(r, 0.2, 0.9) * l.end.Sub(from).Seconds()))
			}
			if s := (span{from, to}); !s.empty() {
				l.video = append(l.video, s)
			}
		}
		if l.kind != kindVoIP {
			continue
		}
		switch {
		case n >= 20 && i > 1 && chance(r, 0.85):
			from := l.start.Add(secs(uniform(r, 0.5, 5)))
			l.muted = append(l.muted, span{from, l.end})
		case (!c.p2p && chance(r, 0.35)) || (c.p2p && chance(r, 0.1)):
			k := between(r, 1, 2)
			cur := l.start
			for j := 0; j < k; j++ {
				from := cur.Add(secs(uniform(r, 5, 0.4*l.dur().Seconds())))
				to := from.Add(secs(uniform(r, 20, 300)))
				if to.After(l.end.Add(-5 * time.Second)) {
					break
				}
				l.muted = append(l.muted, span{from, to})
				cur = to
			}
		}
	}
	if !c.p2p && n >= 3 && chance(r, 0.06) {
		for _, l := range c.legs {
			if l.kind == kindVoIP && l.plat == platWeb && l.dur() > 3*time.Minute {
				from := l.start.Add(secs(uniform(r, 20, 0.3*l.dur().Seconds())))
				to := from.Add(secs(uniform(r, 120, 1200)))
				if to.After(l.end) {
					to = l.end
				}
				l.screen = append(l.screen, span{from, to})
				l.presenter = true
				break
			}
		}
	}
	for _, l := range c.legs {
		if l.kind == kindBot {
			continue
		}
		nsp := poisson(r, l.dur().Seconds()/10*0.004)
		for j := 0; j < nsp; j++ {
			at := l.start.Add(secs(r.Float64() * l.dur().Seconds()))
			sp := spike{span: span{at, at.Add(time.Duration(between(r, 1, 3)) * time.Second)}, up: chance(r, 0.5)}
			if chance(r, 0.5) {
				sp.loss = uniform(r, 0.15, 0.4)
			} else {
				sp.jit = uniform(r, 50, 150)
			}
			l.spikes = append(l.spikes, sp)
		}
		if l.kind == kindVoIP && chance(r, 0.03) {
			l.benignViewError = true
		}
		if l.kind == kindVoIP && l.dur() >= 45*time.Second && chance(r, 0.08) {
			l.eps = append(l.eps, c.mildEpisode(l))
		}
	}
}

// finishTimes sets the call's start and end from its legs and fills in
// end codes that causes did not set.
func (c *call) finishTimes() {
	c.start, c.end = c.legs[0].join, c.legs[0].end
	for _, l := range c.legs {
		if l.join.Before(c.start) {
			c.start = l.join
		}
		if l.end.After(c.end) {
			c.end = l.end
		}
		if l.resultCategory == "" {
			l.resultCategory = resultCategory(l.endCode, l.endSub)
		}
	}
	// A later cause can shorten a leg that already carries one (the peer's
	// drop ends a P2P call): a cause never outlasts its leg, and one the
	// leg ended too soon to show (a network cause with less than
	// minNetworkCause left) was never really injected and is not labelled.
	kept := c.faults[:0]
	for _, f := range c.faults {
		keep := true
		for _, l := range c.legs {
			if l.key() != f.ParticipantID || l.rejoin || !f.End.After(l.end) {
				continue
			}
			f.End = l.end
			if f.Start.After(f.End) {
				f.Start = f.End
			}
			if networkCause(f.Kind) && f.End.Sub(f.Start) < minNetworkCause {
				keep = false
			}
		}
		if keep {
			kept = append(kept, f)
		}
	}
	c.faults = kept
}

// minNetworkCause is the shortest network cause that is labelled: two
// media-stats buckets, the least in which degradation can be told from a
// spike.
const minNetworkCause = 20 * time.Second

func networkCause(kind string) bool {
	return kind == KindPoorUplink || kind == KindPoorDownlink || kind == KindSharedNetwork
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func base64ish(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base64Chars[r.IntN(len(base64Chars))]
	}
	return string(b)
}
