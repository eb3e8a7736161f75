package storetest

import (
	"context"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// testPeerConnections stores summaries of WebRTC peer connections: a call
// shows the latest summary of each connection, whatever order they came in,
// ordered by participant and id, searchable by participant, and gone with
// the call.
func testPeerConnections(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	summary := model.Record{ID: "wrtc-sess-b", Category: model.CatWebRTCSession, CallID: "wrtc-call", Time: t0, Known: true,
		Raw: []byte(`{"s":"b"}`), Participant: &model.ParticipantRow{ParticipantID: "browser-b", StartTime: t0,
			CallStartTime: t0, EndpointType: model.EndpointVoIP, CallType: model.CallTypeP2P}}
	pc := func(id, pid, pcID string, at time.Duration, reconnects int, loss *float64) model.Record {
		return model.Record{ID: id, Category: model.CatWebRTCPeerConnection, CallID: "wrtc-call", Time: t0.Add(at),
			Known: true, Raw: []byte(`{"pc":"` + id + `"}`), PeerConn: &model.PeerConnectionRow{
				ParticipantID: pid, ID: pcID, Connected: true, ICEReconnects: reconnects, UsingRelay: pcID == "PC_1",
				LocalCandidateType: "host", RemoteCandidateType: "srflx", LocalProtocol: "udp", RemoteProtocol: "udp",
				PacketsReceived: 1000, PacketsReceivedLost: 12, PacketsSent: 900, ReceivedPacketsLostPct: loss,
				SentPacketsLostPct: f(0), MeanRoundTripMs: f(48.5), SetupMs: f(310), Start: t0, End: t0.Add(at),
				StatsPolls: int(at / time.Second)}}
	}
	// The later summary of PC_0 arrives first.
	appendOK(t, s, summary, pc("pc-late", "browser-b", "PC_0", 20*time.Second, 2, f(1.2)))
	appendOK(t, s, pc("pc-early", "browser-b", "PC_0", 10*time.Second, 0, nil),
		pc("pc-other", "browser-b", "PC_1", 15*time.Second, 0, f(0)),
		pc("pc-a", "browser-a", "PC_0", 5*time.Second, 0, f(0)))
	c := getCall(t, s, "wrtc-call")
	if len(c.PeerConnections) != 3 {
		t.Fatalf("peer connections %+v; want 3, the latest of each", c.PeerConnections)
	}
	got := c.PeerConnections
	if got[0].ParticipantID != "browser-a" || got[1].ID != "PC_0" || got[2].ID != "PC_1" || got[2].ParticipantID != "browser-b" {
		t.Errorf("order %s/%s, %s/%s, %s/%s; want by participant, then id", got[0].ParticipantID, got[0].ID,
			got[1].ParticipantID, got[1].ID, got[2].ParticipantID, got[2].ID)
	}
	late := got[1]
	if late.RecordID != "pc-late" || late.ICEReconnects != 2 || late.ReceivedPacketsLostPct == nil ||
		*late.ReceivedPacketsLostPct != 1.2 || late.MeanRoundTripMs == nil || *late.MeanRoundTripMs != 48.5 ||
		late.PacketsReceivedLost != 12 || late.SetupMs == nil || *late.SetupMs != 310 || !late.End.Equal(t0.Add(20*time.Second)) ||
		late.LocalCandidateType != "host" || late.RemoteProtocol != "udp" || late.StatsPolls != 20 {
		t.Errorf("PC_0 of browser-b = %+v; want the later summary whole", late)
	}
	if !got[2].UsingRelay || got[0].UsingRelay {
		t.Errorf("relay use %v and %v; want only PC_1", got[2].UsingRelay, got[0].UsingRelay)
	}
	if p := search(t, s, store.CallQuery{Q: "browser-a", Limit: 10}); len(p.Calls) != 1 {
		t.Errorf("searching a participant known only from a peer connection found %d calls, want 1", len(p.Calls))
	}
	if c.RecordCounts[model.CatWebRTCPeerConnection] != 4 || c.RecordCounts[model.CatWebRTCSession] != 1 {
		t.Errorf("record counts %v", c.RecordCounts)
	}
	if _, err := s.Expire(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Call(ctx, "wrtc-call"); err == nil {
		t.Error("the call outlived retention")
	}
}
