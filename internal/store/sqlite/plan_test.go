package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Resources of the synthetic calls: most come from the first, a few from a
// rare one.
const (
	synthResource = "/subscriptions/s/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs"
	synthOther    = "/subscriptions/s/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs-eu"
	synthRare     = "/subscriptions/t/resourcegroups/lab/providers/microsoft.communication/communicationservices/acs-lab"
)

// synthSDKs and synthOSes are the SDK and OS versions of synthetic legs,
// the last of each rare.
var (
	synthSDKs = []string{"1.30.1", "1.32.1.0_stable", "2.11.0.1", "1.19.2.2_beta"}
	synthOSes = []string{"Windows 10.0.19045 Arch: x64", "Darwin Kernel Version 23.4.0: Fri Mar 15 00:10:42 PDT 2024",
		"Android 13.0; Manufacturer: samsung", "Linux 6.5.0-41-generic Arch: x64"}
)

// summaryOnly makes n calls of one or two summary legs each, an hour apart
// divided by n, with participant ids that share long prefixes. Their facets
// are skewed the way real ones are: mostly Group calls of VoIP legs from
// one resource, with a few P2P calls, PSTN and bot legs, other resources
// and rare SDK and OS versions.
func summaryOnly(n int, base time.Time) []model.Record {
	recs := make([]model.Record, 0, 2*n)
	for i := range n {
		call := fmt.Sprintf("call-%08d", i)
		start := base.Add(time.Duration(i) * time.Hour / time.Duration(n))
		dur := float64(30 + i%600)
		legs := 1 + i%2
		callType := model.CallTypeGroup
		if i%7 == 0 {
			callType = model.CallTypeP2P
		}
		res := synthResource
		switch {
		case i%97 == 0:
			res = synthRare
		case i%4 == 0:
			res = synthOther
		}
		for l := range legs {
			pid := fmt.Sprintf("participant-%08d-%d", i, l)
			etype := model.EndpointVoIP
			switch {
			case l == 1 && i%5 == 0:
				etype = model.EndpointPSTN
			case l == 1 && i%11 == 0:
				etype = model.EndpointBot
			}
			k := (i + l) % 10
			sdk, osVersion := synthSDKs[min(k/3, 2)], synthOSes[min(k/3, 2)]
			if i%89 == 0 {
				sdk, osVersion = synthSDKs[3], synthOSes[3]
			}
			recs = append(recs, model.Record{
				ID: fmt.Sprintf("rec-%08d-%d", i, l), Category: model.CatCallSummary, CallID: call,
				Resource: res,
				Time:     start.Add(time.Duration(dur) * time.Second), Known: true,
				Raw: []byte(fmt.Sprintf(`{"correlationId":%q,"participantId":%q}`, call, pid)),
				Participant: &model.ParticipantRow{
					ParticipantID: pid, RawParticipantID: pid, EndpointID: "endpoint-" + pid,
					Identifier: fmt.Sprintf("8:acs:user-%08d", i%5000), EndpointType: etype,
					SDKVersion: sdk, OSVersion: osVersion,
					CallStartTime: start, CallDuration: &dur, CallType: callType,
					StartTime: start, Duration: &dur,
				},
			})
		}
	}
	return recs
}

// synthKinds are the issue kinds of synthetic detections.
var synthKinds = []string{"jitter", "packet-loss", "reconnect", "poor-stream", "low-volume", "mic-muted", "drop"}

