package simulate

import (
	"math"
	"time"

	"calldiag/internal/catalog"
)

// codeChoice is an end or operation code a cause can produce, with how
// often it is picked and who is to blame for it.
type codeChoice struct {
	code, sub int // sub is catalog.Absent for codes listed without one
	weight    float64
	culprit   string
}

// Network end codes of a leg that drops mid-call.
var dropCodes = []codeChoice{
	{410, 3101, 45, CulpritParticipantNetwork},
	{410, 301005, 35, CulpritParticipantNetwork},
	{496, 7, 12, CulpritParticipantNetwork},
	{430, catalog.Absent, 8, CulpritParticipantNetwork},
}

// End codes of a join that fails.
var setupCodes = []codeChoice{
	{410, 3112, 30, CulpritParticipantNetwork},
	{410, 3100, 15, CulpritParticipantNetwork},
	{410, 301004, 15, CulpritParticipantNetwork},
	{410, 3111, 10, CulpritClientApp},
	{495, 4507, 10, CulpritClientApp},
	{403, 5828, 8, CulpritClientApp},
	{500, catalog.Absent, 6, CulpritService},
	{503, catalog.Absent, 6, CulpritService},
}

// Codes of a StartVideo that fails on the device.
var cameraCodes = []codeChoice{
	{410, 41048, 35, CulpritDevice},
	{412, 43000, 35, CulpritDevice},
	{500, 43002, 15, CulpritDevice},
	{412, 43014, 15, CulpritDevice},
}

// Codes of a StartVideo refused for lack of camera permission.
var cameraPermCodes = []codeChoice{
	{403, 43001, 50, CulpritPermissions},
	{412, 43016, 50, CulpritPermissions},
}

// The code the SDK reports when a device permission request is refused.
const permCode, permSub = 400, 40613

func (c *call) pickCode(choices []codeChoice) codeChoice {
	w := make([]float64, len(choices))
	for i, ch := range choices {
		w[i] = ch.weight
	}
	return choices[weighted(c.r, w)]
}

// resultCategory returns the result category the catalog gives a code,
// falling back on the code's class when the catalog lists it without one.
func resultCategory(code, sub int) string {
	for _, row := range catalog.Lookup(code, sub) {
		if row.ResultCategory != "" {
			return row.ResultCategory
		}
	}
	switch {
	case code == 0:
		return catalog.ResultSuccess
	case code >= 500:
		return catalog.ResultUnexpectedServerError
	default:
		return catalog.ResultUnexpectedClientError
	}
}

func subPtr(sub int) *int {
	if sub == catalog.Absent {
		return nil
	}
	return intp(sub)
}

// faultWeights sets how often each cause is drawn for a faulty call. Poor
// ratings are not drawn: they follow from surveys (see planSurveys).
var faultWeights = []struct {
	kind   string
	weight float64
}{
	{KindPoorUplink, 20},
	{KindPoorDownlink, 16},
	{KindSharedNetwork, 6},
	{KindNetworkReconnect, 10},
	{KindDropped, 9},
	{KindSetupFailed, 8},
	{KindSpeakingWhileMuted, 7},
	{KindMicrophoneNotFunctioning, 5},
	{KindCameraStartFailed, 7},
	{KindCameraPermissionDenied, 4},
	{KindMicrophonePermissionDenied, 3},
	{KindMediaOverTCP, 5},
}

// planFaults draws the call's causes: none for about 70% of calls, else
// one to three, each on a leg that has no other cause.
func (c *call) planFaults() {
	r := c.r
	n := 0
	switch u := r.Float64(); {
	case u < 0.70:
	case u < 0.925:
		n = 1
	case u < 0.985:
		n = 2
	default:
		n = 3
	}
	w := make([]float64, len(faultWeights))
	for i, f := range faultWeights {
		w[i] = f.weight
	}
	for placed, tries := 0, 0; placed < n && tries < 12; tries++ {
		if c.inject(faultWeights[weighted(r, w)].kind) {
			placed++
		}
	}
}

func (c *call) inject(kind string) bool {
	switch kind {
	case KindPoorUplink:
		return c.injectPoorLink(true)
	case KindPoorDownlink:
		return c.injectPoorLink(false)
	case KindSharedNetwork:
		return c.injectSharedNetwork()
	case KindNetworkReconnect:
		return c.injectReconnect()
	case KindDropped:
		return c.injectDrop()
	case KindSetupFailed:
		return c.injectSetupFailure()
	case KindSpeakingWhileMuted:
		return c.injectSpeakingWhileMuted()
	case KindMicrophoneNotFunctioning:
		return c.injectMicDead()
	case KindCameraStartFailed:
		return c.injectCameraFailure()
	case KindCameraPermissionDenied:
		return c.injectPermissionDenied(true)
	case KindMicrophonePermissionDenied:
		return c.injectPermissionDenied(false)
	case KindMediaOverTCP:
		return c.injectTCP()
	}
	return false
}

