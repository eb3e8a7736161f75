package webrtc

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The answer keys in testdata/rtcstats are the rtcstats server's feature
// extractor's output for each dump. Two shapes occur: the current one
// (features.aggregates per peer connection) and, for the legacy-stats dump,
// an older one (one connectionFeatures object per peer connection).

type keyFile []struct {
	Features *struct {
		SessionStartTime int64                   `json:"sessionStartTime"`
		SessionEndTime   int64                   `json:"sessionEndTime"`
		Aggregates       map[string]keyAggregate `json:"aggregates"`
	} `json:"features"`
	ConnID             string             `json:"connId"`
	ConnectionFeatures *keyConnectionFeat `json:"connectionFeatures"`
}

type keyAggregate struct {
	ConnectionFailed  bool  `json:"connectionFailed"`
	ICEReconnects     int   `json:"iceReconnects"`
	UsesRelay         *bool `json:"usesRelay"`
	PCSessionDuration int64 `json:"pcSessionDurationMs"`
	CandidatePairData *struct {
		IsUsingRelay bool `json:"isUsingRelay"`
	} `json:"candidatePairData"`
	TrackAggregates struct {
		ReceivedPacketsLostPct   float64 `json:"receivedPacketsLostPct"`
		SentPacketsLostPct       float64 `json:"sentPacketsLostPct"`
		TotalPacketsReceived     int64   `json:"totalPacketsReceived"`
		TotalPacketsSent         int64   `json:"totalPacketsSent"`
		TotalReceivedPacketsLost int64   `json:"totalReceivedPacketsLost"`
		TotalSentPacketsLost     int64   `json:"totalSentPacketsLost"`
	} `json:"trackAggregates"`
	TransportAggregates struct {
		MeanRtt float64 `json:"meanRtt"` // seconds
	} `json:"transportAggregates"`
}

type keyConnectionFeat struct {
	ICEFailure                 bool    `json:"ICEFailure"`
	ICEFailureSubsequent       bool    `json:"ICEFailureSubsequent"`
	ICERestart                 bool    `json:"ICERestart"`
	FirstCandidatePairType     string  `json:"firstCandidatePairType"`
	StatsMeanRoundTripTime     float64 `json:"statsMeanRoundTripTime"` // seconds
	StatsVideoPacketsSentTotal int64   `json:"statsVideoPacketsSentTotal"`
	StatsAudioPacketsSentTotal int64   `json:"statsAudioPacketsSentTotal"`
	StatsVideoPacketsLostTotal int64   `json:"statsVideoPacketsLostTotal"`
	StatsAudioPacketsLostTotal int64   `json:"statsAudioPacketsLostTotal"`
	StatsVideoPacketsLostPct   float64 `json:"statsVideoPacketsLostPct"`
	StatsAudioPacketsLostPct   float64 `json:"statsAudioPacketsLostPct"`
}

// keyPC is one peer connection's expected values in a common form; a nil
// pointer is a value the key does not give.
type keyPC struct {
	connectionFailed bool
	iceReconnects    *int
	usesRelay        bool
	counts           map[string]int64 // totalPacketsReceived, …: the values the key has
	receivedPct      *float64
	sentPct          float64
	meanRttMs        float64
	sessionMs        *int64
}

func loadKey(t *testing.T, path string) (pcs map[string]keyPC, start, end int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	pcs = map[string]keyPC{}
	for _, e := range kf {
		if e.Features != nil {
			start, end = e.Features.SessionStartTime, e.Features.SessionEndTime
			for id, a := range e.Features.Aggregates {
				relay := a.UsesRelay != nil && *a.UsesRelay
				if a.CandidatePairData != nil && a.CandidatePairData.IsUsingRelay != relay {
					t.Fatalf("%s %s: usesRelay and candidatePairData.isUsingRelay disagree", path, id)
				}
				ta := a.TrackAggregates
				pcs[id] = keyPC{
					connectionFailed: a.ConnectionFailed,
					iceReconnects:    &a.ICEReconnects,
					usesRelay:        relay,
					counts: map[string]int64{
						"totalPacketsReceived":     ta.TotalPacketsReceived,
						"totalReceivedPacketsLost": ta.TotalReceivedPacketsLost,
						"totalPacketsSent":         ta.TotalPacketsSent,
						"totalSentPacketsLost":     ta.TotalSentPacketsLost,
					},
					receivedPct: &ta.ReceivedPacketsLostPct,
					sentPct:     ta.SentPacketsLostPct,
					meanRttMs:   a.TransportAggregates.MeanRtt * 1000,
					sessionMs:   &a.PCSessionDuration,
				}
			}
			continue
		}
		// The older shape counts sent packets only, and has no reconnect
		// count: ICE failing after it connected (ICEFailureSubsequent) or an
		// ICE restart are what it records of reconnection, and with neither
		// there was nothing to reconnect from.
		c := e.ConnectionFeatures
		if c == nil {
			t.Fatalf("%s: an entry with neither features nor connectionFeatures", path)
		}
		k := keyPC{
			connectionFailed: c.ICEFailure,
			usesRelay:        strings.Contains(c.FirstCandidatePairType, "relay"),
			counts: map[string]int64{
				"totalPacketsSent":     c.StatsVideoPacketsSentTotal + c.StatsAudioPacketsSentTotal,
				"totalSentPacketsLost": c.StatsVideoPacketsLostTotal + c.StatsAudioPacketsLostTotal,
			},
			sentPct:   max(c.StatsVideoPacketsLostPct, c.StatsAudioPacketsLostPct),
			meanRttMs: c.StatsMeanRoundTripTime * 1000,
		}
		if !c.ICEFailureSubsequent && !c.ICERestart {
			zero := 0
			k.iceReconnects = &zero
		}
		pcs[e.ConnID] = k
	}
	return pcs, start, end
}

