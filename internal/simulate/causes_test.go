package simulate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"calldiag/internal/catalog"
)

// TestCausesProduceSymptoms generates calls carrying each cause and checks
// that the records show what the cause implies.
func TestCausesProduceSymptoms(t *testing.T) {
	g := testGenerator(t, 7)
	long := func(f Fault) bool { return f.End.Sub(f.Start) >= 90*time.Second }
	tests := []struct {
		kind  string
		pick  func(c *call, f Fault) bool
		check func(t *testing.T, c *call, f Fault, recs []record)
	}{
		{KindPoorUplink, func(c *call, f Fault) bool { return f.LossRate >= 0.08 && long(f) }, checkPoorUplink},
		{KindPoorDownlink, func(c *call, f Fault) bool { return f.LossRate >= 0.08 && long(f) }, checkPoorDownlink},
		{KindSharedNetwork, func(c *call, f Fault) bool { return f.LossRate >= 0.08 && long(f) }, checkSharedNetwork},
		{KindNetworkReconnect, nil, checkReconnect},
		{KindDropped, nil, checkDropped},
		{KindSetupFailed, nil, checkSetupFailed},
		{KindSpeakingWhileMuted, nil, checkSpeakingWhileMuted},
		{KindMicrophoneNotFunctioning, func(c *call, f Fault) bool { return long(f) }, checkMicDead},
		{KindCameraStartFailed, nil, checkCameraStartFailed},
		{KindCameraPermissionDenied, nil, checkPermissionDenied},
		{KindMicrophonePermissionDenied, nil, checkPermissionDenied},
		{KindMediaOverTCP, nil, checkTCP},
		{KindPoorRating, nil, checkPoorRating},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			idx := findCalls(g, 3, 3000, func(c *call, f Fault) bool {
				return f.Kind == tt.kind && (tt.pick == nil || tt.pick(c, f))
			})
			if len(idx) == 0 {
				t.Fatalf("no call with a %s fault in 3000 planned calls", tt.kind)
			}
			for _, i := range idx {
				c, cl, recs := generated(t, g, i)
				n := 0
				for _, f := range cl.Faults {
					if f.Kind == tt.kind && (tt.pick == nil || tt.pick(c, f)) {
						n++
						t.Run(fmt.Sprintf("call%d/%s", i, f.ParticipantID[:8]), func(t *testing.T) { tt.check(t, c, f, recs) })
					}
				}
				if n == 0 {
					t.Errorf("call %d: planned %s fault missing from the labels", i, tt.kind)
				}
			}
		})
	}
}

func isKey(key string) func(r *record) bool {
	return func(r *record) bool { return r.legKey() == key }
}

func checkPoorUplink(t *testing.T, c *call, f Fault, recs []record) {
	sender := func(r *record) bool { return r.legKey() == f.ParticipantID && r.str("MediaStreamDirection") == "send" }
	in, out, nIn, _ := lossIn(t, recs, sender, f.Start, f.End)
	if nIn == 0 || in < 0.03 || in < 3*out {
		t.Errorf("sender outbound loss in window %.4f (%d buckets), outside %.4f; want clearly raised (fault loss %.3f)", in, nIn, out, f.LossRate)
	}
	var sl *leg
	for _, l := range c.legs {
		if l.key() == f.ParticipantID {
			sl = l
		}
	}
	fromSender := func(r *record) bool {
		return r.str("MediaStreamDirection") == "recv" && r.legKey() != f.ParticipantID &&
			(r.str("RemoteParticipantId") == f.ParticipantID || (c.p2p && r.str("RemoteEndpointId") == sl.endpointID))
	}
	in, out, nIn, _ = lossIn(t, recs, fromSender, f.Start, f.End)
	if nIn > 0 && (in < 0.03 || in < 3*out) {
		t.Errorf("receivers' inbound loss of the sender's media in window %.4f, outside %.4f; want clearly raised", in, out)
	}
	if c.p2p && nIn == 0 {
		t.Error("P2P call: the other endpoint shows no received stream from the sender")
	}
	if f.UFD != "" && len(ufdChanges(t, recs, f.ParticipantID, f.UFD)) == 0 {
		t.Errorf("label names UFD %s but the sender logged none", f.UFD)
	}
	// Receivers' mixed audio in a group call does not carry the sender's loss.
	if !c.p2p {
		mixed := func(r *record) bool {
			return r.legKey() != f.ParticipantID && r.str("MediaStreamDirection") == "recv" &&
				r.str("MediaStreamType") == "audio" && r.str("RemoteParticipantId") == ""
		}
		if in, _, n, _ := lossIn(t, recs, mixed, f.Start, f.End); n > 0 && in > 0.05 {
			t.Errorf("group receivers' mixed audio loss %.4f in window; a poor uplink should not reach it", in)
		}
	}
}

