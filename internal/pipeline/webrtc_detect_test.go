package pipeline

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store/sqlite"
)

// TestWebRTCDumpDetection ingests each real and hand-written WebRTC dump as
// a call of its own and checks what detection finds in it: the four peer
// connections of the multiple-P2P dump that never connect are four
// ice-failed issues and nothing else fails; the loopback page's refused
// camera is a failed getUserMedia; the hand-written current dump's TURN
// relay over TLS, ICE reconnect and refused screen share; state changes
// and quality limitation changes are never operation failures; and a dump
// of one browser says its far ends are unseen, unless it called itself.
func TestWebRTCDumpDetection(t *testing.T) {
	ctx := context.Background()
	type want struct {
		iceFailed []string // stream ids (connection ids) of the ice-failed issues
		kinds     []string // kinds that must be present
		absent    []string // kinds that must not be
		oneSided  bool
	}
	noFailure := []string{detect.KindICEFailed, detect.KindOperationFailed, detect.KindNoMediaFlow}
	cases := map[string]want{
		"rtcstats/jitsi-chrome-standard-multiple-p2p.rtcstats": {iceFailed: []string{"PC_1", "PC_2", "PC_5", "PC_6"},
			kinds: []string{detect.KindQualityLimited}, absent: []string{detect.KindOperationFailed, detect.KindNoMediaFlow}, oneSided: true},
		"rtcstats/jitsi-google-standard-stats-p2p.rtcstats":  {absent: noFailure, oneSided: true},
		"rtcstats/jitsi-google-standard-stats-sfu.rtcstats":  {kinds: []string{detect.KindPoorAudioConcealment}, absent: noFailure, oneSided: true},
		"rtcstats/jitsi-firefox-standard-stats-sfu.rtcstats": {absent: noFailure, oneSided: true},
		"rtcstats/jitsi-google-legacy-stats-p2p.rtcstats":    {absent: noFailure, oneSided: true},
		"rtcstats/jitsi-safari-standard-stats.rtcstats":      {absent: noFailure, oneSided: true},
		"internals/chromium-148-loopback.json": {kinds: []string{detect.KindGetUserMediaFailed},
			absent: append([]string{detect.KindMissingTelemetry}, noFailure...)},
		"internals/current.json": {kinds: []string{detect.KindNetworkReconnect, detect.KindMediaOverTCP, detect.KindRelayUsed,
			detect.KindSharePermissionDenied}, absent: noFailure, oneSided: true},
		"internals/chrome86.json": {kinds: []string{detect.KindPoorStream}, absent: noFailure, oneSided: true},
	}
	for _, name := range slices.Sorted(maps.Keys(cases)) {
		w := cases[name]
		t.Run(name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			id := "call-" + strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
			p := New(db, Options{WebRTC: WebRTCOptions{CallID: id}})
			if _, err := p.IngestPaths(ctx, []string{filepath.Join("../ingest/webrtc/testdata", name)}, nil); err != nil {
				t.Fatal(err)
			}
			res, _, err := DetectCall(ctx, db, id, detect.DefaultRules())
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			found := map[string]bool{}
			for _, is := range res.Issues {
				found[is.Kind] = true
				if is.Kind == detect.KindICEFailed {
					failed = append(failed, is.StreamID)
					if len(is.Evidence) == 0 || len(is.Evidence[0].RecordIDs) == 0 {
						t.Errorf("ice-failed on %s has no state changes as evidence", is.StreamID)
					}
				}
				if is.Kind == detect.KindGetUserMediaFailed && !strings.Contains(strings.ToLower(is.Summary), "overconstrainederror") &&
					!strings.Contains(strings.ToLower(is.Summary), "notfounderror") {
					t.Errorf("getusermedia-failed does not name the missing camera's error: %s", is.Summary)
				}
			}
			slices.Sort(failed)
			if !slices.Equal(failed, w.iceFailed) {
				t.Errorf("ice-failed on %v, want %v", failed, w.iceFailed)
			}
			for _, k := range w.kinds {
				if !found[k] {
					t.Errorf("no %s issue; issues: %v", k, issueKinds(res.Issues))
				}
			}
			for _, k := range w.absent {
				if found[k] {
					t.Errorf("unexpected %s issue; issues: %v", k, issueKinds(res.Issues))
				}
			}
			if res.Completeness.OneSided != w.oneSided {
				t.Errorf("oneSided %v, want %v", res.Completeness.OneSided, w.oneSided)
			}
			if res.Quality == detect.QualityUnknown {
				t.Errorf("quality Unknown although the dump's streams were seen")
			}
		})
	}
}

func issueKinds(issues []model.Issue) []string {
	var out []string
	for _, is := range issues {
		out = append(out, is.Kind+"("+is.StreamID+")")
	}
	return out
}
