package realcall

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"calldiag/internal/detect"
	"calldiag/internal/model"
)

// The two directions of the call's media.
const (
	aliceToBob = "alice → bob"
	bobToAlice = "bob → alice"
)

// check asserts what calldiag made of the call.
func check(t *testing.T, ctx context.Context, base string, sc scenario, call model.Call) {
	t.Helper()
	logFigures(t, call)
	logIssues(t, call)

	var pids []string
	for _, p := range call.Participants {
		pids = append(pids, p.ID)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []string{"alice", "bob"}) {
		t.Errorf("the call has the participants %v, want alice and bob", pids)
	}
	for _, who := range []string{"alice", "bob"} {
		pcs := 0
		for _, pc := range call.PeerConnections {
			if pc.ParticipantID != who {
				continue
			}
			pcs++
			if !pc.Connected || pc.ConnectionFailed {
				t.Errorf("%s's peer connection %s: connected %v, failed %v; want connected", who, pc.ID, pc.Connected, pc.ConnectionFailed)
			}
			if pc.PacketsReceived == 0 || pc.PacketsSent == 0 {
				t.Errorf("%s's peer connection %s received %d and sent %d packets, want media both ways",
					who, pc.ID, pc.PacketsReceived, pc.PacketsSent)
			}
		}
		if pcs != 1 {
			t.Errorf("%s has %d peer connections, want 1", who, pcs)
		}
		for _, media := range []model.MediaType{model.MediaAudio, model.MediaVideo} {
			if !hasStream(call, who, media, model.DirInbound) {
				t.Errorf("%s has no inbound %s stream: media did not reach it", who, media)
			}
		}
	}

	// The collector said who is at the far end (calldiag.peer): each
	// received series names its sender, which culprit attribution needs.
	series, err := timelineSeries(ctx, base, call.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		for _, media := range []model.MediaType{model.MediaAudio, model.MediaVideo} {
			want := string(media) + "-" + string(model.DirInbound) + "-" + other(who)
			if !slices.ContainsFunc(series, func(s model.Series) bool { return s.ParticipantID == who && s.StreamID == want }) {
				t.Errorf("%s has no series %s: the received streams do not name their sender", who, want)
			}
		}
	}

	network := func(is model.Issue) bool { return is.Category == model.CategoryNetwork }
	if !sc.impaired() {
		if call.Quality != detect.QualityGood {
			t.Errorf("a clean call has the quality %q, want %s", call.Quality, detect.QualityGood)
		}
		for _, is := range call.Issues {
			if network(is) {
				t.Errorf("a clean call has the network issue %s", describe(call, is))
			}
		}
		return
	}

	// Impaired alice → bob: a network issue there, none the other way.
	var found []model.Issue
	warned := false
	for _, is := range call.Issues {
		warned = warned || is.Severity.Rank() >= model.SeverityWarning.Rank()
		if !network(is) {
			continue
		}
		ways := waysOf(call, is)
		if slices.Contains(ways, bobToAlice) {
			t.Errorf("a network issue puts the trouble on %s, which was not impaired: %s", bobToAlice, describe(call, is))
			continue
		}
		if slices.Contains(ways, aliceToBob) {
			if !slices.ContainsFunc(is.Culprit.ParticipantIDs, func(p string) bool { return p == "alice" || p == "bob" }) {
				t.Errorf("the issue on %s names neither alice nor bob in its culprit: %s", aliceToBob, describe(call, is))
			}
			found = append(found, is)
		}
	}
	if len(found) == 0 {
		t.Errorf("no network issue on %s, which was impaired (%s, nftables %d %%)", aliceToBob, sc.relay, sc.nftLoss)
	}
	if call.Quality != detect.QualityPoor && !warned {
		t.Errorf("the impaired call has the quality %q and no warning", call.Quality)
	}
	for _, is := range found {
		checkTimeline(t, ctx, base, call, is)
	}
}

// hasStream reports whether participant pid has a stream of media in dir.
func hasStream(call model.Call, pid string, media model.MediaType, dir model.Direction) bool {
	for _, p := range call.Participants {
		for _, s := range p.Streams {
			owner := s.ParticipantID
			if owner == "" {
				owner = p.ID
			}
			if owner == pid && s.MediaType == media && s.Direction == dir {
				return true
			}
		}
	}
	return false
}

// other is the far end of the two-party call.
func other(pid string) string {
	if pid == "alice" {
		return "bob"
	}
	return "alice"
}

// way is the direction of media a participant's stream in dir carries.
func way(pid string, dir model.Direction) string {
	from := other(pid)
	if dir == model.DirOutbound {
		from = pid
	}
	if from == "alice" {
		return aliceToBob
	}
	return bobToAlice
}