func checkPoorDownlink(t *testing.T, c *call, f Fault, recs []record) {
	recv := func(r *record) bool { return r.legKey() == f.ParticipantID && r.str("MediaStreamDirection") == "recv" }
	in, out, nIn, _ := lossIn(t, recs, recv, f.Start, f.End)
	if nIn == 0 || in < 0.03 || in < 3*out {
		t.Errorf("receiver inbound loss in window %.4f (%d buckets), outside %.4f; want clearly raised (fault loss %.3f)", in, nIn, out, f.LossRate)
	}
	if !c.p2p {
		send := func(r *record) bool { return r.legKey() == f.ParticipantID && r.str("MediaStreamDirection") == "send" }
		if in, _, n, _ := lossIn(t, recs, send, f.Start, f.End); n > 0 && in > 0.03 {
			t.Errorf("group call: the culprit's outbound loss %.4f in window; a poor downlink should not reach it", in)
		}
	}
}

func checkSharedNetwork(t *testing.T, c *call, f Fault, recs []record) {
	own := func(r *record) bool { return r.legKey() == f.ParticipantID }
	in, out, nIn, _ := lossIn(t, recs, own, f.Start, f.End)
	if nIn == 0 || in < 0.03 || in < 3*out {
		t.Errorf("site member's loss in window %.4f, outside %.4f; want clearly raised", in, out)
	}
}

func checkReconnect(t *testing.T, c *call, f Fault, recs []record) {
	ch := ufdChanges(t, recs, f.ParticipantID, f.UFD)
	if len(ch) != 1 {
		t.Fatalf("%s occurrences = %v, want one", f.UFD, ch)
	}
	for _, v := range ch {
		if v[0] != "Bad" || v[len(v)-1] != "Good" {
			t.Errorf("%s values %v, want Bad first and Good last", f.UFD, v)
		}
	}
}

func checkDropped(t *testing.T, c *call, f Fault, recs []record) {
	s := finalSummary(recs, f.ParticipantID)
	if s == nil {
		t.Skip("final summary row lost (simulated export loss)")
	}
	if got := s.str("participantEndReason"); got != strconv.Itoa(*f.Code) {
		t.Errorf("participantEndReason = %s, want %d", got, *f.Code)
	}
	sub, ok := s.num("ParticipantEndSubCode")
	if f.SubCode != nil && (!ok || int(sub) != *f.SubCode) {
		t.Errorf("ParticipantEndSubCode = %v (%v), want %d", sub, ok, *f.SubCode)
	}
	if len(ops(recs, f.ParticipantID, "Hangup")) != 0 {
		t.Error("a dropped leg logged a Hangup")
	}
	if len(ufdChanges(t, recs, f.ParticipantID, f.UFD)) == 0 {
		t.Errorf("no %s UFD on the dropped leg", f.UFD)
	}
	if len(catalog.Lookup(*f.Code, subOrAbsent(f.SubCode))) == 0 {
		t.Errorf("code %d/%v is not in the catalog", *f.Code, f.SubCode)
	}
}

