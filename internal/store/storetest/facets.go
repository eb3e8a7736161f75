package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

func facetsOf(t testing.TB, s store.Store) store.Facets {
	t.Helper()
	f, err := s.Facets(context.Background())
	if err != nil {
		t.Fatalf("Facets: %v", err)
	}
	return f
}

func ids(calls []model.CallSummary) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.ID
	}
	return out
}

// leg is a summary row of pid with the given endpoint type, SDK and OS.
func leg(id, call, pid string, callType model.CallType, etype model.EndpointType, sdk, osVersion string, start float64) model.Record {
	r := summary(id, call, pid, at(start), at(start), 60)
	r.Participant.CallType = callType
	r.Participant.EndpointType, r.Participant.RawEndpointType = etype, string(etype)
	r.Participant.SDKVersion, r.Participant.OSVersion = sdk, osVersion
	return r
}

// facetFixture stores four calls whose participants differ in every facet:
//
//	f-1 Group, resA:       pa VoIP 1.30.1 Windows; pb PSTN without SDK or OS
//	f-2 P2P, resB:         pc VoIP 2.11.0.1 Android; pd VoIP 1.30.1 macOS
//	f-3 Group, resA+resB:  pe Bot, redacted; pf Teams 1.0.0.0 Windows (from resB)
//	f-4 Group, resA:       pg VoIP 1.32.1.0_Stable Linux
func facetFixture(t testing.TB, s store.Store) {
	pf := leg("f3-f", "f-3", "pf", model.CallTypeGroup, model.EndpointTeams, "1.0.0.0", "Windows 10.0.22631 Arch: x64", 120)
	pf.Resource = resB
	pc := leg("f2-c", "f-2", "pc", model.CallTypeP2P, model.EndpointVoIP, "2.11.0.1", "Android 13.0; Manufacturer: samsung; Model: SM-S901B", 60)
	pd := leg("f2-d", "f-2", "pd", model.CallTypeP2P, model.EndpointVoIP, "1.30.1", "Darwin Kernel Version 23.4.0: Fri Mar 15 00:10:42 PDT 2024", 60)
	pc.Resource, pd.Resource = resB, resB
	appendOK(t, s,
		leg("f1-a", "f-1", "pa", model.CallTypeGroup, model.EndpointVoIP, "1.30.1", "Windows 10.0.19045 Arch: x64", 0),
		leg("f1-b", "f-1", "pb", model.CallTypeGroup, model.EndpointPSTN, "", "", 0),
		pc, pd,
		leg("f3-e", "f-3", "pe", model.CallTypeGroup, model.EndpointBot, "Redacted", "Redacted", 120),
		pf,
		leg("f4-g", "f-4", "pg", model.CallTypeGroup, model.EndpointVoIP, "1.32.1.0_Stable", "Linux 6.5.0-41-generic Arch: x64", 180),
	)
}

func testFacets(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	empty := facetsOf(t, s)
	if empty.CallTypes == nil || empty.EndpointTypes == nil || empty.SDKs == nil || empty.OSes == nil || empty.Resources == nil ||
		len(empty.CallTypes)+len(empty.EndpointTypes)+len(empty.SDKs)+len(empty.OSes)+len(empty.Resources) != 0 {
		t.Errorf("Facets of an empty store = %s, want empty lists (not null)", jsonOf(empty))
	}
	facetFixture(t, s)
	v := func(pairs ...any) []store.FacetValue {
		out := []store.FacetValue{}
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, store.FacetValue{Value: pairs[i].(string), Calls: pairs[i+1].(int)})
		}
		return out
	}
	want := store.Facets{
		CallTypes:     v("Group", 3, "P2P", 1),
		EndpointTypes: v("VoIP", 3, "Bot", 1, "PSTN", 1, "Teams", 1),
		SDKs:          v("1.30.1", 2, "1.0.0.0", 1, "1.32.1.0_stable", 1, "2.11.0.1", 1),
		OSes:          v("Windows", 2, "Android", 1, "Linux", 1, "macOS", 1),
		Resources:     v(resA, 3, resB, 2),
	}
	if got := facetsOf(t, s); jsonOf(got) != jsonOf(want) {
		t.Errorf("Facets =\n%s\nwant\n%s", jsonOf(got), jsonOf(want))
	}
	// A record that adds nothing new leaves the counts alone; a call with
	// a new value adds it.
	appendOK(t, s, op("f1-op", "f-1", "pa", "ci-a", at(5), "Join"),
		leg("f5-h", "f-5", "ph", model.CallTypeP2P, model.EndpointVoIP, "1.30.1", "Windows 11", 240))
	want.CallTypes = v("Group", 3, "P2P", 2)
	want.EndpointTypes = v("VoIP", 4, "Bot", 1, "PSTN", 1, "Teams", 1)
	want.SDKs = v("1.30.1", 3, "1.0.0.0", 1, "1.32.1.0_stable", 1, "2.11.0.1", 1)
	want.OSes = v("Windows", 3, "Android", 1, "Linux", 1, "macOS", 1)
	want.Resources = v(resA, 4, resB, 2)
	if got := facetsOf(t, s); jsonOf(got) != jsonOf(want) {
		t.Errorf("Facets after more records =\n%s\nwant\n%s", jsonOf(got), jsonOf(want))
	}
}

