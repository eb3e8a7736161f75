package detect

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
)

func atf(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// pcEvent is a WebRTC event of the browser "a" as webrtcmap writes it:
// the detail starts with the peer connection's id.
func pcEvent(s float64, name, detail string) model.TimelineEvent {
	return model.TimelineEvent{ID: fmt.Sprintf("e%v%s%s", s, name, detail), Time: atf(s), ParticipantID: "a",
		Kind: model.KindOperation, Name: name, Detail: detail, RecordID: fmt.Sprintf("r-%v-%s", s, name)}
}

// iceStates are ICE state changes of connection pc, given as seconds and
// state in turn.
func iceStates(pc string, seq ...any) []model.TimelineEvent {
	var out []model.TimelineEvent
	for i := 0; i+1 < len(seq); i += 2 {
		out = append(out, pcEvent(float64(seq[i].(int)), "iceconnectionstatechange", pc+" "+seq[i+1].(string)))
	}
	return out
}

// peer is a healthy connection of browser "a" from 5 s to 600 s.
func peer(id string, mods ...func(*model.PeerConnection)) model.PeerConnection {
	pc := model.PeerConnection{ID: id, ParticipantID: "a", Connected: true, LocalCandidateType: "host",
		RemoteCandidateType: "srflx", LocalProtocol: "udp", RemoteProtocol: "udp", PacketsReceived: 5000, PacketsSent: 5000,
		MeanRoundTripMs: f(40), SetupMs: f(800), Start: at(5), End: at(600), StatsPolls: 120, RecordID: "pc-" + id}
	for _, m := range mods {
		m(&pc)
	}
	return pc
}

// browserStream is a healthy stream of connection pc.
func browserStream(media model.MediaType, dir model.Direction, pc, ssrc string) model.Stream {
	s := goodAudio(dir)
	s.MediaType, s.PacketUtilization = media, nil
	s.ACSStreamID = pc + ":" + ssrc
	s.StreamID = string(media) + "-" + string(dir) + "-" + s.ACSStreamID
	return s
}

// browserCall is a call recorded by browser "a" alone.
func browserCall(pcs []model.PeerConnection, events []model.TimelineEvent, streams ...model.Stream) Input {
	a := leg("a", streams...)
	a.ParticipantType, a.EndReason = "WebRTC", nil
	in := call(a)
	in.Call.PeerConnections = pcs
	in.Events = events
	return in
}

func withState(events ...[]model.TimelineEvent) []model.TimelineEvent {
	var out []model.TimelineEvent
	for _, e := range events {
		out = append(out, e...)
	}
	slices.SortStableFunc(out, func(a, b model.TimelineEvent) int { return a.Time.Compare(b.Time) })
	return out
}

func onlyKind(res Result, kind string) []model.Issue {
	var out []model.Issue
	for _, is := range res.Issues {
		if is.Kind == kind {
			out = append(out, is)
		}
	}
	return out
}

func TestICEFailed(t *testing.T) {
	failed := func(pc *model.PeerConnection) {
		pc.Connected, pc.ConnectionFailed, pc.PacketsReceived, pc.PacketsSent, pc.SetupMs = false, true, 0, 0, nil
	}
	pending := func(end int) func(*model.PeerConnection) {
		return func(pc *model.PeerConnection) {
			pc.Connected, pc.PacketsReceived, pc.PacketsSent, pc.SetupMs, pc.End = false, 0, 0, nil, at(end)
		}
	}
	hostCand := pcEvent(6, "icecandidate", `PC_0 {"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host generation 0"}`)
	relayCand := pcEvent(6.5, "icecandidate", `PC_0 {"candidate":"candidate:2 1 udp 41885695 3.1.2.3 62645 typ relay","sdpMid":"0"}`)
	cases := []struct {
		name    string
		pc      model.PeerConnection
		events  []model.TimelineEvent
		want    int
		culprit string
		from    int // seconds; the issue's start
	}{
		{"failed without a relay candidate", peer("PC_0", failed),
			withState([]model.TimelineEvent{hostCand}, iceStates("PC_0", 6, "checking", 21, "failed")), 1, model.CulpritConfiguration, 6},
		{"failed although relayed candidates were tried", peer("PC_0", failed),
			withState([]model.TimelineEvent{hostCand, relayCand}, iceStates("PC_0", 6, "checking", 21, "failed")), 1, model.CulpritPath, 6},
		{"connected, then failed for good", peer("PC_0", func(pc *model.PeerConnection) { pc.ConnectionFailed = true }),
			iceStates("PC_0", 6, "checking", 7, "connected", 300, "disconnected", 320, "failed"), 1, model.CulpritPath, 300},
		{"closed while checking", peer("PC_0", pending(40)),
			withState(iceStates("PC_0", 6, "checking"), []model.TimelineEvent{pcEvent(40, "close", "PC_0")}), 0, "", 0},
		{"checking at the connect timeout", peer("PC_0", pending(36)), iceStates("PC_0", 6, "checking"), 1, model.CulpritPath, 6},
		{"checking just short of the timeout", peer("PC_0", pending(35)), iceStates("PC_0", 6, "checking"), 0, "", 0},
		{"never began checking", peer("PC_0", pending(300)), nil, 0, "", 0},
		{"healthy", peer("PC_0"), iceStates("PC_0", 6, "checking", 7, "connected"), 0, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(browserCall([]model.PeerConnection{tc.pc}, tc.events), DefaultRules())
			got := onlyKind(res, KindICEFailed)
			if len(got) != tc.want {
				t.Fatalf("%d ice-failed issues, want %d: %v", len(got), tc.want, kinds(res))
			}
			if tc.want == 0 {
				return
			}
			is := got[0]
			if is.Severity != model.SeverityCritical || is.Category != model.CategoryNetwork || is.Culprit.Type != tc.culprit {
				t.Errorf("severity %s, category %s, culprit %s; want critical network %s", is.Severity, is.Category, is.Culprit.Type, tc.culprit)
			}
			if !is.Start.Equal(at(tc.from)) {
				t.Errorf("starts at %v, want %v", is.Start.Sub(t0), time.Duration(tc.from)*time.Second)
			}
			if len(is.Evidence) == 0 || len(is.Evidence[0].RecordIDs) == 0 || !strings.Contains(is.Evidence[0].Text, "checking") {
				t.Errorf("evidence lacks the state changes: %+v", is.Evidence)
			}
			if countKind(res, KindOperationFailed) != 0 {
				t.Errorf("state changes raised operation-failed: %v", kinds(res))
			}
		})
	}
	t.Run("switched off", func(t *testing.T) {
		rules := DefaultRules()
		rules.Disabled = []string{KindICEFailed}
		res := Run(browserCall([]model.PeerConnection{peer("PC_0", failed)}, iceStates("PC_0", 6, "checking", 21, "failed")), rules)
		if n := countKind(res, KindICEFailed); n != 0 {
			t.Errorf("%d ice-failed issues with the kind switched off", n)
		}
	})
}