func subOrAbsent(p *int) int {
	if p == nil {
		return catalog.Absent
	}
	return *p
}

func checkSetupFailed(t *testing.T, c *call, f Fault, recs []record) {
	joins := ops(recs, f.ParticipantID, "Join")
	if len(joins) != 1 || joins[0].str("ResultType") != "Failed" {
		t.Fatalf("Join operations of the failed leg: %d, want one Failed", len(joins))
	}
	if sig, _ := joins[0].num("ResultSignature"); int(sig) != *f.Code {
		t.Errorf("Join ResultSignature = %v, want %d", sig, *f.Code)
	}
	if s := finalSummary(recs, f.ParticipantID); s != nil {
		if d, ok := s.num("participantDuration"); !ok || d > 2 {
			t.Errorf("failed leg participantDuration = %v, want 0–2 s", d)
		}
	}
	for i := range recs {
		if recs[i].Category == catMediaStats && recs[i].legKey() == f.ParticipantID {
			t.Fatal("a leg that never connected reported media stats")
		}
	}
	if len(catalog.Lookup(*f.Code, subOrAbsent(f.SubCode))) == 0 {
		t.Errorf("code %d/%v is not in the catalog", *f.Code, f.SubCode)
	}
}

func checkSpeakingWhileMuted(t *testing.T, c *call, f Fault, recs []record) {
	if len(ufdChanges(t, recs, f.ParticipantID, "speakingWhileMicrophoneIsMuted")) == 0 {
		t.Error("no speakingWhileMicrophoneIsMuted UFD")
	}
	muted := false
	for _, r := range ops(recs, f.ParticipantID, "MuteMicrophone") {
		if !r.ts(t, "CallClientTimeStamp").After(f.Start) {
			muted = true
		}
	}
	if !muted {
		t.Error("no MuteMicrophone before the user spoke while muted")
	}
}

func checkMicDead(t *testing.T, c *call, f Fault, recs []record) {
	from, to := f.Start.Add(15*time.Second), f.End.Add(-15*time.Second)
	n := 0
	for i := range recs {
		r := &recs[i]
		if r.Category != catMediaStats || r.legKey() != f.ParticipantID || r.str("MediaStreamDirection") != "send" ||
			r.str("MediaStreamType") != "audio" || r.str("MetricName") != "PacketsPerSecond" {
			continue
		}
		ts := r.ts(t, "CallClientTimeStamp")
		if ts.Before(from) || ts.Add(10*time.Second).After(to) {
			continue
		}
		n++
		if mx, _ := r.num("Maximum"); mx != 0 {
			t.Fatalf("audio sent at %s (%v packets/s) while the microphone was not functioning", ts, mx)
		}
	}
	if n == 0 {
		t.Error("no audio send buckets inside the fault window")
	}
	if len(ufdChanges(t, recs, f.ParticipantID, "microphoneNotFunctioning")) == 0 {
		t.Error("no microphoneNotFunctioning UFD")
	}
}

func checkCameraStartFailed(t *testing.T, c *call, f Fault, recs []record) {
	for _, r := range ops(recs, f.ParticipantID, "StartVideo") {
		sig, _ := r.num("ResultSignature")
		if r.str("ResultType") == "Failed" && int(sig) == *f.Code &&
			strings.Contains(r.str("OperationPayload"), `"SubCode":`+strconv.Itoa(*f.SubCode)) {
			if ch := ufdChanges(t, recs, f.ParticipantID, "cameraStartFailed"); len(ch) == 0 {
				t.Error("no cameraStartFailed UFD")
			}
			return
		}
	}
	t.Errorf("no failed StartVideo with %d/%d", *f.Code, *f.SubCode)
}

