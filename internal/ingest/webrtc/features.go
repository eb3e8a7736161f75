package webrtc

import (
	"slices"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Features are the numbers a diagnosis of one peer connection starts from.
// They are read the same way from standard, Firefox, Safari and legacy
// (goog*, ssrc_*) stats.
type Features struct {
	// Connected is true when ICE or the connection reached connected (or
	// completed) at least once.
	Connected bool
	// ConnectionFailed is true when the connection (or ICE, for browsers
	// that log no connection state) went to failed and did not connect
	// again afterwards. A connection that never connected but was closed
	// before failing has not failed: its Connected is false.
	ConnectionFailed bool
	// ICEReconnects counts the times ICE came back to connected or
	// completed after being disconnected or failed, once it had connected.
	// Moving between connected and completed is not a reconnect.
	ICEReconnects int
	// SessionDuration runs from the first time the connection state (or
	// ICE, without connection states) became connected to the connection's
	// last record; zero when it never connected.
	SessionDuration time.Duration
	// P2P tells a direct call from one through a media server when the
	// page said so (Jitsi's rtcStatsSFUP2P constraint); nil otherwise.
	P2P *bool

	// SelectedPair is the ICE candidate pair in use in the last snapshot
	// that had one.
	SelectedPair CandidatePair
	// UsingRelay is true when either end of that pair is a TURN relay.
	UsingRelay bool

	// Packet totals: the last cumulative counters of every inbound and
	// outbound RTP stream, summed. Sent packets lost are those the far end
	// reported missing (RTCP receiver reports).
	TotalPacketsReceived     int64
	TotalReceivedPacketsLost int64
	TotalPacketsSent         int64
	TotalSentPacketsLost     int64
	// ReceivedPacketsLostPct is lost ÷ (received + lost) × 100: the share
	// of the packets the senders sent that never arrived.
	// SentPacketsLostPct is lost ÷ sent × 100.
	ReceivedPacketsLostPct float64
	SentPacketsLostPct     float64

	// MeanRoundTripMs averages the round trip over the snapshots: the
	// selected pair's current round trip (googRtt in legacy stats), or,
	// when a snapshot has none (Firefox), each remote-inbound-rtp report's.
	// Zero readings (not measured yet) are left out. RoundTripSamples
	// counts the readings; with none, MeanRoundTripMs is 0 and means
	// unknown.
	MeanRoundTripMs  float64
	RoundTripSamples int
}

// CandidatePair describes an ICE candidate pair.
type CandidatePair struct {
	ID         string
	LocalType  string // host, srflx, prflx or relay
	RemoteType string
	// LocalProtocol is the transport protocol (udp, tcp); for a local relay
	// candidate, the protocol to the TURN server (udp, tcp, tls) when the
	// stats say.
	LocalProtocol  string
	RemoteProtocol string
	LocalAddress   string // address:port, when the stats give it
	RemoteAddress  string
}

// Features computes the connection's features from its events and
// snapshots.
func (pc *PeerConnection) Features() Features {
	var f Features
	pc.stateFeatures(&f)
	f.P2P = p2pConstraint(pc.Constraints)
	pc.packetFeatures(&f)
	pc.pairFeatures(&f)
	return f
}

// stateFeatures reads connection and ICE state changes.
func (pc *PeerConnection) stateFeatures(f *Features) {
	hasConnState := false
	for _, e := range pc.Events {
		if eventKind(e.Name) == "connectionstatechange" {
			hasConnState = true
			break
		}
	}
	var start, last time.Time
	interrupted := false
	for _, e := range pc.Events {
		if e.Time.After(last) {
			last = e.Time
		}
		kind := eventKind(e.Name)
		if kind != "iceconnectionstatechange" && kind != "connectionstatechange" {
			continue
		}
		state := normState(e.Value)
		switch state {
		case "connected", "completed":
			f.Connected = true
			f.ConnectionFailed = false
			if kind == "iceconnectionstatechange" && interrupted {
				f.ICEReconnects++
				interrupted = false
			}
			if start.IsZero() && (kind == "connectionstatechange" || !hasConnState) {
				start = e.Time
			}
		case "disconnected":
			if kind == "iceconnectionstatechange" && f.Connected {
				interrupted = true
			}
		case "failed":
			f.ConnectionFailed = true
			if kind == "iceconnectionstatechange" && f.Connected {
				interrupted = true
			}
		}
	}
	for _, s := range pc.Snapshots {
		if s.Time.After(last) {
			last = s.Time
		}
	}
	if !start.IsZero() && last.After(start) {
		f.SessionDuration = last.Sub(start)
	}
}

// eventKind folds the spellings of an event name across formats and
// versions: "oniceconnectionstatechange" (rtcstats, recent
// webrtc-internals), "iceconnectionstatechange", "iceConnectionStateChange".
func eventKind(name string) string {
	return strings.TrimPrefix(strings.ToLower(name), "on")
}

// normState folds the spellings of a state: "connected", "\"connected\"",
// "ICEConnectionStateConnected", "kICEConnectionStateConnected".
func normState(v string) string {
	s := strings.ToLower(strings.Trim(v, "\" "))
	for _, prefix := range []string{"kiceconnectionstate", "iceconnectionstate", "kpeerconnectionstate", "peerconnectionstate"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			return rest
		}
	}
	return s
}