// keyDivergence is an answer-key value calldiag does not reproduce on
// purpose: want is calldiag's value, and keyValue recomputes the key's
// value from the parsed dump the way the key's extractor counted, which
// proves the explanation rather than merely asserting it.
type keyDivergence struct {
	want     int64
	why      string
	keyValue func(pc *PeerConnection, f Features) int64
}

const (
	// Chrome also reports remote-outbound-rtp: the far end's RTCP sender
	// reports about the streams we receive. The key's extractor counts any
	// report with an ssrc and a packetsSent (and no packetsReceived) as one
	// of our outbound streams, so it adds the packets the far end sent us
	// to the packets we sent.
	whyRemoteOutbound = "the key adds the far end's remote-outbound-rtp packetsSent to ours"
	// Firefox's remote-inbound-rtp reports carry packetsReceived (the far
	// end's count of our packets). The key's extractor counts any report
	// with an ssrc and packetsReceived as an inbound stream, so it adds
	// those to the packets we received.
	whyRemoteInbound = "the key adds the far end's remote-inbound-rtp packetsReceived to ours"
	// The key's Firefox extractor reads sent packets from remote-inbound-rtp
	// reports, which have no packetsSent, so it counts none; calldiag reads
	// them from outbound-rtp as for every other browser.
	whyFirefoxSent = "the key reads Firefox's sent packets from remote-inbound-rtp, which has none"
)

var keyDivergences = map[string]keyDivergence{
	"jitsi-chrome-standard-multiple-p2p PC_0 totalPacketsSent":   {57303, whyRemoteOutbound, plusRemote("remote-outbound-rtp", "packetsSent")},
	"jitsi-chrome-standard-multiple-p2p PC_3 totalPacketsSent":   {18523, whyRemoteOutbound, plusRemote("remote-outbound-rtp", "packetsSent")},
	"jitsi-chrome-standard-multiple-p2p PC_4 totalPacketsSent":   {11033, whyRemoteOutbound, plusRemote("remote-outbound-rtp", "packetsSent")},
	"jitsi-firefox-standard-stats-sfu PC_0 totalPacketsReceived": {50196, whyRemoteInbound, plusRemote("remote-inbound-rtp", "packetsReceived")},
	"jitsi-firefox-standard-stats-sfu PC_0 totalPacketsSent": {12402, whyFirefoxSent, func(pc *PeerConnection, _ Features) int64 {
		return lastSum(pc, "remote-inbound-rtp", "packetsSent")
	}},
}

// plusRemote recomputes a key value that is calldiag's total plus the last
// values of a field of every report of a type.
func plusRemote(typ, field string) func(*PeerConnection, Features) int64 {
	return func(pc *PeerConnection, f Features) int64 {
		ours := f.TotalPacketsSent
		if field == "packetsReceived" {
			ours = f.TotalPacketsReceived
		}
		return ours + lastSum(pc, typ, field)
	}
}

// lastSum sums the last value of a field over every report of a type.
func lastSum(pc *PeerConnection, typ, field string) int64 {
	last := map[string]float64{}
	for _, s := range pc.Snapshots {
		for id, r := range s.Reports {
			if v, ok := r.Number(field); ok && r.Type == typ {
				last[id] = v
			}
		}
	}
	var sum float64
	for _, v := range last {
		sum += v
	}
	return int64(sum)
}

func parseFile(t testing.TB, path string) (*Dump, []LineError) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, errs, err := Parse(f, path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return d, errs
}

