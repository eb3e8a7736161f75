package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// testSearchTotalCapped stores more calls than a search counts and checks
// that the total stops at store.MaxCallTotal and says so, while the pages
// and their order stay exact.
func testSearchTotalCapped(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	// Call i starts i seconds after t0 and lasts 60+i%50 seconds; every
	// tenth of the calls also has a PSTN leg.
	n := store.MaxCallTotal + 2
	every := max(store.MaxCallTotal/10, 1)
	var pstn []string
	type call struct {
		id    string
		start int
		dur   float64
	}
	calls := make([]call, n)
	var batch []model.Record
	for i := range n {
		c := call{id: fmt.Sprintf("cap-%05d", i), start: i, dur: float64(60 + i%50)}
		calls[i] = c
		r := leg(c.id+"-a", c.id, c.id+"-a", model.CallTypeGroup, model.EndpointVoIP, "1.30.1", "Windows 10", float64(i))
		r.Participant.Duration, r.Participant.CallDuration = ptr(c.dur), ptr(c.dur)
		batch = append(batch, r)
		if i%every == 0 {
			pstn = append([]string{c.id}, pstn...)
			p := leg(c.id+"-b", c.id, c.id+"-b", model.CallTypeGroup, model.EndpointPSTN, "", "", float64(i))
			p.Participant.Duration, p.Participant.CallDuration = ptr(c.dur), ptr(c.dur)
			batch = append(batch, p)
		}
		if len(batch) >= 2000 || i == n-1 {
			appendOK(t, s, batch...)
			batch = batch[:0]
		}
	}
	// want returns the ids of the calls from..to-1 in the order of a sort.
	want := func(from, to int, sort string, asc bool) []string {
		sel := slices.Clone(calls[from:to])
		slices.SortFunc(sel, func(a, b call) int {
			c := 0
			switch sort {
			case store.SortDuration:
				c = cmp.Compare(a.dur, b.dur)
			default:
				c = cmp.Compare(a.start, b.start)
			}
			if c == 0 {
				c = cmp.Compare(a.id, b.id)
			}
			if !asc {
				c = -c
			}
			return c
		})
		out := make([]string, len(sel))
		for i, c := range sel {
			out[i] = c.id
		}
		return out
	}
	all, over, exact := want(0, n, store.SortStart, false), want(1, n, store.SortStart, false), want(2, n, store.SortStart, false)
	cases := []struct {
		name   string
		q      store.CallQuery
		want   []string // every matching call in the query's order
		capped bool
	}{
		{"no filter", store.CallQuery{}, all, true},
		{"one more than the cap", store.CallQuery{Since: at(1)}, over, true},
		{"exactly the cap", store.CallQuery{Since: at(2)}, exact, false},
		{"few", store.CallQuery{Until: at(3)}, want(0, 3, store.SortStart, false), false},
		{"few by participants", store.CallQuery{Until: at(3), Sort: store.SortParticipants}, []string{"cap-00000", "cap-00002", "cap-00001"}, false},
		{"by duration ascending", store.CallQuery{Since: at(1), Sort: store.SortDuration, Asc: true},
			want(1, n, store.SortDuration, true), true},
		{"one facet", store.CallQuery{CallType: string(model.CallTypeGroup)}, all, true},
		{"two facets", store.CallQuery{CallType: string(model.CallTypeGroup), EndpointType: "VoIP"}, all, true},
		{"facet and time, exactly the cap", store.CallQuery{EndpointType: "VoIP", Since: at(2)}, exact, false},
		{"rare facet", store.CallQuery{EndpointType: "PSTN"}, pstn, false},
	}
	for _, tc := range cases {
		q := tc.q
		q.Limit = 100
		p := search(t, s, q)
		wantTotal := min(len(tc.want), store.MaxCallTotal)
		if p.Total != wantTotal || p.TotalCapped != tc.capped {
			t.Errorf("%s: total %d capped %v, want %d capped %v", tc.name, p.Total, p.TotalCapped, wantTotal, tc.capped)
		}
		first := tc.want[:min(len(tc.want), q.Limit)]
		if got := ids(p.Calls); !slices.Equal(got, first) {
			t.Errorf("%s: first page %v, want %v", tc.name, got, first)
		}
		if (p.NextCursor != "") != (len(tc.want) > q.Limit) {
			t.Errorf("%s: next cursor %q with %d matching calls", tc.name, p.NextCursor, len(tc.want))
		}
		if p.NextCursor == "" {
			continue
		}
		// A later page carries the same total and continues exactly.
		q.Cursor = p.NextCursor
		p = search(t, s, q)
		if p.Total != wantTotal || p.TotalCapped != tc.capped {
			t.Errorf("%s: second page total %d capped %v, want %d capped %v", tc.name, p.Total, p.TotalCapped, wantTotal, tc.capped)
		}
		second := tc.want[q.Limit:min(len(tc.want), 2*q.Limit)]
		if got := ids(p.Calls); !slices.Equal(got, second) {
			t.Errorf("%s: second page %v, want %v", tc.name, got, second)
		}
	}
}
