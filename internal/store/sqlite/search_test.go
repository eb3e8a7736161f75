package sqlite

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// TestSearchTotalBound checks every shape of the total query against a
// bound: it counts the matching calls exactly up to one more than the
// bound and stops there.
func TestSearchTotalBound(t *testing.T) {
	db := openTest(t)
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	appendAll(t, db, summaryOnly(600, base), 300)
	detectSynthetic(t, db, 600, base)
	ctx := context.Background()
	since := base.Add(20 * time.Minute)
	queries := []struct {
		name string
		q    store.CallQuery
	}{
		{"none", store.CallQuery{}},
		{"since", store.CallQuery{Since: since}},
		{"kind", store.CallQuery{IssueKinds: []string{"jitter"}}},
		{"kinds", store.CallQuery{IssueKinds: []string{"jitter", "drop", "reconnect"}}},
		{"kind+since", store.CallQuery{IssueKinds: []string{"jitter"}, Since: since}},
		{"quality", store.CallQuery{Quality: "Poor"}},
		{"severity+since", store.CallQuery{MinSeverity: model.SeverityWarning, Since: since}},
		{"facet", store.CallQuery{CallType: "Group"}},
		{"facets", store.CallQuery{CallType: "Group", EndpointType: "VoIP", OS: "Windows"}},
		{"facet+kind", store.CallQuery{EndpointType: "VoIP", IssueKinds: []string{"drop"}}},
		{"facet+quality", store.CallQuery{OS: "Android", Quality: "Good"}},
		{"q", store.CallQuery{Q: "8:acs:user-0000"}},
		{"q+since+kind+facet", store.CallQuery{Q: "8:acs:user-0000", Since: since, IssueKinds: []string{"jitter", "drop"}, CallType: "Group"}},
		{"kinds+quality+facets", store.CallQuery{IssueKinds: []string{"jitter", "drop"}, Quality: "Poor", EndpointType: "VoIP", OS: "Windows"}},
	}
	count := func(q store.CallQuery, most int) int {
		t.Helper()
		tx, err := db.readTx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		sq, err := planSearch(ctx, tx, q, most)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, sq.total, sq.totalArgs...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sq.total, err)
		}
		return n
	}
	for _, tc := range queries {
		exact := count(tc.q, math.MaxInt32-1)
		if exact < 3 {
			t.Fatalf("%s: %d calls match; the test needs a few", tc.name, exact)
		}
		if all := searchAllIDs(t, db, tc.q); len(all) != exact {
			t.Errorf("%s: unbounded total %d, but paging finds %d calls", tc.name, exact, len(all))
		}
		for _, most := range []int{0, 1, exact - 2, exact - 1, exact, exact + 1} {
			if got, want := count(tc.q, most), min(exact, most+1); got != want {
				t.Errorf("%s: total bounded by %d is %d, want %d", tc.name, most, got, want)
			}
		}
	}
}

func searchAllIDs(t *testing.T, db *DB, q store.CallQuery) []string {
	t.Helper()
	var ids []string
	q.Limit = store.MaxCallLimit
	for {
		p, err := db.SearchCalls(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Calls {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == "" {
			return ids
		}
		q.Cursor = p.NextCursor
	}
}

// TestSearchWalkMatchesPage checks that a page found by walking the sort
// order is the page the filters pick themselves, on every page of searches
// whose walk finds some pages and misses others.
func TestSearchWalkMatchesPage(t *testing.T) {
	db := openTest(t)
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	appendAll(t, db, summaryOnly(2000, base), 1000)
	detectSynthetic(t, db, 2000, base)
	ctx := context.Background()
	walked := 0
	for _, f := range []store.CallQuery{
		{Since: base.Add(30 * time.Minute)},
		{Since: base.Add(10 * time.Minute), Until: base.Add(12 * time.Minute)},
		{Quality: "Good"},
		{MinSeverity: model.SeverityCritical},
		{Rating: "Poor", Since: base.Add(40 * time.Minute)},
	} {
		for _, sort := range []string{store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				q := f
				q.Sort, q.Asc, q.Limit = sort, asc, 7
				for page := 0; ; page++ {
					got, err := db.SearchCalls(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					tx, err := db.readTx(ctx)
					if err != nil {
						t.Fatal(err)
					}
					sq, err := planSearch(ctx, tx, q, store.MaxCallTotal)
					if err != nil {
						t.Fatal(err)
					}
					if sq.walk == "" {
						t.Fatalf("%+v: no walk", q)
					}
					want, _, err := readSummaries(ctx, tx, sq.page, sq.pageArgs)
					if err != nil {
						t.Fatal(err)
					}
					walk, _, err := readSummaries(ctx, tx, sq.walk, sq.walkArgs)
					if err != nil {
						t.Fatal(err)
					}
					tx.Rollback()
					if len(walk) > q.Limit {
						walked++
					}
					want = want[:min(len(want), q.Limit)]
					if g, w := callIDs(got.Calls), callIDs(want); !slices.Equal(g, w) {
						t.Fatalf("%+v page %d: %v, want %v", q, page, g, w)
					}
					if got.NextCursor == "" || page == 30 {
						break
					}
					q.Cursor = got.NextCursor
				}
			}
		}
	}
	if walked == 0 {
		t.Fatal("no page was found by the walk")
	}
}

func callIDs(calls []model.CallSummary) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.ID
	}
	return out
}
