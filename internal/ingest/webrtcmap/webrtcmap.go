// Package webrtcmap turns a parsed WebRTC dump (package ingest/webrtc) into
// calldiag's records: the browser that recorded it as a participant, each
// RTP stream of each peer connection with its whole-stream aggregates,
// every API call, callback and media request as a client operation, the
// getStats counters as 10-second media-stats samples, and a summary per
// peer connection. The records carry the same payloads as ACS logs, so a
// WebRTC call is searched, shown and diagnosed as an ACS call is.
//
// A dump has no call or participant ids of calldiag's: they come from the
// options, from the collector's identity line, from the dump's own
// identity (an rtcstats conference id, user or client id), or else from a
// hash of the dump, so that ingesting the same dump twice stores it once.
package webrtcmap

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/ingest/webrtc"
	"calldiag/internal/model"
)

// Options name what a dump does not.
type Options struct {
	// CallID and ParticipantID, when set, are the call and the participant
	// (the browser that recorded the dump) the records belong to.
	CallID, ParticipantID string
	// Source names the dump in the records' raw form (its file name).
	Source string
	// Digest identifies the dump's bytes (a hex hash); the default call
	// and participant ids derive from it.
	Digest string
}

// Identity is who and what a dump's records are about.
type Identity struct {
	CallID, ParticipantID string
	// Label is the user's name or label, when the dump gives one.
	Label string
	// Session identifies one page load; Seq numbers a collector's batches
	// (0 for a whole dump).
	Session string
	Seq     int
	// Start is when the session started.
	Start time.Time
}

// Resolve works out the call and participant of a dump.
func Resolve(d *webrtc.Dump, opts Options) Identity {
	id := Identity{Start: d.Start}
	collector := d.Identity["calldiag"] != ""
	if collector {
		id.CallID, id.ParticipantID = d.Identity["callId"], d.Identity["participantId"]
		id.Label, id.Session = d.Identity["userLabel"], d.Identity["sessionId"]
		if n, err := strconv.Atoi(d.Identity["seq"]); err == nil && n > 0 {
			id.Seq = n
		}
		if ms, err := strconv.ParseFloat(d.Identity["sessionStart"], 64); err == nil && ms > 0 {
			id.Start = time.UnixMilli(int64(ms)).UTC()
		}
	}
	digest := opts.Digest
	if digest == "" {
		digest = hashOf(d.URL, d.UserAgent, d.Start.String(), d.End.String())
	}
	id.CallID = first(opts.CallID, id.CallID, d.ConferenceID, "webrtc-"+short(digest, 16))
	id.ParticipantID = first(opts.ParticipantID, id.ParticipantID, d.UserID, d.ClientID, d.SessionID, "browser-"+short(digest, 12))
	id.Label = first(id.Label, d.DisplayName, d.UserID)
	id.Session = first(id.Session, d.SessionID, d.ClientID, id.ParticipantID)
	return id
}

// Records maps a dump onto records of call id.CallID.
func Records(d *webrtc.Dump, id Identity, opts Options) ([]model.Record, error) {
	m := &mapper{d: d, id: id, source: opts.Source, features: make(map[*webrtc.PeerConnection]webrtc.Features)}
	for _, pc := range d.PeerConnections {
		m.features[pc] = pc.Features()
	}
	m.browser, m.os = Browser(d.UserAgent)
	if id.Seq > 0 {
		v := id.Seq
		m.version = &v
	}
	if err := m.session(); err != nil {
		return nil, err
	}
	for _, r := range d.Media {
		if err := m.media(r); err != nil {
			return nil, err
		}
	}
	for _, e := range d.Events {
		if err := m.event("", e); err != nil {
			return nil, err
		}
	}
	for _, pc := range d.PeerConnections {
		if err := m.peer(pc); err != nil {
			return nil, err
		}
	}
	if err := m.samples(); err != nil {
		return nil, err
	}
	return m.out, nil
}