// detectSynthetic gives the calls of summaryOnly detections in one
// transaction: 30 % have issues (a third each critical, warning and info
// only), 10 % stay undetected and the rest are clean.
func detectSynthetic(t testing.TB, db *DB, n int, base time.Time) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ratings := []string{"Good", "Average", "Poor", "Unknown"}
	for i := range n {
		call := fmt.Sprintf("call-%08d", i)
		if i%10 == 9 {
			continue
		}
		d := store.Detection{Quality: "Good", Rating: ratings[i%len(ratings)], Issues: []model.Issue{}}
		if sev := []model.Severity{model.SeverityCritical, model.SeverityWarning, model.SeverityInfo}; i%10 < 3 {
			d.Quality = "Poor"
			for k := range 1 + i%3 {
				kind := synthKinds[(i/10+k)%len(synthKinds)]
				d.Issues = append(d.Issues, model.Issue{
					ID: fmt.Sprintf("%s-%s", call, kind), Kind: kind, Severity: sev[i%10],
					Start: base.Add(time.Duration(i) * time.Second), Summary: kind,
				})
			}
		}
		if err := replaceDetection(ctx, tx, call, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func appendAll(t testing.TB, db *DB, recs []model.Record, batch int) {
	t.Helper()
	for len(recs) > 0 {
		n := min(batch, len(recs))
		if _, err := db.Append(context.Background(), recs[:n]); err != nil {
			t.Fatalf("Append: %v", err)
		}
		recs = recs[n:]
	}
}

// TestSearchUsesIndexes checks the plan of every accepted search shape: no
// query may read the whole calls table.
func TestSearchUsesIndexes(t *testing.T) {
	db := openTest(t)
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	appendAll(t, db, summaryOnly(3000, base), 1000)
	detectSynthetic(t, db, 3000, base)
	ctx := context.Background()
	cursors := map[string]string{}
	filters := []struct {
		name string
		q    store.CallQuery
	}{
		{"none", store.CallQuery{}},
		{"since", store.CallQuery{Since: base.Add(time.Minute)}},
		{"until", store.CallQuery{Until: base.Add(time.Minute)}},
		{"since+until", store.CallQuery{Since: base.Add(time.Minute), Until: base.Add(50 * time.Minute)}},
		{"q", store.CallQuery{Q: "participant-0000012"}},
		{"q exact", store.CallQuery{Q: "call-00000012"}},
		{"q+since", store.CallQuery{Q: "8:acs:user-0000", Since: base.Add(time.Minute)}},
	}
	// Every detection filter alone, with since and with q.
	detection := []struct {
		name string
		q    store.CallQuery
	}{
		{"kind", store.CallQuery{IssueKinds: []string{"jitter"}}},
		{"kinds", store.CallQuery{IssueKinds: []string{"jitter", "drop", "reconnect"}}},
		{"min critical", store.CallQuery{MinSeverity: model.SeverityCritical}},
		{"min info", store.CallQuery{MinSeverity: model.SeverityInfo}},
		{"has issues", store.CallQuery{HasIssues: true}},
		{"quality poor", store.CallQuery{Quality: "Poor"}},
		{"quality good", store.CallQuery{Quality: "Good"}},
		{"rating average", store.CallQuery{Rating: "Average"}},
		{"rating unknown", store.CallQuery{Rating: "Unknown"}},
		{"all", store.CallQuery{IssueKinds: []string{"jitter"}, MinSeverity: model.SeverityWarning, HasIssues: true,
			Quality: "Poor", Rating: "Good"}},
	}
	for _, f := range detection {
		filters = append(filters, f)
		withSince := f
		withSince.name += "+since"
		withSince.q.Since = base.Add(time.Minute)
		withQ := f
		withQ.name += "+q"
		withQ.q.Q = "participant-0000012"
		withUntil := f
		withUntil.name += "+since+until"
		withUntil.q.Since, withUntil.q.Until = base.Add(time.Minute), base.Add(50*time.Minute)
		filters = append(filters, withSince, withQ, withUntil)
	}
	// Every facet filter alone, several together, and each with since, q
	// and the detection filters.
	facets := []struct {
		name string
		q    store.CallQuery
	}{
		{"call type p2p", store.CallQuery{CallType: "P2P"}},
		{"call type group", store.CallQuery{CallType: "Group"}},
		{"endpoint pstn", store.CallQuery{EndpointType: "pstn"}},
		{"endpoint voip", store.CallQuery{EndpointType: "VoIP"}},
		{"sdk rare", store.CallQuery{SDK: "1.19.2.2_BETA"}},
		{"sdk common", store.CallQuery{SDK: "1.30.1"}},
		{"os rare", store.CallQuery{OS: "Linux"}},
		{"os common", store.CallQuery{OS: "windows"}},
		{"resource rare", store.CallQuery{Resource: synthRare}},
		{"resource common", store.CallQuery{Resource: strings.ToUpper(synthResource)}},
		{"unknown value", store.CallQuery{SDK: "no-such-sdk"}},
		{"all facets", store.CallQuery{CallType: "Group", EndpointType: "PSTN", SDK: "2.11.0.1", OS: "Android", Resource: synthResource}},
		{"common facets", store.CallQuery{CallType: "Group", EndpointType: "VoIP", OS: "Windows"}},
	}
	for _, f := range facets {
		filters = append(filters, f)
		for _, with := range []struct {
			name string
			add  func(q *store.CallQuery)
		}{
			{"since", func(q *store.CallQuery) { q.Since = base.Add(time.Minute) }},
			{"since+until", func(q *store.CallQuery) { q.Since, q.Until = base.Add(time.Minute), base.Add(50*time.Minute) }},
			{"q", func(q *store.CallQuery) { q.Q = "participant-0000012" }},
			{"kind", func(q *store.CallQuery) { q.IssueKinds = []string{"jitter"} }},
			{"quality", func(q *store.CallQuery) { q.Quality = "Poor" }},
			{"has issues+since", func(q *store.CallQuery) { q.HasIssues, q.Since = true, base.Add(time.Minute) }},
			{"every filter", func(q *store.CallQuery) {
				q.IssueKinds, q.MinSeverity, q.Rating, q.Q = []string{"drop"}, model.SeverityWarning, "Good", "8:acs:user-0000"
				q.Since, q.Until = base.Add(time.Minute), base.Add(50*time.Minute)
			}},
		} {
			g := f
			g.name += "+" + with.name
			with.add(&g.q)
			filters = append(filters, g)
		}
	}
	// The detector itself must notice a scan.
	if plan := explain(t, db, "SELECT id FROM calls WHERE call_type = ?", []any{"P2P"}); !fullScan(plan[0]) {
		t.Fatalf("fullScan does not flag %q", plan)
	}
	if plan := explain(t, db, "SELECT count(*) FROM facets f WHERE f.cid % 2 = ?", []any{0}); !fullScan(plan[0]) {
		t.Fatalf("fullScan does not flag %q", plan)
	}
	for _, analyzed := range []bool{false, true} {
		if analyzed {
			// With statistics the planner sees the table as it is at scale.
			if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		checkPlans(t, db, filters, cursors, analyzed)
	}
}

func checkPlans(t *testing.T, db *DB, filters []struct {
	name string
	q    store.CallQuery
}, cursors map[string]string, analyzed bool) {
	ctx := context.Background()
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls := st.Calls
	for _, f := range filters {
		for _, sort := range []string{store.SortStart, store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				for _, withCursor := range []bool{false, true} {
					q := f.q
					q.Sort, q.Asc, q.Limit = sort, asc, 5
					name := fmt.Sprintf("%s/%s/asc=%v/cursor=%v/analyzed=%v", f.name, sort, asc, withCursor, analyzed)
					if withCursor {
						key := fmt.Sprintf("%s/%v", sort, asc)
						c, ok := cursors[key]
						if !ok {
							p, err := db.SearchCalls(ctx, store.CallQuery{Sort: sort, Asc: asc, Limit: 5})
							if err != nil || p.NextCursor == "" {
								t.Fatalf("%s: no cursor: %v", name, err)
							}
							c = p.NextCursor
							cursors[key] = c
						}
						q.Cursor = c
					}
					// Each facet, kind and query filter either drives the
					// search (a rare value) or is probed call by call (a
					// common one); check both.
					for _, mode := range []struct {
						name  string
						count int
					}{{"rare", 1}, {"common", calls}} {
						var facets []facetCond
						for _, f := range facetFilters(q) {
							facets = append(facets, facetCond{facetRow: f, vid: 1, calls: mode.count})
						}
						counts := searchCounts{calls: calls, facets: facets, kindRows: mode.count, keyRows: mode.count}
						sq, err := searchSQL(q, counts, store.MaxCallTotal)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						for _, stmt := range []struct {
							sql  string
							args []any
						}{{sq.walk, sq.walkArgs}, {sq.page, sq.pageArgs}, {sq.total, sq.totalArgs}} {
							if stmt.sql == "" {
								continue
							}
							plan := explain(t, db, stmt.sql, stmt.args)
							for _, line := range plan {
								if fullScan(line) {
									t.Errorf("%s/%s facets: full scan %q in plan of %s\n%s", name, mode.name, line, stmt.sql, strings.Join(plan, "\n"))
								}
							}
						}
						if len(facets) == 0 && len(q.IssueKinds) == 0 && q.Q == "" {
							break
						}
					}
					if _, err := db.SearchCalls(ctx, q); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
			}
		}
	}
}

// fullScan reports a plan step that reads a whole table without an index,
// or any of the facets table (f is the alias the facet probes give it),
// which a search only ever looks values up in.
func fullScan(detail string) bool {
	w := strings.Fields(detail)
	if len(w) < 2 || w[0] != "SCAN" {
		return false
	}
	switch w[1] {
	case "facets", "f":
		return true
	case "calls", "keys", "call_issues":
		return !strings.Contains(detail, " USING ")
	}
	return false
}

func explain(t testing.TB, db *DB, query string, args []any) []string {
	t.Helper()
	rows, err := db.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		out = append(out, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return out
}