func testFacetFilters(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	facetFixture(t, s)
	replaceOK(t, s, "f-1", store.Detection{Quality: "Poor", Rating: "Unknown", Issues: []model.Issue{issue("f-1", "jitter", model.SeverityWarning, 10)}})
	replaceOK(t, s, "f-3", store.Detection{Quality: "Poor", Rating: "Unknown", Issues: []model.Issue{issue("f-3", "drop", model.SeverityCritical, 130)}})
	tests := []struct {
		name string
		q    store.CallQuery
		want []string // newest first
	}{
		{"call type P2P", store.CallQuery{CallType: "P2P"}, []string{"f-2"}},
		{"call type Group", store.CallQuery{CallType: "Group"}, []string{"f-4", "f-3", "f-1"}},
		{"call type matches exactly", store.CallQuery{CallType: "p2p"}, nil},
		{"endpoint PSTN", store.CallQuery{EndpointType: "PSTN"}, []string{"f-1"}},
		{"endpoint any case", store.CallQuery{EndpointType: "voip"}, []string{"f-4", "f-2", "f-1"}},
		{"endpoint Teams", store.CallQuery{EndpointType: "TEAMS"}, []string{"f-3"}},
		{"endpoint nobody has", store.CallQuery{EndpointType: "Server"}, nil},
		{"sdk", store.CallQuery{SDK: "1.30.1"}, []string{"f-2", "f-1"}},
		{"sdk any case", store.CallQuery{SDK: "1.32.1.0_STABLE"}, []string{"f-4"}},
		{"sdk trimmed", store.CallQuery{SDK: " 2.11.0.1 "}, []string{"f-2"}},
		{"redacted is no sdk", store.CallQuery{SDK: "Redacted"}, nil},
		{"os Windows", store.CallQuery{OS: "Windows"}, []string{"f-3", "f-1"}},
		{"os any case", store.CallQuery{OS: "MACOS"}, []string{"f-2"}},
		{"os Android", store.CallQuery{OS: "android"}, []string{"f-2"}},
		{"os nobody has", store.CallQuery{OS: "iOS"}, nil},
		{"resource", store.CallQuery{Resource: resB}, []string{"f-3", "f-2"}},
		{"resource any case", store.CallQuery{Resource: strings.ToUpper(resA)}, []string{"f-4", "f-3", "f-1"}},
		{"group with VoIP", store.CallQuery{CallType: "Group", EndpointType: "VoIP"}, []string{"f-4", "f-1"}},
		{"group on Windows from resB", store.CallQuery{CallType: "Group", OS: "Windows", Resource: resB}, []string{"f-3"}},
		{"sdk and os of different participants", store.CallQuery{SDK: "2.11.0.1", OS: "macOS"}, []string{"f-2"}},
		{"every facet", store.CallQuery{CallType: "P2P", EndpointType: "VoIP", SDK: "1.30.1", OS: "macOS", Resource: resB}, []string{"f-2"}},
		{"facets that exclude each other", store.CallQuery{CallType: "P2P", EndpointType: "PSTN"}, nil},
		{"with since", store.CallQuery{OS: "Windows", Since: at(60)}, []string{"f-3"}},
		{"with until", store.CallQuery{Resource: resA, Until: at(150)}, []string{"f-3", "f-1"}},
		{"with q", store.CallQuery{Q: "8:acs:user-pa", EndpointType: "pstn"}, []string{"f-1"}},
		{"with q excluded", store.CallQuery{Q: "8:acs:user-pa", EndpointType: "Teams"}, nil},
		{"with quality", store.CallQuery{Quality: "Poor", OS: "Windows"}, []string{"f-3", "f-1"}},
		{"with issue kind", store.CallQuery{IssueKinds: []string{"drop"}, Resource: resA}, []string{"f-3"}},
		{"with severity", store.CallQuery{MinSeverity: model.SeverityCritical, CallType: "P2P"}, nil},
		{"with has-issues", store.CallQuery{HasIssues: true, SDK: "1.30.1"}, []string{"f-1"}},
	}
	ctx := context.Background()
	for _, tc := range tests {
		p := search(t, s, tc.q)
		if got := ids(p.Calls); !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
			t.Errorf("%s: %v (total %d), want %v", tc.name, got, p.Total, tc.want)
		}
		// Every sort order, one call a page: the cursor walks exactly the
		// filtered calls in the order of the unfiltered search.
		for _, sortName := range []string{store.SortStart, store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				var want []string
				for _, c := range searchAll(t, s, store.CallQuery{Sort: sortName, Asc: asc}) {
					if slices.Contains(tc.want, c.ID) {
						want = append(want, c.ID)
					}
				}
				q := tc.q
				q.Sort, q.Asc, q.Limit = sortName, asc, 1
				var got []string
				for pages := 0; pages <= len(tc.want); pages++ {
					p, err := s.SearchCalls(ctx, q)
					if err != nil {
						t.Fatalf("%s/%s/asc=%v: %v", tc.name, sortName, asc, err)
					}
					if p.Total != len(tc.want) {
						t.Errorf("%s/%s/asc=%v: page %d total %d, want %d", tc.name, sortName, asc, pages, p.Total, len(tc.want))
					}
					got = append(got, ids(p.Calls)...)
					if p.NextCursor == "" {
						break
					}
					q.Cursor = p.NextCursor
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s/%s/asc=%v: paged %v, want %v", tc.name, sortName, asc, got, want)
				}
			}
		}
	}
}