// TestFeaturesMatchAnswerKeys is the acceptance test: for every peer
// connection of every dump, the features match the third party's answer
// key: failure, reconnects, relay use and packet counts exactly, loss
// percentages within half a point, mean round trip within 10 % or 5 ms.
func TestFeaturesMatchAnswerKeys(t *testing.T) {
	dumps, _ := filepath.Glob("testdata/rtcstats/*.rtcstats")
	if len(dumps) != 6 {
		t.Fatalf("want the 6 answer-keyed dumps, found %d", len(dumps))
	}
	used := map[string]bool{}
	for _, path := range dumps {
		name := strings.TrimSuffix(filepath.Base(path), ".rtcstats")
		t.Run(name, func(t *testing.T) {
			key, start, end := loadKey(t, strings.TrimSuffix(path, ".rtcstats")+".expected-features.json")
			d, errs := parseFile(t, path)
			if len(errs) > 0 {
				t.Errorf("line errors in a good dump: %v", errs)
			}
			// The key starts the session at the first record's time; records
			// are not always in time order (one dump logs a getUserMedia call
			// three seconds before its first record's time), so Start is the
			// earliest time, which can be before the key's.
			if start != 0 && (d.Start.UnixMilli() > start || d.End.UnixMilli() != end) {
				t.Errorf("session %d…%d, want at most %d…%d", d.Start.UnixMilli(), d.End.UnixMilli(), start, end)
			}
			if len(d.PeerConnections) != len(key) {
				t.Errorf("%d peer connections, the key has %d", len(d.PeerConnections), len(key))
			}
			for _, pc := range d.PeerConnections {
				want, ok := key[pc.ID]
				if !ok {
					t.Errorf("%s is not in the key", pc.ID)
					continue
				}
				f := pc.Features()
				if f.ConnectionFailed != want.connectionFailed {
					t.Errorf("%s connectionFailed = %v, want %v", pc.ID, f.ConnectionFailed, want.connectionFailed)
				}
				if want.iceReconnects != nil && f.ICEReconnects != *want.iceReconnects {
					t.Errorf("%s iceReconnects = %d, want %d", pc.ID, f.ICEReconnects, *want.iceReconnects)
				}
				if f.UsingRelay != want.usesRelay {
					t.Errorf("%s usesRelay = %v, want %v (pair %+v)", pc.ID, f.UsingRelay, want.usesRelay, f.SelectedPair)
				}
				got := map[string]int64{
					"totalPacketsReceived":     f.TotalPacketsReceived,
					"totalReceivedPacketsLost": f.TotalReceivedPacketsLost,
					"totalPacketsSent":         f.TotalPacketsSent,
					"totalSentPacketsLost":     f.TotalSentPacketsLost,
				}
				for field, keyValue := range want.counts {
					id := name + " " + pc.ID + " " + field
					div, diverges := keyDivergences[id]
					switch {
					case !diverges && got[field] != keyValue:
						t.Errorf("%s %s = %d, want %d", pc.ID, field, got[field], keyValue)
					case diverges:
						used[id] = true
						if got[field] != div.want {
							t.Errorf("%s %s = %d, want %d (the key's %d differs because %s)", pc.ID, field, got[field], div.want, keyValue, div.why)
						}
						if k := div.keyValue(pc, f); k != keyValue {
							t.Errorf("%s %s: the key's way gives %d from this dump, the key says %d: the explanation (%s) is wrong", pc.ID, field, k, keyValue, div.why)
						}
					}
				}
				if want.receivedPct != nil && math.Abs(f.ReceivedPacketsLostPct-*want.receivedPct) > 0.5 {
					t.Errorf("%s receivedPacketsLostPct = %.3f, want %.2f ± 0.5", pc.ID, f.ReceivedPacketsLostPct, *want.receivedPct)
				}
				if math.Abs(f.SentPacketsLostPct-want.sentPct) > 0.5 {
					t.Errorf("%s sentPacketsLostPct = %.3f, want %.2f ± 0.5", pc.ID, f.SentPacketsLostPct, want.sentPct)
				}
				if tol := max(0.1*want.meanRttMs, 5); math.Abs(f.MeanRoundTripMs-want.meanRttMs) > tol {
					t.Errorf("%s meanRtt = %.1f ms, want %.1f ± %.1f", pc.ID, f.MeanRoundTripMs, want.meanRttMs, tol)
				}
				// The key times a session by the records' arrival, calldiag by
				// the stats' own timestamps, which run a little earlier.
				if want.sessionMs != nil && math.Abs(float64(f.SessionDuration.Milliseconds()-*want.sessionMs)) > 1000 {
					t.Errorf("%s session = %s, want %s ± 1s", pc.ID, f.SessionDuration, time.Duration(*want.sessionMs)*time.Millisecond)
				}
			}
		})
	}
	for id := range keyDivergences {
		if !used[id] {
			t.Errorf("divergence %q was not met: remove it", id)
		}
	}
}