// candidates returns the legs a new cause may go to: VoIP legs with client
// logs, connected, without another cause, lasting at least minDur.
func (c *call) candidates(minDur time.Duration) []*leg {
	var out []*leg
	for _, l := range c.legs {
		if l.hasClientLogs() && !l.faulted && !l.setupFailed && !l.rejoin && l.dur() >= minDur {
			out = append(out, l)
		}
	}
	return out
}

func (c *call) pickLeg(minDur time.Duration) *leg {
	cand := c.candidates(minDur)
	if len(cand) == 0 {
		return nil
	}
	return cand[c.r.IntN(len(cand))]
}

// other returns the other leg of a P2P call.
func (c *call) other(l *leg) *leg {
	for _, o := range c.legs {
		if o != l {
			return o
		}
	}
	return nil
}

// window draws when a network cause is active on l.
func (c *call) window(l *leg) span {
	r := c.r
	d := l.dur().Seconds()
	if d < 90 || chance(r, 0.35) {
		from := l.start.Add(secs(uniform(r, 0, 0.2*d)))
		return span{from, l.end}
	}
	length := uniform(r, 30, 0.6*d)
	from := l.start.Add(secs(uniform(r, 0, d-length)))
	return span{from, from.Add(secs(length))}
}

// mildEpisode is an unlabelled background impairment of l: a stretch of
// slightly worse network, well below what users notice or the stream rules
// flag (severity gives it no UFD), so that detection is also tested on
// degradation it must stay quiet about.
func (c *call) mildEpisode(l *leg) episode {
	r := c.r
	up := chance(r, 0.5)
	e := episode{span: c.window(l), up: up, down: !up}
	switch r.IntN(3) {
	case 0:
		e.loss = uniform(r, 0.01, 0.03)
	case 1:
		e.jit = uniform(r, 5, 12)
	default:
		e.rtt = uniform(r, 60, 180)
	}
	return e
}

// severity is the UFD value a network impairment of this size makes the
// SDK raise, or "" when it is too mild to be noticed.
func severity(loss, jit, rtt float64) string {
	s := math.Max(loss/0.10, math.Max(jit/40, rtt/600))
	switch {
	case s >= 1.3:
		return "Bad"
	case s >= 0.6:
		return "Poor"
	}
	return ""
}

// qualityUFD raises a quality UFD shortly after w starts and clears it
// shortly after w ends, unless the leg is over by then.
func (c *call) qualityUFD(name string, w span, value string, legEnd time.Time) ufdEvent {
	r := c.r
	ev := ufdEvent{name: name}
	raise := w.from.Add(secs(uniform(r, 3, 15)))
	if !raise.Before(w.to) {
		raise = w.from.Add(secs(0.5 * w.to.Sub(w.from).Seconds()))
	}
	ev.changes = append(ev.changes, ufdChange{raise, value})
	if w.to.Sub(raise) > 3*time.Minute && chance(r, 0.4) {
		other := "Poor"
		if value == "Poor" {
			other = "Bad"
		}
		mid := raise.Add(secs(w.to.Sub(raise).Seconds() * uniform(r, 0.3, 0.7)))
		ev.changes = append(ev.changes, ufdChange{mid, other}, ufdChange{mid.Add(secs(uniform(r, 20, 60))), value})
	}
	if clear := w.to.Add(secs(uniform(r, 2, 10))); clear.Before(legEnd) {
		ev.changes = append(ev.changes, ufdChange{clear, "Good"})
	}
	return ev
}

// flagUFD raises a true/false UFD (logged as Bad, then Good when cleared).
func flagUFD(name string, raise time.Time, clear time.Time, cleared bool) ufdEvent {
	ev := ufdEvent{name: name, changes: []ufdChange{{raise, "Bad"}}}
	if cleared {
		ev.changes = append(ev.changes, ufdChange{clear, "Good"})
	}
	return ev
}

// ufdName picks the web or native spelling of a diagnostic for l.
func ufdName(l *leg, web, native string) string {
	if l.native() {
		return native
	}
	return web
}

