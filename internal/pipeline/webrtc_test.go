package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"calldiag/internal/model"
	"calldiag/internal/store/sqlite"
)

// answerKey is what the third party's feature extractor found for each
// peer connection of a dump (the *.expected-features.json beside it), in
// its current shape (features.aggregates) or its older one (a connId and
// its connectionFeatures per entry). Round trips are in seconds.
type answerKey []struct {
	ConnID             string `json:"connId"`
	ConnectionFeatures *struct {
		ICEFailure             bool    `json:"ICEFailure"`
		FirstCandidatePairType string  `json:"firstCandidatePairType"`
		StatsMeanRoundTripTime float64 `json:"statsMeanRoundTripTime"`
	} `json:"connectionFeatures"`
	Features *struct {
		Aggregates map[string]struct {
			ConnectionFailed bool `json:"connectionFailed"`
			ICEReconnects    int  `json:"iceReconnects"`
			UsesRelay        bool `json:"usesRelay"`
			TrackAggregates  *struct {
				ReceivedPacketsLostPct float64 `json:"receivedPacketsLostPct"`
				SentPacketsLostPct     float64 `json:"sentPacketsLostPct"`
			} `json:"trackAggregates"`
			TransportAggregates *struct {
				MeanRtt *float64 `json:"meanRtt"`
			} `json:"transportAggregates"`
		} `json:"aggregates"`
	} `json:"features"`
}

// TestWebRTCDumpsAgreeWithAnswerKeys ingests six real rtcstats dumps, as
// calldiag ingest does, and checks each call's peerConnections against
// the answer key of the dump: failures, reconnects and relay use exactly,
// loss within half a percentage point, the mean round trip within 10 % or
// 5 ms.
func TestWebRTCDumpsAgreeWithAnswerKeys(t *testing.T) {
	ctx := context.Background()
	dumps, _ := filepath.Glob("../ingest/webrtc/testdata/rtcstats/*.rtcstats")
	if len(dumps) != 6 {
		t.Fatalf("want the 6 answer-keyed dumps, found %d", len(dumps))
	}
	for _, path := range dumps {
		name := strings.TrimSuffix(filepath.Base(path), ".rtcstats")
		t.Run(name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			p := New(db, Options{WebRTC: WebRTCOptions{CallID: "call-" + name}})
			res, err := p.IngestPaths(ctx, []string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stored == 0 || len(res.Calls) != 1 || res.Calls[0] != "call-"+name {
				t.Fatalf("ingest = %+v; want records stored for call-%s", res, name)
			}
			c, err := db.Call(ctx, "call-"+name)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Participants) != 1 {
				t.Errorf("%d participants; want the recording browser alone", len(c.Participants))
			}
			raw, err := os.ReadFile(strings.TrimSuffix(path, ".rtcstats") + ".expected-features.json")
			if err != nil {
				t.Fatal(err)
			}
			var key answerKey
			if err := json.Unmarshal(raw, &key); err != nil {
				t.Fatal(err)
			}
			got := map[string]model.PeerConnection{}
			for _, pc := range c.PeerConnections {
				got[pc.ID] = pc
			}
			checked := 0
			rtt := func(id string, keySeconds float64, pc model.PeerConnection) {
				if keySeconds <= 0 {
					return
				}
				w, g := keySeconds*1000, pct(pc.MeanRoundTripMs)
				if d := math.Abs(g - w); d > 5 && d > 0.1*w {
					t.Errorf("%s: mean round trip %.1f ms, key %.1f ms", id, g, w)
				}
			}
			for _, entry := range key {
				if cf := entry.ConnectionFeatures; cf != nil {
					pc, ok := got[entry.ConnID]
					if !ok {
						t.Errorf("%s: no peer connection in the call", entry.ConnID)
						continue
					}
					checked++
					if relay := strings.Contains(cf.FirstCandidatePairType, "relay"); pc.ConnectionFailed != cf.ICEFailure ||
						(cf.FirstCandidatePairType != "" && pc.UsingRelay != relay) {
						t.Errorf("%s: failed %v, relay %v; key says %v, %q", entry.ConnID, pc.ConnectionFailed, pc.UsingRelay,
							cf.ICEFailure, cf.FirstCandidatePairType)
					}
					rtt(entry.ConnID, cf.StatsMeanRoundTripTime, pc)
				}
				if entry.Features == nil {
					continue
				}
				for id, want := range entry.Features.Aggregates {
					pc, ok := got[id]
					if !ok {
						t.Errorf("%s: no peer connection in the call (have %v)", id, c.PeerConnections)
						continue
					}
					checked++
					if pc.ConnectionFailed != want.ConnectionFailed || pc.ICEReconnects != want.ICEReconnects ||
						pc.UsingRelay != want.UsesRelay {
						t.Errorf("%s: failed %v, reconnects %d, relay %v; key says %v, %d, %v", id, pc.ConnectionFailed,
							pc.ICEReconnects, pc.UsingRelay, want.ConnectionFailed, want.ICEReconnects, want.UsesRelay)
					}
					if ta := want.TrackAggregates; ta != nil {
						if d := math.Abs(pct(pc.ReceivedPacketsLostPct) - ta.ReceivedPacketsLostPct); d > 0.5 {
							t.Errorf("%s: received packets lost %v%%, key %v%%", id, pct(pc.ReceivedPacketsLostPct), ta.ReceivedPacketsLostPct)
						}
						if d := math.Abs(pct(pc.SentPacketsLostPct) - ta.SentPacketsLostPct); d > 0.5 {
							t.Errorf("%s: sent packets lost %v%%, key %v%%", id, pct(pc.SentPacketsLostPct), ta.SentPacketsLostPct)
						}
					}
					if tr := want.TransportAggregates; tr != nil && tr.MeanRtt != nil {
						rtt(id, *tr.MeanRtt, pc)
					}
				}
			}
			if checked == 0 {
				t.Fatal("the answer key names no peer connection")
			}
			// The same dump again stores nothing new.
			again, err := p.IngestPaths(ctx, []string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if again.Stored != 0 || again.Duplicates != res.Stored+res.Duplicates {
				t.Errorf("second ingest = %+v; want every record a duplicate", again)
			}
		})
	}
}