// p2pConstraint reads Jitsi's rtcStatsSFUP2P from the legacy constraints.
func p2pConstraint(constraints string) *bool {
	if constraints == "" {
		return nil
	}
	v, err := fastjson.Parse(constraints)
	if err != nil {
		return nil
	}
	var p2p *bool
	for _, opt := range v.GetArray("optional") {
		switch kind(opt.Get("rtcStatsSFUP2P")) {
		case fastjson.TypeTrue:
			b := true
			p2p = &b
		case fastjson.TypeFalse:
			b := false
			p2p = &b
		}
	}
	return p2p
}

// stream is the last reading of one RTP stream's counters.
type stream struct{ packets, lost float64 }

// packetFeatures sums the streams' last cumulative counters.
func (pc *PeerConnection) packetFeatures(f *Features) {
	in := map[string]stream{}
	out := map[string]stream{}
	for _, snap := range pc.Snapshots {
		for id, r := range snap.Reports {
			switch {
			case r.Type == "inbound-rtp" || (r.Type == "ssrc" && legacyDirection(id, r) == "recv"):
				n, ok := r.Number("packetsReceived")
				if !ok {
					continue
				}
				lost, _ := r.Number("packetsLost")
				in[id] = stream{n, lost}
			case r.Type == "outbound-rtp" || (r.Type == "ssrc" && legacyDirection(id, r) == "send"):
				n, ok := r.Number("packetsSent")
				if !ok {
					continue
				}
				s := out[id]
				s.packets = n
				if lost, ok := sentLost(snap, id, r); ok {
					s.lost = lost
				}
				out[id] = s
			}
		}
	}
	var recv, recvLost, sent, sentLost float64
	for _, s := range in {
		recv += s.packets
		recvLost += max(s.lost, 0) // negative: duplicates outnumber losses
	}
	for _, s := range out {
		sent += s.packets
		sentLost += max(s.lost, 0)
	}
	f.TotalPacketsReceived, f.TotalReceivedPacketsLost = int64(recv), int64(recvLost)
	f.TotalPacketsSent, f.TotalSentPacketsLost = int64(sent), int64(sentLost)
	if recvLost > 0 {
		f.ReceivedPacketsLostPct = recvLost / (recv + recvLost) * 100
	}
	if sent > 0 && sentLost > 0 {
		f.SentPacketsLostPct = min(sentLost/sent*100, 100)
	}
}

// legacyDirection tells a legacy ssrc report's direction: its id ends in
// _send or _recv, or else its counters say.
func legacyDirection(id string, r Report) string {
	switch {
	case strings.HasSuffix(id, "_recv"):
		return "recv"
	case strings.HasSuffix(id, "_send"):
		return "send"
	}
	if _, ok := r.Number("packetsReceived"); ok {
		return "recv"
	}
	if _, ok := r.Number("packetsSent"); ok {
		return "send"
	}
	return ""
}

// sentLost reads how many of an outbound stream's packets the far end
// reported lost: from the remote-inbound-rtp report the stream names (or
// that names it), or from a legacy report's own packetsLost.
func sentLost(snap Snapshot, id string, r Report) (float64, bool) {
	if r.Type == "ssrc" {
		return r.Number("packetsLost")
	}
	if remote, ok := snap.Reports[r.Text("remoteId")]; ok {
		return remote.Number("packetsLost")
	}
	for _, o := range snap.Reports {
		if o.Type == "remote-inbound-rtp" && o.Text("localId") == id {
			return o.Number("packetsLost")
		}
	}
	return 0, false
}