// waysOf tells which directions of the call an issue puts the trouble on:
// by the stream it was measured on (a participant's inbound stream is the
// far end's sending to it, an outbound one its own sending) and by its
// culprit (an uplink is its owner's sending, a downlink its receiving). A
// path or shared-network culprit says no direction.
func waysOf(call model.Call, is model.Issue) []string {
	var out []string
	add := func(w string) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if pid, dir, ok := streamOf(call, is); ok && (pid == "alice" || pid == "bob") {
		add(way(pid, dir))
	}
	for _, p := range is.Culprit.ParticipantIDs {
		if p != "alice" && p != "bob" {
			continue
		}
		switch is.Culprit.Type {
		case model.CulpritUplink:
			add(way(p, model.DirOutbound))
		case model.CulpritDownlink:
			add(way(p, model.DirInbound))
		}
	}
	return out
}

// streamOf finds the participant and direction of an issue's stream: a
// series stream is named media-direction[-remote], a stream row by its id.
func streamOf(call model.Call, is model.Issue) (string, model.Direction, bool) {
	if is.StreamID == "" {
		return "", "", false
	}
	for _, p := range call.Participants {
		for _, s := range p.Streams {
			if s.StreamID == is.StreamID && (p.ID == is.ParticipantID || s.ParticipantID == is.ParticipantID) {
				return is.ParticipantID, s.Direction, true
			}
		}
	}
	parts := strings.SplitN(is.StreamID, "-", 3)
	if len(parts) >= 2 {
		switch d := model.Direction(parts[1]); d {
		case model.DirInbound, model.DirOutbound:
			return is.ParticipantID, d, true
		}
	}
	return "", "", false
}

