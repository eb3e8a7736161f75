// Package storetest is the contract suite every store backend must pass:
// what Append keeps, how competing versions of a row are resolved whatever
// their arrival order, and what search, call, timeline and record reads
// return. Backends call Run from their own tests.
//
// It imports model and store only and is imported only by _test files.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Run runs the contract suite. open must return a new, empty store for each
// call and close it when the test ends (t.Cleanup).
func Run(t *testing.T, open func(t testing.TB) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func(t testing.TB) store.Store)
	}{
		{"EmptyStore", testEmptyStore},
		{"AppendAndCall", testAppendAndCall},
		{"Idempotency", testIdempotency},
		{"UpdatesSupersede", testUpdatesSupersede},
		{"LatestDiagnosticsByTime", testLatestDiagnostics},
		{"OrderIndependence", testOrderIndependence},
		{"UnlinkedOperations", testUnlinkedOperations},
		{"UnlinkedOperationChoosesCall", testUnlinkedChoice},
		{"SamplesWithoutParticipant", testSamplesWithoutParticipant},
		{"SearchFiltersSortsPages", testSearch},
		{"SearchQuery", testSearchQuery},
		{"SearchTotalCapped", testSearchTotalCapped},
		{"Timeline", testTimeline},
		{"TimelinePaging", testTimelinePaging},
		{"RecordRoundTrip", testRecord},
		{"Checkpoints", testCheckpoints},
		{"DetectionRoundTrip", testDetectionRoundTrip},
		{"DetectionSummary", testDetectionSummary},
		{"DetectionIdempotent", testDetectionIdempotent},
		{"DetectionReplace", testDetectionReplace},
		{"DetectionSurvivesAppend", testDetectionSurvivesAppend},
		{"DetectionFilters", testDetectionFilters},
		{"Facets", testFacets},
		{"FacetFilters", testFacetFilters},
		{"FacetsFollowChanges", testFacetsFollowChanges},
		{"FacetsOfUnlinkedOperations", testFacetsOfUnlinkedOperations},
		{"Retention", testRetention},
		{"PeerConnections", testPeerConnections},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func appendOK(t testing.TB, s store.Store, recs ...model.Record) store.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), recs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res
}

func getCall(t testing.TB, s store.Store, id string) model.Call {
	t.Helper()
	c, err := s.Call(context.Background(), id)
	if err != nil {
		t.Fatalf("Call(%s): %v", id, err)
	}
	return c
}