type mapper struct {
	d           *webrtc.Dump
	id          Identity
	source      string
	browser, os string
	version     *int
	out         []model.Record
	// features are the peer connections' features, computed once.
	features map[*webrtc.PeerConnection]webrtc.Features
	// series holds the streams' 10-second buckets by series.
	series map[seriesKey]map[int64]map[string][]*acc
}

// add appends a record whose raw form is raw (marshalled to JSON) and
// whose id is a hash of what it says.
func (m *mapper) add(cat model.Category, t time.Time, raw map[string]any, set func(*model.Record)) error {
	raw["category"] = string(cat)
	raw["callId"] = m.id.CallID
	raw["participantId"] = m.id.ParticipantID
	if m.source != "" {
		raw["source"] = m.source
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("%s record: %w", cat, err)
	}
	sum := sha256.Sum256(b)
	r := model.Record{ID: hex.EncodeToString(sum[:16]), Category: cat, RawCategory: string(cat), CallID: m.id.CallID,
		Time: t.UTC(), Known: true, Raw: b}
	set(&r)
	m.out = append(m.out, r)
	return nil
}

// session is the recording browser as a participant.
func (m *mapper) session() error {
	d := m.d
	start := m.id.Start
	if start.IsZero() {
		start = d.Start
	}
	end := d.End
	row := &model.ParticipantRow{ParticipantID: m.id.ParticipantID, RawParticipantID: m.id.ParticipantID,
		Identifier: m.id.Label, EndpointType: model.EndpointVoIP, RawEndpointType: "Browser", ParticipantType: "WebRTC",
		SDKVersion: m.browser, OSVersion: m.os, CallStartTime: start, StartTime: start, Version: m.version}
	if !start.IsZero() && end.After(start) {
		dur := end.Sub(start).Seconds()
		row.Duration, row.CallDuration = &dur, &dur
	}
	if p2p := m.p2p(); p2p != "" {
		row.CallType = p2p
	}
	raw := map[string]any{"format": string(d.Format), "userAgent": d.UserAgent, "url": d.URL,
		"start": start, "end": end, "session": m.id.Session, "label": m.id.Label, "peerConnections": len(d.PeerConnections)}
	if m.id.Seq > 0 {
		raw["seq"] = m.id.Seq
	}
	return m.add(model.CatWebRTCSession, start, raw, func(r *model.Record) { r.Participant = row })
}

// p2p tells the call type when the dump says: P2P when every connection
// that says is direct, Group when one goes through a media server.
func (m *mapper) p2p() model.CallType {
	var seen, group bool
	for _, pc := range m.d.PeerConnections {
		if p := m.features[pc].P2P; p != nil {
			seen = true
			group = group || !*p
		}
	}
	switch {
	case !seen:
		return ""
	case group:
		return model.CallTypeGroup
	}
	return model.CallTypeP2P
}

// media is a getUserMedia or getDisplayMedia call as an operation.
func (m *mapper) media(r webrtc.MediaRequest) error {
	name := "getUserMedia"
	if r.Display {
		name = "getDisplayMedia"
	}
	var asked []string
	if r.Audio {
		asked = append(asked, "audio")
	}
	if r.Video {
		asked = append(asked, map[bool]string{true: "screen", false: "video"}[r.Display])
	}
	op := &model.Operation{Name: name, Type: "webrtc-media", OperationID: name, ParticipantID: m.id.ParticipantID,
		ClientInstanceID: m.id.Session, ClientTime: r.Time.UTC(), SDKVersion: m.browser, UserAgent: m.d.UserAgent}
	detail := strings.Join(asked, "+")
	switch r.Outcome {
	case webrtc.MediaSuccess:
		op.ResultType = "Succeeded"
		var kinds []string
		for _, t := range r.Tracks {
			kinds = append(kinds, t.Kind)
		}
		detail += " → " + strings.Join(kinds, ", ")
	case webrtc.MediaFailure:
		op.ResultType = "Failed"
		detail += " → " + strings.TrimSpace(r.Error+" "+r.ErrorMessage)
	}
	if !r.ResultTime.IsZero() && !r.ResultTime.Before(r.Time) {
		ms := float64(r.ResultTime.Sub(r.Time).Microseconds()) / 1000
		op.DurationMs = &ms
	}
	op.Payload = detail
	raw := map[string]any{"event": name, "time": r.Time, "asked": asked, "outcome": string(r.Outcome),
		"error": r.Error, "message": r.ErrorMessage, "constraints": r.Constraints}
	return m.add(model.CatWebRTCEvent, r.Time, raw, func(rec *model.Record) { rec.Operation = op })
}