func pct(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// TestWebRTCDumpShapes ingests a webrtc-internals dump, a gzip rtcstats dump
// and an rtcstats dump with a broken line: each is found without being
// named, a bad line is reported with its number, and the rest is kept.
func TestWebRTCDumpShapes(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("../ingest/webrtc/testdata/rtcstats/jitsi-google-standard-stats-sfu.rtcstats")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	broken := bytes.Join([][]byte{bytes.Join(lines[:5], nil), []byte("[\"getstats\", \"PC_0\", {not json\n"),
		bytes.Join(lines[5:], nil)}, nil)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(src)
	zw.Close()
	internals, err := os.ReadFile("../ingest/webrtc/testdata/internals/chromium-148-loopback.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		body     []byte
		rejected int
		line     int
	}{
		{"internals", internals, 0, 0},
		{"gzip", zipped.Bytes(), 0, 0},
		{"broken line", broken, 1, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			res, err := New(db, Options{}).Ingest(ctx, bytes.NewReader(tc.body), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rejected != tc.rejected || res.Stored == 0 || len(res.Calls) != 1 {
				t.Fatalf("ingest = %+v; want records of one call stored, %d rejected", res, tc.rejected)
			}
			if tc.rejected > 0 && (len(res.Errors) != 1 || res.Errors[0].Line != tc.line || res.Errors[0].Source != tc.name) {
				t.Errorf("errors %+v; want line %d of %s", res.Errors, tc.line, tc.name)
			}
			c, err := db.Call(ctx, res.Calls[0])
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Participants) != 1 || len(c.PeerConnections) == 0 || len(c.Participants[0].Streams) == 0 {
				t.Errorf("call %s: %d participants, %d peer connections, streams %v", c.ID, len(c.Participants),
					len(c.PeerConnections), c.Participants)
			}
		})
	}
}