func (c *call) injectPoorLink(up bool) bool {
	r := c.r
	l := c.pickLeg(45 * time.Second)
	if l == nil {
		return false
	}
	if c.p2p && c.pathFaulted(c.other(l), !up) {
		// One end's uplink and the other end's downlink are one path in a
		// P2P call: a second cause on it would show exactly as the first
		// does in every record, and no one could tell them apart.
		return false
	}
	w := c.window(l)
	e := episode{span: w, up: up, down: !up}
	weights := []float64{65, 35, 0}
	if up {
		weights = []float64{50, 25, 25}
	}
	// A labelled cause is one a user notices: at least as large as what
	// makes the SDK report poor network quality (see severity). Milder
	// impairments are background, planned in planMedia and never labelled.
	switch weighted(r, weights) {
	case 0:
		e.loss = uniform(r, 0.06, 0.25)
		e.jit = e.loss * uniform(r, 30, 80)
	case 1:
		e.jit = uniform(r, 24, 80)
		e.loss = uniform(r, 0, 0.01)
	default:
		e.rtt = uniform(r, 360, 900)
		e.jit = uniform(r, 2, 10)
	}
	l.eps = append(l.eps, e)
	l.faulted, l.affected = true, true
	f := Fault{Kind: KindPoorDownlink, ParticipantID: l.key(), Direction: DirectionInbound,
		Culprit: CulpritParticipantDownlink, Start: w.from, End: w.to,
		LossRate: round4(e.loss), JitterMs: round1(e.jit), RTTMs: round1(e.rtt)}
	name := "networkReceiveQuality"
	if up {
		f.Kind, f.Direction, f.Culprit = KindPoorUplink, DirectionOutbound, CulpritParticipantUplink
		name = "networkSendQuality"
	}
	if v := severity(e.loss, e.jit, e.rtt); v != "" {
		l.ufds = append(l.ufds, c.qualityUFD(name, w, v, l.end))
		f.UFD = name
		if up && c.p2p {
			o := c.other(l)
			if o.hasClientLogs() {
				o.ufds = append(o.ufds, c.qualityUFD("networkReceiveQuality", w, v, o.end))
			}
		}
	}
	if up && c.p2p {
		o := c.other(l)
		o.affected, o.audioBad = true, true
	} else if !up {
		l.audioBad, l.videoBad = true, true
	}
	c.faults = append(c.faults, f)
	return true
}

// pathFaulted reports whether a poor-link cause was injected on l's uplink
// (up) or downlink.
func (c *call) pathFaulted(l *leg, up bool) bool {
	want := KindPoorDownlink
	if up {
		want = KindPoorUplink
	}
	for _, f := range c.faults {
		if f.Kind == want && f.ParticipantID == l.key() {
			return true
		}
	}
	return false
}

func (c *call) injectSharedNetwork() bool {
	r := c.r
	if c.p2p {
		return false
	}
	cand := c.candidates(90 * time.Second)
	if len(cand) < 3 {
		return false
	}
	n := min(len(cand), between(r, 2, 4))
	site := make([]*leg, 0, n)
	for _, i := range r.Perm(len(cand))[:n] {
		site = append(site, cand[i])
	}
	common := span{site[0].start, site[0].end}
	for _, l := range site[1:] {
		common = intersect(common, span{l.start, l.end})
	}
	if common.to.Sub(common.from) < 60*time.Second {
		return false
	}
	d := common.to.Sub(common.from).Seconds()
	length := uniform(r, math.Min(60, d), d)
	from := common.from.Add(secs(uniform(r, 0, d-length)))
	w := span{from, from.Add(secs(length))}
	loss, jit, rtt := uniform(r, 0.06, 0.2), uniform(r, 10, 60), uniform(r, 0, 250)
	v := severity(loss, jit, rtt)
	for _, l := range site {
		l.eps = append(l.eps, episode{span: w, up: true, down: true, loss: loss, jit: jit, rtt: rtt})
		l.faulted, l.affected, l.audioBad, l.videoBad = true, true, true, true
		f := Fault{Kind: KindSharedNetwork, ParticipantID: l.key(), Culprit: CulpritSharedNetwork,
			Start: w.from, End: w.to, LossRate: round4(loss), JitterMs: round1(jit), RTTMs: round1(rtt)}
		if v != "" {
			l.ufds = append(l.ufds, c.qualityUFD("networkReceiveQuality", w, v, l.end),
				c.qualityUFD("networkSendQuality", w, v, l.end))
			f.UFD = "networkReceiveQuality"
		}
		c.faults = append(c.faults, f)
	}
	return true
}

