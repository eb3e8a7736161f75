package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/model"
)

// Sources of the evidence that browser WebRTC telemetry gives.
const (
	srcWebRTCStreams  = "WebRTC getStats (whole-stream aggregates)"
	srcWebRTCSeries   = "WebRTC getStats (10-second samples)"
	srcPeerConnection = "WebRTC peer connection summary"
	srcWebRTCEvents   = "WebRTC API events"
	srcMediaRequest   = "WebRTC media request"
	srcEncoder        = "WebRTC getStats (outbound-rtp qualityLimitationReason)"
)

// stateChange is one ICE or connection state change of a peer connection.
type stateChange struct {
	ev    *model.TimelineEvent
	state string
}

// peerConn is one WebRTC peer connection with the timeline events that
// name it (their detail starts with the connection's id).
type peerConn struct {
	pc     *model.PeerConnection
	events []*model.TimelineEvent
	// ice and conn are its ICE and connection state changes.
	ice, conn []stateChange
	// connectedAt is its first connected (or completed) state, zero when
	// the events never say so.
	connectedAt time.Time
	// closed: the page closed the connection.
	closed bool
	// loopback: it talks to another connection of the same browser.
	loopback bool
}

// states is the sequence a connection's health is read from: ICE state
// changes, or the connection's own where the browser logged no ICE ones.
func (p *peerConn) states() []stateChange {
	if len(p.ice) > 0 {
		return p.ice
	}
	return p.conn
}

// tried reports whether the connection set out to reach its far end.
func (p *peerConn) tried() bool {
	if p.pc.Connected || p.pc.ConnectionFailed {
		return true
	}
	for _, s := range append(slices.Clone(p.ice), p.conn...) {
		if s.state == "checking" || s.state == "connecting" {
			return true
		}
	}
	return false
}

// stateIDs lists the record ids of the connection's state changes (both
// kinds) between from and to.
func (p *peerConn) stateIDs(from, to time.Time) []string {
	var all []stateChange
	all = append(append(all, p.ice...), p.conn...)
	slices.SortStableFunc(all, func(a, b stateChange) int { return a.ev.Time.Compare(b.ev.Time) })
	var ids []string
	for _, s := range all {
		if !s.ev.Time.Before(from) && !s.ev.Time.After(to) {
			ids = append(ids, s.ev.RecordID)
		}
	}
	return recordIDs(ids...)
}

// eventKind folds the spellings of an event name: onicecandidate,
// icecandidate, iceConnectionStateChange.
func eventKind(name string) string {
	return strings.TrimPrefix(strings.ToLower(name), "on")
}

// normState folds the spellings of a state: connected, "connected",
// kICEConnectionStateConnected.
func normState(v string) string {
	s := strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
	for _, prefix := range []string{"kiceconnectionstate", "iceconnectionstate", "kpeerconnectionstate", "peerconnectionstate"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			return rest
		}
	}
	return s
}

func isUp(state string) bool   { return state == "connected" || state == "completed" }
func isDown(state string) bool { return state == "disconnected" || state == "failed" }

// peerConns indexes the call's peer connections and their events, once.
func (d *run) peerConns() []*peerConn {
	if d.pcsBuilt {
		return d.pcs
	}
	d.pcsBuilt = true
	byKey := map[[2]string]*peerConn{}
	for i := range d.in.Call.PeerConnections {
		pc := &d.in.Call.PeerConnections[i]
		p := &peerConn{pc: pc}
		byKey[[2]string{pc.ParticipantID, pc.ID}] = p
		d.pcs = append(d.pcs, p)
	}
	if len(d.pcs) == 0 {
		return nil
	}
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind != model.KindOperation {
			continue
		}
		id, value, _ := strings.Cut(e.Detail, " ")
		p := byKey[[2]string{e.ParticipantID, id}]
		if p == nil {
			continue
		}
		p.events = append(p.events, e)
		switch eventKind(e.Name) {
		case "iceconnectionstatechange":
			p.ice = append(p.ice, stateChange{e, normState(value)})
		case "connectionstatechange":
			p.conn = append(p.conn, stateChange{e, normState(value)})
		case "close":
			p.closed = true
		}
	}
	for _, p := range d.pcs {
		for _, s := range append(slices.Clone(p.ice), p.conn...) {
			if s.state == "closed" {
				p.closed = true
			}
			if isUp(s.state) && (p.connectedAt.IsZero() || s.ev.Time.Before(p.connectedAt)) {
				p.connectedAt = s.ev.Time
			}
		}
	}
	markLoopbacks(d.pcs)
	return d.pcs
}

// markLoopbacks finds pairs of one browser's connections that talk to
// each other (a test page calling itself): both host-to-host, set up
// within a few seconds of each other, and what each sent is what the
// other received, give or take a few percent.
func markLoopbacks(pcs []*peerConn) {
	near := func(a, b int64) bool {
		diff := a - b
		if diff < 0 {
			diff = -diff
		}
		return diff <= max(20, max(a, b)/20)
	}
	host := func(pc *model.PeerConnection) bool {
		return pc.LocalCandidateType == "host" && pc.RemoteCandidateType == "host"
	}
	for i, a := range pcs {
		for _, b := range pcs[i+1:] {
			x, y := a.pc, b.pc
			if x.ParticipantID != y.ParticipantID || !x.Connected || !y.Connected || !host(x) || !host(y) ||
				x.PacketsSent+y.PacketsSent == 0 {
				continue
			}
			if d := x.Start.Sub(y.Start); d > 5*time.Second || d < -5*time.Second {
				continue
			}
			if near(x.PacketsSent, y.PacketsReceived+y.PacketsReceivedLost) && near(y.PacketsSent, x.PacketsReceived+x.PacketsReceivedLost) {
				a.loopback, b.loopback = true, true
			}
		}
	}
}

