package webrtc

import (
	"bytes"
	"compress/gzip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestInternalsCurrentShape reads a small hand-written dump in the shape
// recent Chrome versions save: statsType on every series, "timestamp" and
// "type" series per report, update log values as JSON text, getUserMedia
// calls and answers as separate entries.
func TestInternalsCurrentShape(t *testing.T) {
	d, errs := parseFile(t, "testdata/internals/current.json")
	if len(errs) > 0 {
		t.Fatalf("entry errors: %v", errs)
	}
	if d.Format != FormatInternals || !strings.Contains(d.UserAgent, "Chrome/120") || d.URL != "https://meet.example.net/room" {
		t.Errorf("format %s, user agent %q, URL %q", d.Format, d.UserAgent, d.URL)
	}
	wantMedia := []MediaRequest{
		{Time: msf(1699999990000.5), Audio: true, Video: true, Constraints: `{"audio":"","video":"{\"width\": {\"ideal\": 1280}}"}`,
			Outcome: MediaSuccess, ResultTime: msf(1699999990400.25),
			Tracks: []MediaTrack{{ID: "a-1", Kind: "audio", Label: "USB Headset"}, {ID: "v-1", Kind: "video", Label: "FaceTime HD Camera"}}},
		{Time: ms(1700000005000), Display: true, Video: true, Constraints: `{"video":"{}"}`,
			Outcome: MediaFailure, ResultTime: ms(1700000007000), Error: "NotAllowedError", ErrorMessage: "Permission denied by user"},
	}
	if !reflect.DeepEqual(d.Media, wantMedia) {
		t.Errorf("media\n got %+v\nwant %+v", d.Media, wantMedia)
	}
	pc := d.PeerConnections[0]
	if pc.ID != "4242-1" || !strings.Contains(pc.Config, `"bundlePolicy":"max-bundle"`) {
		t.Errorf("pc %s config %s", pc.ID, pc.Config)
	}
	if e := pc.Events[2]; e.Name != "oniceconnectionstatechange" || e.Value != "checking" || e.Time != msf(1699999999100.5) {
		t.Errorf("a state change reads %+v: want the value unquoted", e)
	}
	if e := pc.Events[0]; e.Value != `{"offerToReceiveAudio":true}` {
		t.Errorf("an object value reads %q: want its JSON", e.Value)
	}

	if len(pc.Snapshots) != 3 {
		t.Fatalf("%d snapshots, want one per poll (3)", len(pc.Snapshots))
	}
	s0, s1, s2 := pc.Snapshots[0], pc.Snapshots[1], pc.Snapshots[2]
	if s0.Time != msf(1700000000000.5) || s2.Time != msf(1700000002001.75) {
		t.Errorf("poll times %s, %s", s0.Time, s2.Time)
	}
	in := s1.Reports["IT01A1111"]
	if in.Type != "inbound-rtp" || in.Num["packetsReceived"] != 200 || in.Num["packetsLost"] != 5 || in.Str["kind"] != "audio" {
		t.Errorf("inbound report in poll 2: %+v", in)
	}
	if _, ok := in.Num["jitter"]; ok {
		t.Errorf("a null value must leave the field out of that poll: %+v", in.Num)
	}
	if _, ok := s1.Reports["T01"].Num["[bytesSent_in_bits/s]"]; ok {
		t.Error("the page's computed rates are not stats fields")
	}
	if _, ok := s2.Reports["CPold_b"]; ok {
		t.Error("a report whose series ended is not in later snapshots")
	}
	if _, ok := s1.Reports["CPold_b"]; !ok {
		t.Error("the old candidate pair is in the first two polls")
	}
	// The remote-inbound-rtp report is stamped with its RTCP's time, before
	// the poll and repeated while no RTCP came; it is still in every poll,
	// and its roundTripTime, which appeared later, in the last two.
	for i, s := range pc.Snapshots {
		r, ok := s.Reports["RIV2222"]
		if !ok {
			t.Errorf("poll %d has no remote-inbound-rtp report", i+1)
			continue
		}
		_, hasRTT := r.Num["roundTripTime"]
		if hasRTT != (i > 0) {
			t.Errorf("poll %d: roundTripTime present = %v", i+1, hasRTT)
		}
	}
	if r := s2.Reports["RIV2222"]; r.Time != msf(1700000000960.25) || r.Num["packetsLost"] != 9 {
		t.Errorf("remote report in the last poll: time %s, %+v", r.Time, r.Num)
	}

	f := pc.Features()
	want := Features{
		Connected: true, ICEReconnects: 1, SessionDuration: msf(1700000002500.5).Sub(msf(1699999999210.5)),
		SelectedPair: CandidatePair{ID: "CPa_b", LocalType: "relay", RemoteType: "srflx", LocalProtocol: "tls", RemoteProtocol: "udp",
			LocalAddress: "203.0.113.7:3478", RemoteAddress: "198.51.100.9:10000"},
		UsingRelay:           true,
		TotalPacketsReceived: 300, TotalReceivedPacketsLost: 10, ReceivedPacketsLostPct: 10.0 / 310 * 100,
		TotalPacketsSent: 450, TotalSentPacketsLost: 9, SentPacketsLostPct: 2,
		MeanRoundTripMs: 30, RoundTripSamples: 3,
	}
	if !closeFeatures(f, want) {
		t.Errorf("features\n got %+v\nwant %+v", f, want)
	}
}

// closeFeatures compares features, the floating-point ones to a millionth.
func closeFeatures(a, b Features) bool {
	near := func(x, y float64) bool { return x-y < 1e-6 && y-x < 1e-6 }
	if !near(a.ReceivedPacketsLostPct, b.ReceivedPacketsLostPct) || !near(a.SentPacketsLostPct, b.SentPacketsLostPct) || !near(a.MeanRoundTripMs, b.MeanRoundTripMs) {
		return false
	}
	a.ReceivedPacketsLostPct, a.SentPacketsLostPct, a.MeanRoundTripMs = 0, 0, 0
	b.ReceivedPacketsLostPct, b.SentPacketsLostPct, b.MeanRoundTripMs = 0, 0, 0
	return reflect.DeepEqual(a, b)
}

func msf(n float64) time.Time { t, _ := msTime(n); return t }

// TestInternalsChrome86Shape reads a hand-written dump in the shape Chrome
// 86 saved: no statsType (types come from a "type" series or the report
// id), no timestamp series, update log times as en-US dates, plain log
// values, the configuration in Chrome's own text form.
func TestInternalsChrome86Shape(t *testing.T) {
	d, errs := parseFile(t, "testdata/internals/chrome86.json")
	if len(errs) != 1 || !strings.Contains(errs[0].Entry, "31337-1 updateLog[5]") || !strings.Contains(errs[0].Reason, "sometime") {
		t.Errorf("want one error, for the entry whose time is not a date: %v", errs)
	}
	if len(d.Media) != 1 || d.Media[0].Outcome != MediaPending || !d.Media[0].Audio || !d.Media[0].Video {
		t.Errorf("media %+v: want one call for audio and video, unanswered", d.Media)
	}
	pc := d.PeerConnections[0]
	if !strings.HasPrefix(pc.Config, "{ iceServers: [stun:stun.example.org:3478]") {
		t.Errorf("config %q: want Chrome's text kept", pc.Config)
	}
	if e := pc.Events[3]; e.Time != time.Date(2020, 11, 12, 16, 40, 59, 0, time.UTC) || e.Value != "connected" {
		t.Errorf("event %+v", e)
	}
	if e := pc.Events[5]; e.Name != "signalingStateChange" || e.Time != pc.Events[4].Time {
		t.Errorf("an entry with an unreadable time keeps the previous time: %+v", e)
	}
	if len(pc.Snapshots) != 4 {
		t.Fatalf("%d snapshots, want 4", len(pc.Snapshots))
	}
	last := pc.Snapshots[3].Reports
	types := map[string]string{}
	for id, r := range last {
		types[id] = r.Type
	}
	wantTypes := map[string]string{
		"RTCTransport_0_1":                    "transport",
		"RTCIceCandidatePair_Xl_Yr":           "candidate-pair",
		"RTCIceCandidate_Xl":                  "local-candidate",
		"RTCIceCandidate_Yr":                  "remote-candidate",
		"RTCInboundRTPVideoStream_3333":       "inbound-rtp",
		"RTCOutboundRTPAudioStream_4444":      "outbound-rtp",
		"RTCRemoteInboundRtpAudioStream_4444": "remote-inbound-rtp",
		"RTCMediaStreamTrack_receiver_1":      "track",
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("types\n got %v\nwant %v", types, wantTypes)
	}
	if _, ok := pc.Snapshots[0].Reports["RTCRemoteInboundRtpAudioStream_4444"]; ok {
		t.Error("the remote-inbound-rtp report starts in the second poll")
	}
	if pair := pc.Snapshots[0].Reports["RTCIceCandidatePair_Xl_Yr"]; pair.Num["currentRoundTripTime"] != 0 || len(pair.Str) != 3 {
		t.Errorf("the round trip appears in the second poll: %+v", pair)
	}
	f := pc.Features()
	want := Features{
		Connected: true, SessionDuration: msf(1605199263126).Sub(time.Date(2020, 11, 12, 16, 41, 0, 0, time.UTC)),
		SelectedPair:         CandidatePair{ID: "RTCIceCandidatePair_Xl_Yr", LocalType: "host", RemoteType: "prflx", LocalProtocol: "udp", RemoteProtocol: "udp"},
		TotalPacketsReceived: 360, TotalReceivedPacketsLost: 40, ReceivedPacketsLostPct: 40.0 / 400 * 100,
		TotalPacketsSent: 200, TotalSentPacketsLost: 4, SentPacketsLostPct: 2,
		MeanRoundTripMs: (100 + 100 + 120) / 3.0, RoundTripSamples: 3,
	}
	if !closeFeatures(f, want) {
		t.Errorf("features\n got %+v\nwant %+v", f, want)
	}
}

// TestInternalsChromium reads a real dump, saved by Chromium 148 from a
// loopback call between two peer connections of one page (see
// TestRecordInternalsDump), where what one sent the other received.
func TestInternalsChromium(t *testing.T) {
	d, errs := parseFile(t, "testdata/internals/chromium-148-loopback.json")
	if len(errs) > 0 {
		t.Fatalf("entry errors: %v", errs)
	}
	if len(d.PeerConnections) != 2 || !strings.Contains(d.UserAgent, "Chrome/148") {
		t.Fatalf("%d pcs, user agent %q", len(d.PeerConnections), d.UserAgent)
	}
	if len(d.Media) != 2 || d.Media[0].Error != "OverConstrainedError" || d.Media[1].Outcome != MediaSuccess || len(d.Media[1].Tracks) != 2 {
		t.Errorf("media %+v: want the refused camera, then audio and video", d.Media)
	}
	sender, receiver := d.PeerConnections[0].Features(), d.PeerConnections[1].Features()
	for _, f := range []Features{sender, receiver} {
		if !f.Connected || f.ConnectionFailed || f.UsingRelay || f.SelectedPair.LocalType != "host" || f.RoundTripSamples == 0 {
			t.Errorf("a loopback call connects host to host and measures its round trip: %+v", f)
		}
	}
	if sender.TotalPacketsSent == 0 || sender.TotalPacketsSent != receiver.TotalPacketsReceived || receiver.TotalPacketsSent != 0 {
		t.Errorf("sent %d, received %d: want what one sent to be what the other received", sender.TotalPacketsSent, receiver.TotalPacketsReceived)
	}
	for _, pc := range d.PeerConnections {
		if len(pc.Snapshots) < 5 {
			t.Errorf("%s: %d snapshots from a call polled for seven seconds", pc.ID, len(pc.Snapshots))
		}
		for _, s := range pc.Snapshots {
			for id, r := range s.Reports {
				if r.Type == "" {
					t.Errorf("%s %s has no type", pc.ID, id)
				}
			}
		}
	}
}

// TestInternalsBadEntries checks that a bad entry is reported with its
// peer connection and name while the rest is kept.
func TestInternalsBadEntries(t *testing.T) {
	input := `{"getUserMedia": [7],
 "PeerConnections": {
  "1-2": "not an object",
  "1-1": {
   "updateLog": [{"value": "no type"}, {"type": "createOffer", "timestamp": 1700000000000, "value": ""}],
   "stats": {
    "T1-bytesSent": {"startTime": "2023-11-14T22:13:20.000Z", "endTime": "2023-11-14T22:13:21.000Z", "statsType": "transport", "values": "[1,2]"},
    "T1-packetsSent": {"startTime": "2023-11-14T22:13:20.000Z", "endTime": "2023-11-14T22:13:21.000Z", "values": "[1,"},
    "T1-dtlsState": {"startTime": "later", "endTime": "2023-11-14T22:13:21.000Z", "values": "[\"new\"]"},
    "nodash": {"startTime": "2023-11-14T22:13:20.000Z", "endTime": "2023-11-14T22:13:20.000Z", "values": "[1]"}
   }
  }
 },
 "UserAgent": "UA"}`
	d, errs := parseString(t, input)
	var got []string
	for _, e := range errs {
		got = append(got, e.Entry)
		if e.Line != 0 || e.Reason == "" {
			t.Errorf("error %#v", e)
		}
	}
	want := []string{"getUserMedia[0]", "1-1 updateLog[0]", "1-1 stats T1-packetsSent", "1-1 stats T1-dtlsState", "1-1 stats nodash", "1-2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v: %v", got, want, errs)
	}
	if len(d.PeerConnections) != 1 || len(d.PeerConnections[0].Events) != 1 || len(d.PeerConnections[0].Snapshots) != 2 {
		t.Fatalf("want the good peer connection with its one event and two polls: %+v", d.PeerConnections)
	}
	if v := d.PeerConnections[0].Snapshots[1].Reports["T1"].Num["bytesSent"]; v != 2 {
		t.Errorf("bytesSent in the second poll = %v", v)
	}
}

// TestParseGzip reads a dump compressed the way recent Chrome saves them.
func TestParseGzip(t *testing.T) {
	for _, path := range []string{"testdata/internals/chromium-148-loopback.json", "testdata/rtcstats/jitsi-google-standard-stats-sfu.rtcstats"} {
		plain, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		want, _, err := Parse(bytes.NewReader(plain), path)
		if err != nil {
			t.Fatal(err)
		}
		got, errs, err := Parse(&z, path+".gz")
		if err != nil || len(errs) > 0 {
			t.Fatalf("%s.gz: %v %v", path, err, errs)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the compressed dump reads differently", path)
		}
	}
	if _, _, err := Parse(bytes.NewReader([]byte{0x1f, 0x8b, 8, 0, 1, 2}), "broken.gz"); err == nil {
		t.Error("a broken gzip stream must fail")
	}
}
