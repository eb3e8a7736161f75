package webrtcmap

import (
	"strings"
	"testing"
	"time"

	"calldiag/internal/ingest/webrtc"
	"calldiag/internal/model"
)

func TestBrowser(t *testing.T) {
	for _, tc := range []struct{ ua, browser, os string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.51 Safari/537.36",
			"Chrome 99.0.4844.51", "Windows 10"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.3 Safari/605.1.15",
			"Safari 15.3", "macOS 10.15.7"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:96.0) Gecko/20100101 Firefox/96.0", "Firefox 96.0", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			"Edge 120.0.2210.91", "Windows 10"},
		{"Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
			"Chrome 120.0.0.0", "Android 13"},
		{"", "", ""},
	} {
		b, o := Browser(tc.ua)
		if b != tc.browser || o != tc.os {
			t.Errorf("Browser(%q) = %q, %q; want %q, %q", tc.ua, b, o, tc.browser, tc.os)
		}
	}
}

func TestResolve(t *testing.T) {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	collector := &webrtc.Dump{Start: start.Add(time.Minute), Identity: map[string]string{"calldiag": "1", "callId": "c1",
		"participantId": "alice", "userLabel": "Alice", "sessionId": "s1", "seq": "3",
		"sessionStart": "1795773600000"}}
	rtc := &webrtc.Dump{Start: start, ConferenceID: "room", ClientID: "client-9", DisplayName: "Bob"}
	bare := &webrtc.Dump{Start: start}
	for _, tc := range []struct {
		name string
		d    *webrtc.Dump
		opts Options
		want Identity
	}{
		{"collector", collector, Options{Digest: "ab"}, Identity{CallID: "c1", ParticipantID: "alice", Label: "Alice",
			Session: "s1", Seq: 3, Start: time.UnixMilli(1795773600000).UTC()}},
		{"options win", collector, Options{CallID: "x", ParticipantID: "y"}, Identity{CallID: "x", ParticipantID: "y",
			Label: "Alice", Session: "s1", Seq: 3, Start: time.UnixMilli(1795773600000).UTC()}},
		{"rtcstats identity", rtc, Options{Digest: "0123456789abcdef0123"}, Identity{CallID: "room",
			ParticipantID: "client-9", Label: "Bob", Session: "client-9", Start: start}},
		{"hash of the dump", bare, Options{Digest: "0123456789abcdef0123"}, Identity{CallID: "webrtc-0123456789abcdef",
			ParticipantID: "browser-0123456789ab", Session: "browser-0123456789ab", Start: start}},
	} {
		if got := Resolve(tc.d, tc.opts); got != tc.want {
			t.Errorf("%s: Resolve = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestRecords maps a small dump: one participant, the state changes as
// operations without a failure, a failed getUserMedia as a failed
// operation, one stream per RTP report with its loss and round trip, the
// 10-second samples, a quality-limitation change and the summary; and
// mapping it twice gives the same record ids.
func TestRecords(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	snap := func(s int, sent, lost float64, limit string) webrtc.Snapshot {
		at := t0.Add(time.Duration(s) * time.Second)
		return webrtc.Snapshot{Time: at, Reports: map[string]webrtc.Report{
			"OT01V1": {Type: "outbound-rtp", Time: at, Num: map[string]float64{"ssrc": 1, "packetsSent": sent, "bytesSent": sent * 1000,
				"framesPerSecond": 30, "frameHeight": 360}, Str: map[string]string{"kind": "video", "remoteId": "RI01V1",
				"qualityLimitationReason": limit, "ssrc": "1"}},
			"RI01V1": {Type: "remote-inbound-rtp", Time: at, Num: map[string]float64{"packetsLost": lost, "roundTripTime": 0.08,
				"jitter": 0.012}, Str: map[string]string{"localId": "OT01V1"}},
		}}
	}
	d := &webrtc.Dump{Format: webrtc.FormatRTCStats, UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:96.0) Gecko/20100101 Firefox/96.0",
		Start: t0, End: t0.Add(30 * time.Second),
		Media: []webrtc.MediaRequest{{Time: t0, Audio: true, Outcome: webrtc.MediaFailure, Error: "NotAllowedError",
			ResultTime: t0.Add(2 * time.Second)}},
		PeerConnections: []*webrtc.PeerConnection{{ID: "PC_0",
			Events: []webrtc.Event{{Time: t0, Name: "create", Value: "{}"},
				{Time: t0.Add(time.Second), Name: "oniceconnectionstatechange", Value: "connected"}},
			Snapshots: []webrtc.Snapshot{snap(2, 100, 0, "none"), snap(7, 600, 10, "bandwidth"), snap(12, 1100, 60, "bandwidth"),
				snap(17, 1600, 60, "none")}}}}
	id := Resolve(d, Options{CallID: "c", ParticipantID: "p"})
	recs, err := Records(d, id, Options{Source: "dump.txt"})
	if err != nil {
		t.Fatal(err)
	}
	var parts, failed, states, streams, samples, limits, pcs int
	for _, r := range recs {
		if r.CallID != "c" || r.ID == "" || !strings.Contains(string(r.Raw), `"source":"dump.txt"`) {
			t.Errorf("record %+v: want call c, an id and its raw form naming the file", r)
		}
		switch {
		case r.Participant != nil:
			parts++
			if r.Participant.SDKVersion != "Firefox 96.0" || r.Participant.Duration == nil || *r.Participant.Duration != 30 {
				t.Errorf("participant %+v", r.Participant)
			}
		case r.Operation != nil && r.Operation.Name == "getUserMedia":
			if r.Operation.ResultType == "Failed" && strings.Contains(r.Operation.Payload, "NotAllowedError") &&
				r.Operation.DurationMs != nil && *r.Operation.DurationMs == 2000 {
				failed++
			}
		case r.Operation != nil && r.Operation.Name == "iceconnectionstatechange":
			if r.Operation.ResultType == "" && r.Operation.Payload == "PC_0 connected" {
				states++
			}
		case r.Operation != nil && r.Operation.Name == "qualityLimitationChange":
			limits++
		case r.Stream != nil:
			streams++
			s := r.Stream
			if s.Direction != model.DirOutbound || s.MediaType != model.MediaVideo || s.PacketLossRateAvg == nil ||
				*s.PacketLossRateAvg != 60.0/1500 || s.RoundTripTimeAvgMs == nil || *s.RoundTripTimeAvgMs != 80 ||
				s.VideoFrameRateAvg == nil || *s.VideoFrameRateAvg != 30 {
				t.Errorf("stream %+v", s)
			}
		case r.Sample != nil:
			samples++
		case r.PeerConn != nil:
			pcs++
			if !r.PeerConn.Connected || r.PeerConn.SetupMs == nil || *r.PeerConn.SetupMs != 1000 {
				t.Errorf("peer connection %+v", r.PeerConn)
			}
		}
	}
	if parts != 1 || failed != 1 || states != 1 || streams != 1 || samples == 0 || limits != 2 || pcs != 1 {
		t.Errorf("participants %d, failed media %d, state changes %d, streams %d, samples %d, limitation changes %d, "+
			"summaries %d; want 1, 1, 1, 1, some, 2, 1", parts, failed, states, streams, samples, limits, pcs)
	}
	again, err := Records(d, id, Options{Source: "dump.txt"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if recs[i].ID != again[i].ID {
			t.Fatalf("record %d has id %s, then %s", i, recs[i].ID, again[i].ID)
		}
	}
}

// TestCollectorBatch maps a batch as the browser collector sends it: the
// identity line names the call, the participant, the session and the
// batch, later batches supersede earlier rows, and the calldiag lines give
// the far end of a connection and its running round trip.
func TestCollectorBatch(t *testing.T) {
	batch := `["identity",null,{"calldiag":1,"callId":"standup","participantId":"alice","userLabel":"Alice","sessionId":"s-1","sessionStart":1795773600000,"seq":4,"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36"},1795773660000]
["create","pc-1",{"iceServers":[]},1795773601000]
["oniceconnectionstatechange","pc-1","connected",1795773602000]
["calldiag.peer","pc-1",{"remoteParticipantId":"bob"},1795773660000]
["calldiag.rtt","pc-1",{"sumMs":1200,"count":30},1795773660000]
["getstats","pc-1",{"IT01A":{"type":"inbound-rtp","kind":"audio","ssrc":7,"packetsReceived":100,"packetsLost":0,"jitter":0.01,"timestamp":1795773650000}},1795773650000]
["getstats","pc-1",{"IT01A":{"type":"inbound-rtp","kind":"audio","ssrc":7,"packetsReceived":600,"packetsLost":5,"jitter":0.02,"timestamp":1795773655000}},1795773655000]
`
	d, lineErrs, err := webrtc.Parse(strings.NewReader(batch), "collect")
	if err != nil || len(lineErrs) != 0 {
		t.Fatalf("Parse: %v %v", err, lineErrs)
	}
	id := Resolve(d, Options{})
	if id.CallID != "standup" || id.ParticipantID != "alice" || id.Seq != 4 || id.Session != "s-1" {
		t.Fatalf("identity %+v", id)
	}
	recs, err := Records(d, id, Options{Source: "collect"})
	if err != nil {
		t.Fatal(err)
	}
	var samples, rtts int
	for _, r := range recs {
		switch {
		case r.Stream != nil:
			// The counters count from the stream's start: the row stands
			// for the whole stream, not the batch's few seconds.
			if l := r.Stream.PacketLossRateAvg; l == nil || *l != 5.0/605 {
				t.Errorf("stream loss %v, want 5/605 from the counters", l)
			}
		case r.Participant != nil:
			if r.Participant.Version == nil || *r.Participant.Version != 4 || !r.Participant.StartTime.Equal(time.UnixMilli(1795773600000)) {
				t.Errorf("participant %+v: want version 4 (a later batch supersedes it) and the session's start", r.Participant)
			}
		case r.Sample != nil:
			samples++
			if r.Sample.RemoteParticipantID != "bob" {
				t.Errorf("sample %+v: want the far end bob", r.Sample)
			}
		case r.PeerConn != nil:
			if m := r.PeerConn.MeanRoundTripMs; m != nil && *m == 40 {
				rtts++
			}
		}
	}
	if samples == 0 || rtts != 1 {
		t.Errorf("%d samples, %d summaries with the collector's mean round trip (40 ms)", samples, rtts)
	}
	// The batch that closes the connection has its states but no stats:
	// its summary is dated at the connection's start, so that the last
	// batch with counters stays the connection's summary.
	closing := `["identity",null,{"calldiag":1,"callId":"standup","participantId":"alice","sessionId":"s-1","seq":5},1795773670000]
["create","pc-1",{"iceServers":[]},1795773601000]
["oniceconnectionstatechange","pc-1","connected",1795773602000]
["close","pc-1",null,1795773668000]
`
	d, _, err = webrtc.Parse(strings.NewReader(closing), "collect")
	if err != nil {
		t.Fatal(err)
	}
	recs, err = Records(d, Resolve(d, Options{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.PeerConn != nil && !r.Time.Equal(time.UnixMilli(1795773601000)) {
			t.Errorf("summary of a batch without stats dated %v, want the connection's start", r.Time)
		}
	}
}
