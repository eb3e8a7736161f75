package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// issue makes an issue of a kind and severity starting sec seconds into the
// test timeline, with enough evidence that a lossy round trip shows.
func issue(call, kind string, sev model.Severity, sec float64) model.Issue {
	start := at(sec)
	end := start.Add(30 * time.Second)
	return model.Issue{
		ID: fmt.Sprintf("%s-%s-%g", call, kind, sec), Kind: kind, Category: model.CategoryNetwork, Severity: sev,
		ParticipantID: call + "-p0", StreamID: "audio-out", Start: start, End: end,
		Summary: kind + " on " + call,
		Culprit: model.Culprit{Type: model.CulpritUplink, ParticipantIDs: []string{call + "-p0"}, Summary: "uplink"},
		Evidence: []model.Evidence{{
			Metric: "jitterMs", Value: ptr(41.5), Op: ">", Threshold: ptr(30.0), Source: "CallDiagnostics",
			RecordIDs: []string{call + "-leg0"}, From: &start, To: &end,
		}},
		Rule:           "stream." + kind,
		Recommendation: model.Recommendation{Text: "check the network", KB: []string{"kind-" + kind}},
		TimelineFilter: model.TimelineFilter{Participant: call + "-p0", From: start, To: end, Kind: []string{"metric"}},
		Related:        []string{},
	}
}

// fixtureDetection is the detection the filter tests give call s-NN, or
// false for calls left undetected.
func fixtureDetection(i int) (store.Detection, bool) {
	id := fmt.Sprintf("s-%02d", i)
	switch {
	case i == 19:
		return store.Detection{Quality: "Good", Rating: "Unknown", Issues: []model.Issue{}}, true
	case i%4 == 0:
		// Everything a detection can carry round-trips, MOS, completeness,
		// the rules fingerprint and the record count included.
		return store.Detection{Quality: "Poor", Rating: "Poor", RatingScore: ptr(1.5), Issues: []model.Issue{
			issue(id, "reconnect", model.SeverityCritical, 10),
			issue(id, "low-volume", model.SeverityInfo, 5),
		}, MOS: map[string]float64{id + "-p0/audio-out": 3.9, id + "-p1/audio-in": 2.75},
			Completeness: &model.Completeness{Diagnostics: true, Surveys: 1, Participants: []model.ParticipantCompleteness{
				{ParticipantID: id + "-p0", Summary: true, Diagnostics: true, SeriesGaps: 2}}},
			Rules: "rules-" + id, Records: 40 + i}, true
	case i%4 == 1:
		d := store.Detection{Quality: "Poor", Rating: "Average", RatingScore: ptr(3.0), Issues: []model.Issue{
			issue(id, "jitter", model.SeverityWarning, 5),
			issue(id, "poor-stream", model.SeverityWarning, 20),
			issue(id, "jitter", model.SeverityWarning, 50),
		}}
		if i%8 == 1 {
			d.Issues = append([]model.Issue{issue(id, "zz-drop", model.SeverityCritical, 60)}, d.Issues...)
		}
		return d, true
	case i%4 == 2:
		return store.Detection{Quality: "Good", Rating: "Good", RatingScore: ptr(4.5), Issues: []model.Issue{
			issue(id, "low-volume", model.SeverityInfo, 5),
		}}, true
	}
	return store.Detection{}, false
}

// detectFixture stores the search fixture and the fixture detections; it
// returns every call's summary and its detection (Unknown when undetected).
func detectFixture(t testing.TB, s store.Store) ([]model.CallSummary, map[string]store.Detection) {
	t.Helper()
	calls := searchFixture(t, s)
	dets := make(map[string]store.Detection)
	for i, c := range calls {
		d, ok := fixtureDetection(i)
		if !ok {
			dets[c.ID] = store.Detection{Quality: "Unknown", Rating: "Unknown", Issues: []model.Issue{}}
			continue
		}
		replaceOK(t, s, c.ID, d)
		dets[c.ID] = d
	}
	return calls, dets
}

func replaceOK(t testing.TB, s store.Store, call string, d store.Detection) {
	t.Helper()
	if err := s.ReplaceDetection(context.Background(), call, d); err != nil {
		t.Fatalf("ReplaceDetection(%s): %v", call, err)
	}
}

func detectionOf(t testing.TB, s store.Store, call string) store.Detection {
	t.Helper()
	d, err := s.Detection(context.Background(), call)
	if err != nil {
		t.Fatalf("Detection(%s): %v", call, err)
	}
	return d
}