// webrtc applies the rules that only browser WebRTC telemetry feeds: per
// peer connection ICE failures, interruptions, TCP and relay transport,
// connections that carried no media and slow setups; encoder quality
// limitation per outgoing video stream; failed camera, microphone and
// screen requests. It then works out which far ends sent no telemetry and
// makes the culprits of the seen side's stream issues say so.
func (d *run) webrtc() {
	for _, p := range d.peerConns() {
		d.iceFailed(p)
		d.iceReconnects(p)
		d.transport(p)
		d.pcNoMedia(p)
		d.slowSetup(p)
	}
	d.qualityLimited()
	d.mediaRequests()
	d.unseenSides()
}

// filterOps makes an issue's timeline filter show the WebRTC events.
func filterOps(is *model.Issue) {
	is.TimelineFilter.Kind = []string{model.KindOperation}
}

func secondsText(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// stateSequence writes the states a connection went through, each change
// once: "checking → connected → disconnected".
func stateSequence(states []stateChange) string {
	var out []string
	for _, s := range states {
		if len(out) == 0 || out[len(out)-1] != s.state {
			out = append(out, s.state)
		}
	}
	return strings.Join(out, " → ")
}

// stateEvidence describes the ICE and connection states a connection
// went through between from and to, with the records of the changes.
func (p *peerConn) stateEvidence(from, to time.Time) model.Evidence {
	within := func(states []stateChange) []stateChange {
		var out []stateChange
		for _, s := range states {
			if !s.ev.Time.Before(from) && !s.ev.Time.After(to) {
				out = append(out, s)
			}
		}
		return out
	}
	var parts []string
	if ice := within(p.ice); len(ice) > 0 {
		parts = append(parts, "ICE "+stateSequence(ice))
	}
	if conn := within(p.conn); len(conn) > 0 {
		parts = append(parts, "connection "+stateSequence(conn))
	}
	return model.Evidence{Metric: "state changes", Text: strings.Join(parts, "; "), Op: "=", Source: srcWebRTCEvents,
		RecordIDs: p.stateIDs(from, to), From: &from, To: &to}
}

// iceFailed raises ice-failed for a connection that failed and never
// connected again, or that began its checks and neither connected nor was
// closed within the connect timeout. A connection closed while it was
// still checking was given up by the page, not failed.
func (d *run) iceFailed(p *peerConn) {
	pc := p.pc
	states := p.states()
	if !pc.ConnectionFailed && (pc.Connected || p.closed || !p.tried()) {
		return
	}
	start, end := pc.Start, pc.End
	lastUp := -1
	for i, s := range states {
		if isUp(s.state) {
			lastUp = i
		}
	}
	for i, s := range states {
		if lastUp >= 0 && i > lastUp && isDown(s.state) || lastUp < 0 && (s.state == "checking" || s.state == "connecting") {
			start = s.ev.Time
			break
		}
	}
	never := !pc.ConnectionFailed
	if never && pc.End.Sub(start) < seconds(d.rules.ConnectTimeoutSeconds) {
		return
	}
	if pc.ConnectionFailed {
		for _, s := range append(slices.Clone(p.ice), p.conn...) {
			if s.state == "failed" && !s.ev.Time.Before(start) {
				end = s.ev.Time
			}
		}
	}
	var summary string
	switch {
	case never:
		summary = fmt.Sprintf("peer connection %s never connected: ICE was still trying %s after it started", pc.ID, secondsText(pc.End.Sub(start)))
	case pc.Connected:
		summary = fmt.Sprintf("peer connection %s lost its connection and ICE failed without recovering", pc.ID)
	default:
		summary = fmt.Sprintf("peer connection %s never connected: it failed after %s of ICE checks", pc.ID, secondsText(end.Sub(start)))
	}
	ev := []model.Evidence{p.stateEvidence(pc.Start, pc.End)}
	if never {
		ev = append(ev, model.Evidence{Metric: "time without connecting (s)", Value: ptr(round3(pc.End.Sub(start).Seconds())), Op: ">=",
			Threshold: ptr(d.rules.ConnectTimeoutSeconds), Source: srcPeerConnection, RecordIDs: recordIDs(pc.RecordID)})
	} else {
		ev = append(ev, model.Evidence{Metric: "connectionFailed", Text: fmt.Sprintf("failed, connected before: %v", pc.Connected), Op: "=",
			Source: srcPeerConnection, RecordIDs: recordIDs(pc.RecordID)})
	}
	cands, candIDs, errs := p.candidates()
	if len(candIDs) > 0 {
		ev = append(ev, model.Evidence{Metric: "local candidates", Text: candidateText(cands), Source: srcWebRTCEvents, RecordIDs: recordIDs(candIDs...)})
	}
	if len(errs) > 0 {
		ids := make([]string, len(errs))
		for i, e := range errs {
			ids[i] = e.RecordID
		}
		_, first, _ := strings.Cut(errs[0].Detail, " ")
		ev = append(ev, model.Evidence{Metric: "ICE candidate errors", Value: ptr(float64(len(errs))), Text: "first: " + shorten(first, 160),
			Source: srcWebRTCEvents, RecordIDs: recordIDs(ids...)})
	}
	culprit := model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{pc.ParticipantID},
		Summary: "the network between this browser and the far end blocked every candidate pair: a firewall dropping UDP, or a far end that could not be reached"}
	switch {
	case pc.Connected:
		culprit.Summary = "the path to the far end was lost and not found again: the network changed or dropped, or the far end went away without closing the connection"
	case len(candIDs) > 0 && cands["relay"] == 0:
		culprit = model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: []string{pc.ParticipantID},
			Summary: "no TURN relay candidate was gathered, so nothing could carry the media once direct paths failed: no TURN server configured, or it was unreachable or refused the credentials"}
	case cands["relay"] > 0:
		culprit.Summary = "even the candidates through the TURN relay failed: a firewall blocking the relay's ports too, or a far end that could not be reached"
	}
	is := d.add(model.Issue{Kind: KindICEFailed, ParticipantID: pc.ParticipantID, StreamID: pc.ID, Start: start, End: end,
		Summary: summary, Evidence: ev, Rule: "webrtc.ice_failed", Culprit: culprit})
	filterOps(is)
}