// maxDetail bounds the text an event shows on the timeline.
const maxDetail = 300

// event is an API call or callback (of peer connection pc, or of the page
// when pc is "") as an operation.
func (m *mapper) event(pc string, e webrtc.Event) error {
	name := e.Name
	if name == "" || strings.EqualFold(name, "getstats") || strings.HasPrefix(name, "calldiag.") {
		return nil
	}
	if strings.HasPrefix(name, "on") && len(name) > 2 {
		name = name[2:]
	}
	op := &model.Operation{Name: name, Type: "webrtc", OperationID: pc, ParticipantID: m.id.ParticipantID,
		ClientInstanceID: m.id.Session, ClientTime: e.Time.UTC(), SDKVersion: m.browser, UserAgent: m.d.UserAgent}
	value := e.Value
	lower := strings.ToLower(name)
	// A state change is no success or failure of its own: the state shows
	// in the detail, and detection reads it there.
	switch {
	case strings.HasSuffix(lower, "onfailure"):
		op.ResultType = "Failed"
	case strings.HasSuffix(lower, "onsuccess"):
		op.ResultType = "Succeeded"
	}
	if strings.Contains(lower, "description") {
		value = descriptionType(value)
	}
	detail := value
	if pc != "" {
		detail = strings.TrimSpace(pc + " " + value)
	}
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "…"
	}
	op.Payload = detail
	raw := map[string]any{"event": e.Name, "pc": pc, "time": e.Time, "value": e.Value}
	return m.add(model.CatWebRTCEvent, e.Time, raw, func(r *model.Record) { r.Operation = op })
}

// descriptionType keeps the type of a session description (offer,
// answer), not the SDP.
func descriptionType(v string) string {
	var d struct {
		Type string `json:"type"`
	}
	if json.Unmarshal([]byte(v), &d) == nil && d.Type != "" {
		return d.Type
	}
	if i := strings.Index(v, "type: "); i >= 0 {
		rest := v[i+6:]
		if j := strings.IndexAny(rest, ", \n"); j > 0 {
			return rest[:j]
		}
		return rest
	}
	return ""
}

// peer maps one peer connection: its events, streams, samples and
// summary.
func (m *mapper) peer(pc *webrtc.PeerConnection) error {
	for _, e := range pc.Events {
		if err := m.event(pc.ID, e); err != nil {
			return err
		}
	}
	f := m.features[pc]
	st := streamsOf(pc, f)
	remote := remoteOf(pc)
	for _, s := range st {
		s.remote = remote
		if err := m.stream(pc, s); err != nil {
			return err
		}
	}
	return m.summary(pc, f)
}

// remoteOf returns the participant at the far end of a peer connection,
// when the collector was told it (its calldiag.peer line).
func remoteOf(pc *webrtc.PeerConnection) string {
	remote := ""
	for _, e := range pc.Events {
		if e.Name != "calldiag.peer" {
			continue
		}
		var p struct {
			RemoteParticipantID string `json:"remoteParticipantId"`
		}
		if json.Unmarshal([]byte(e.Value), &p) == nil && p.RemoteParticipantID != "" {
			remote = p.RemoteParticipantID
		}
	}
	return remote
}

