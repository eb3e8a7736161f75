package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

const day = 24 * 60 * 60 // seconds

// keptCall is a call whose records are two days newer than groupCall's.
func keptCall(call string) []model.Record {
	return []model.Record{
		leg(call+"-a", call, "pk1", model.CallTypeP2P, model.EndpointVoIP, "1.30.1", "Windows 10.0.19045 Arch: x64", 2*day),
		leg(call+"-b", call, "pk2", model.CallTypeP2P, model.EndpointPSTN, "", "", 2*day),
	}
}

func expireOK(t testing.TB, s store.Store, before time.Time) store.ExpireResult {
	t.Helper()
	res, err := s.Expire(context.Background(), before)
	if err != nil {
		t.Fatalf("Expire(%s): %v", before, err)
	}
	return res
}

func statsOf(t testing.TB, s store.Store) store.Stats {
	t.Helper()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// wantGone checks that nothing of an expired call can be read any more.
func wantGone(t testing.TB, s store.Store, call string, recordIDs []string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Call(ctx, call); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Call(%s) after expiry: err = %v, want ErrNotFound", call, err)
	}
	if _, err := s.Timeline(ctx, store.TimelineQuery{CallID: call}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Timeline(%s) after expiry: err = %v, want ErrNotFound", call, err)
	}
	if _, err := s.Detection(ctx, call); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Detection(%s) after expiry: err = %v, want ErrNotFound", call, err)
	}
	for _, id := range recordIDs {
		if _, err := s.Record(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Record(%s) after its call expired: err = %v, want ErrNotFound", id, err)
		}
	}
	for _, q := range []store.CallQuery{{Q: call}, {Q: "ep-p1"}, {IssueKinds: []string{"jitter"}}} {
		for _, c := range searchAll(t, s, q) {
			if c.ID == call {
				t.Errorf("search %+v still finds expired call %s", q, call)
			}
		}
	}
}

// callRecordIDs are the ids of the records of recs that belong to a call.
func callRecordIDs(recs []model.Record) []string {
	var out []string
	for _, r := range recs {
		if r.CallID != "" {
			out = append(out, r.ID)
		}
	}
	return out
}