// candidates counts the local candidates the connection gathered by type
// (from its icecandidate events) and collects its candidate errors.
func (p *peerConn) candidates() (map[string]int, []string, []*model.TimelineEvent) {
	counts := map[string]int{}
	var ids []string
	var errs []*model.TimelineEvent
	for _, e := range p.events {
		switch eventKind(e.Name) {
		case "icecandidate":
			_, typ, ok := strings.Cut(e.Detail, " typ ")
			if !ok {
				continue
			}
			if end := strings.IndexFunc(typ, func(r rune) bool { return r < 'a' || r > 'z' }); end >= 0 {
				typ = typ[:end]
			}
			counts[typ]++
			ids = append(ids, e.RecordID)
		case "icecandidateerror":
			errs = append(errs, e)
		}
	}
	return counts, ids, errs
}

func candidateText(counts map[string]int) string {
	var parts []string
	for _, t := range []string{"host", "srflx", "prflx", "relay"} {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
	}
	return strings.Join(parts, ", ")
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// iceReconnects raises network-reconnect for each time a connection's ICE
// went disconnected (or failed) and came back to connected, spanning the
// interruption.
func (d *run) iceReconnects(p *peerConn) {
	pc := p.pc
	states := p.states()
	up, down := false, -1
	for i, s := range states {
		switch {
		case isUp(s.state):
			if down >= 0 {
				from, to := states[down].ev.Time, s.ev.Time
				worst := "disconnected"
				for _, x := range states[down:i] {
					if x.state == "failed" {
						worst = "failed"
					}
				}
				is := d.add(model.Issue{Kind: KindNetworkReconnect, ParticipantID: pc.ParticipantID, StreamID: pc.ID, Start: from, End: to,
					Summary:  fmt.Sprintf("peer connection %s went %s for %s and reconnected", pc.ID, worst, secondsText(to.Sub(from))),
					Evidence: []model.Evidence{p.stateEvidence(from, to)},
					Rule:     "webrtc.ice_reconnect",
					Culprit: model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{pc.ParticipantID},
						Summary: "the network between this browser and the far end: unstable Wi-Fi, a VPN or a network change at either end"}})
				filterOps(is)
				down = -1
			}
			up = true
		case isDown(s.state):
			if up && down < 0 {
				down = i
			}
		}
	}
}

// pairText describes the selected candidate pair.
func pairText(pc *model.PeerConnection) string {
	side := func(typ, proto string) string {
		if typ == "" {
			typ = "unknown"
		}
		if proto == "" {
			return typ
		}
		return typ + " over " + strings.ToUpper(proto)
	}
	return "local " + side(pc.LocalCandidateType, pc.LocalProtocol) + ", remote " + side(pc.RemoteCandidateType, pc.RemoteProtocol)
}

// transport raises media-over-tcp for a connection whose selected pair
// runs over TCP (ICE-TCP, or TCP or TLS to the TURN relay) and relay-used
// for one whose pair goes through a TURN relay.
func (d *run) transport(p *peerConn) {
	pc := p.pc
	if !pc.Connected {
		return
	}
	local, remote := strings.ToLower(pc.LocalProtocol), strings.ToLower(pc.RemoteProtocol)
	localRelay := strings.EqualFold(pc.LocalCandidateType, "relay")
	remoteRelay := strings.EqualFold(pc.RemoteCandidateType, "relay")
	start := pc.Start
	if !p.connectedAt.IsZero() {
		start = p.connectedAt
	}
	ev := []model.Evidence{{Metric: "selected candidate pair", Text: pairText(pc), Op: "=", Source: srcPeerConnection,
		RecordIDs: recordIDs(pc.RecordID)}}
	pid := []string{pc.ParticipantID}
	if local == "tcp" || local == "tls" || !remoteRelay && remote == "tcp" {
		summary := fmt.Sprintf("peer connection %s carried its media over TCP (ICE-TCP) instead of UDP", pc.ID)
		if localRelay {
			summary = fmt.Sprintf("peer connection %s reached its TURN relay over %s, so its media ran over TCP instead of UDP", pc.ID, strings.ToUpper(local))
		}
		is := d.add(model.Issue{Kind: KindMediaOverTCP, ParticipantID: pc.ParticipantID, StreamID: pc.ID, Start: start, End: pc.End,
			Summary: summary, Evidence: slices.Clone(ev), Rule: "webrtc.transport",
			Culprit: model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: pid,
				Summary: "UDP is blocked on this browser's network, so ICE settled for TCP"}})
		filterOps(is)
	}
	if pc.UsingRelay || localRelay || remoteRelay {
		culprit := model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: pid,
			Summary: "a firewall or NAT on this browser's network kept a direct path to the far end from working"}
		which := "this browser's relay candidate"
		if !localRelay && remoteRelay {
			culprit = model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: []string{},
				Summary: "a firewall or NAT on the far end's network kept a direct path from working"}
			which = "the far end's relay candidate"
		}
		is := d.add(model.Issue{Kind: KindRelayUsed, ParticipantID: pc.ParticipantID, StreamID: pc.ID, Start: start, End: pc.End,
			Summary:  fmt.Sprintf("peer connection %s sent its media through a TURN relay (%s)", pc.ID, which),
			Evidence: ev, Rule: "webrtc.relay", Culprit: culprit})
		filterOps(is)
	}
}