// pairFeatures reads the round trip and the selected candidate pair.
func (pc *PeerConnection) pairFeatures(f *Features) {
	var sum float64
	for _, snap := range pc.Snapshots {
		ids := selectedPairs(snap)
		measured := false
		for _, id := range ids {
			if ms, ok := pairRTT(snap.Reports[id]); ok && ms > 0 {
				sum += ms
				f.RoundTripSamples++
				measured = true
			}
		}
		if !measured {
			for _, r := range snap.Reports {
				if r.Type != "remote-inbound-rtp" {
					continue
				}
				if s, ok := r.Number("roundTripTime"); ok && s > 0 {
					sum += s * 1000
					f.RoundTripSamples++
				}
			}
		}
		if len(ids) > 0 {
			f.SelectedPair = describePair(snap, ids[0])
		}
	}
	if f.RoundTripSamples > 0 {
		f.MeanRoundTripMs = sum / float64(f.RoundTripSamples)
	}
	f.UsingRelay = f.SelectedPair.LocalType == "relay" || f.SelectedPair.RemoteType == "relay"
}

// selectedPairs returns the ids of the candidate pairs in use: those the
// transports name (standard stats), else the pairs marked selected
// (Firefox), else the active legacy connection (googCandidatePair).
func selectedPairs(snap Snapshot) []string {
	var ids []string
	for _, r := range snap.Reports {
		if r.Type != "transport" {
			continue
		}
		if id := r.Text("selectedCandidatePairId"); id != "" {
			if _, ok := snap.Reports[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		for id, r := range snap.Reports {
			if (r.Type == "candidate-pair" && r.Text("selected") == "true") ||
				(r.Type == "googCandidatePair" && r.Text("googActiveConnection") == "true") {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > 1 {
		// Several transports (no bundling): a stable choice for SelectedPair.
		slices.Sort(ids)
	}
	return ids
}

// pairRTT reads a pair's current round trip in milliseconds.
func pairRTT(p Report) (float64, bool) {
	if s, ok := p.Number("currentRoundTripTime"); ok {
		return s * 1000, true
	}
	return p.Number("googRtt")
}

// describePair reads a candidate pair and its two candidates.
func describePair(snap Snapshot, id string) CandidatePair {
	p := snap.Reports[id]
	local, remote := snap.Reports[p.Text("localCandidateId")], snap.Reports[p.Text("remoteCandidateId")]
	cp := CandidatePair{
		ID:             id,
		LocalType:      candidateType(local.Text("candidateType"), p.Text("googLocalCandidateType")),
		RemoteType:     candidateType(remote.Text("candidateType"), p.Text("googRemoteCandidateType")),
		LocalProtocol:  firstOf(local.Text("protocol"), local.Text("transport"), p.Text("googTransportType")),
		RemoteProtocol: firstOf(remote.Text("protocol"), remote.Text("transport"), p.Text("googTransportType")),
		LocalAddress:   firstOf(candidateAddress(local), p.Text("googLocalAddress")),
		RemoteAddress:  firstOf(candidateAddress(remote), p.Text("googRemoteAddress")),
	}
	if rp := local.Text("relayProtocol"); cp.LocalType == "relay" && rp != "" {
		cp.LocalProtocol = rp
	}
	return cp
}

// candidateType folds candidate type spellings to the standard ones:
// legacy stats say "local", "stun", "serverreflexive", "peerreflexive",
// "relayed".
func candidateType(types ...string) string {
	for _, t := range types {
		switch strings.ToLower(t) {
		case "host", "local":
			return "host"
		case "srflx", "serverreflexive", "stun":
			return "srflx"
		case "prflx", "peerreflexive":
			return "prflx"
		case "relay", "relayed":
			return "relay"
		}
	}
	return ""
}

// candidateAddress reads a candidate's address:port.
func candidateAddress(c Report) string {
	addr := firstOf(c.Text("address"), c.Text("ip"), c.Text("ipAddress"))
	port := firstOf(c.Text("port"), c.Text("portNumber"))
	if addr == "" {
		return ""
	}
	if port == "" {
		return addr
	}
	if strings.Contains(addr, ":") && !strings.HasPrefix(addr, "[") {
		addr = "[" + addr + "]"
	}
	return addr + ":" + port
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