func TestICEReconnects(t *testing.T) {
	cases := []struct {
		name   string
		events []model.TimelineEvent
		want   []string // start-end seconds of each interruption
	}{
		{"one interruption", iceStates("PC_0", 6, "checking", 7, "connected", 100, "disconnected", 104, "connected"), []string{"100-104"}},
		{"failed and restarted", iceStates("PC_0", 7, "connected", 100, "disconnected", 110, "failed", 115, "checking", 118, "completed"),
			[]string{"100-118"}},
		{"two interruptions", iceStates("PC_0", 7, "connected", 100, "disconnected", 101, "connected", 200, "disconnected", 230, "completed"),
			[]string{"100-101", "200-230"}},
		{"connected and completed are no interruption", iceStates("PC_0", 7, "connected", 8, "completed", 9, "connected"), nil},
		{"checking logged after connected in the same second", iceStates("PC_0", 7, "connected", 7, "checking"), nil},
		{"disconnected at the end", iceStates("PC_0", 7, "connected", 590, "disconnected", 595, "closed"), nil},
		{"connection states when ICE ones are missing", []model.TimelineEvent{
			pcEvent(7, "connectionstatechange", "PC_0 connected"), pcEvent(50, "connectionstatechange", "PC_0 disconnected"),
			pcEvent(52, "connectionstatechange", "PC_0 connected")}, []string{"50-52"}},
		{"another connection's events", iceStates("PC_9", 7, "connected", 100, "disconnected", 104, "connected"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(browserCall([]model.PeerConnection{peer("PC_0")}, tc.events), DefaultRules())
			var got []string
			for _, is := range onlyKind(res, KindNetworkReconnect) {
				got = append(got, itoa(is.Start.Sub(t0))+"-"+itoa(is.End.Sub(t0)))
				if is.Rule != "webrtc.ice_reconnect" || is.StreamID != "PC_0" || len(is.Evidence[0].RecordIDs) < 2 {
					t.Errorf("issue %+v", is)
				}
				if !slices.Contains(is.TimelineFilter.Kind, model.KindOperation) {
					t.Errorf("timeline filter %v does not show the state changes", is.TimelineFilter.Kind)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("interruptions %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBrowserTransport(t *testing.T) {
	pair := func(lt, lp, rt, rp string) func(*model.PeerConnection) {
		return func(pc *model.PeerConnection) {
			pc.LocalCandidateType, pc.LocalProtocol, pc.RemoteCandidateType, pc.RemoteProtocol = lt, lp, rt, rp
			pc.UsingRelay = lt == "relay" || rt == "relay"
		}
	}
	cases := []struct {
		name      string
		pc        model.PeerConnection
		transport string // of the connection's streams
		want      []string
		culprits  []int // participants the relay-used culprit names
	}{
		{"direct UDP", peer("PC_0"), "UDP", nil, nil},
		{"TURN over TLS", peer("PC_0", pair("relay", "tls", "srflx", "udp")), "RELAY-TLS", []string{KindMediaOverTCP, KindRelayUsed}, []int{1}},
		{"TURN over UDP", peer("PC_0", pair("relay", "udp", "host", "udp")), "RELAY-UDP", []string{KindRelayUsed}, []int{1}},
		{"ICE-TCP", peer("PC_0", pair("host", "tcp", "host", "tcp")), "TCP", []string{KindMediaOverTCP}, nil},
		{"the far end's relay", peer("PC_0", pair("srflx", "udp", "relay", "udp")), "UDP", []string{KindRelayUsed}, []int{0}},
		{"never connected", peer("PC_0", pair("relay", "tcp", "srflx", "udp"), func(pc *model.PeerConnection) { pc.Connected = false }), "", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s1 := browserStream(model.MediaAudio, model.DirInbound, "PC_0", "1")
			s2 := browserStream(model.MediaAudio, model.DirOutbound, "PC_0", "2")
			s1.TransportType, s2.TransportType = tc.transport, tc.transport
			res := Run(browserCall([]model.PeerConnection{tc.pc}, nil, s1, s2), DefaultRules())
			var got []string
			for _, is := range res.Issues {
				if is.Kind == KindMediaOverTCP || is.Kind == KindRelayUsed {
					got = append(got, is.Kind)
				}
				if is.Kind == KindRelayUsed && (is.Severity != model.SeverityInfo || len(is.Culprit.ParticipantIDs) != tc.culprits[0]) {
					t.Errorf("relay-used severity %s, culprit %+v", is.Severity, is.Culprit)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("issues %v, want %v (one per connection, not per stream)", got, tc.want)
			}
		})
	}
}

func TestPeerConnectionNoMedia(t *testing.T) {
	connected := iceStates("PC_0", 5, "connected")
	track := pcEvent(5, "track", "PC_0 audio:abc stream:def")
	addTrack := pcEvent(4, "addTrack", "PC_0 audio:abc")
	channel := pcEvent(4, "createDataChannel", `PC_0 {"label":"chat"}`)
	zero := func(in, out bool) func(*model.PeerConnection) {
		return func(pc *model.PeerConnection) {
			if in {
				pc.PacketsReceived = 0
			}
			if out {
				pc.PacketsSent = 0
			}
		}
	}
	inbound := browserStream(model.MediaAudio, model.DirInbound, "PC_0", "1")
	outbound := browserStream(model.MediaAudio, model.DirOutbound, "PC_0", "2")
	cases := []struct {
		name    string
		pc      model.PeerConnection
		events  []model.TimelineEvent
		streams []model.Stream
		want    string // the issue's stream id, "" for none
	}{
		{"nothing either way", peer("PC_0", zero(true, true)), withState(connected, []model.TimelineEvent{addTrack}), nil, "PC_0/both"},
		{"nothing either way, statistics never seen", peer("PC_0", zero(true, true), func(pc *model.PeerConnection) {
			pc.MeanRoundTripMs, pc.StatsPolls = nil, 0
		}), connected, nil, ""},
		{"nothing either way and no round trip, but polled", peer("PC_0", zero(true, true), func(pc *model.PeerConnection) {
			pc.MeanRoundTripMs = nil
		}), withState(connected, []model.TimelineEvent{addTrack}), nil, "PC_0/both"},
		{"data channel only", peer("PC_0", zero(true, true)), withState(connected, []model.TimelineEvent{channel}), nil, ""},
		{"remote tracks that never arrived", peer("PC_0", zero(true, false)), withState(connected, []model.TimelineEvent{track}),
			[]model.Stream{outbound}, "PC_0/inbound"},
		{"a send-only connection", peer("PC_0", zero(true, false)), connected, []model.Stream{outbound}, ""},
		{"local tracks that sent nothing", peer("PC_0", zero(false, true)), withState(connected, []model.TimelineEvent{addTrack}),
			[]model.Stream{inbound}, "PC_0/outbound"},
		{"connected for the threshold", peer("PC_0", zero(true, true), func(pc *model.PeerConnection) { pc.End = at(15) }),
			connected, nil, "PC_0/both"},
		{"connected just short of it", peer("PC_0", zero(true, true), func(pc *model.PeerConnection) { pc.End = at(14) }),
			connected, nil, ""},
		{"media both ways", peer("PC_0"), withState(connected, []model.TimelineEvent{track, addTrack}), []model.Stream{inbound, outbound}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(browserCall([]model.PeerConnection{tc.pc}, tc.events, tc.streams...), DefaultRules())
			got := onlyKind(res, KindNoMediaFlow)
			if tc.want == "" {
				if len(got) != 0 {
					t.Errorf("no-media-flow raised: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].StreamID != tc.want || got[0].Rule != "webrtc.packets" {
				t.Fatalf("no-media-flow %+v, want one on %s", got, tc.want)
			}
		})
	}
}

func TestSlowConnectionSetup(t *testing.T) {
	create := pcEvent(5, "create", `PC_0 {"iceServers":[]}`)
	cases := []struct {
		name    string
		setupMs float64
		events  []model.TimelineEvent
		want    bool
		culprit string
	}{
		{"at the threshold", 5000, nil, false, ""},
		{"past it, checks took the time", 9000, withState([]model.TimelineEvent{create}, iceStates("PC_0", 6, "checking", 14, "connected")),
			true, model.CulpritPath},
		{"past it, signaling took the time", 9000, withState([]model.TimelineEvent{create}, iceStates("PC_0", 13, "checking", 14, "connected")),
			true, model.CulpritUnknown},
		{"past it, no state changes", 9000, nil, true, model.CulpritUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pc := peer("PC_0", func(pc *model.PeerConnection) { pc.SetupMs = f(tc.setupMs) })
			res := Run(browserCall([]model.PeerConnection{pc}, tc.events), DefaultRules())
			got := onlyKind(res, KindSlowSetup)
			if len(got) != map[bool]int{true: 1}[tc.want] {
				t.Fatalf("%d slow-connection-setup issues, want %v", len(got), tc.want)
			}
			if !tc.want {
				return
			}
			is := got[0]
			if is.Culprit.Type != tc.culprit || is.Evidence[0].Metric != "SetupMs" || *is.Evidence[0].Threshold != 5000 {
				t.Errorf("culprit %s, evidence %+v", is.Culprit.Type, is.Evidence[0])
			}
			if !is.Start.Equal(at(5)) || !is.End.Equal(at(14)) {
				t.Errorf("interval %v-%v, want creation to connected", is.Start.Sub(t0), is.End.Sub(t0))
			}
		})
	}
}

// limit is a qualityLimitationChange of an outgoing video stream of PC_0.
func limit(s int, ssrc, from, to string) model.TimelineEvent {
	e := pcEvent(float64(s), "qualityLimitationChange", fmt.Sprintf("PC_0 video %s: %s → %s", ssrc, from, to))
	e.Result = to
	e.RecordID += ssrc
	return e
}

func TestQualityLimited(t *testing.T) {
	// The connection (and so the stream) lives from 100 s to 200 s, or to
	// 1100 s for the long cases.
	short := peer("PC_0", func(pc *model.PeerConnection) { pc.Start, pc.End = at(100), at(200) })
	long := peer("PC_0", func(pc *model.PeerConnection) { pc.Start, pc.End = at(100), at(1100) })
	cases := []struct {
		name    string
		pc      model.PeerConnection
		events  []model.TimelineEvent
		want    []string // stream id and interval of each issue
		culprit string
	}{
		{"20 % of the stream", short, []model.TimelineEvent{limit(120, "1", "none", "bandwidth"), limit(140, "1", "bandwidth", "none")},
			[]string{"video-outbound-PC_0:1 120-140"}, model.CulpritUplink},
		{"19 % of the stream", short, []model.TimelineEvent{limit(120, "1", "none", "bandwidth"), limit(139, "1", "bandwidth", "none")}, nil, ""},
		{"30 s of a long stream", long, []model.TimelineEvent{limit(120, "1", "none", "cpu"), limit(150, "1", "cpu", "none")},
			[]string{"video-outbound-PC_0:1 120-150"}, model.CulpritDevice},
		{"29 s of a long stream", long, []model.TimelineEvent{limit(120, "1", "none", "cpu"), limit(149, "1", "cpu", "none")}, nil, ""},
		{"limited until the end", short, []model.TimelineEvent{limit(180, "1", "none", "bandwidth")},
			[]string{"video-outbound-PC_0:1 180-200"}, model.CulpritUplink},
		{"other is no limit of ours", short, []model.TimelineEvent{limit(110, "1", "none", "other"), limit(190, "1", "other", "none")}, nil, ""},
		{"bandwidth then CPU, bandwidth longer", short, []model.TimelineEvent{limit(110, "1", "none", "bandwidth"),
			limit(140, "1", "bandwidth", "cpu"), limit(150, "1", "cpu", "none")}, []string{"video-outbound-PC_0:1 110-150"}, model.CulpritUplink},
		{"simulcast layers limited alike are one issue", short, []model.TimelineEvent{limit(120, "1", "none", "bandwidth"),
			limit(120, "2", "none", "bandwidth"), limit(160, "1", "bandwidth", "none"), limit(160, "2", "bandwidth", "none")},
			[]string{"video-outbound-PC_0 120-160"}, model.CulpritUplink},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(browserCall([]model.PeerConnection{tc.pc}, tc.events), DefaultRules())
			var got []string
			for _, is := range onlyKind(res, KindQualityLimited) {
				got = append(got, is.StreamID+" "+itoa(is.Start.Sub(t0))+"-"+itoa(is.End.Sub(t0)))
				if is.Culprit.Type != tc.culprit || is.Severity != model.SeverityWarning || is.Category != model.CategoryVideo {
					t.Errorf("culprit %s, severity %s, category %s", is.Culprit.Type, is.Severity, is.Category)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("issues %v, want %v", got, tc.want)
			}
			if n := countKind(res, KindOperationFailed); n != 0 {
				t.Errorf("limitation changes raised %d operation-failed issues", n)
			}
		})
	}
	t.Run("thresholds from a rules file", func(t *testing.T) {
		rules, err := ParseRules("tuned", []byte("webrtc.quality_limited.share = 0.5\nwebrtc.quality_limited.min_s = 60\n"))
		if err != nil {
			t.Fatal(err)
		}
		in := browserCall([]model.PeerConnection{short}, []model.TimelineEvent{limit(120, "1", "none", "bandwidth"), limit(160, "1", "bandwidth", "none")})
		if n := countKind(Run(in, DefaultRules()), KindQualityLimited); n != 1 {
			t.Fatalf("%d issues with the default rules, want 1", n)
		}
		if n := countKind(Run(in, rules), KindQualityLimited); n != 0 {
			t.Errorf("%d issues for 40 %% over 40 s with the tuned rules, want none", n)
		}
	})
}

// request is a media request of browser "a" that failed, as webrtcmap
// writes it.
func request(s int, method, detail, result string) model.TimelineEvent {
	e := pcEvent(float64(s), method, detail)
	e.Result = result
	return e
}

func TestMediaRequests(t *testing.T) {
	cases := []struct {
		name    string
		events  []model.TimelineEvent
		want    []string // kinds, sorted
		culprit string
		fix     string // part of the recommendation
	}{
		{"microphone and camera denied", []model.TimelineEvent{request(1, "getUserMedia", "audio+video → NotAllowedError Permission denied", "Failed")},
			[]string{KindCameraPermissionDenied, KindMicPermissionDenied}, model.CulpritConfiguration, ""},
		{"old permission error name", []model.TimelineEvent{request(1, "getUserMedia", "audio → PermissionDeniedError", "Failed")},
			[]string{KindMicPermissionDenied}, model.CulpritConfiguration, ""},
		{"a screen the user declined", []model.TimelineEvent{request(1, "getDisplayMedia", "screen → NotAllowedError Permission denied by user", "Failed")},
			[]string{KindSharePermissionDenied}, model.CulpritUser, "prompt"},
		{"a screen capture that aborted", []model.TimelineEvent{request(1, "getDisplayMedia", "screen → AbortError", "Failed")},
			[]string{KindCapturerFailed}, model.CulpritDevice, ""},
		{"no microphone", []model.TimelineEvent{request(1, "getUserMedia", "audio → NotFoundError Requested device not found", "Failed")},
			[]string{KindNoMicrophone}, model.CulpritDevice, ""},
		{"no camera", []model.TimelineEvent{request(1, "getUserMedia", "video → NotFoundError Requested device not found", "Failed")},
			[]string{KindGetUserMediaFailed}, model.CulpritDevice, "connect or enable"},
		{"microphone busy", []model.TimelineEvent{request(1, "getUserMedia", "audio → NotReadableError Could not start audio source", "Failed")},
			[]string{KindMicBusy}, model.CulpritDevice, ""},
		{"camera busy", []model.TimelineEvent{request(1, "getUserMedia", "video → NotReadableError Could not start video source", "Failed")},
			[]string{KindCameraStartFailed}, model.CulpritDevice, ""},
		{"both busy", []model.TimelineEvent{request(1, "getUserMedia", "audio+video → NotReadableError", "Failed")},
			[]string{KindGetUserMediaFailed}, model.CulpritDevice, "close other applications"},
		{"constraints no camera meets", []model.TimelineEvent{request(1, "getUserMedia", "video → OverConstrainedError", "Failed")},
			[]string{KindGetUserMediaFailed}, model.CulpritConfiguration, "ideal rather than exact"},
		{"a malformed request", []model.TimelineEvent{request(1, "getUserMedia", " → TypeError", "Failed")},
			[]string{KindGetUserMediaFailed}, model.CulpritConfiguration, "https"},
		{"succeeded", []model.TimelineEvent{request(1, "getUserMedia", "audio+video → audio, video", "Succeeded")}, nil, "", ""},
		{"not answered", []model.TimelineEvent{request(1, "getUserMedia", "audio+video", "")}, nil, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(browserCall(nil, tc.events), DefaultRules())
			got := kinds(res)
			for i := range got {
				got[i] = strings.TrimSuffix(got[i], "@a")
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("issues %v, want %v (and no operation-failed)", got, tc.want)
			}
			for _, is := range problems(res) {
				if is.Culprit.Type != tc.culprit || is.Rule != "webrtc.media_request" || len(is.Evidence) != 1 ||
					is.Evidence[0].RecordIDs[0] != tc.events[0].RecordID || !strings.Contains(is.Evidence[0].Text, "Error") {
					t.Errorf("%s: culprit %s, rule %s, evidence %+v", is.Kind, is.Culprit.Type, is.Rule, is.Evidence)
				}
				if !strings.Contains(is.Recommendation.Text, tc.fix) {
					t.Errorf("%s: recommendation %q lacks %q", is.Kind, is.Recommendation.Text, tc.fix)
				}
			}
		})
	}
	t.Run("retries are one issue, a later success is said", func(t *testing.T) {
		res := Run(browserCall(nil, []model.TimelineEvent{
			request(1, "getUserMedia", "video → NotReadableError", "Failed"),
			request(3, "getUserMedia", "video → NotReadableError", "Failed"),
			request(9, "getUserMedia", "audio+video → audio, video", "Succeeded"),
		}), DefaultRules())
		got := problems(res)
		if len(got) != 1 || len(got[0].Evidence) != 2 || !strings.Contains(got[0].Summary, "2 times") ||
			!strings.Contains(got[0].Summary, "later request") {
			t.Errorf("issues %+v", got)
		}
	})
	t.Run("other failed API calls are still operation failures", func(t *testing.T) {
		res := Run(browserCall([]model.PeerConnection{peer("PC_0")}, []model.TimelineEvent{
			request(5, "setRemoteDescriptionOnFailure", "PC_0 OperationError: Failed to set remote answer sdp", "Failed"),
			pcEvent(6, "signalingstatechange", "PC_0 stable"),
		}), DefaultRules())
		if got := kinds(res); !slices.Equal(got, []string{KindOperationFailed + "@a"}) {
			t.Errorf("issues %v, want one operation-failed", got)
		}
	})
}

func TestOneSidedCall(t *testing.T) {
	lossy := browserStream(model.MediaAudio, model.DirInbound, "PC_0", "1")
	lossy.PacketLossRateAvg = f(0.2)
	loop := func(id string, sent, received int64) model.PeerConnection {
		return peer(id, func(pc *model.PeerConnection) {
			pc.RemoteCandidateType, pc.PacketsSent, pc.PacketsReceived = "host", sent, received
		})
	}
	cases := []struct {
		name     string
		in       Input
		oneSided bool
		culprit  string // of the poor-stream issue, when there is one
	}{
		{"one browser of a two-party call", browserCall([]model.PeerConnection{peer("PC_0")}, nil, lossy), true, model.CulpritPath},
		{"a loopback test page", browserCall([]model.PeerConnection{loop("7-1", 523, 0), loop("7-2", 0, 523)}, nil), false, ""},
		{"both browsers sent telemetry", func() Input {
			in := browserCall([]model.PeerConnection{peer("PC_0")}, nil, lossy)
			b := leg("b")
			b.ParticipantType, b.EndReason = "WebRTC", nil
			in.Call.Participants = append(in.Call.Participants, b)
			return in
		}(), false, model.CulpritDownlink},
		{"a browser that never opened a connection", browserCall(nil, nil), false, ""},
		{"ACS logs", call(leg("a", goodAudio(model.DirInbound))), false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Run(tc.in, DefaultRules())
			c := res.Completeness
			if c.OneSided != tc.oneSided || (c.UnseenPeers > 0) != tc.oneSided {
				t.Errorf("oneSided %v, unseen %d; want %v", c.OneSided, c.UnseenPeers, tc.oneSided)
			}
			var note []model.Issue
			for _, is := range res.Issues {
				if is.Kind == KindMissingTelemetry && is.Rule == "telemetry.one_sided" {
					note = append(note, is)
				}
			}
			if (len(note) == 1) != tc.oneSided || len(note) > 1 {
				t.Errorf("%d one-sided notes, want one when one-sided", len(note))
			}
			if tc.oneSided && (c.Participants[0].UnseenPeers != 1 || c.Participants[0].PeerConnections != 1 ||
				note[0].Severity != model.SeverityInfo) {
				t.Errorf("participant completeness %+v, note %+v", c.Participants[0], note[0])
			}
			if tc.culprit != "" {
				poor := onlyKind(res, KindPoorStream)
				if len(poor) != 1 || poor[0].Culprit.Type != tc.culprit {
					t.Fatalf("poor-stream issues %+v; want one blamed on %s", poor, tc.culprit)
				}
				if tc.oneSided && !strings.Contains(poor[0].Culprit.Summary, "sender's uplink") {
					t.Errorf("culprit %q does not name the unseen side", poor[0].Culprit.Summary)
				}
				if src := poor[0].Evidence[0].Source; src != srcWebRTCStreams {
					t.Errorf("evidence source %q, want %q", src, srcWebRTCStreams)
				}
			}
			if res.Quality == QualityUnknown && len(tc.in.Call.Participants[0].Streams) > 0 {
				t.Errorf("quality Unknown with streams seen")
			}
		})
	}
}

// TestBrowserStreamAggregates checks that the per-stream rules fire on the
// aggregates webrtcmap computes from getStats: received freezes, concealed
// audio, and loss a dump too short for the series to judge.
func TestBrowserStreamAggregates(t *testing.T) {
	frozen := browserStream(model.MediaVideo, model.DirInbound, "PC_0", "1")
	frozen.JitterAvgMs, frozen.RecvFreezeMsPerMin, frozen.VideoFrameRateAvg, frozen.RecvResolutionHeight = nil, f(9000), f(25), f(720)
	concealed := browserStream(model.MediaAudio, model.DirInbound, "PC_0", "2")
	concealed.HealedDataRatioAvg = f(0.3)
	lossy := browserStream(model.MediaVideo, model.DirInbound, "PC_0", "3")
	lossy.PacketLossRateAvg = f(0.13)
	point := func(metric string, v float64) model.Series {
		return model.Series{ParticipantID: "a", StreamID: "video-inbound", Metric: metric, Points: []model.Point{{Time: at(10), Value: v}}}
	}
	cases := []struct {
		name   string
		stream model.Stream
		series []model.Series
		want   string
	}{
		{"received freezes", frozen, nil, KindPoorVideo},
		{"concealed audio", concealed, nil, KindPoorAudioConcealment},
		{"loss in a dump of one sample", lossy, []model.Series{point(metricLost, 13), point(metricPackets, 87)}, KindPoorStream},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := browserCall([]model.PeerConnection{peer("PC_0")}, nil, tc.stream)
			in.Series = tc.series
			res := Run(in, DefaultRules())
			if got := kinds(res); !slices.Equal(got, []string{tc.want + "@a"}) {
				t.Errorf("issues %v, want %s", got, tc.want)
			}
			if res.Quality != QualityPoor {
				t.Errorf("quality %s, want Poor", res.Quality)
			}
		})
	}
}

// TestMergedStreamSeries checks the series of several RTP streams of one
// media and direction (a browser's samples carry no far end): samples of
// one time are pooled, not paired with another stream's.
func TestMergedStreamSeries(t *testing.T) {
	pts := func(vals ...float64) []model.Point {
		var out []model.Point
		for i := 0; i+1 < len(vals); i += 2 {
			out = append(out, model.Point{Time: at(int(vals[i])), Value: vals[i+1]})
		}
		return out
	}
	cases := []struct {
		name          string
		lost, packets []model.Point
		want          []model.Point
	}{
		{"one stream", pts(10, 5, 20, 0), pts(10, 45, 20, 50), pts(10, 0.1, 20, 0)},
		// Sorted by value, the idle stream's 0 packets come first: pairing
		// them with the other stream's 2 lost would give 100 % loss.
		{"an idle and a busy stream", pts(10, 0, 10, 2), pts(10, 0, 10, 98), pts(10, 0.02)},
		{"a time without packets", pts(10, 1, 20, 1), pts(20, 9), pts(20, 0.1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := pooledLossSeries(nil, tc.lost, tc.packets)
			if !slices.EqualFunc(got, tc.want, func(a, b model.Point) bool { return a.Time.Equal(b.Time) && round3(a.Value) == b.Value }) {
				t.Errorf("loss %v, want %v", got, tc.want)
			}
		})
	}
	if got := worstPerTime(nil, pts(10, 5, 10, 40, 20, 3)); !slices.Equal(got, pts(10, 40, 20, 3)) {
		t.Errorf("worst per time %v", got)
	}
}

// TestBrowserSeries runs detection on a browser's series that hold two
// RTP streams each: a trickle of a stream beside a busy one, 3 % lost in
// all, is no loss (paired by value, each lost sample would meet the
// trickle's packets and look like most of them), and one stream's bad
// jitter is not averaged away by the other's.
func TestBrowserSeries(t *testing.T) {
	series := func(stream, metric string, a, b float64) model.Series {
		s := model.Series{ParticipantID: "a", StreamID: stream, Metric: metric}
		for i := 0; i < 12; i++ {
			lo, hi := min(a, b), max(a, b) // stored points are ordered by time, then value
			s.Points = append(s.Points, model.Point{Time: at(10 * i), Value: lo}, model.Point{Time: at(10 * i), Value: hi})
		}
		return s
	}
	cases := []struct {
		name   string
		series []model.Series
		want   []string
	}{
		{"a trickle beside a busy stream", []model.Series{series("audio-inbound", metricLost, 1, 2),
			series("audio-inbound", metricPackets, 0.5, 98), series("audio-inbound", metricJitter, 4, 6)}, nil},
		{"one stream's jitter", []model.Series{series("audio-inbound", metricJitter, 4, 60)}, []string{KindPoorStream + "@a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := browserCall([]model.PeerConnection{peer("PC_0")}, nil)
			in.Series = tc.series
			if got := kinds(Run(in, DefaultRules())); !slices.Equal(got, tc.want) {
				t.Errorf("issues %v, want %v", got, tc.want)
			}
		})
	}
}