// streamsOf counts the participant's streams that belong to a connection
// (their ACS stream id is "<connection id>:<ssrc>").
func (d *run) streamsOf(pc *model.PeerConnection) int {
	p := d.legs[pc.ParticipantID]
	if p == nil {
		return 0
	}
	n := 0
	for _, s := range p.Streams {
		if strings.HasPrefix(s.ACSStreamID, pc.ID+":") {
			n++
		}
	}
	return n
}

// negotiated tells which directions a connection's events show media
// for: remote tracks arriving (ontrack, onaddstream) and local tracks
// attached (addTrack, addStream, a transceiver with a sending track). A
// connection with data channels and no media events carries data only.
func (p *peerConn) negotiated() (in, out, dataOnly bool) {
	media, data := false, false
	for _, e := range p.events {
		k := eventKind(e.Name)
		switch {
		case k == "track" || e.Name == "addstream":
			in, media = true, true
		case k == "addtrack" || e.Name == "addStream":
			out, media = true, true
		case k == "transceiveradded" || k == "transceivermodified" || k == "addtransceiver":
			media = true
			if strings.Contains(e.Detail, `"sender":{"track":"`) {
				out = true
			}
		case k == "createdatachannel" || k == "datachannel":
			data = true
		}
	}
	return in, out, data && !media
}

// pcNoMedia raises no-media-flow for a connection that stayed connected
// for NoMediaSeconds with no RTP at all, or none in a direction its events
// show media for. A connection whose statistics were never seen (no
// getStats result behind its summary) is not judged: zero counts would
// then mean nothing.
func (d *run) pcNoMedia(p *peerConn) {
	pc := p.pc
	if !pc.Connected || p.loopback {
		return
	}
	from := pc.Start
	if !p.connectedAt.IsZero() {
		from = p.connectedAt
	}
	if pc.End.Sub(from) < seconds(d.rules.NoMediaSeconds) {
		return
	}
	in, out, dataOnly := p.negotiated()
	received := pc.PacketsReceived + pc.PacketsReceivedLost
	streams := d.streamsOf(pc)
	var dir, summary string
	var culprit model.Culprit
	pid := []string{pc.ParticipantID}
	switch {
	case received == 0 && pc.PacketsSent == 0:
		if dataOnly || pc.StatsPolls == 0 {
			return
		}
		dir, summary = "both", fmt.Sprintf("no RTP crossed peer connection %s in either direction in %s connected", pc.ID, secondsText(pc.End.Sub(from)))
		culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: pid,
			Summary: "ICE connected but no media followed: a middlebox dropping media after the checks, or neither end attached any"}
	case received == 0 && in && streams > 0:
		dir, summary = "inbound", fmt.Sprintf("no media arrived on peer connection %s although the far end added tracks", pc.ID)
		culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: pid,
			Summary: "the far end sent nothing, or something on the path dropped its media after ICE connected"}
	case pc.PacketsSent == 0 && out && streams > 0:
		dir, summary = "outbound", fmt.Sprintf("this browser sent no media on peer connection %s although it attached local tracks", pc.ID)
		culprit = model.Culprit{Type: model.CulpritDevice, ParticipantIDs: pid,
			Summary: "the local tracks produced nothing: muted, disabled or ended devices"}
	default:
		return
	}
	end := pc.End
	ev := []model.Evidence{
		{Metric: "packetsReceived", Value: ptr(float64(received)), Op: "=", Threshold: ptr(0.0), Source: srcPeerConnection, RecordIDs: recordIDs(pc.RecordID)},
		{Metric: "packetsSent", Value: ptr(float64(pc.PacketsSent)), Op: "=", Threshold: ptr(0.0), Source: srcPeerConnection, RecordIDs: recordIDs(pc.RecordID)},
		{Metric: "connected (s)", Value: ptr(round3(pc.End.Sub(from).Seconds())), Op: ">=", Threshold: ptr(d.rules.NoMediaSeconds),
			Source: srcWebRTCEvents, RecordIDs: p.stateIDs(from, from), From: &from, To: &end},
	}
	is := d.add(model.Issue{Kind: KindNoMediaFlow, ParticipantID: pc.ParticipantID, StreamID: pc.ID + "/" + dir, Start: from, End: end,
		Summary: summary, Evidence: ev, Rule: "webrtc.packets", Culprit: culprit})
	filterOps(is)
}