func (c *call) injectReconnect() bool {
	r := c.r
	l := c.pickLeg(60 * time.Second)
	if l == nil {
		return false
	}
	d := l.dur().Seconds()
	t1 := l.start.Add(secs(uniform(r, 20, d-30)))
	t2 := t1.Add(secs(uniform(r, 3, 25)))
	l.outages = append(l.outages, span{t1, t2})
	name := ufdName(l, "networkReconnect", "networkReconnectionQuality")
	ev := ufdEvent{name: name, changes: []ufdChange{{t1.Add(secs(uniform(r, 0.5, 2))), "Bad"}}}
	if chance(r, 0.3) {
		ev.changes = append(ev.changes, ufdChange{t1.Add(secs(0.6 * t2.Sub(t1).Seconds())), "Poor"})
	}
	ev.changes = append(ev.changes, ufdChange{t2.Add(secs(uniform(r, 0.5, 2))), "Good"})
	l.ufds = append(l.ufds, ev)
	l.faulted, l.affected, l.audioBad = true, true, true
	c.faults = append(c.faults, Fault{Kind: KindNetworkReconnect, ParticipantID: l.key(),
		Culprit: CulpritParticipantNetwork, Start: t1, End: t2, UFD: name})
	return true
}

func (c *call) injectDrop() bool {
	r := c.r
	l := c.pickLeg(60 * time.Second)
	if l == nil {
		return false
	}
	d := l.dur().Seconds()
	tf := l.start.Add(secs(uniform(r, 30, math.Max(31, d-45))))
	te := tf.Add(secs(uniform(r, 10, 40)))
	if te.After(l.end) {
		te = l.end
	}
	ch := c.pickCode(dropCodes)
	orig := l.end
	l.end, l.hangup = te, false
	l.endCode, l.endSub = ch.code, ch.sub
	l.resultCategory = resultCategory(ch.code, ch.sub)
	l.outages = append(l.outages, span{tf, te.Add(time.Second)})
	name := ufdName(l, "networkReconnect", "networkReconnectionQuality")
	l.ufds = append(l.ufds, ufdEvent{name: name, changes: []ufdChange{{tf.Add(secs(uniform(r, 0.5, 3))), "Bad"}}})
	l.faulted, l.affected, l.audioBad = true, true, true
	c.faults = append(c.faults, Fault{Kind: KindDropped, ParticipantID: l.key(), Culprit: ch.culprit,
		Start: tf, End: te, Code: intp(ch.code), SubCode: subPtr(ch.sub), UFD: name})
	if c.p2p {
		o := c.other(l)
		o.end, o.hangup, o.endCode, o.endSub = te.Add(secs(uniform(r, 0.5, 3))), false, 0, 0
		o.resultCategory = ""
		return true
	}
	l.overall = "CallEndedUnexpectedly"
	if chance(r, 0.7) && orig.Sub(te) > 60*time.Second {
		nl := c.rejoinLeg(l, te.Add(secs(uniform(r, 5, 40))), orig)
		nl.overall = "HadToRejoin"
	}
	return true
}

// rejoinLeg adds a new leg of l's endpoint: same endpoint and client, new
// participantId, joining at join and staying until end.
func (c *call) rejoinLeg(l *leg, join, end time.Time) *leg {
	r := c.r
	nl := c.newLeg(kindVoIP)
	nseed := nl.nseed
	*nl = leg{idx: nl.idx, kind: kindVoIP, plat: l.plat, res: l.res, endpointID: l.endpointID,
		identifier: l.identifier, tenantID: l.tenantID, partType: l.partType, sdk: l.sdk, os: l.os,
		ua: l.ua, clientID: l.clientID, diagOptions: l.diagOptions, joinOp: "Join", rejoin: true,
		uploadLag: l.uploadLag, rttBase: l.rttBase, jitBase: l.jitBase, lossBase: l.lossBase,
		videoCodec: l.videoCodec, permAudio: true, permVideo: true, hangup: true, nseed: nseed}
	nl.participantID = guid(r)
	nl.join = join
	nl.start = join.Add(secs(uniform(r, 0.6, 3)))
	nl.end = end
	if nl.end.Before(nl.start.Add(20 * time.Second)) {
		nl.end = nl.start.Add(20 * time.Second)
	}
	if len(l.video) > 0 {
		nl.video = []span{{nl.start.Add(secs(uniform(r, 1, 10))), nl.end}}
	}
	return nl
}