func participant(t testing.TB, c model.Call, id string) model.Participant {
	t.Helper()
	for _, p := range c.Participants {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("call %s has no participant %s (have %v)", c.ID, id, participantIDs(c))
	return model.Participant{}
}

func participantIDs(c model.Call) []string {
	ids := make([]string, len(c.Participants))
	for i, p := range c.Participants {
		ids[i] = p.ID
	}
	return ids
}

func search(t testing.TB, s store.Store, q store.CallQuery) store.CallPage {
	t.Helper()
	p, err := s.SearchCalls(context.Background(), q)
	if err != nil {
		t.Fatalf("SearchCalls(%+v): %v", q, err)
	}
	return p
}

func summaryOf(t testing.TB, s store.Store, id string) model.CallSummary {
	t.Helper()
	for _, c := range searchAll(t, s, store.CallQuery{}) {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("search does not return call %s", id)
	return model.CallSummary{}
}

// searchAll follows the cursor through every page.
func searchAll(t testing.TB, s store.Store, q store.CallQuery) []model.CallSummary {
	t.Helper()
	var out []model.CallSummary
	for range 10000 {
		p := search(t, s, q)
		out = append(out, p.Calls...)
		if p.NextCursor == "" {
			return out
		}
		q.Cursor = p.NextCursor
	}
	t.Fatalf("search paging does not end")
	return nil
}

func timeline(t testing.TB, s store.Store, q store.TimelineQuery) model.Timeline {
	t.Helper()
	tl, err := s.Timeline(context.Background(), q)
	if err != nil {
		t.Fatalf("Timeline(%+v): %v", q, err)
	}
	return tl
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func testEmptyStore(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	ctx := context.Background()
	p, err := s.SearchCalls(ctx, store.CallQuery{})
	if err != nil || len(p.Calls) != 0 || p.Total != 0 || p.NextCursor != "" {
		t.Errorf("SearchCalls on an empty store = %+v, %v; want no calls, total 0, no cursor, no error", p, err)
	}
	p, err = s.SearchCalls(ctx, store.CallQuery{Q: "someone@example.com", Since: t0, Sort: store.SortDuration})
	if err != nil || len(p.Calls) != 0 || p.Total != 0 {
		t.Errorf("filtered SearchCalls on an empty store = %+v, %v; want nothing", p, err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st != (store.Stats{}) {
		t.Errorf("Stats on an empty store = %+v, %v; want zeros", st, err)
	}
	res, err := s.Append(ctx, nil)
	if err != nil || res.Stored != 0 || res.Duplicates != 0 || len(res.Calls) != 0 {
		t.Errorf("Append(nil) = %+v, %v; want nothing stored", res, err)
	}
	if _, err := s.Call(ctx, "no-such-call"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Call(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Timeline(ctx, store.TimelineQuery{CallID: "no-such-call"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Timeline(unknown) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Record(ctx, "no-such-record"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Record(unknown) error = %v, want ErrNotFound", err)
	}
}

// groupCall is a group call with a rejoin, a participant reported by another
// resource, one known only from client records and every record kind.
func groupCall(call string) []model.Record {
	c0 := t0
	p4 := summary(call+"-s4", call, "p4", c0, at(60), 60)
	p4.Resource = resB
	p4.Participant.EndpointType, p4.Participant.RawEndpointType = model.EndpointBot, "Bot"
	p2 := summary(call+"-s2", call, "p2", c0, at(30), 570)
	p2.Participant.EndpointType, p2.Participant.RawEndpointType = model.EndpointPSTN, "PSTN"
	p2.Participant.EndReason, p2.Participant.EndSubCode, p2.Participant.ResultCategory = ptr(487), ptr(5300), "ExpectedError"
	p1b := summary(call+"-s1b", call, "p1b", c0, at(700), 100)
	p1b.Participant.EndpointID = "ep-p1" // the same endpoint rejoined with a new participant id
	p1 := summary(call+"-s1", call, "p1", c0, at(0), 600)
	p1.Participant.SDKVersion = ""
	noCall := unknown(call+"-resource-metric", "", at(5))
	noCall.Category, noCall.RawCategory, noCall.Known = model.CatCallingMetrics, string(model.CatCallingMetrics), true
	return []model.Record{
		p4, p2, p1b, p1,
		diag(call+"-d1", call, "p1", model.EndpointVoIP, model.MediaAudio, model.DirOutbound, "1000", at(610), 5),
		diag(call+"-d1s", call, "p1", model.EndpointServer, model.MediaAudio, model.DirInbound, "2000", at(610), 9),
		op(call+"-o1", call, "p1", "ci-1", at(2), "Join"),
		op(call+"-o3", call, "p3", "ci-3", at(100), "StartVideo"),
		sample(call+"-m3", call, "p3", "ci-3", "", at(110), "JitterInMs", 4),
		survey(call+"-v1", call, "p1", at(650), 4),
		service(call+"-r1", call, at(10), "StartRecording"),
		unknown(call+"-u1", call, at(20)),
		noCall,
	}
}

func testAppendAndCall(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	const call, other = "call-a-0001", "call-b-0002"
	recs := groupCall(call)
	recs = append(recs, summary("b-s1", other, "q1", at(3600), at(3600), 60))
	before := time.Now().Add(-time.Second)
	res := appendOK(t, s, recs...)
	after := time.Now().Add(time.Second)
	if res.Stored != len(recs) || res.Duplicates != 0 {
		t.Errorf("Append stored %d, duplicates %d; want %d, 0", res.Stored, res.Duplicates, len(recs))
	}
	if want := []string{call, other}; !slices.Equal(res.Calls, want) {
		t.Errorf("Append touched calls %v, want %v", res.Calls, want)
	}
	st, err := s.Stats(context.Background())
	if err != nil || st.Calls != 2 || st.Records != len(recs) || st.UnlinkedOperations != 0 {
		t.Errorf("Stats = %+v, %v; want 2 calls, %d records, 0 unlinked", st, err, len(recs))
	}
	if st.LastAppend.Before(before) || st.LastAppend.After(after) {
		t.Errorf("Stats.LastAppend = %v, want the time of the append (%v..%v)", st.LastAppend, before, after)
	}
	// Appending only duplicates stores nothing, so it is not a new arrival.
	appendOK(t, s, recs...)
	if st2, _ := s.Stats(context.Background()); !st2.LastAppend.Equal(st.LastAppend) {
		t.Errorf("Stats.LastAppend moved to %v on an append of duplicates", st2.LastAppend)
	}

	c := getCall(t, s, call)
	if c.ID != call || !c.StartTime.Equal(t0) || !c.EndTime.Equal(at(800)) || c.DurationSeconds != 800 {
		t.Errorf("call span = %s %v..%v (%vs), want %s %v..%v (800s)", c.ID, c.StartTime, c.EndTime, c.DurationSeconds, call, t0, at(800))
	}
	if c.CallType != model.CallTypeGroup {
		t.Errorf("call type = %q, want Group", c.CallType)
	}
	if want := []string{resA, resB}; !slices.Equal(c.ResourceIDs, want) {
		t.Errorf("resources = %v, want %v", c.ResourceIDs, want)
	}
	if want := []string{"p1", "p2", "p4", "p1b", "p3"}; !slices.Equal(participantIDs(c), want) {
		t.Errorf("participant order = %v, want %v (by start time, unknown start last)", participantIDs(c), want)
	}
	wantCounts := map[model.Category]int{
		model.CatCallSummary: 4, model.CatCallDiagnostics: 2, model.CatCallClientOperations: 2,
		model.CatCallClientMediaStatsTimeSeries: 1, model.CatCallSurvey: 1, model.CatCallRecordingOperational: 1,
	}
	for cat, n := range wantCounts {
		if c.RecordCounts[cat] != n {
			t.Errorf("record count of %s = %d, want %d (all: %v)", cat, c.RecordCounts[cat], n, c.RecordCounts)
		}
	}
	if c.UnknownRecords != 1 {
		t.Errorf("unknown records = %d, want 1", c.UnknownRecords)
	}

	p1 := participant(t, c, "p1")
	if p1.Source != "summary" || p1.EndpointType != model.EndpointVoIP || p1.EndpointID != "ep-p1" ||
		p1.StartTime == nil || !p1.StartTime.Equal(t0) || p1.DurationSeconds == nil || *p1.DurationSeconds != 600 ||
		p1.Resource != resA || p1.OtherResource || p1.RejoinOf != "" {
		t.Errorf("p1 = %s", jsonOf(p1))
	}
	if p1.UserAgent != "azsdk-js-communication-calling/1.30.1 p1" || p1.SDKVersion != "1.30.1" {
		t.Errorf("p1 user agent %q, sdk %q: want both from its client operation when the summary has none", p1.UserAgent, p1.SDKVersion)
	}
	if len(p1.Streams) != 2 {
		t.Fatalf("p1 streams = %s, want 2", jsonOf(p1.Streams))
	}
	in, out := p1.Streams[0], p1.Streams[1]
	if in.StreamID != "audio-inbound-2000" || in.ReportedBy != "server" || in.JitterAvgMs == nil || *in.JitterAvgMs != 9 {
		t.Errorf("server stream = %s", jsonOf(in))
	}
	if out.StreamID != "audio-outbound-1000" || out.ReportedBy != "client" || out.ParticipantID != "p1" ||
		out.RecordID != call+"-d1" || out.Codec != "OPUS" {
		t.Errorf("client stream = %s", jsonOf(out))
	}
	if out.PacketLossRateAvg != nil || out.VideoFrameRateAvg != nil {
		t.Errorf("missing metrics must stay nil, got loss %v, frame rate %v", out.PacketLossRateAvg, out.VideoFrameRateAvg)
	}

	p2 := participant(t, c, "p2")
	if p2.EndpointType != model.EndpointPSTN || p2.EndReason == nil || *p2.EndReason != 487 ||
		p2.EndSubCode == nil || *p2.EndSubCode != 5300 || p2.ResultCategory != "ExpectedError" || p2.SDKVersion != "1.30.1" {
		t.Errorf("p2 = %s", jsonOf(p2))
	}
	if p1b := participant(t, c, "p1b"); p1b.RejoinOf != "p1" {
		t.Errorf("p1b rejoin of %q, want p1", p1b.RejoinOf)
	}
	if p4 := participant(t, c, "p4"); !p4.OtherResource || p4.Resource != resB || p4.EndpointType != model.EndpointBot {
		t.Errorf("p4 (reported only by another resource) = %s", jsonOf(p4))
	}
	p3 := participant(t, c, "p3")
	if p3.Source != "client" || p3.EndpointType != model.EndpointVoIP || p3.StartTime != nil || p3.DurationSeconds != nil ||
		p3.UserAgent != "azsdk-js-communication-calling/1.30.1 p3" || p3.OtherResource {
		t.Errorf("client-only p3 = %s", jsonOf(p3))
	}
	if len(c.Surveys) != 1 || c.Surveys[0].ParticipantID != "p1" || c.Surveys[0].RecordID != call+"-v1" ||
		c.Surveys[0].Overall.Score == nil || *c.Surveys[0].Overall.Score != 4 || !c.Surveys[0].Time.Equal(at(650)) {
		t.Errorf("surveys = %s", jsonOf(c.Surveys))
	}

	ctx := context.Background()
	if _, err := s.Call(ctx, "call-a-000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Call of an unknown id (a prefix of a stored one) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Timeline(ctx, store.TimelineQuery{CallID: "CALL-A-0001"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Timeline of an unknown id (a stored one in other case) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Record(ctx, call+"-s1x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Record of an unknown id error = %v, want ErrNotFound", err)
	}

	sum := summaryOf(t, s, call)
	wantTypes := map[model.EndpointType]int{model.EndpointVoIP: 3, model.EndpointPSTN: 1, model.EndpointBot: 1}
	if sum.ParticipantCount != 5 || !reflect.DeepEqual(sum.ClientTypes, wantTypes) || sum.RecordCount != len(recs)-2 ||
		!sum.StartTime.Equal(t0) || !sum.EndTime.Equal(at(800)) || sum.DurationSeconds != 800 ||
		sum.CallType != model.CallTypeGroup || !slices.Equal(sum.ResourceIDs, []string{resA, resB}) {
		t.Errorf("summary = %s; want 5 participants %v, %d records, 800 s, Group, both resources", jsonOf(sum), wantTypes, len(recs)-2)
	}
}

func testIdempotency(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	recs := groupCall("call-idem")
	first := appendOK(t, s, recs...)
	before := snapshot(t, s, []string{"call-idem"})
	again := appendOK(t, s, recs...)
	if again.Stored != 0 || again.Duplicates != len(recs) || len(again.Calls) != 0 {
		t.Errorf("second Append of the same batch = %+v; want 0 stored, %d duplicates, no calls", again, len(recs))
	}
	if after := snapshot(t, s, []string{"call-idem"}); after != before {
		t.Errorf("re-ingesting changed the store:\n%s", firstDiff(before, after))
	}
	extra := op("idem-new", "call-idem", "p1", "ci-1", at(300), "MuteMicrophone")
	if len(again.New) != len(recs) || slices.Contains(again.New, true) {
		t.Errorf("second Append New = %v, want %d times false", again.New, len(recs))
	}
	if len(first.New) != len(recs) || slices.Contains(first.New, false) {
		t.Errorf("first Append New = %v, want %d times true", first.New, len(recs))
	}
	mixed := appendOK(t, s, recs[0], extra, extra, recs[1])
	if mixed.Stored != 1 || mixed.Duplicates != 3 || !slices.Equal(mixed.Calls, []string{"call-idem"}) {
		t.Errorf("Append(old, new, new again, old) = %+v; want 1 stored, 3 duplicates, [call-idem]", mixed)
	}
	if want := []bool{false, true, false, false}; !slices.Equal(mixed.New, want) {
		t.Errorf("Append(old, new, new again, old) New = %v, want %v", mixed.New, want)
	}
	st, err := s.Stats(context.Background())
	if err != nil || st.Records != first.Stored+1 || st.Calls != 1 {
		t.Errorf("Stats = %+v, %v; want %d records, 1 call", st, err, first.Stored+1)
	}
	// The resource-level record belongs to no call; idem-new does.
	if got, want := summaryOf(t, s, "call-idem").RecordCount, first.Stored-1+1; got != want {
		t.Errorf("record count = %d, want %d", got, want)
	}
}

func testUpdatesSupersede(t *testing.T, open func(t testing.TB) store.Store) {
	const call = "call-upd"
	v1 := update("u-v1", call, "p1", t0, t0, 100, 1)
	v1.Participant.EndReason = ptr(1)
	v2 := update("u-v2", call, "p1", t0, t0, 200, 2)
	final := summary("u-final", call, "p1", t0, t0, 300)
	v9 := update("u-v9", call, "p1", t0, t0, 900, 9)
	tests := []struct {
		name    string
		batches [][]model.Record
		wantDur float64
		wantVer *int
	}{
		{"versions in order", [][]model.Record{{v1}, {v2}}, 200, ptr(2)},
		{"versions reversed", [][]model.Record{{v2}, {v1}}, 200, ptr(2)},
		{"one batch", [][]model.Record{{v2, v1}}, 200, ptr(2)},
		{"final after updates", [][]model.Record{{v1, v9}, {final}}, 300, nil},
		{"final before updates", [][]model.Record{{final}, {v9}, {v2}}, 300, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			for _, b := range tc.batches {
				appendOK(t, s, b...)
			}
			c := getCall(t, s, call)
			p := participant(t, c, "p1")
			if p.DurationSeconds == nil || *p.DurationSeconds != tc.wantDur || !reflect.DeepEqual(p.Version, tc.wantVer) {
				t.Errorf("p1 duration %v version %v, want %v version %v", deref(p.DurationSeconds), deref(p.Version), tc.wantDur, deref(tc.wantVer))
			}
			if len(c.Participants) != 1 {
				t.Errorf("participants = %v, want only p1", participantIDs(c))
			}
			if c.DurationSeconds != tc.wantDur {
				t.Errorf("call duration %v, want %v", c.DurationSeconds, tc.wantDur)
			}
			tl := timeline(t, s, store.TimelineQuery{CallID: call, Kinds: []string{model.KindLeave}})
			if len(tl.Events) != 1 || !tl.Events[0].Time.Equal(at(tc.wantDur)) {
				t.Errorf("leave events = %s, want one at %v (following the winning row)", jsonOf(tl.Events), at(tc.wantDur))
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func testLatestDiagnostics(t *testing.T, open func(t testing.TB) store.Store) {
	const call = "call-diag"
	early := diag("d-early", call, "p1", model.EndpointVoIP, model.MediaVideo, model.DirOutbound, "7", at(100), 1)
	late := diag("d-late", call, "p1", model.EndpointVoIP, model.MediaVideo, model.DirOutbound, "7", at(200), 2)
	upd := diag("d-upd", call, "p1", model.EndpointVoIP, model.MediaVideo, model.DirOutbound, "7", at(900), 3)
	upd.Category, upd.Stream.Version = model.CatCallDiagnosticsUpdates, ptr(4)
	for _, order := range [][]model.Record{{early, late, upd}, {late, early, upd}, {upd, late, early}} {
		s := open(t)
		for _, r := range order {
			appendOK(t, s, r)
		}
		p := participant(t, getCall(t, s, call), "p1")
		if len(p.Streams) != 1 {
			t.Fatalf("streams = %s, want one", jsonOf(p.Streams))
		}
		st := p.Streams[0]
		if st.RecordID != "d-late" || st.JitterAvgMs == nil || *st.JitterAvgMs != 2 || st.StreamID != "video-outbound-7" {
			t.Errorf("arrival %s,%s,%s: stream = %s; want the latest final row d-late", order[0].ID, order[1].ID, order[2].ID, jsonOf(st))
		}
	}
}

// orderRecords is a call whose every row competes with another one.
func orderRecords() []model.Record {
	const call = "call-order"
	v1 := update("o-v1", call, "p1", t0, t0, 100, 1)
	v2 := update("o-v2", call, "p1", t0, t0, 200, 2)
	final := summary("o-final", call, "p1", t0, t0, 300)
	p2a := update("o-p2a", call, "p2", t0, at(10), 50, 3)
	p2b := update("o-p2b", call, "p2", t0, at(10), 70, 3)
	p2b.Time = p2a.Time.Add(time.Second) // same version, later row wins
	d1 := diag("o-d1", call, "p1", model.EndpointVoIP, model.MediaAudio, model.DirOutbound, "1", at(100), 1)
	d2 := diag("o-d2", call, "p1", model.EndpointVoIP, model.MediaAudio, model.DirOutbound, "1", at(200), 2)
	du := diag("o-du", call, "p1", model.EndpointVoIP, model.MediaAudio, model.DirOutbound, "1", at(300), 3)
	du.Category, du.Stream.Version = model.CatCallDiagnosticsUpdates, ptr(7)
	early := op("o-pre", "", "", "ci-order", at(-30), "CallAgentInit")
	early.Operation.UserAgent = "early-agent"
	return []model.Record{
		v1, v2, final, p2a, p2b, d1, d2, du, early,
		sample("o-m1", call, "p1", "ci-order", "p2", at(20), "JitterInMs", 3),
		sample("o-m2", call, "p1", "ci-order", "p2", at(20), "PacketsLostPerSecond", 0),
		op("o-op", call, "p1", "ci-order", at(5), "Join"),
		ufd("o-ufd", call, "p1", "ci-order", at(40), "NetworkReceiveQuality", "Bad"),
	}
}

func testOrderIndependence(t *testing.T, open func(t testing.TB) store.Store) {
	recs := orderRecords()
	calls := []string{"call-order"}
	ref := open(t)
	appendOK(t, ref, recs...)
	want := snapshot(t, ref, calls)
	c := getCall(t, ref, "call-order")
	if p := participant(t, c, "p1"); p.DurationSeconds == nil || *p.DurationSeconds != 300 || p.UserAgent != "early-agent" {
		t.Errorf("p1 = %s; want the final row (300 s) and the earliest user agent", jsonOf(p))
	}
	if p := participant(t, c, "p2"); p.DurationSeconds == nil || *p.DurationSeconds != 70 {
		t.Errorf("p2 = %s; want the later row of the same version (70 s)", jsonOf(p))
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 24 {
		perm := slices.Clone(recs)
		switch i {
		case 0:
			slices.Reverse(perm)
		default:
			rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		}
		s := open(t)
		var split []int
		for len(perm) > 0 {
			n := 1 + rng.IntN(len(perm))
			if i == 0 {
				n = 1 // one record per batch
			}
			appendOK(t, s, perm[:n]...)
			split = append(split, n)
			perm = perm[n:]
		}
		if got := snapshot(t, s, calls); got != want {
			t.Fatalf("permutation %d (batches %v) differs from the reference:\n%s", i, split, firstDiff(want, got))
		}
	}
}

// snapshot renders everything a reader can see of the given calls.
func snapshot(t testing.TB, s store.Store, calls []string) string {
	t.Helper()
	var b strings.Builder
	for _, id := range calls {
		b.WriteString(jsonOf(getCall(t, s, id)))
		b.WriteString(jsonOf(timeline(t, s, store.TimelineQuery{CallID: id, Limit: store.MaxTimelineLimit})))
	}
	b.WriteString(jsonOf(searchAll(t, s, store.CallQuery{Limit: store.MaxCallLimit})))
	b.WriteString(jsonOf(facetsOf(t, s)))
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	st.LastAppend = time.Time{} // when, not what: it differs between runs
	b.WriteString(jsonOf(st))
	return b.String()
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-150)
	return fmt.Sprintf("want …%s…\n got …%s…", a[lo:min(len(a), i+150)], b[lo:min(len(b), i+150)])
}

func testUnlinkedOperations(t *testing.T, open func(t testing.TB) store.Store) {
	const call = "call-link"
	pre := op("l-pre", "", "", "ci-link", at(-20), "CallAgentInit")
	perm := op("l-perm", "", "", "ci-link", at(-10), "AskDevicePermission")
	linker := sample("l-sample", call, "p7", "ci-link", "", at(10), "JitterInMs", 2)
	other := op("l-other", "", "", "ci-nobody", at(-5), "CallAgentInit")
	for _, tc := range []struct {
		name    string
		batches [][]model.Record
		touched [][]string
	}{
		{"operations first", [][]model.Record{{pre, other}, {perm}, {linker}}, [][]string{nil, nil, {call}}},
		{"call first", [][]model.Record{{linker}, {pre, other}, {perm}}, [][]string{{call}, {call}, {call}}},
		{"one batch", [][]model.Record{{perm, linker, other, pre}}, [][]string{{call}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			for i, b := range tc.batches {
				if res := appendOK(t, s, b...); !slices.Equal(res.Calls, tc.touched[i]) {
					t.Errorf("batch %d touched %v, want %v", i, res.Calls, tc.touched[i])
				}
			}
			st, err := s.Stats(context.Background())
			if err != nil || st.UnlinkedOperations != 1 {
				t.Errorf("Stats = %+v, %v; want 1 unlinked operation (ci-nobody)", st, err)
			}
			tl := timeline(t, s, store.TimelineQuery{CallID: call, Kinds: []string{model.KindOperation}})
			var got []string
			for _, e := range tl.Events {
				got = append(got, e.ID+"/"+e.ParticipantID)
			}
			if want := []string{"l-pre/p7", "l-perm/p7"}; !slices.Equal(got, want) {
				t.Errorf("operations of %s = %v, want %v (attached, participant from the client instance)", call, got, want)
			}
			tl = timeline(t, s, store.TimelineQuery{CallID: call, ParticipantID: "p7", Kinds: []string{model.KindOperation}, From: at(-15)})
			if len(tl.Events) != 1 || tl.Events[0].ID != "l-perm" {
				t.Errorf("filtered operations = %s, want only l-perm", jsonOf(tl.Events))
			}
		})
	}
	s := open(t)
	appendOK(t, s, pre)
	if st, _ := s.Stats(context.Background()); st.UnlinkedOperations != 1 {
		t.Errorf("before its call arrives the operation must count as unlinked, got %+v", st)
	}
	appendOK(t, s, linker)
	if st, _ := s.Stats(context.Background()); st.UnlinkedOperations != 0 {
		t.Errorf("after its call arrives the operation must be linked, got %+v", st)
	}
}

func testUnlinkedChoice(t *testing.T, open func(t testing.TB) store.Store) {
	// One client instance (a native app reusing its CallClient) in two calls.
	first := sample("c-first", "call-first", "pa", "ci-app", "", at(0), "JitterInMs", 1)
	second := sample("c-second", "call-second", "pb", "ci-app", "", at(3600), "JitterInMs", 1)
	before := op("c-before", "", "", "ci-app", at(-60), "CallAgentInit")
	between := op("c-between", "", "", "ci-app", at(1800), "AskDevicePermission")
	after := op("c-after", "", "", "ci-app", at(7200), "PageHidden")
	want := map[string][]string{"call-first": {"c-before"}, "call-second": {"c-between", "c-after"}}
	for _, order := range [][]model.Record{{first, second, before, between, after}, {after, between, before, second, first}} {
		s := open(t)
		for _, r := range order {
			appendOK(t, s, r)
		}
		for call, ids := range want {
			var got []string
			for _, e := range timeline(t, s, store.TimelineQuery{CallID: call, Kinds: []string{model.KindOperation}}).Events {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("arrival starting with %s: operations of %s = %v, want %v", order[0].ID, call, got, ids)
			}
		}
	}
}

// searchFixture stores 20 summary-only calls with tied start times,
// durations and participant counts.
func searchFixture(t testing.TB, s store.Store) []model.CallSummary {
	var recs []model.Record
	var want []model.CallSummary
	for i := range 20 {
		id := fmt.Sprintf("s-%02d", i)
		start := at(float64(i * 60))
		if i == 7 {
			start = at(6 * 60) // same start as s-06
		}
		dur := float64(i%4*100 + 50)
		legs := i%3 + 1
		for l := range legs {
			recs = append(recs, summary(fmt.Sprintf("%s-leg%d", id, l), id, fmt.Sprintf("%s-p%d", id, l), start, start, dur))
		}
		want = append(want, model.CallSummary{ID: id, StartTime: start, DurationSeconds: dur, ParticipantCount: legs})
	}
	appendOK(t, s, recs...)
	return want
}

func testSearch(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	all := searchFixture(t, s)
	less := map[string]func(a, b model.CallSummary) int{
		store.SortStart:        func(a, b model.CallSummary) int { return a.StartTime.Compare(b.StartTime) },
		store.SortDuration:     func(a, b model.CallSummary) int { return cmpF(a.DurationSeconds, b.DurationSeconds) },
		store.SortParticipants: func(a, b model.CallSummary) int { return a.ParticipantCount - b.ParticipantCount },
	}
	filters := []struct {
		name  string
		q     store.CallQuery
		match func(c model.CallSummary) bool
	}{
		{"all", store.CallQuery{}, func(model.CallSummary) bool { return true }},
		{"since", store.CallQuery{Since: at(360)}, func(c model.CallSummary) bool { return !c.StartTime.Before(at(360)) }},
		{"until", store.CallQuery{Until: at(360)}, func(c model.CallSummary) bool { return c.StartTime.Before(at(360)) }},
		{"since+until", store.CallQuery{Since: at(120), Until: at(600)}, func(c model.CallSummary) bool {
			return !c.StartTime.Before(at(120)) && c.StartTime.Before(at(600))
		}},
	}
	for _, f := range filters {
		for _, sortName := range []string{"", store.SortStart, store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/asc=%v", f.name, sortName, asc)
				var want []string
				var matching []model.CallSummary
				for _, c := range all {
					if f.match(c) {
						matching = append(matching, c)
					}
				}
				key := sortName
				if key == "" {
					key = store.SortStart
				}
				slices.SortFunc(matching, func(a, b model.CallSummary) int {
					d := less[key](a, b)
					if d == 0 {
						d = strings.Compare(a.ID, b.ID)
					}
					if !asc {
						d = -d
					}
					return d
				})
				for _, c := range matching {
					want = append(want, c.ID)
				}
				q := f.q
				q.Sort, q.Asc, q.Limit = sortName, asc, 3
				var got []string
				pages := 0
				for {
					p := search(t, s, q)
					pages++
					if p.Total != len(want) {
						t.Errorf("%s: total %d, want %d", name, p.Total, len(want))
					}
					if len(p.Calls) > 3 {
						t.Errorf("%s: page of %d calls, limit 3", name, len(p.Calls))
					}
					for _, c := range p.Calls {
						got = append(got, c.ID)
					}
					if p.NextCursor == "" || pages > 20 {
						break
					}
					q.Cursor = p.NextCursor
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: paged ids = %v, want %v", name, got, want)
				}
			}
		}
	}
	p := search(t, s, store.CallQuery{})
	if len(p.Calls) != 20 || p.Calls[0].ID != "s-19" || p.NextCursor != "" {
		t.Errorf("default search: %d calls starting with %v, cursor %q; want all 20 newest first, no cursor", len(p.Calls), p.Calls[0].ID, p.NextCursor)
	}
	if _, err := s.SearchCalls(context.Background(), store.CallQuery{Cursor: "%%not-a-cursor%%"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("bad cursor error = %v, want ErrBadCursor", err)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testSearchQuery(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	main := summary("q-1", "QCall-ABCDEF-123456", "PartID-7777-xyz", t0, t0, 60)
	main.Participant.EndpointID = "Endpoint-ABCD-0001"
	main.Participant.Identifier = "8:acs:resource_user-001"
	short := summary("q-2", "abc1234", "other-participant-1", at(600), at(600), 60)
	third := summary("q-3", "third-call-000001", "third-participant", at(1200), at(1200), 60)
	third.Participant.Identifier = "8:acs:resource_user-002"
	appendOK(t, s, main, short, third)
	tests := []struct {
		q     string
		since time.Time
		want  []string
	}{
		{"QCall-ABCDEF-123456", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"qcall-abcdef-123456", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"  qcall-abcdef-123456 ", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"QCALL-AB", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"qcall-a", time.Time{}, nil},
		{"ABC1234", time.Time{}, []string{"abc1234"}},
		{"abc123", time.Time{}, nil},
		{"partid-7777-XYZ", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"endpoint-abcd-0001", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"8:acs:resource_user-001", time.Time{}, []string{"QCall-ABCDEF-123456"}},
		{"8:acs:resource_user", time.Time{}, []string{"third-call-000001", "QCall-ABCDEF-123456"}},
		{"8:acs:resource_user", at(1), []string{"third-call-000001"}},
		{"QCall-ABCDEF-123456", at(1), nil},
		{"nobody-at-all", time.Time{}, nil},
	}
	for _, tc := range tests {
		p := search(t, s, store.CallQuery{Q: tc.q, Since: tc.since})
		var got []string
		for _, c := range p.Calls {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
			t.Errorf("Q %q since %v: %v (total %d), want %v", tc.q, tc.since, got, p.Total, tc.want)
		}
	}
}

// timelineCall has every kind of item, with ties on time.
func timelineCall() []model.Record {
	const call = "call-tl"
	p1 := summary("t-s1", call, "p1", t0, t0, 100)
	p1.Participant.EndReason, p1.Participant.EndSubCode, p1.Participant.ResultCategory = ptr(0), ptr(5001), "Success"
	return []model.Record{
		p1,
		op("t-op1", call, "p1", "ci-t1", at(10), "StartVideo"),
		ufd("t-ufd", call, "p1", "ci-t1", at(20), "NetworkReceiveQuality", "Bad"),
		op("t-op2", call, "p2", "ci-t2", at(30), "Hangup"),
		sample("t-m1", call, "p1", "ci-t1", "", at(10), "JitterInMs", 3),
		sample("t-m2", call, "p1", "ci-t1", "p2", at(10), "Bitrate", 32000),
		sample("t-m3", call, "p1", "ci-t1", "", at(20), "JitterInMs", 5),
		sample("t-m4", call, "p2", "ci-t2", "", at(40), "JitterInMs", 7),
		service("t-rec", call, at(50), "StartRecording"),
		survey("t-sv", call, "p1", at(90), 2),
	}
}

func testTimeline(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	appendOK(t, s, timelineCall()...)
	tl := timeline(t, s, store.TimelineQuery{CallID: "call-tl"})
	var got []string
	for _, e := range tl.Events {
		got = append(got, e.Kind+":"+e.ID)
	}
	want := []string{"join:join:p1", "operation:t-op1", "ufd:t-ufd", "operation:t-op2", "service:t-rec", "survey:t-sv", "leave:leave:p1"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if tl.NextCursor != "" {
		t.Errorf("whole timeline on one page still has cursor %q", tl.NextCursor)
	}
	for _, e := range tl.Events {
		switch e.ID {
		case "t-ufd":
			if e.Name != "NetworkReceiveQuality" || e.Result != "Bad" || e.ParticipantID != "p1" || !e.Time.Equal(at(20)) || e.RecordID != "t-ufd" {
				t.Errorf("ufd event = %s", jsonOf(e))
			}
		case "leave:p1":
			if !e.Time.Equal(at(100)) || e.Code == nil || *e.Code != 0 || e.SubCode == nil || *e.SubCode != 5001 || e.Result != "Success" {
				t.Errorf("leave event = %s", jsonOf(e))
			}
		case "t-op1":
			if e.Name != "StartVideo" || e.DurationMs == nil || *e.DurationMs != 12 || !e.Time.Equal(at(10)) {
				t.Errorf("operation event = %s", jsonOf(e))
			}
		}
	}
	var series []string
	for _, sr := range tl.Series {
		var pts []string
		for _, p := range sr.Points {
			pts = append(pts, fmt.Sprintf("%v=%v", p.Time.Sub(t0).Seconds(), p.Value))
		}
		series = append(series, sr.ParticipantID+"/"+sr.StreamID+"/"+sr.Metric+"["+strings.Join(pts, ",")+"]")
	}
	wantSeries := []string{
		"p1/audio-inbound/JitterInMs[10=3,20=5]",
		"p1/audio-inbound-p2/Bitrate[10=32000]",
		"p2/audio-inbound/JitterInMs[40=7]",
	}
	if !slices.Equal(series, wantSeries) {
		t.Errorf("series = %v, want %v", series, wantSeries)
	}

	filters := []struct {
		name       string
		q          store.TimelineQuery
		wantEvents []string
		wantPoints int
	}{
		{"participant", store.TimelineQuery{ParticipantID: "p2"}, []string{"t-op2"}, 1},
		{"metric only", store.TimelineQuery{Kinds: []string{model.KindMetric}}, nil, 4},
		{"ufd only", store.TimelineQuery{Kinds: []string{model.KindUFD}}, []string{"t-ufd"}, 0},
		{"join and leave", store.TimelineQuery{Kinds: []string{model.KindJoin, model.KindLeave}}, []string{"join:p1", "leave:p1"}, 0},
		{"window", store.TimelineQuery{From: at(10), To: at(30)}, []string{"t-op1", "t-ufd"}, 3},
		{"window end exclusive", store.TimelineQuery{From: at(90), To: at(100)}, []string{"t-sv"}, 0},
		{"empty window", store.TimelineQuery{From: at(1000)}, nil, 0},
	}
	for _, f := range filters {
		q := f.q
		q.CallID = "call-tl"
		tl := timeline(t, s, q)
		var ids []string
		for _, e := range tl.Events {
			ids = append(ids, e.ID)
		}
		points := 0
		for _, sr := range tl.Series {
			points += len(sr.Points)
		}
		if !slices.Equal(ids, f.wantEvents) || points != f.wantPoints {
			t.Errorf("%s: events %v, %d points; want %v, %d points", f.name, ids, points, f.wantEvents, f.wantPoints)
		}
		if tl.Events == nil || tl.Series == nil {
			t.Errorf("%s: events or series is null, want empty arrays", f.name)
		}
	}
	b, _ := json.Marshal(timeline(t, s, store.TimelineQuery{CallID: "call-tl", From: at(1000)}))
	if !bytes.Contains(b, []byte(`"events":[]`)) || !bytes.Contains(b, []byte(`"series":[]`)) {
		t.Errorf("empty page encodes as %s, want empty arrays", b)
	}
	if _, err := s.Timeline(context.Background(), store.TimelineQuery{CallID: "call-tl", Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("bad timeline cursor error = %v, want ErrBadCursor", err)
	}
}

// flatten lists the items of a page as labels, events and points alike.
func flatten(tl model.Timeline) []string {
	var out []string
	for _, e := range tl.Events {
		out = append(out, fmt.Sprintf("%s E %s", e.Time.Format(time.RFC3339Nano), e.ID))
	}
	for _, sr := range tl.Series {
		for _, p := range sr.Points {
			out = append(out, fmt.Sprintf("%s P %s/%s/%s=%v", p.Time.Format(time.RFC3339Nano), sr.ParticipantID, sr.StreamID, sr.Metric, p.Value))
		}
	}
	sort.Strings(out)
	return out
}

func testTimelinePaging(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	recs := timelineCall()
	// Many items on one instant, so pages must split ties correctly.
	for i := range 12 {
		recs = append(recs,
			sample(fmt.Sprintf("t-tie-%02d", i), "call-tl", fmt.Sprintf("px%d", i%3), "ci-x", "", at(60), fmt.Sprintf("M%d", i), float64(i)),
			op(fmt.Sprintf("t-tie-op-%02d", i), "call-tl", "p1", "ci-t1", at(60), "Tick"))
	}
	// Points that differ only in their record (the same series, time and
	// value), and points of one series and time with different values.
	for i := range 3 {
		recs = append(recs, sample(fmt.Sprintf("t-same-%d", i), "call-tl", "px0", "ci-x", "", at(60), "M0", 0))
	}
	recs = append(recs, sample("t-val-a", "call-tl", "px1", "ci-x", "", at(60), "M1", 7.5),
		sample("t-val-b", "call-tl", "px1", "ci-x", "", at(60), "M1", -2.25))
	appendOK(t, s, recs...)
	// The same records in the opposite order, into another store: the
	// pages must be the same, whatever order the records arrived in.
	other := open(t)
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	for _, r := range reversed {
		appendOK(t, other, r)
	}
	for _, base := range []store.TimelineQuery{
		{CallID: "call-tl"},
		{CallID: "call-tl", ParticipantID: "p1"},
		{CallID: "call-tl", Kinds: []string{model.KindMetric, model.KindOperation}},
		{CallID: "call-tl", From: at(10), To: at(61)},
	} {
		whole := flatten(timeline(t, s, base))
		if len(whole) == 0 {
			t.Fatalf("%+v: empty timeline", base)
		}
		wholeCount := make(map[string]int)
		for _, it := range whole {
			wholeCount[it]++
		}
		for _, limit := range []int{1, 2, 3, 7} {
			q := base
			q.Limit = limit
			var got []string
			seen := make(map[string]int)
			lastTime := ""
			for pages := 0; ; pages++ {
				if pages > len(whole)+1 {
					t.Fatalf("%+v limit %d: paging does not end", base, limit)
				}
				tl := timeline(t, s, q)
				items := flatten(tl)
				if len(items) > limit {
					t.Errorf("%+v limit %d: page has %d items", base, limit, len(items))
				}
				if o := flatten(timeline(t, other, q)); !slices.Equal(o, items) {
					t.Errorf("%+v limit %d: page %d depends on the order records arrived in:\n%v\n%v", base, limit, pages, items, o)
				}
				for _, it := range items {
					if seen[it] >= wholeCount[it] {
						t.Errorf("%+v limit %d: item %s on more pages than the timeline has it", base, limit, it)
					}
					seen[it]++
					if ts := it[:strings.IndexByte(it, ' ')]; ts < lastTime {
						t.Errorf("%+v limit %d: item %s goes back in time", base, limit, it)
					}
				}
				if len(items) > 0 {
					lastTime = items[len(items)-1][:strings.IndexByte(items[len(items)-1], ' ')]
				}
				got = append(got, items...)
				if tl.NextCursor == "" {
					break
				}
				q.Cursor = tl.NextCursor
			}
			sort.Strings(got)
			if !slices.Equal(got, whole) {
				t.Errorf("%+v limit %d: pages hold %d items, the whole timeline %d\n got %v\nwant %v", base, limit, len(got), len(whole), got, whole)
			}
		}
	}
}

func testRecord(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	recs := groupCall("call-raw")
	big := sample("raw-big", "call-raw", "p1", "ci-1", "", at(1), "JitterInMs", 1)
	big.Raw = bytes.Repeat([]byte("{\"x\":\"\xff\x00 binary-ish\"}\r\n"), 5000)
	recs = append(recs, big)
	appendOK(t, s, recs...)
	for _, r := range recs {
		got, err := s.Record(context.Background(), r.ID)
		if err != nil {
			t.Errorf("Record(%s): %v", r.ID, err)
			continue
		}
		if !bytes.Equal(got.Raw, r.Raw) {
			t.Errorf("Record(%s) raw = %q, want %q", r.ID, truncate(got.Raw), truncate(r.Raw))
		}
		wantCat := r.Category
		if wantCat == "" {
			wantCat = model.Category(r.RawCategory)
		}
		if got.ID != r.ID || got.CallID != r.CallID || got.Category != wantCat || got.Resource != r.Resource || !got.Time.Equal(r.Time) {
			t.Errorf("Record(%s) = {%s %s %s %s %v}, want {%s %s %s %s %v}", r.ID, got.ID, got.CallID, got.Category, got.Resource, got.Time,
				r.ID, r.CallID, wantCat, r.Resource, r.Time)
		}
	}
	if _, err := s.Record(context.Background(), "call-raw-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Record(unknown) error = %v, want ErrNotFound", err)
	}
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// testSamplesWithoutParticipant: P2P media stats name neither a participant
// nor an endpoint, only their client instance; they belong to the leg that
// the instance's operations name, whichever arrives first.
func testSamplesWithoutParticipant(t *testing.T, open func(t testing.TB) store.Store) {
	recs := []model.Record{
		summary("s-1", "p2p", "ep-a", at(0), at(0), 60),
		op("o-1", "p2p", "ep-a", "ci-a", at(2), "Join"),
		sample("m-1", "p2p", "", "ci-a", "ep-b", at(10), "JitterInMs", 12),
		sample("m-2", "p2p", "", "ci-a", "ep-b", at(20), "JitterInMs", 40),
	}
	for name, order := range map[string][]int{"mapping first": {0, 1, 2, 3}, "samples first": {2, 3, 0, 1}} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			for _, i := range order {
				appendOK(t, s, recs[i])
			}
			tl := timeline(t, s, store.TimelineQuery{CallID: "p2p", ParticipantID: "ep-a", Kinds: []string{model.KindMetric}})
			if len(tl.Series) != 1 || tl.Series[0].ParticipantID != "ep-a" || len(tl.Series[0].Points) != 2 {
				t.Fatalf("series of ep-a = %s", jsonOf(tl.Series))
			}
			if c := getCall(t, s, "p2p"); len(c.Participants) != 1 {
				t.Errorf("participants = %v, want only ep-a", participantIDs(c))
			}
		})
	}
}