// slowSetup raises slow-connection-setup for a connection whose first
// connect came more than ConnectSetupMaxSeconds after its creation, and
// says whether the ICE checks or what came before them took the time.
func (d *run) slowSetup(p *peerConn) {
	pc := p.pc
	if pc.SetupMs == nil || *pc.SetupMs <= d.rules.ConnectSetupMaxSeconds*1000 {
		return
	}
	setup := time.Duration(*pc.SetupMs * float64(time.Millisecond))
	created := time.Time{}
	var createID string
	for _, e := range p.events {
		switch eventKind(e.Name) {
		case "create", "createpeerconnection", "peerconnectioncreated":
			if created.IsZero() {
				created, createID = e.Time, e.RecordID
			}
		}
	}
	if created.IsZero() {
		created = pc.Start
	}
	connected := created.Add(setup)
	ev := []model.Evidence{{Metric: "SetupMs", Value: ptr(round3(*pc.SetupMs)), Op: ">", Threshold: ptr(d.rules.ConnectSetupMaxSeconds * 1000),
		Source: srcPeerConnection, RecordIDs: recordIDs(pc.RecordID, createID), From: &created, To: &connected}}
	culprit := model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{pc.ParticipantID}}
	var checking *stateChange
	for i, s := range p.ice {
		if s.state == "checking" && !s.ev.Time.After(connected) {
			checking = &p.ice[i]
			break
		}
	}
	if checking != nil {
		ice := connected.Sub(checking.ev.Time)
		before := checking.ev.Time.Sub(created)
		from := checking.ev.Time
		ev = append(ev, model.Evidence{Metric: "ICE checking to connected (ms)", Value: ptr(float64(ice.Milliseconds())),
			Text: fmt.Sprintf("%d ms passed before the checks began", before.Milliseconds()), Source: srcWebRTCEvents,
			RecordIDs: p.stateIDs(from, connected), From: &from, To: &connected})
		if ice >= setup/2 {
			culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{pc.ParticipantID},
				Summary: "the ICE checks took most of the time: candidates that could not work (blocked UDP, unreachable addresses) were tried before one did"}
		} else {
			culprit = model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{},
				Summary: "most of the time passed before the ICE checks began: the offer/answer exchange through the application's signaling, or the far end answering late"}
		}
	}
	is := d.add(model.Issue{Kind: KindSlowSetup, ParticipantID: pc.ParticipantID, StreamID: pc.ID, Start: created, End: connected,
		Summary:  fmt.Sprintf("peer connection %s took %s from its creation to connected", pc.ID, secondsText(setup)),
		Evidence: ev, Rule: "webrtc.setup", Culprit: culprit})
	filterOps(is)
}

// limitedSpan is a stretch during which an encoder was limited.
type limitedSpan struct {
	reason    string
	from, to  time.Time
	open, end *model.TimelineEvent
	// others are the events of other simulcast layers limited alike.
	others []*model.TimelineEvent
}

func limiting(reason string) bool { return reason == "bandwidth" || reason == "cpu" }

// limitedStream is what the quality limitation changes of one outgoing
// stream, or of simulcast layers limited alike, add up to.
type limitedStream struct {
	pid, pc, media string
	ssrcs          []string
	spans          []limitedSpan
	life           span
}

// sameSpans reports whether two streams were limited by the same reasons
// over the same times: the simulcast layers of one track.
func sameSpans(a, b []limitedSpan) bool {
	return slices.EqualFunc(a, b, func(x, y limitedSpan) bool {
		return x.reason == y.reason && x.from.Equal(y.from) && x.to.Equal(y.to)
	})
}

// qualityLimited raises quality-limited for each outgoing video stream
// whose encoder was limited by bandwidth or CPU, per its
// qualityLimitationChange events, for at least QualityLimitedShare of the
// stream's life or QualityLimitedSeconds in all. Simulcast layers limited
// over the same times are one issue.
func (d *run) qualityLimited() {
	type key struct{ pid, head string }
	byStream := map[key][]*model.TimelineEvent{}
	var order []key
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind != model.KindOperation || !strings.EqualFold(e.Name, "qualityLimitationChange") {
			continue
		}
		head, _, ok := strings.Cut(e.Detail, ":")
		if !ok || len(strings.Fields(head)) != 3 {
			continue
		}
		k := key{e.ParticipantID, head}
		if byStream[k] == nil {
			order = append(order, k)
		}
		byStream[k] = append(byStream[k], e)
	}
	pcs := map[[2]string]*peerConn{}
	for _, p := range d.peerConns() {
		pcs[[2]string{p.pc.ParticipantID, p.pc.ID}] = p
	}
	var streams []*limitedStream
	for _, k := range order {
		es := byStream[k]
		slices.SortStableFunc(es, func(a, b *model.TimelineEvent) int { return a.Time.Compare(b.Time) })
		f := strings.Fields(k.head)
		ls := &limitedStream{pid: k.pid, pc: f[0], media: f[1], ssrcs: []string{f[2]}, life: span{es[0].Time, es[len(es)-1].Time}}
		if p := pcs[[2]string{k.pid, ls.pc}]; p != nil {
			from := p.pc.Start
			if !p.connectedAt.IsZero() {
				from = p.connectedAt
			}
			ls.life = ls.life.union(span{from, p.pc.End})
		} else {
			from, to := d.legSpan(k.pid)
			ls.life = ls.life.union(span{from, to})
		}
		cur := ""
		for _, e := range es {
			r := strings.ToLower(strings.TrimSpace(e.Result))
			if r == cur {
				continue
			}
			if limiting(cur) {
				ls.spans[len(ls.spans)-1].to, ls.spans[len(ls.spans)-1].end = e.Time, e
			}
			if limiting(r) {
				ls.spans = append(ls.spans, limitedSpan{reason: r, from: e.Time, to: e.Time, open: e})
			}
			cur = r
		}
		if limiting(cur) {
			ls.spans[len(ls.spans)-1].to = ls.life.to
		}
		if len(ls.spans) == 0 {
			continue
		}
		if i := slices.IndexFunc(streams, func(o *limitedStream) bool {
			return o.pid == ls.pid && o.pc == ls.pc && o.media == ls.media && sameSpans(o.spans, ls.spans)
		}); i >= 0 {
			o := streams[i]
			o.ssrcs = append(o.ssrcs, ls.ssrcs...)
			o.life = o.life.union(ls.life)
			for j := range o.spans {
				o.spans[j].others = append(o.spans[j].others, ls.spans[j].open, ls.spans[j].end)
			}
			continue
		}
		streams = append(streams, ls)
	}
	for _, ls := range streams {
		d.addLimited(ls)
	}
}