func (c *call) injectSetupFailure() bool {
	r := c.r
	if c.p2p {
		return false
	}
	var cand []*leg
	for _, l := range c.candidates(30 * time.Second) {
		if l != c.legs[0] {
			cand = append(cand, l)
		}
	}
	if len(cand) == 0 {
		return false
	}
	l := cand[r.IntN(len(cand))]
	ch := c.pickCode(setupCodes)
	orig := l.end
	l.setupFailed, l.hangup = true, false
	l.start = l.join
	l.end = l.join.Add(secs(uniform(r, 0.3, 2)))
	l.endCode, l.endSub = ch.code, ch.sub
	l.resultCategory = resultCategory(ch.code, ch.sub)
	l.video, l.muted, l.screen, l.presenter = nil, nil, nil, false
	l.faulted, l.affected = true, true
	f := Fault{Kind: KindSetupFailed, ParticipantID: l.key(), Culprit: ch.culprit, Start: l.join,
		End: l.end, Code: intp(ch.code), SubCode: subPtr(ch.sub)}
	if ch.code == 410 && ch.sub == 3112 {
		name := ufdName(l, "networkRelaysNotReachable", "networkRelaysUnreachable")
		l.ufds = append(l.ufds, flagUFD(name, l.join.Add(secs(uniform(r, 0.1, 0.3))), time.Time{}, false))
		f.UFD = name
	} else if chance(r, 0.6) && orig.Sub(l.end) > 60*time.Second {
		nl := c.rejoinLeg(l, l.end.Add(secs(uniform(r, 10, 60))), orig)
		nl.overall = "CallCannotJoin"
	}
	c.faults = append(c.faults, f)
	return true
}

func (c *call) injectSpeakingWhileMuted() bool {
	r := c.r
	l := c.pickLeg(90 * time.Second)
	if l == nil || l.noAudioSend {
		return false
	}
	var m span
	for _, s := range l.muted {
		if s.to.Sub(s.from) >= 45*time.Second {
			m = s
			break
		}
	}
	if m.empty() {
		d := l.dur().Seconds()
		from := l.start.Add(secs(uniform(r, 0.1, 0.5) * d))
		room := l.end.Sub(from).Seconds() - 5
		if room < 45 {
			return false
		}
		m = span{from, from.Add(secs(uniform(r, 45, math.Min(300, room))))}
		kept := l.muted[:0]
		for _, s := range l.muted {
			if intersect(s, m).empty() {
				kept = append(kept, s)
			}
		}
		l.muted = append(kept, m)
	}
	name := "speakingWhileMicrophoneIsMuted"
	t := m.from.Add(secs(uniform(r, 2, 10)))
	var first, last time.Time
	for k := between(r, 1, 3); k > 0; k-- {
		clear := t.Add(secs(uniform(r, 2, 8)))
		if !clear.Before(m.to) {
			break
		}
		l.ufds = append(l.ufds, flagUFD(name, t, clear, true))
		if first.IsZero() {
			first = t
		}
		last = clear
		t = clear.Add(secs(uniform(r, 5, 30)))
	}
	if first.IsZero() {
		return false
	}
	l.faulted = true
	c.faults = append(c.faults, Fault{Kind: KindSpeakingWhileMuted, ParticipantID: l.key(),
		Culprit: CulpritUser, Start: first, End: last, UFD: name})
	return true
}

func (c *call) injectMicDead() bool {
	r := c.r
	l := c.pickLeg(60 * time.Second)
	if l == nil || l.noAudioSend {
		return false
	}
	d := l.dur().Seconds()
	t1 := l.start
	if chance(r, 0.4) {
		t1 = l.start.Add(secs(uniform(r, 0.1, 0.6) * d))
	}
	t2 := l.end
	if chance(r, 0.7) {
		t2 = t1.Add(secs(uniform(r, 20, 300)))
	}
	if t2.After(l.end) || l.end.Sub(t2) < 5*time.Second {
		t2 = l.end
	}
	if t2.Sub(t1) < 20*time.Second {
		return false
	}
	l.micDead = append(l.micDead, span{t1, t2})
	name := "microphoneNotFunctioning"
	l.ufds = append(l.ufds, flagUFD(name, t1.Add(secs(uniform(r, 9, 12))), t2.Add(secs(uniform(r, 0.5, 2))), t2.Before(l.end)))
	l.faulted, l.affected, l.audioBad = true, true, true
	l.audioIssue = "NoLocalAudio"
	c.faults = append(c.faults, Fault{Kind: KindMicrophoneNotFunctioning, ParticipantID: l.key(),
		Culprit: CulpritDevice, Start: t1, End: t2, UFD: name})
	return true
}