// TestLegacyStatsFeatures checks what the older answer key of the legacy
// dump does not cover: received packets read from the ssrc_*_recv
// reports, whose numbers are strings, and the candidate pair from the
// active googCandidatePair and its Cand-* reports.
func TestLegacyStatsFeatures(t *testing.T) {
	d, _ := parseFile(t, "testdata/rtcstats/jitsi-google-legacy-stats-p2p.rtcstats")
	pc := d.PeerConnections[0]
	last := pc.Snapshots[len(pc.Snapshots)-1].Reports["ssrc_891790093_recv"]
	if r, _ := last.Number("packetsReceived"); r != 959 {
		t.Errorf("ssrc_891790093_recv packetsReceived = %v, want 959", r)
	}
	if l, _ := last.Number("packetsLost"); l != 212 {
		t.Errorf("ssrc_891790093_recv packetsLost = %v, want 212", l)
	}
	f := pc.Features()
	if f.TotalPacketsReceived != 16227 || f.TotalReceivedPacketsLost != 214 {
		t.Errorf("received %d lost %d, want 16227 and 214 (212 + 1 + 1 over the ten inbound streams)", f.TotalPacketsReceived, f.TotalReceivedPacketsLost)
	}
	want := CandidatePair{ID: "Conn-audio-1-0", LocalType: "prflx", RemoteType: "srflx", LocalProtocol: "udp", RemoteProtocol: "udp",
		LocalAddress: "188.24.8.45:61887", RemoteAddress: "3.249.64.62:10000"}
	if f.SelectedPair != want {
		t.Errorf("pair %+v, want %+v", f.SelectedPair, want)
	}
	if f.P2P == nil || *f.P2P {
		t.Errorf("PC_0 went through the bridge (rtcStatsSFUP2P false), P2P = %v", f.P2P)
	}
}

// TestFeaturesFromEvents covers the state rules with made-up sequences.
func TestFeaturesFromEvents(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	ev := func(sec int, name, value string) Event {
		return Event{Time: t0.Add(time.Duration(sec) * time.Second), Name: name, Value: value}
	}
	tests := []struct {
		name          string
		events        []Event
		failed, conn  bool
		reconnects    int
		sessionLength time.Duration
	}{
		{"connects", []Event{ev(0, "oniceconnectionstatechange", "checking"), ev(1, "oniceconnectionstatechange", "connected"),
			ev(1, "onconnectionstatechange", "connected"), ev(9, "close", "")}, false, true, 0, 8 * time.Second},
		{"connected and completed are one state", []Event{ev(0, "oniceconnectionstatechange", "connected"), ev(1, "oniceconnectionstatechange", "completed"),
			ev(2, "oniceconnectionstatechange", "connected"), ev(3, "oniceconnectionstatechange", "completed")}, false, true, 0, 3 * time.Second},
		{"never connects and fails", []Event{ev(0, "oniceconnectionstatechange", "checking"), ev(15, "oniceconnectionstatechange", "disconnected"),
			ev(15, "onconnectionstatechange", "failed")}, true, false, 0, 0},
		{"closed while checking has not failed", []Event{ev(0, "oniceconnectionstatechange", "checking"), ev(3, "close", "")}, false, false, 0, 0},
		{"two reconnects", []Event{ev(0, "oniceconnectionstatechange", "connected"), ev(5, "oniceconnectionstatechange", "disconnected"),
			ev(6, "oniceconnectionstatechange", "connected"), ev(7, "oniceconnectionstatechange", "failed"),
			ev(9, "oniceconnectionstatechange", "connected")}, false, true, 2, 9 * time.Second},
		{"fails after connecting", []Event{ev(0, "onconnectionstatechange", "connected"), ev(30, "oniceconnectionstatechange", "disconnected"),
			ev(40, "onconnectionstatechange", "failed")}, true, true, 0, 40 * time.Second},
		{"old webrtc-internals spelling", []Event{ev(0, "iceConnectionStateChange", "ICEConnectionStateConnected"),
			ev(2, "iceConnectionStateChange", "kICEConnectionStateDisconnected"), ev(3, "iceConnectionStateChange", "ICEConnectionStateConnected")},
			false, true, 1, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := (&PeerConnection{Events: tt.events}).Features()
			if f.ConnectionFailed != tt.failed || f.Connected != tt.conn || f.ICEReconnects != tt.reconnects || f.SessionDuration != tt.sessionLength {
				t.Errorf("failed %v connected %v reconnects %d session %s, want %v %v %d %s",
					f.ConnectionFailed, f.Connected, f.ICEReconnects, f.SessionDuration, tt.failed, tt.conn, tt.reconnects, tt.sessionLength)
			}
		})
	}
}