// addLimited raises quality-limited for one stream when its limited time
// reaches the rules.
func (d *run) addLimited(ls *limitedStream) {
	byReason := map[string]time.Duration{}
	var total time.Duration
	for _, s := range ls.spans {
		byReason[s.reason] += s.to.Sub(s.from)
		total += s.to.Sub(s.from)
	}
	share := 0.0
	if l := ls.life.to.Sub(ls.life.from); l > 0 {
		share = float64(total) / float64(l)
	}
	if total <= 0 || share < d.rules.QualityLimitedShare && total < seconds(d.rules.QualityLimitedSeconds) {
		return
	}
	var ev []model.Evidence
	for _, s := range ls.spans {
		from, to := s.from, s.to
		ids := []string{s.open.RecordID}
		if s.end != nil {
			ids = append(ids, s.end.RecordID)
		}
		for _, o := range s.others {
			if o != nil {
				ids = append(ids, o.RecordID)
			}
		}
		ev = append(ev, model.Evidence{Metric: "qualityLimitationReason", Text: s.reason, Op: "=", Source: srcEncoder,
			RecordIDs: recordIDs(ids...), From: &from, To: &to})
	}
	ev = append(ev,
		model.Evidence{Metric: "limited time (s)", Value: ptr(round3(total.Seconds())), Op: ">=", Threshold: ptr(d.rules.QualityLimitedSeconds),
			Source: srcEncoder, RecordIDs: []string{}},
		model.Evidence{Metric: "limited share of the stream", Value: ptr(round3(share)), Op: ">=", Threshold: ptr(d.rules.QualityLimitedShare),
			Source: srcEncoder, RecordIDs: []string{}})
	reasons := []string{}
	for _, r := range []string{"bandwidth", "cpu"} {
		if byReason[r] > 0 {
			reasons = append(reasons, r)
		}
	}
	slices.SortStableFunc(reasons, func(a, b string) int { return cmp.Compare(byReason[b], byReason[a]) })
	text := reasonName(reasons[0])
	if len(reasons) > 1 {
		text = fmt.Sprintf("%s (%s) and %s (%s)", reasonName(reasons[0]), secondsText(byReason[reasons[0]]),
			reasonName(reasons[1]), secondsText(byReason[reasons[1]]))
	}
	culprit := model.Culprit{Type: model.CulpritUplink, ParticipantIDs: []string{ls.pid},
		Summary: "this browser's upstream bandwidth: its bandwidth estimate held the encoder down"}
	if reasons[0] == "cpu" {
		culprit = model.Culprit{Type: model.CulpritDevice, ParticipantIDs: []string{ls.pid},
			Summary: "this browser's CPU: the encoder could not keep up and lowered resolution or frame rate"}
	}
	streamID := ls.media + "-" + string(model.DirOutbound) + "-" + ls.pc + ":" + ls.ssrcs[0]
	what := ls.pc + ":" + ls.ssrcs[0]
	if len(ls.ssrcs) > 1 {
		streamID = ls.media + "-" + string(model.DirOutbound) + "-" + ls.pc
		what = fmt.Sprintf("on %s (%d simulcast layers: %s)", ls.pc, len(ls.ssrcs), strings.Join(ls.ssrcs, ", "))
	}
	d.add(model.Issue{Kind: KindQualityLimited, ParticipantID: ls.pid, StreamID: streamID,
		Start: ls.spans[0].from, End: ls.spans[len(ls.spans)-1].to,
		Summary: fmt.Sprintf("outgoing %s %s was held down by %s for %s (%.0f%% of the stream)", ls.media, what, text,
			secondsText(total), share*100),
		Evidence: ev, Rule: "webrtc.quality_limited", Culprit: culprit})
}

func reasonName(r string) string {
	if r == "cpu" {
		return "CPU"
	}
	return r
}

// isMediaRequest reports whether an operation is a browser's request for
// a camera, microphone or screen.
func isMediaRequest(name string) bool {
	return strings.EqualFold(name, "getUserMedia") || strings.EqualFold(name, "getDisplayMedia")
}

// Classes of media request errors (by their DOMException names, old and
// new).
const (
	errPermission      = "permission"
	errNotFound        = "not-found"
	errNotReadable     = "not-readable"
	errOverconstrained = "overconstrained"
	errAbort           = "abort"
	errType            = "type"
	errNotSupported    = "not-supported"
	errInvalidState    = "invalid-state"
	errOther           = "other"
)