func checkPermissionDenied(t *testing.T, c *call, f Fault, recs []record) {
	asks := ops(recs, f.ParticipantID, "AskDevicePermission")
	if len(asks) != 1 {
		// Pre-call operations carry no ParticipantId; find them by client instance.
		asks = nil
		var clientID string
		for _, r := range ops(recs, f.ParticipantID, "") {
			clientID = r.str("ClientInstanceId")
		}
		for i := range recs {
			if recs[i].OperationName == "AskDevicePermission" && recs[i].str("ClientInstanceId") == clientID {
				asks = append(asks, &recs[i])
			}
		}
	}
	if len(asks) != 1 {
		t.Fatalf("AskDevicePermission rows = %d, want 1", len(asks))
	}
	a := asks[0]
	if sig, _ := a.num("ResultSignature"); a.str("ResultType") != "ExpectedError" || int(sig) != *f.Code ||
		!strings.Contains(a.str("OperationPayload"), strconv.Itoa(*f.SubCode)) {
		t.Errorf("AskDevicePermission = %s %v %s, want ExpectedError %d/%d", a.str("ResultType"), sig, a.str("OperationPayload"), *f.Code, *f.SubCode)
	}
	if len(ufdChanges(t, recs, f.ParticipantID, f.UFD)) == 0 {
		t.Errorf("no %s UFD", f.UFD)
	}
	media := "video"
	if f.Kind == KindMicrophonePermissionDenied {
		media = "audio"
	}
	for i := range recs {
		r := &recs[i]
		if r.Category == catMediaStats && r.legKey() == f.ParticipantID && r.str("MediaStreamDirection") == "send" && r.str("MediaStreamType") == media {
			t.Fatalf("%s sent without permission", media)
		}
	}
}

func checkTCP(t *testing.T, c *call, f Fault, recs []record) {
	n := 0
	for i := range recs {
		r := &recs[i]
		if r.Category != catDiagnostics {
			continue
		}
		tcp := r.str("transportType") == "TCP"
		mine := r.legKey() == f.ParticipantID || (r.str("endpointType") == "Server" && r.str("participantId") == f.ParticipantID)
		if mine != tcp {
			t.Errorf("diagnostics row of %s (%s) has transport %s", r.legKey(), r.str("endpointType"), r.str("transportType"))
		}
		if mine {
			n++
		}
	}
	if n == 0 {
		t.Error("no diagnostics row for the TCP leg")
	}
}

func checkPoorRating(t *testing.T, c *call, f Fault, recs []record) {
	for i := range recs {
		r := &recs[i]
		if r.Category != catSurvey || r.legKey() != f.ParticipantID {
			continue
		}
		score, _ := r.num("OverallRatingScore")
		upper, _ := r.num("OverallRatingScoreUpperBound")
		if n := score * 5 / upper; math.Abs(n-*f.Rating) > 0.01 || n >= 3 {
			t.Errorf("survey score %v of %v (%.2f on 5), label rating %.2f", score, upper, n, *f.Rating)
		}
		return
	}
	t.Error("no survey for a poor-rating fault")
}