// wantSummary derives the detection fields of a summary from a detection,
// independently of the store.
func wantSummary(d store.Detection) (count int, kinds []string) {
	worst := map[string]int{}
	for _, is := range d.Issues {
		if r := is.Severity.Rank(); r >= model.SeverityWarning.Rank() {
			count++
			worst[is.Kind] = max(worst[is.Kind], r)
		}
	}
	kinds = []string{}
	for k := range worst {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if c := cmp.Compare(worst[b], worst[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return count, kinds
}

// matches is the reference for the detection filters of a query.
func matches(q store.CallQuery, d store.Detection) bool {
	worst := 0
	for _, is := range d.Issues {
		worst = max(worst, is.Severity.Rank())
	}
	if len(q.IssueKinds) > 0 && !slices.ContainsFunc(d.Issues, func(is model.Issue) bool {
		return slices.Contains(q.IssueKinds, is.Kind)
	}) {
		return false
	}
	if q.MinSeverity != "" && worst < q.MinSeverity.Rank() {
		return false
	}
	if q.HasIssues && worst < model.SeverityWarning.Rank() {
		return false
	}
	if q.Quality != "" && d.Quality != q.Quality {
		return false
	}
	if q.Rating != "" && d.Rating != q.Rating {
		return false
	}
	return true
}

func testDetectionRoundTrip(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	ctx := context.Background()
	calls, dets := detectFixture(t, s)
	for _, c := range calls {
		want := dets[c.ID]
		got := detectionOf(t, s, c.ID)
		if jsonOf(got) != jsonOf(want) {
			t.Errorf("Detection(%s) = %s\nwant %s", c.ID, jsonOf(got), jsonOf(want))
		}
		if got.Issues == nil {
			t.Errorf("Detection(%s).Issues is nil, want an empty slice", c.ID)
		}
	}
	// A call never detected.
	d := detectionOf(t, s, "s-03")
	if d.Quality != "Unknown" || d.Rating != "Unknown" || d.RatingScore != nil || d.Issues == nil || len(d.Issues) != 0 {
		t.Errorf("undetected call: %+v, want Unknown, Unknown, no score, empty issues", d)
	}
	if _, err := s.Detection(ctx, "no-such-call"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Detection(unknown call) error = %v, want ErrNotFound", err)
	}
	if err := s.ReplaceDetection(ctx, "no-such-call", dets["s-00"]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReplaceDetection(unknown call) error = %v, want ErrNotFound", err)
	}
	if p := search(t, s, store.CallQuery{Q: "no-such-call"}); p.Total != 0 {
		t.Errorf("ReplaceDetection of an unknown call created it: %+v", p)
	}
}

func testDetectionSummary(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	_, dets := detectFixture(t, s)
	for _, c := range searchAll(t, s, store.CallQuery{Limit: 7}) {
		d := dets[c.ID]
		count, kinds := wantSummary(d)
		if c.Quality != d.Quality || c.Rating != d.Rating || c.IssueCount != count || !slices.Equal(c.IssueKinds, kinds) {
			t.Errorf("summary of %s: quality %q rating %q count %d kinds %q; want %q %q %d %q",
				c.ID, c.Quality, c.Rating, c.IssueCount, c.IssueKinds, d.Quality, d.Rating, count, kinds)
		}
		if c.IssueKinds == nil {
			t.Errorf("summary of %s: IssueKinds is nil, want an empty slice", c.ID)
		}
	}
	// The reference itself, pinned: severity first, then name, each once;
	// info issues are neither counted nor listed.
	if c := summaryOf(t, s, "s-01"); c.IssueCount != 4 || !slices.Equal(c.IssueKinds, []string{"zz-drop", "jitter", "poor-stream"}) {
		t.Errorf("s-01: count %d kinds %q, want 4 [zz-drop jitter poor-stream]", c.IssueCount, c.IssueKinds)
	}
	if c := summaryOf(t, s, "s-00"); c.IssueCount != 1 || !slices.Equal(c.IssueKinds, []string{"reconnect"}) {
		t.Errorf("s-00: count %d kinds %q, want 1 [reconnect]", c.IssueCount, c.IssueKinds)
	}
	if c := summaryOf(t, s, "s-03"); c.Quality != "Unknown" || c.Rating != "Unknown" || c.IssueCount != 0 ||
		c.IssueKinds == nil || len(c.IssueKinds) != 0 {
		t.Errorf("undetected s-03: %+v", c)
	}
	if !strings.Contains(jsonOf(summaryOf(t, s, "s-03")), `"issueKinds":[]`) {
		t.Errorf("undetected call does not encode issueKinds as []")
	}
}

func testDetectionIdempotent(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	calls, _ := detectFixture(t, s)
	state := func() string {
		var b strings.Builder
		for _, c := range calls {
			b.WriteString(jsonOf(detectionOf(t, s, c.ID)))
		}
		b.WriteString(jsonOf(searchAll(t, s, store.CallQuery{})))
		for _, q := range []store.CallQuery{{IssueKinds: []string{"jitter"}}, {HasIssues: true}, {MinSeverity: model.SeverityInfo}} {
			b.WriteString(fmt.Sprint(search(t, s, q).Total))
		}
		return b.String()
	}
	before := state()
	for _, c := range calls {
		if d, ok := fixtureDetection(indexOf(c.ID)); ok {
			replaceOK(t, s, c.ID, d)
			replaceOK(t, s, c.ID, d)
		}
	}
	if after := state(); after != before {
		t.Errorf("replacing detections again changed the store: %s", firstDiff(before, after))
	}
}

func indexOf(call string) int {
	var i int
	fmt.Sscanf(call, "s-%d", &i)
	return i
}

func testDetectionReplace(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	detectFixture(t, s)
	ids := func(q store.CallQuery) []string {
		var out []string
		for _, c := range searchAll(t, s, q) {
			out = append(out, c.ID)
		}
		return out
	}
	// s-00: a critical reconnect becomes a single warning.
	next := store.Detection{Quality: "Good", Rating: "Average", Issues: []model.Issue{issue("s-00", "jitter", model.SeverityWarning, 7)}}
	replaceOK(t, s, "s-00", next)
	if got := detectionOf(t, s, "s-00"); jsonOf(got) != jsonOf(next) {
		t.Errorf("after replace: %s\nwant %s", jsonOf(got), jsonOf(next))
	}
	if slices.Contains(ids(store.CallQuery{IssueKinds: []string{"reconnect"}}), "s-00") {
		t.Errorf("kind filter still finds the replaced kind")
	}
	if !slices.Contains(ids(store.CallQuery{IssueKinds: []string{"jitter"}}), "s-00") {
		t.Errorf("kind filter misses the new kind")
	}
	if slices.Contains(ids(store.CallQuery{MinSeverity: model.SeverityCritical}), "s-00") {
		t.Errorf("severity filter still sees the replaced critical issue")
	}
	if slices.Contains(ids(store.CallQuery{Quality: "Poor"}), "s-00") || !slices.Contains(ids(store.CallQuery{Quality: "Good"}), "s-00") {
		t.Errorf("quality filter sees the old quality")
	}
	c := summaryOf(t, s, "s-00")
	if c.Quality != "Good" || c.Rating != "Average" || c.IssueCount != 1 || !slices.Equal(c.IssueKinds, []string{"jitter"}) {
		t.Errorf("summary after replace: %+v", c)
	}
	// Then an empty detection: no issues left anywhere.
	replaceOK(t, s, "s-00", store.Detection{Quality: "Good", Rating: "Good"})
	d := detectionOf(t, s, "s-00")
	if d.Issues == nil || len(d.Issues) != 0 || d.RatingScore != nil {
		t.Errorf("after an empty detection: %+v", d)
	}
	for _, q := range []store.CallQuery{{HasIssues: true}, {MinSeverity: model.SeverityInfo}, {IssueKinds: []string{"jitter", "low-volume"}}} {
		if slices.Contains(ids(q), "s-00") {
			t.Errorf("%+v still finds s-00 after an empty detection", q)
		}
	}
	if c := summaryOf(t, s, "s-00"); c.IssueCount != 0 || c.IssueKinds == nil || len(c.IssueKinds) != 0 {
		t.Errorf("summary after an empty detection: %+v", c)
	}
}

func testDetectionSurvivesAppend(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	_, dets := detectFixture(t, s)
	before := summaryOf(t, s, "s-04")
	// A new leg arrives for a detected call.
	appendOK(t, s, summary("s-04-late", "s-04", "s-04-late", at(4*60), at(4*60+5), 99))
	after := summaryOf(t, s, "s-04")
	if after.ParticipantCount != before.ParticipantCount+1 {
		t.Fatalf("append did not reach the call: %d participants, want %d", after.ParticipantCount, before.ParticipantCount+1)
	}
	if after.Quality != before.Quality || after.Rating != before.Rating || after.IssueCount != before.IssueCount ||
		!slices.Equal(after.IssueKinds, before.IssueKinds) {
		t.Errorf("append changed the detection fields: %+v, was %+v", after, before)
	}
	if got := detectionOf(t, s, "s-04"); jsonOf(got) != jsonOf(dets["s-04"]) {
		t.Errorf("append changed the stored detection: %s", jsonOf(got))
	}
	found := false
	for _, c := range searchAll(t, s, store.CallQuery{IssueKinds: []string{"reconnect"}, Quality: "Poor"}) {
		found = found || c.ID == "s-04"
	}
	if !found {
		t.Errorf("filters lost s-04 after the append")
	}
}

func testDetectionFilters(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	calls, dets := detectFixture(t, s)
	starts := map[string]time.Time{}
	for _, c := range calls {
		starts[c.ID] = c.StartTime
	}
	since, until := at(3*60), at(15*60)
	tests := []struct {
		name string
		q    store.CallQuery
		want int // pinned count (-1: not pinned), so the reference is checked too
	}{
		{"kind", store.CallQuery{IssueKinds: []string{"reconnect"}}, 5},
		{"kinds any of", store.CallQuery{IssueKinds: []string{"zz-drop", "low-volume"}}, 13},
		{"kind info only", store.CallQuery{IssueKinds: []string{"low-volume"}}, 10},
		{"kind unknown", store.CallQuery{IssueKinds: []string{"no-such-kind"}}, 0},
		{"min critical", store.CallQuery{MinSeverity: model.SeverityCritical}, 8},
		{"min warning", store.CallQuery{MinSeverity: model.SeverityWarning}, 10},
		{"min info", store.CallQuery{MinSeverity: model.SeverityInfo}, 15},
		{"has issues", store.CallQuery{HasIssues: true}, 10},
		{"quality poor", store.CallQuery{Quality: "Poor"}, 10},
		{"quality good", store.CallQuery{Quality: "Good"}, 6},
		{"quality unknown", store.CallQuery{Quality: "Unknown"}, 4},
		{"rating average", store.CallQuery{Rating: "Average"}, 5},
		{"rating unknown", store.CallQuery{Rating: "Unknown"}, 5},
		{"has issues+since", store.CallQuery{HasIssues: true, Since: since}, 8},
		{"kind+rating", store.CallQuery{IssueKinds: []string{"jitter", "reconnect"}, Rating: "Poor"}, 5},
		{"kind+min+quality+until", store.CallQuery{IssueKinds: []string{"low-volume"}, MinSeverity: model.SeverityCritical,
			Quality: "Poor", Until: until}, -1},
		{"q+has issues", store.CallQuery{Q: "s-05", HasIssues: true}, 1},
		{"q+quality mismatch", store.CallQuery{Q: "s-05", Quality: "Good"}, 0},
		{"since+until+min info", store.CallQuery{Since: since, Until: until, MinSeverity: model.SeverityInfo}, -1},
	}
	for _, tc := range tests {
		var want []string
		for _, c := range calls {
			st := starts[c.ID]
			if (!tc.q.Since.IsZero() && st.Before(tc.q.Since)) || (!tc.q.Until.IsZero() && !st.Before(tc.q.Until)) {
				continue
			}
			if tc.q.Q != "" && c.ID != tc.q.Q {
				continue
			}
			if matches(tc.q, dets[c.ID]) {
				want = append(want, c.ID)
			}
		}
		slices.Sort(want)
		if tc.want >= 0 && len(want) != tc.want {
			t.Fatalf("%s: reference finds %d calls, pinned %d", tc.name, len(want), tc.want)
		}
		for _, sort := range []string{store.SortStart, store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				q := tc.q
				q.Sort, q.Asc, q.Limit = sort, asc, 3
				name := fmt.Sprintf("%s/%s/asc=%v", tc.name, sort, asc)
				if total := search(t, s, q).Total; total != len(want) {
					t.Errorf("%s: Total %d, want %d", name, total, len(want))
				}
				var got []string
				for _, c := range searchAll(t, s, q) {
					got = append(got, c.ID)
				}
				seen := map[string]bool{}
				for _, id := range got {
					if seen[id] {
						t.Errorf("%s: paging visits %s twice", name, id)
					}
					seen[id] = true
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		}
	}
	// Quality and rating match regardless of case.
	if got, want := search(t, s, store.CallQuery{Quality: "poor"}).Total, search(t, s, store.CallQuery{Quality: "Poor"}).Total; got != want {
		t.Errorf("quality poor: %d calls, Poor: %d", got, want)
	}
}