// facetNames renders the values of one facet list with their counts.
func facetNames(vs []store.FacetValue) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", v.Value, v.Calls)
	}
	return b.String()
}

func testFacetsFollowChanges(t *testing.T, open func(t testing.TB) store.Store) {
	const call = "call-change"
	type check struct {
		endpoints, sdks, oses, callTypes, resources string
		// found are filters that must find the call, gone ones that must not.
		found, gone []store.CallQuery
	}
	v1 := update("c-v1", call, "pa", t0, t0, 60, 1)
	v1.Participant.SDKVersion, v1.Participant.OSVersion = "1.0.0", "Windows 10.0.19045 Arch: x64"
	stale := update("c-v1b", call, "pa", t0, t0, 75, 1)
	stale.Participant.SDKVersion, stale.Participant.OSVersion = "0.9.0", "Linux 6.5.0-41-generic Arch: x64"
	v2 := update("c-v2", call, "pa", t0, t0, 90, 2)
	v2.Participant.SDKVersion, v2.Participant.OSVersion = "1.1.0", "Android 12.0; Manufacturer: Google"
	v2.Participant.EndpointType, v2.Participant.RawEndpointType = model.EndpointPSTN, "PSTN"
	clientOnly := op("c-op", call, "pb", "ci-b", at(10), "Join")
	clientOnly.Operation.SDKVersion = "2.0.0"
	clientOnly.Operation.UserAgent = "azsdk-ios-communication-calling/2.12.1 (iOS 17.5; iPhone15,3)"
	pbSummary := leg("c-pb", call, "pb", model.CallTypeGroup, model.EndpointTeams, "", "Darwin Kernel Version 23.5.0", 0)
	other := op("c-other", call, "pa", "ci-a", at(20), "StartVideo")
	other.Resource = resB
	steps := []struct {
		name string
		recs []model.Record
		want check
	}{
		{"first version", []model.Record{v1}, check{
			endpoints: "VoIP=1", sdks: "1.0.0=1", oses: "Windows=1", callTypes: "Group=1", resources: resA + "=1",
			found: []store.CallQuery{{SDK: "1.0.0"}, {OS: "Windows"}, {EndpointType: "VoIP"}},
		}},
		{"a later version replaces SDK, OS and endpoint type", []model.Record{v2}, check{
			endpoints: "PSTN=1", sdks: "1.1.0=1", oses: "Android=1", callTypes: "Group=1", resources: resA + "=1",
			found: []store.CallQuery{{SDK: "1.1.0"}, {OS: "Android"}, {EndpointType: "PSTN"}},
			gone:  []store.CallQuery{{SDK: "1.0.0"}, {OS: "Windows"}, {EndpointType: "VoIP"}},
		}},
		{"an older version arriving late changes nothing", []model.Record{stale}, check{
			endpoints: "PSTN=1", sdks: "1.1.0=1", oses: "Android=1", callTypes: "Group=1", resources: resA + "=1",
			gone: []store.CallQuery{{SDK: "0.9.0"}, {OS: "Linux"}, {SDK: "1.0.0"}},
		}},
		{"a participant known from its client", []model.Record{clientOnly}, check{
			endpoints: "PSTN=1 VoIP=1", sdks: "1.1.0=1 2.0.0=1", oses: "Android=1 iOS=1", callTypes: "Group=1", resources: resA + "=1",
			found: []store.CallQuery{{EndpointType: "VoIP"}, {SDK: "2.0.0"}, {OS: "iOS"}},
		}},
		{"its summary row arrives", []model.Record{pbSummary}, check{
			// Its summary names no SDK, so the client's stays; its Darwin
			// kernel does not hide the iOS agent.
			endpoints: "PSTN=1 Teams=1", sdks: "1.1.0=1 2.0.0=1", oses: "Android=1 iOS=1", callTypes: "Group=1", resources: resA + "=1",
			found: []store.CallQuery{{EndpointType: "Teams"}, {OS: "iOS"}},
			gone:  []store.CallQuery{{EndpointType: "VoIP"}, {OS: "macOS"}},
		}},
		{"a record from another resource", []model.Record{other}, check{
			endpoints: "PSTN=1 Teams=1", sdks: "1.1.0=1 2.0.0=1", oses: "Android=1 iOS=1", callTypes: "Group=1",
			resources: resA + "=1 " + resB + "=1",
			found:     []store.CallQuery{{Resource: resB}, {Resource: resA}},
		}},
	}
	s := open(t)
	for _, step := range steps {
		appendOK(t, s, step.recs...)
		f := facetsOf(t, s)
		got := check{endpoints: facetNames(f.EndpointTypes), sdks: facetNames(f.SDKs), oses: facetNames(f.OSes),
			callTypes: facetNames(f.CallTypes), resources: facetNames(f.Resources)}
		w := step.want
		if got.endpoints != w.endpoints || got.sdks != w.sdks || got.oses != w.oses || got.callTypes != w.callTypes || got.resources != w.resources {
			t.Errorf("%s: facets\n endpoints %q sdks %q oses %q call types %q resources %q\nwant\n endpoints %q sdks %q oses %q call types %q resources %q",
				step.name, got.endpoints, got.sdks, got.oses, got.callTypes, got.resources,
				w.endpoints, w.sdks, w.oses, w.callTypes, w.resources)
		}
		for _, q := range w.found {
			if p := search(t, s, q); p.Total != 1 {
				t.Errorf("%s: %+v finds %d calls, want the call", step.name, q, p.Total)
			}
		}
		for _, q := range w.gone {
			if p := search(t, s, q); p.Total != 0 || len(p.Calls) != 0 {
				t.Errorf("%s: %+v still finds %v", step.name, q, ids(p.Calls))
			}
		}
	}
}