// summary is the peer connection's summary record.
func (m *mapper) summary(pc *webrtc.PeerConnection, f webrtc.Features) error {
	start, end := bounds(pc)
	row := &model.PeerConnectionRow{ParticipantID: m.id.ParticipantID, ID: pc.ID, Connected: f.Connected,
		ConnectionFailed: f.ConnectionFailed, ICEReconnects: f.ICEReconnects, UsingRelay: f.UsingRelay,
		LocalCandidateType: f.SelectedPair.LocalType, RemoteCandidateType: f.SelectedPair.RemoteType,
		LocalProtocol: f.SelectedPair.LocalProtocol, RemoteProtocol: f.SelectedPair.RemoteProtocol,
		PacketsReceived: f.TotalPacketsReceived, PacketsReceivedLost: f.TotalReceivedPacketsLost,
		PacketsSent: f.TotalPacketsSent, PacketsSentLost: f.TotalSentPacketsLost, Start: start, End: end,
		StatsPolls: len(pc.Snapshots)}
	if f.TotalPacketsReceived+f.TotalReceivedPacketsLost > 0 {
		row.ReceivedPacketsLostPct = finite(f.ReceivedPacketsLostPct)
	}
	if f.TotalPacketsSent > 0 {
		row.SentPacketsLostPct = finite(f.SentPacketsLostPct)
	}
	if f.RoundTripSamples > 0 {
		row.MeanRoundTripMs = finite(f.MeanRoundTripMs)
	}
	// The collector sends the running round trip of the whole connection,
	// which one batch's snapshots cannot give.
	for _, e := range pc.Events {
		if e.Name != "calldiag.rtt" {
			continue
		}
		var rtt struct {
			SumMs float64 `json:"sumMs"`
			Count float64 `json:"count"`
		}
		if json.Unmarshal([]byte(e.Value), &rtt) == nil && rtt.Count > 0 {
			row.MeanRoundTripMs = finite(rtt.SumMs / rtt.Count)
		}
	}
	if created, connected := setupTimes(pc); !created.IsZero() && !connected.IsZero() && !connected.Before(created) {
		row.SetupMs = finite(float64(connected.Sub(created).Microseconds()) / 1000)
	}
	raw := map[string]any{"pc": pc.ID, "start": start, "end": end, "connected": f.Connected,
		"connectionFailed": f.ConnectionFailed, "iceReconnects": f.ICEReconnects, "usingRelay": f.UsingRelay,
		"selectedPair": f.SelectedPair, "packetsReceived": f.TotalPacketsReceived,
		"packetsReceivedLost": f.TotalReceivedPacketsLost, "packetsSent": f.TotalPacketsSent,
		"packetsSentLost": f.TotalSentPacketsLost, "meanRoundTripMs": row.MeanRoundTripMs, "setupMs": row.SetupMs,
		"statsPolls": len(pc.Snapshots)}
	at := end
	if m.id.Seq > 0 {
		raw["seq"] = m.id.Seq
		// A collector batch without stats of the connection (the one that
		// closes it, say) knows its states but not its counters: dated at
		// the connection's start, its summary gives way to any batch that
		// measured something, and stands only when none did.
		if len(pc.Snapshots) == 0 {
			at = start
			raw["statsInBatch"] = false
		}
	}
	return m.add(model.CatWebRTCPeerConnection, at, raw, func(r *model.Record) { r.PeerConn = row })
}

// bounds returns a peer connection's first and last record times.
func bounds(pc *webrtc.PeerConnection) (start, end time.Time) {
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if start.IsZero() || t.Before(start) {
			start = t
		}
		if t.After(end) {
			end = t
		}
	}
	for _, e := range pc.Events {
		see(e.Time)
	}
	for _, s := range pc.Snapshots {
		see(s.Time)
	}
	return start.UTC(), end.UTC()
}

// setupTimes returns when the connection was created and when it first
// connected.
func setupTimes(pc *webrtc.PeerConnection) (created, connected time.Time) {
	for _, e := range pc.Events {
		name := strings.TrimPrefix(strings.ToLower(e.Name), "on")
		switch {
		case name == "create" || name == "createpeerconnection" || name == "peerconnectioncreated":
			if created.IsZero() {
				created = e.Time
			}
		case name == "connectionstatechange" || name == "iceconnectionstatechange":
			s := strings.ToLower(strings.Trim(e.Value, `"`))
			if (s == "connected" || s == "completed") && connected.IsZero() {
				connected = e.Time
			}
		}
	}
	return created, connected
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func first(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func hashOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