func errorClass(name string) string {
	switch strings.ToLower(name) {
	case "notallowederror", "permissiondeniederror", "permissiondismissederror", "securityerror":
		return errPermission
	case "notfounderror", "devicesnotfounderror":
		return errNotFound
	case "notreadableerror", "trackstarterror", "sourceunavailableerror":
		return errNotReadable
	case "overconstrainederror", "constraintnotsatisfiederror":
		return errOverconstrained
	case "aborterror":
		return errAbort
	case "typeerror":
		return errType
	case "notsupportederror":
		return errNotSupported
	case "invalidstateerror":
		return errInvalidState
	}
	return errOther
}

// mediaFix is what to do about a failed camera or microphone request, by
// error class.
func mediaFix(class string) string {
	switch class {
	case errNotFound:
		return "No device matching the request was found: connect or enable the camera or microphone, check that the operating system lists it, and have the page list the devices again."
	case errNotReadable:
		return "The device could not be opened: close other applications and tabs that use it (meeting apps, virtual cameras), reconnect it, and restart the browser if its driver hung."
	case errOverconstrained:
		return "No device met the page's constraints: ask with ideal rather than exact values, and drop a saved device id that no longer exists by listing the devices again and falling back to the default."
	case errAbort:
		return "The request was stopped before the device started: retry, avoid two requests for the same device at once, and restart the browser or the device if it repeats."
	case errType:
		return "The page's request was malformed: ask for audio or video (at least one) with valid constraint values, from a secure (https) page."
	case errNotSupported:
		return "This browser cannot serve the request: check that the browser and its version are supported."
	case errInvalidState:
		return "The page was not in a state to ask (not focused or not fully active): make the request from a user action on the visible page."
	}
	return "The browser refused the request with an unusual error; see its name and message in the evidence."
}

// mediaCulprit says who a failed request points at, by error class.
func mediaCulprit(class, message, pid string) model.Culprit {
	ids := []string{pid}
	switch class {
	case errPermission:
		m := strings.ToLower(message)
		switch {
		case strings.Contains(m, "by system"):
			return model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: ids, Summary: "the operating system's privacy settings deny the browser this device"}
		case strings.Contains(m, "by user") || strings.Contains(m, "dismissed"):
			return model.Culprit{Type: model.CulpritUser, ParticipantIDs: ids, Summary: "the user declined or dismissed the browser's prompt"}
		}
		return model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: ids, Summary: "device permissions in the browser or the operating system"}
	case errNotFound, errNotReadable, errAbort:
		return model.Culprit{Type: model.CulpritDevice, ParticipantIDs: ids, Summary: "a camera or microphone on this participant's system"}
	case errOverconstrained, errType, errNotSupported, errInvalidState:
		return model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: ids, Summary: "the page's media request"}
	}
	return model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: ids}
}

// mediaKinds maps a failed request to the kinds it raises, with the media
// each is about: a refused permission to the permission kind of each
// device asked for; a missing microphone, or a busy microphone or camera,
// asked for alone, to the existing device kinds; a failed screen request
// to capturer-failed; anything else to getusermedia-failed.
func mediaKinds(display bool, class string, asked []string) []kindMedia {
	has := func(m string) bool { return slices.Contains(asked, m) }
	alone := func(m string) bool { return len(asked) == 1 && asked[0] == m }
	switch {
	case display && class == errPermission:
		return []kindMedia{{KindSharePermissionDenied, "screen"}}
	case display:
		return []kindMedia{{KindCapturerFailed, "screen"}}
	case class == errPermission:
		var out []kindMedia
		if has("audio") {
			out = append(out, kindMedia{KindMicPermissionDenied, "audio"})
		}
		if has("video") {
			out = append(out, kindMedia{KindCameraPermissionDenied, "video"})
		}
		if len(out) > 0 {
			return out
		}
	case class == errNotFound && alone("audio"):
		return []kindMedia{{KindNoMicrophone, "audio"}}
	case class == errNotReadable && alone("audio"):
		return []kindMedia{{KindMicBusy, "audio"}}
	case class == errNotReadable && alone("video"):
		return []kindMedia{{KindCameraStartFailed, "video"}}
	}
	return []kindMedia{{KindGetUserMediaFailed, strings.Join(asked, "+")}}
}

type kindMedia struct{ kind, media string }

func deviceWords(media string) string {
	var words []string
	for _, m := range strings.Split(media, "+") {
		switch m {
		case "audio":
			words = append(words, "microphone")
		case "video":
			words = append(words, "camera")
		case "screen":
			words = append(words, "screen")
		case "":
		default:
			words = append(words, m)
		}
	}
	if len(words) == 0 {
		return "media"
	}
	return strings.Join(words, " and ")
}