// TestHealthyCalls checks that calls without causes carry no failed
// operations, no ungraceful end codes and no raised network UFDs.
func TestHealthyCalls(t *testing.T) {
	g := testGenerator(t, 11)
	checked := 0
	for i := 0; i < 200 && checked < 25; i++ {
		if c := planned(g, i); len(c.faults) > 0 {
			continue
		}
		_, cl, recs := generated(t, g, i)
		if len(cl.Faults) != 0 {
			t.Fatalf("call %d planned healthy but labelled %v", i, cl.Faults)
		}
		checked++
		for j := range recs {
			r := &recs[j]
			switch r.Category {
			case catClientOps:
				if rt := r.str("ResultType"); rt != "Succeeded" && rt != "ExpectedError" {
					t.Errorf("call %d: %s with ResultType %s", i, r.OperationName, rt)
				}
				if r.OperationName == "UserFacingDiagnostics" && strings.Contains(r.str("OperationPayload"), "network") {
					t.Errorf("call %d: network UFD %s on a healthy call", i, r.str("OperationPayload"))
				}
			case catSummary:
				code, _ := strconv.Atoi(r.str("participantEndReason"))
				if catalog.IsUngracefulEndReason(code) {
					t.Errorf("call %d: end reason %d on a healthy call", i, code)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d healthy calls in 200", checked)
	}
}

// TestDiagnosticsMatchSeries checks that the aggregates of client-reported
// diagnostics rows are what the leg's media stats imply.
func TestDiagnosticsMatchSeries(t *testing.T) {
	g := testGenerator(t, 5)
	rows, calls := 0, 0
	for i := 0; i < 100 && calls < 12; i++ {
		if len(planned(g, i).legs) > 6 {
			continue // keep the test quick
		}
		calls++
		_, _, recs := generated(t, g, i)
		type series struct {
			rttSum, jitSum, n, rttMax, lossW, lossN float64
			lostB, pkB                              map[string]float64
		}
		byLeg := map[string]*series{}
		for j := range recs {
			r := &recs[j]
			if r.Category != catMediaStats || r.str("MediaStreamDirection") != "send" || r.str("MediaStreamType") != "audio" {
				continue
			}
			s := byLeg[r.legKey()]
			if s == nil {
				s = &series{lostB: map[string]float64{}, pkB: map[string]float64{}}
				byLeg[r.legKey()] = s
			}
			sum, _ := r.num("Sum")
			cnt, _ := r.num("Count")
			mx, _ := r.num("Maximum")
			ts := r.str("CallClientTimeStamp")
			switch r.str("MetricName") {
			case "RttInMs":
				s.rttSum += sum
				s.n += cnt
				s.rttMax = math.Max(s.rttMax, mx)
			case "JitterInMs":
				s.jitSum += sum
			case "PacketsLostPerSecond":
				s.lostB[ts] += sum
				s.lossN += cnt
			case "PacketsPerSecond":
				s.pkB[ts] += sum
			}
		}
		for j := range recs {
			r := &recs[j]
			if r.Category != catDiagnostics || r.str("endpointType") == "Server" || r.str("mediaType") != "Audio" {
				continue
			}
			s := byLeg[r.legKey()]
			if s == nil || s.n < 30 {
				continue
			}
			rows++
			rtt, _ := r.num("roundTripTimeAvg")
			if want := s.rttSum / s.n; math.Abs(rtt-want) > math.Max(2, 0.05*want) {
				t.Errorf("call %d leg %s: roundTripTimeAvg %v, series mean %.1f", i, r.legKey(), rtt, want)
			}
			if mx, _ := r.num("roundTripTimeMax"); mx < s.rttMax {
				t.Errorf("call %d leg %s: roundTripTimeMax %v below the series maximum %v", i, r.legKey(), mx, s.rttMax)
			}
			jit, _ := r.num("jitterAvg")
			if want := s.jitSum / s.n; math.Abs(jit-want) > math.Max(1, 0.05*want) {
				t.Errorf("call %d leg %s: jitterAvg %v, series mean %.1f", i, r.legKey(), jit, want)
			}
			var fracSum, maxFrac float64
			var nb float64
			for ts, pk := range s.pkB {
				if pk > 0 {
					f := s.lostB[ts] / pk
					fracSum += f
					nb++
					maxFrac = math.Max(maxFrac, f)
				}
			}
			lossMax, _ := r.num("packetLossRateMax")
			if lossMax+1e-6 < maxFrac {
				t.Errorf("call %d leg %s: packetLossRateMax %v below the worst bucket %v", i, r.legKey(), lossMax, maxFrac)
			}
			lossAvg, _ := r.num("packetLossRateAvg")
			if want := fracSum / math.Max(nb, 1); math.Abs(lossAvg-want) > math.Max(0.003, 0.25*want) {
				t.Errorf("call %d leg %s: packetLossRateAvg %v, series bucket mean %.5f", i, r.legKey(), lossAvg, want)
			}
		}
	}
	if rows < 10 {
		t.Fatalf("compared only %d diagnostics rows", rows)
	}
}

// TestMediaStatsRows checks every media stats row is internally
// consistent: a 10 s bucket of at most 10 samples whose sum, mean and
// extremes agree.
func TestMediaStatsRows(t *testing.T) {
	g := testGenerator(t, 3)
	metrics := map[string]bool{}
	for i := 0; i < 6; i++ {
		_, _, recs := generated(t, g, i)
		for j := range recs {
			r := &recs[j]
			if r.Category != catMediaStats {
				continue
			}
			cnt, _ := r.num("Count")
			sum, _ := r.num("Sum")
			avg, _ := r.num("Average")
			mn, _ := r.num("Minimum")
			mx, _ := r.num("Maximum")
			iv, _ := r.num("AggregationIntervalSeconds")
			if cnt < 1 || cnt > 10 || iv != 10 || mn > avg+1e-9 || avg > mx+1e-9 || math.Abs(avg*cnt-sum) > 1e-3*math.Max(1, math.Abs(sum)) {
				t.Fatalf("inconsistent bucket count %v sum %v avg %v min %v max %v interval %v: %v", cnt, sum, avg, mn, mx, iv, r.Props)
			}
			metrics[r.str("MediaStreamType")+"/"+r.str("MediaStreamDirection")+"/"+r.str("MetricName")] = true
		}
	}
	per := map[string]int{}
	for m := range metrics {
		per[m[:strings.LastIndexByte(m, '/')]]++
	}
	for stream, n := range per {
		if n > 6 {
			t.Errorf("%s streams report %d metrics, want at most 6", stream, n)
		}
	}
	for _, want := range []string{"audio/send/RttInMs", "audio/recv/HealedRatio", "audio/send/PacketsLostPerSecond", "audio/recv/JitterInMs"} {
		if !metrics[want] {
			t.Errorf("metric %s never reported; have %v", want, slices.Sorted(mapsKeys(metrics)))
		}
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestCatalogFacts checks that every code and UFD the simulator logs is a
// real one: listed in the catalog, and raised on the platform that logs it.
func TestCatalogFacts(t *testing.T) {
	for _, list := range [][]codeChoice{dropCodes, setupCodes, cameraCodes, cameraPermCodes, {{permCode, permSub, 1, ""}}} {
		for _, ch := range list {
			if len(catalog.Lookup(ch.code, ch.sub)) == 0 {
				t.Errorf("code %d/%d is not in the catalog", ch.code, ch.sub)
			}
		}
	}
	g := testGenerator(t, 17)
	seen := map[string]bool{}
	for i := 0; i < 150; i++ {
		if c := planned(g, i); len(c.faults) == 0 || len(c.legs) > 8 {
			continue
		}
		_, _, recs := generated(t, g, i)
		for j := range recs {
			r := &recs[j]
			if r.OperationName != "UserFacingDiagnostics" {
				continue
			}
			var p map[string]string
			if err := json.Unmarshal([]byte(r.str("OperationPayload")), &p); err != nil {
				t.Fatal(err)
			}
			name := p["DiagnosticChanged"] + p["diagnosticChanged"]
			u, ok := catalog.LookupUFD(name)
			if !ok {
				t.Fatalf("UFD %q is not in the catalog", name)
			}
			web := strings.Contains(r.str("UserAgent"), "javascript_calling_sdk")
			if (web && !u.OnWeb()) || (!web && !u.OnNative()) {
				t.Errorf("UFD %s (platform %s) logged by %s", name, u.Platform, r.str("UserAgent"))
			}
			if v := p["DiagnosticQuality"] + p["diagnosticQuality"]; !slices.Contains([]string{"Good", "Poor", "Bad"}, v) {
				t.Errorf("UFD %s value %q", name, v)
			}
			seen[name] = true
		}
	}
	if len(seen) < 5 {
		t.Errorf("only %d distinct UFDs raised: %v", len(seen), seen)
	}
}