func (c *call) injectCameraFailure() bool {
	r := c.r
	l := c.pickLeg(60 * time.Second)
	if l == nil {
		return false
	}
	ch := c.pickCode(cameraCodes)
	var t1 time.Time
	switch {
	case ch.code == 410 && ch.sub == 41048:
		t1 = l.start.Add(secs(uniform(r, 0.2, 2))) // while the call is being set up
	case len(l.video) > 0:
		t1 = l.video[0].from
	default:
		t1 = l.start.Add(secs(uniform(r, 2, math.Min(60, l.dur().Seconds()/2))))
	}
	dur := uniform(r, 300, 3000)
	l.ops = append(l.ops, opEvent{at: t1, name: "StartVideo", durMs: dur, result: "Failed", sig: ch.code,
		payload: codePayload(`{"StreamType":"Video","Source":"local"`, ch.code, ch.sub)})
	name := "cameraStartFailed"
	raise := t1.Add(secs(dur / 1000))
	end := l.end
	l.video = nil
	retry := t1.Add(secs(uniform(r, 15, 90)))
	if chance(r, 0.5) && retry.Before(l.end.Add(-20*time.Second)) {
		end = retry
		l.video = []span{{retry, l.end}}
		l.ufds = append(l.ufds, flagUFD(name, raise, retry.Add(secs(uniform(r, 0.5, 1.5))), true))
	} else {
		l.ufds = append(l.ufds, flagUFD(name, raise, time.Time{}, false))
	}
	l.faulted, l.affected, l.videoBad = true, true, true
	l.videoIssue = "NoVideoSent"
	c.faults = append(c.faults, Fault{Kind: KindCameraStartFailed, ParticipantID: l.key(),
		Culprit: CulpritDevice, Start: t1, End: end, Code: intp(ch.code), SubCode: subPtr(ch.sub), UFD: name})
	return true
}

func (c *call) injectPermissionDenied(camera bool) bool {
	r := c.r
	l := c.pickLeg(30 * time.Second)
	if l == nil {
		return false
	}
	f := Fault{ParticipantID: l.key(), Culprit: CulpritPermissions, Start: l.askAt, End: l.end,
		Code: intp(permCode), SubCode: intp(permSub)}
	if camera {
		l.permVideo, l.video = false, nil
		f.Kind, f.UFD = KindCameraPermissionDenied, "cameraPermissionDenied"
		l.ufds = append(l.ufds, flagUFD(f.UFD, l.start.Add(secs(uniform(r, 1, 5))), time.Time{}, false))
		if chance(r, 0.6) {
			ch := c.pickCode(cameraPermCodes)
			at := l.start.Add(secs(uniform(r, 10, math.Max(11, l.dur().Seconds()/2))))
			l.ops = append(l.ops, opEvent{at: at, name: "StartVideo", durMs: uniform(r, 50, 400), result: "Failed",
				sig: ch.code, payload: codePayload(`{"StreamType":"Video","Source":"local"`, ch.code, ch.sub)})
		}
		l.videoIssue = "NoVideoSent"
		l.videoBad = true
	} else {
		l.permAudio, l.noAudioSend, l.muted = false, true, nil
		f.Kind, f.UFD = KindMicrophonePermissionDenied, "microphonePermissionDenied"
		l.ufds = append(l.ufds, flagUFD(f.UFD, l.start.Add(secs(uniform(r, 0.5, 3))), time.Time{}, false))
		l.audioIssue = "NoLocalAudio"
		l.audioBad = true
	}
	l.faulted, l.affected = true, true
	c.faults = append(c.faults, f)
	return true
}

func (c *call) injectTCP() bool {
	r := c.r
	l := c.pickLeg(30 * time.Second)
	if l == nil {
		return false
	}
	l.tcp = true
	l.rttBase += uniform(r, 15, 50)
	l.jitBase += uniform(r, 3, 10)
	l.faulted = true
	c.faults = append(c.faults, Fault{Kind: KindMediaOverTCP, ParticipantID: l.key(),
		Culprit: CulpritParticipantNetwork, Start: l.start, End: l.end})
	return true
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
func round1(v float64) float64 { return math.Round(v*10) / 10 }