// testFacetsOfUnlinkedOperations checks that the agent of a client
// operation logged before its call counts for the participant it is
// attached to, whichever arrives first.
func testFacetsOfUnlinkedOperations(t *testing.T, open func(t testing.TB) store.Store) {
	const call = "call-unlinked-facets"
	pre := op("u-pre", "", "", "ci-u", at(-30), "CallAgentInit")
	pre.Operation.UserAgent = "azsdk-android-communication-calling/2.11.0 (Android 11; Google Pixel 5)"
	pre.Operation.SDKVersion = "2.11.0.1"
	linker := sample("u-sample", call, "pu", "ci-u", "", at(10), "JitterInMs", 2)
	row := leg("u-sum", call, "pu", model.CallTypeGroup, model.EndpointVoIP, "", "", 0)
	for _, order := range [][]model.Record{{pre, linker, row}, {row, linker, pre}, {linker, pre, row}} {
		s := open(t)
		for _, r := range order {
			appendOK(t, s, r)
		}
		f := facetsOf(t, s)
		if got := facetNames(f.OSes) + " / " + facetNames(f.SDKs); got != "Android=1 / 2.11.0.1=1" {
			t.Errorf("arrival %s, %s, %s: OS / SDK facets %q, want Android=1 / 2.11.0.1=1", order[0].ID, order[1].ID, order[2].ID, got)
		}
		if p := search(t, s, store.CallQuery{OS: "Android", SDK: "2.11.0.1"}); p.Total != 1 {
			t.Errorf("arrival %s, %s, %s: the unlinked operation's agent does not find the call", order[0].ID, order[1].ID, order[2].ID)
		}
	}
}