// checkTimeline asserts that the timeline, over the issue's interval, has
// series points on alice → bob past the thresholds detection uses.
func checkTimeline(t *testing.T, ctx context.Context, base string, call model.Call, is model.Issue) {
	t.Helper()
	from, to := is.Start, is.End
	if !is.TimelineFilter.From.IsZero() {
		from, to = is.TimelineFilter.From, is.TimelineFilter.To
	}
	series, err := timelineSeries(ctx, base, call.ID, from, to)
	if err != nil {
		t.Error(err)
		return
	}
	rules := detect.DefaultRules()
	var seen []string
	// past counts the points of one series inside the interval and past
	// limit, and notes them.
	past := func(s model.Series, metric string, pts []model.Point, limit, scale float64, unit string) {
		n, in, peak := 0, 0, 0.0
		for _, pt := range pts {
			if !inside(pt.Time, from, to) {
				continue
			}
			in++
			if pt.Value > limit {
				n++
				peak = max(peak, pt.Value)
			}
		}
		if n > 0 {
			seen = append(seen, fmt.Sprintf("%s %s %s: %d of %d points > %g%s, up to %.1f%s",
				s.ParticipantID, s.StreamID, metric, n, in, limit*scale, unit, peak*scale, unit))
		}
	}
	for _, s := range series {
		dir, ok := seriesDirection(s.StreamID)
		if !ok || way(s.ParticipantID, dir) != aliceToBob {
			continue
		}
		switch s.Metric {
		case "JitterInMs":
			past(s, s.Metric, s.Points, rules.SeriesJitterMs, 1, " ms")
		case "RttInMs":
			past(s, s.Metric, s.Points, rules.SeriesRTTMs, 1, " ms")
		case "PacketsLostPerSecond":
			past(s, "loss", lossRates(series, s), rules.SeriesLoss, 100, " %")
		}
	}
	if len(seen) == 0 {
		t.Errorf("the timeline from %s to %s has no point on %s past a threshold, for the issue %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339), aliceToBob, describe(call, is))
		return
	}
	t.Logf("the timeline of %s from %s to %s shows on %s: %s", is.Kind, from.Format("15:04:05"), to.Format("15:04:05"),
		aliceToBob, strings.Join(seen, "; "))
}

func inside(at, from, to time.Time) bool { return !at.Before(from) && !at.After(to) }

// seriesDirection reads the direction of a series stream id.
func seriesDirection(stream string) (model.Direction, bool) {
	parts := strings.SplitN(stream, "-", 3)
	if len(parts) < 2 {
		return "", false
	}
	d := model.Direction(parts[1])
	return d, d == model.DirInbound || d == model.DirOutbound
}

// lossRates derives the loss rate of a stream from its lost and packet
// rates at the same times, as detection does: lost ÷ (packets + lost).
func lossRates(all []model.Series, lost model.Series) []model.Point {
	var out []model.Point
	for _, s := range all {
		if s.ParticipantID != lost.ParticipantID || s.StreamID != lost.StreamID || s.Metric != "PacketsPerSecond" {
			continue
		}
		for _, l := range lost.Points {
			for _, p := range s.Points {
				if p.Time.Equal(l.Time) && p.Value+l.Value > 0 {
					out = append(out, model.Point{Time: l.Time, Value: l.Value / (p.Value + l.Value)})
					break
				}
			}
		}
	}
	return out
}

// timelineSeries reads the call's series between from and to (the whole
// call when from is zero), every page.
func timelineSeries(ctx context.Context, base, callID string, from, to time.Time) ([]model.Series, error) {
	byKey := map[string]*model.Series{}
	var order []string
	cursor := ""
	for {
		q := url.Values{"kind": {model.KindMetric}}
		if !from.IsZero() {
			q.Set("from", from.Format(time.RFC3339Nano))
			q.Set("to", to.Format(time.RFC3339Nano))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var tl model.Timeline
		u := base + "/api/v1/calls/" + url.PathEscape(callID) + "/timeline?" + q.Encode()
		status, err := getJSON(ctx, u, &tl)
		if err != nil {
			return nil, err
		}
		if status != 200 {
			return nil, fmt.Errorf("GET %s: status %d", u, status)
		}
		for _, s := range tl.Series {
			k := s.ParticipantID + "/" + s.StreamID + "/" + s.Metric
			if byKey[k] == nil {
				byKey[k] = &model.Series{ParticipantID: s.ParticipantID, StreamID: s.StreamID, Metric: s.Metric}
				order = append(order, k)
			}
			byKey[k].Points = append(byKey[k].Points, s.Points...)
		}
		if tl.NextCursor == "" {
			break
		}
		cursor = tl.NextCursor
	}
	out := make([]model.Series, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}

// describe is one line about an issue.
func describe(call model.Call, is model.Issue) string {
	var ev []string
	for _, e := range is.Evidence {
		v := e.Text
		if e.Value != nil {
			v = fmt.Sprintf("%.3g", *e.Value)
			if e.Threshold != nil {
				v += fmt.Sprintf(" %s %.3g", e.Op, *e.Threshold)
			}
		}
		ev = append(ev, e.Metric+" "+v)
	}
	return fmt.Sprintf("%s %s [%s] on %s %s (%s), culprit %s %v: %s; evidence: %s",
		is.Severity, is.Kind, is.Category, is.ParticipantID, is.StreamID, strings.Join(waysOf(call, is), ", "),
		is.Culprit.Type, is.Culprit.ParticipantIDs, is.Summary, strings.Join(ev, "; "))
}

func logIssues(t *testing.T, call model.Call) {
	t.Helper()
	t.Logf("quality %s, %d issues", call.Quality, len(call.Issues))
	for _, is := range call.Issues {
		t.Logf("  issue: %s", describe(call, is))
	}
}

// logFigures prints what calldiag reports of each direction: the peer
// connections' loss and round trip and the streams' aggregates.
func logFigures(t *testing.T, call model.Call) {
	t.Helper()
	f := func(v *float64, scale float64, unit string) string {
		if v == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f%s", *v*scale, unit)
	}
	for _, pc := range call.PeerConnections {
		t.Logf("%s %s: received %d packets, lost %s; sent %d, lost (far end's reports) %s; mean round trip %s; setup %s; %s/%s candidates",
			pc.ParticipantID, pc.ID, pc.PacketsReceived, f(pc.ReceivedPacketsLostPct, 1, " %"), pc.PacketsSent,
			f(pc.SentPacketsLostPct, 1, " %"), f(pc.MeanRoundTripMs, 1, " ms"), f(pc.SetupMs, 1, " ms"),
			pc.LocalCandidateType, pc.RemoteCandidateType)
	}
	for _, p := range call.Participants {
		for _, s := range p.Streams {
			pid := s.ParticipantID
			if pid == "" {
				pid = p.ID
			}
			t.Logf("%-11s %s %s %-8s %s: jitter %s (max %s), loss %s (max %s), round trip %s, fps %s",
				way(pid, s.Direction), pid, s.MediaType, s.Direction, s.StreamID, f(s.JitterAvgMs, 1, " ms"), f(s.JitterMaxMs, 1, " ms"),
				f(s.PacketLossRateAvg, 100, " %"), f(s.PacketLossRateMax, 100, " %"), f(s.RoundTripTimeAvgMs, 1, " ms"),
				f(s.VideoFrameRateAvg, 1, ""))
		}
	}
}