// mediaRequests raises an issue per participant, kind and kind of failure
// for getUserMedia and getDisplayMedia requests that failed, with each
// failed request as evidence and a fix for its error.
func (d *run) mediaRequests() {
	type key struct{ pid, kind, method, asked, class, media string }
	type group struct {
		events  []*model.TimelineEvent
		errName string
		message string
	}
	groups := map[key]*group{}
	var order []key
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind != model.KindOperation || !isMediaRequest(e.Name) || !strings.EqualFold(e.Result, "Failed") {
			continue
		}
		askedText, rest, _ := strings.Cut(e.Detail, " → ")
		asked := strings.Split(strings.TrimSpace(askedText), "+")
		errName, message, _ := strings.Cut(strings.TrimSpace(rest), " ")
		class := errorClass(errName)
		for _, km := range mediaKinds(strings.EqualFold(e.Name, "getDisplayMedia"), class, asked) {
			k := key{e.ParticipantID, km.kind, e.Name, askedText, class, km.media}
			g := groups[k]
			if g == nil {
				g = &group{errName: errName, message: message}
				groups[k] = g
				order = append(order, k)
			}
			g.events = append(g.events, e)
		}
	}
	for _, k := range order {
		g := groups[k]
		first, last := g.events[0], g.events[len(g.events)-1]
		var ev []model.Evidence
		for _, e := range g.events {
			t := e.Time
			text := e.Detail
			if e.DurationMs != nil {
				text += fmt.Sprintf(" (answered after %.0f ms)", *e.DurationMs)
			}
			ev = append(ev, model.Evidence{Metric: e.Name, Text: text, Op: "failed", Source: srcMediaRequest,
				RecordIDs: recordIDs(e.RecordID), From: &t, To: &t})
		}
		errText := g.errName
		if errText == "" {
			errText = "no error name"
		}
		summary := fmt.Sprintf("%s for the %s failed with %s", k.method, deviceWords(k.media), errText)
		if len(g.events) > 1 {
			summary = fmt.Sprintf("%s for the %s failed %d times with %s", k.method, deviceWords(k.media), len(g.events), errText)
		}
		if d.laterSuccess(k.pid, k.method, k.media, last.Time) {
			summary += "; a later request for it succeeded"
		}
		is := model.Issue{Kind: k.kind, ParticipantID: k.pid, StreamID: k.method + "/" + k.asked + "/" + g.errName,
			Start: first.Time, End: last.Time, Summary: summary, Evidence: ev, Rule: "webrtc.media_request",
			Culprit: mediaCulprit(k.class, g.message, k.pid)}
		switch {
		case k.kind == KindGetUserMediaFailed:
			is.Recommendation.Text = mediaFix(k.class)
		case k.class == errPermission && is.Culprit.Type == model.CulpritUser:
			is.Recommendation.Text = "The user turned down the browser's prompt; explain why the page needs the device and ask again, or have them allow it in the site settings."
		}
		filterOps(d.add(is))
	}
}

// laterSuccess reports whether the participant's requests by method after
// t include a successful one for every device of media.
func (d *run) laterSuccess(pid, method, media string, t time.Time) bool {
	want := strings.Split(media, "+")
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.ParticipantID != pid || e.Name != method || !e.Time.After(t) || !strings.EqualFold(e.Result, "Succeeded") {
			continue
		}
		askedText, _, _ := strings.Cut(e.Detail, " → ")
		asked := strings.Split(askedText, "+")
		if !slices.ContainsFunc(want, func(m string) bool { return !slices.Contains(asked, m) }) {
			return true
		}
	}
	return false
}

// unseenSides works out which participants' far ends sent no telemetry.
// Every connection that tried to reach a far end (loopback pairs left
// out) implies at least one other participant, or a media server relaying
// others; how many a browser's connections lead to cannot be told (an
// application may retry a peer on a new connection), so the call is
// one-sided when a single participant sent telemetry and its connections
// reached out. The seen side's stream issues then name no single side's
// uplink or downlink: which end degraded the path cannot be told without
// the other end's view.
func (d *run) unseenSides() {
	d.pcCount = map[string]int{}
	for _, p := range d.peerConns() {
		if p.tried() && !p.loopback {
			d.pcCount[p.pc.ParticipantID]++
		}
	}
	d.unseen = map[string]int{}
	if seen := len(d.in.Call.Participants); seen <= 1 {
		for pid, k := range d.pcCount {
			if k > 0 {
				d.unseen[pid] = 2 - seen
			}
		}
	}
	if len(d.unseen) == 0 {
		return
	}
	for i := range d.issues {
		is := &d.issues[i]
		if d.unseen[is.ParticipantID] == 0 || !aggregateNetworkKind(is.Kind) ||
			len(is.Culprit.ParticipantIDs) != 1 || is.Culprit.ParticipantIDs[0] != is.ParticipantID {
			continue
		}
		switch is.Culprit.Type {
		case model.CulpritDownlink:
			is.Culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{is.ParticipantID},
				Summary: "this participant's downlink or the sender's uplink: the far end sent no telemetry to tell them apart"}
		case model.CulpritUplink:
			is.Culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{is.ParticipantID},
				Summary: "this participant's uplink or the receiver's downlink: the far end sent no telemetry to tell them apart"}
		}
	}
}

// browserSources names the sources of a browser's evidence for what they
// are: the stream aggregates and samples the per-stream and series rules
// read came from getStats, not from ACS diagnostics logs.
func (d *run) browserSources() {
	for i := range d.issues {
		is := &d.issues[i]
		if !d.browser(is.ParticipantID) {
			continue
		}
		for j := range is.Evidence {
			switch is.Evidence[j].Source {
			case srcDiagnostics:
				is.Evidence[j].Source = srcWebRTCStreams
			case srcSeries:
				is.Evidence[j].Source = srcWebRTCSeries
			}
		}
	}
}

// peerIDs lists the ids of the participant's connections that count
// towards its far ends.
func (d *run) peerIDs(pid string) ([]string, []string) {
	var ids, recs []string
	for _, p := range d.peerConns() {
		if p.pc.ParticipantID == pid && p.tried() && !p.loopback {
			ids = append(ids, p.pc.ID)
			recs = append(recs, p.pc.RecordID)
		}
	}
	return ids, recordIDs(recs...)
}