func testRetention(t *testing.T, open func(t testing.TB) store.Store) {
	ctx := context.Background()
	s := open(t)
	oldA, oldB, kept := groupCall("old-a"), groupCall("old-b"), keptCall("keep")
	// old-b, stored last, has only records of its own, so that expiring it
	// removes the newest stored records.
	oldB = slices.DeleteFunc(oldB, func(r model.Record) bool { return r.CallID == "" })
	perCall := len(callRecordIDs(oldA))
	// The kept call is stored first, so a backend that numbers calls has
	// the expired ones last, where a careless one reuses their numbers.
	appendOK(t, s, kept...)
	appendOK(t, s, oldA...)
	appendOK(t, s, oldB...)
	replaceOK(t, s, "old-a", store.Detection{Quality: "Poor", Rating: "Unknown",
		Issues: []model.Issue{issue("old-a", "jitter", model.SeverityWarning, 10)}})

	if err := s.SetPinned(ctx, "no-such-call", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPinned of an unknown call: err = %v, want ErrNotFound", err)
	}
	if err := s.SetPinned(ctx, "old-b", true); err != nil {
		t.Fatalf("SetPinned(old-b): %v", err)
	}
	if !summaryOf(t, s, "old-b").Pinned || !getCall(t, s, "old-b").Pinned {
		t.Errorf("old-b is not shown as pinned after SetPinned")
	}
	if summaryOf(t, s, "keep").Pinned || getCall(t, s, "keep").Pinned {
		t.Errorf("keep is shown as pinned but never was")
	}
	before := statsOf(t, s)

	// The cut-off lies between the old calls and the kept one; old-b is pinned.
	cutoff := at(day)
	if got, want := expireOK(t, s, cutoff), (store.ExpireResult{Calls: 1, Records: perCall}); got != want {
		t.Errorf("Expire = %+v, want %+v", got, want)
	}
	wantGone(t, s, "old-a", callRecordIDs(oldA))
	if _, err := s.Record(ctx, "old-a-resource-metric"); err != nil {
		t.Errorf("Record of a record without a call, stored with an expired call: %v", err)
	}
	if p := search(t, s, store.CallQuery{}); p.Total != 2 || !slices.Equal(ids(p.Calls), []string{"keep", "old-b"}) {
		t.Errorf("search after expiry = %v (total %d), want [keep old-b] (total 2)", ids(p.Calls), p.Total)
	}
	if len(getCall(t, s, "old-b").Participants) == 0 {
		t.Errorf("pinned call old-b lost its participants")
	}
	after := statsOf(t, s)
	if after.Calls != before.Calls-1 || after.Records != before.Records-perCall || after.UnlinkedOperations != before.UnlinkedOperations {
		t.Errorf("Stats after expiry = %+v, want calls %d, records %d, unlinked %d",
			after, before.Calls-1, before.Records-perCall, before.UnlinkedOperations)
	}
	// The facet counts are those of a store that never held old-a.
	ref := open(t)
	appendOK(t, ref, oldB...)
	appendOK(t, ref, kept...)
	if got, want := jsonOf(facetsOf(t, s)), jsonOf(facetsOf(t, ref)); got != want {
		t.Errorf("Facets after expiry =\n%s\nwant\n%s", got, want)
	}

	// Expiring again removes nothing.
	if got := expireOK(t, s, cutoff); got != (store.ExpireResult{}) {
		t.Errorf("second Expire = %+v, want nothing removed", got)
	}
	// The expired call's records delivered again are duplicates.
	res := appendOK(t, s, oldA...)
	if res.Stored != 0 || res.Duplicates != len(oldA) {
		t.Errorf("re-appending an expired call: stored %d, duplicates %d; want 0, %d", res.Stored, res.Duplicates, len(oldA))
	}
	wantGone(t, s, "old-a", callRecordIDs(oldA))
	if st := statsOf(t, s); st.Calls != after.Calls || st.Records != after.Records {
		t.Errorf("Stats after re-appending an expired call = %+v, want calls %d, records %d", st, after.Calls, after.Records)
	}

	// Unpinned, the old call goes too; the kept one stays.
	if err := s.SetPinned(ctx, "old-b", false); err != nil {
		t.Fatalf("SetPinned(old-b, false): %v", err)
	}
	if got, want := expireOK(t, s, cutoff), (store.ExpireResult{Calls: 1, Records: perCall}); got != want {
		t.Errorf("Expire after unpinning = %+v, want %+v", got, want)
	}
	wantGone(t, s, "old-b", callRecordIDs(oldB))
	if got := ids(searchAll(t, s, store.CallQuery{})); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("search after expiring the unpinned call = %v, want [keep]", got)
	}

	// Records that arrive after an expiry land in the right calls.
	appendOK(t, s,
		leg("keep-c", "keep", "pk3", model.CallTypeP2P, model.EndpointVoIP, "1.30.1", "Linux 6.5.0", 2*day+60),
		leg("fresh-a", "fresh", "pf1", model.CallTypeGroup, model.EndpointBot, "", "", 3*day))
	if got := participantIDs(getCall(t, s, "keep")); !slices.Equal(got, []string{"pk1", "pk2", "pk3"}) {
		t.Errorf("participants of keep after a later append = %v, want [pk1 pk2 pk3]", got)
	}
	if got := participantIDs(getCall(t, s, "fresh")); !slices.Equal(got, []string{"pf1"}) {
		t.Errorf("participants of a call created after expiry = %v, want [pf1]", got)
	}
	if st := statsOf(t, s); st.Calls != 2 {
		t.Errorf("Stats.Calls after new appends = %d, want 2", st.Calls)
	}
	// Nothing of the expired calls sticks to the new one.
	for _, tc := range []struct {
		q    store.CallQuery
		want []string
	}{
		{store.CallQuery{Q: "old-b"}, nil},
		{store.CallQuery{Q: "ep-p1"}, nil},
		{store.CallQuery{EndpointType: "PSTN"}, []string{"keep"}},
		{store.CallQuery{Resource: resB}, nil},
		{store.CallQuery{EndpointType: "Bot"}, []string{"fresh"}},
	} {
		if got := ids(searchAll(t, s, tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("search %+v after expiry and new appends = %v, want %v", tc.q, got, tc.want)
		}
	}
	// Stored records never take the place of expired ones.
	wantGone(t, s, "old-b", callRecordIDs(oldB))
	// A new record of an expired call starts that call afresh.
	appendOK(t, s, leg("old-a-late", "old-a", "p9", model.CallTypeGroup, model.EndpointVoIP, "1.30.1", "Linux 6.5.0", 3*day))
	if got := participantIDs(getCall(t, s, "old-a")); !slices.Equal(got, []string{"p9"}) {
		t.Errorf("participants of an expired call after a new record = %v, want [p9]", got)
	}
}
