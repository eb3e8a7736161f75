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

// summaryOnly makes n calls of one or two summary legs each, an hour apart
// divided by n, with participant ids that share long prefixes.
func summaryOnly(n int, base time.Time) []model.Record {
	recs := make([]model.Record, 0, 2*n)
	for i := range n {
		call := fmt.Sprintf("call-%08d", i)
		start := base.Add(time.Duration(i) * time.Hour / time.Duration(n))
		dur := float64(30 + i%600)
		legs := 1 + i%2
		for l := range legs {
			pid := fmt.Sprintf("participant-%08d-%d", i, l)
			recs = append(recs, model.Record{
				ID: fmt.Sprintf("rec-%08d-%d", i, l), Category: model.CatCallSummary, CallID: call,
				Resource: "/subscriptions/s/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs",
				Time:     start.Add(time.Duration(dur) * time.Second), Known: true,
				Raw: []byte(fmt.Sprintf(`{"correlationId":%q,"participantId":%q}`, call, pid)),
				Participant: &model.ParticipantRow{
					ParticipantID: pid, RawParticipantID: pid, EndpointID: "endpoint-" + pid,
					Identifier: fmt.Sprintf("8:acs:user-%08d", i%5000), EndpointType: model.EndpointVoIP,
					CallStartTime: start, CallDuration: &dur, CallType: model.CallTypeGroup,
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
	// The detector itself must notice a scan.
	if plan := explain(t, db, "SELECT id FROM calls WHERE call_type = ?", []any{"P2P"}); !fullScan(plan[0]) {
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
					pageSQL, pageArgs, totalSQL, totalArgs, err := searchSQL(q)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for _, stmt := range []struct {
						sql  string
						args []any
					}{{pageSQL, pageArgs}, {totalSQL, totalArgs}} {
						plan := explain(t, db, stmt.sql, stmt.args)
						for _, line := range plan {
							if fullScan(line) {
								t.Errorf("%s: full scan %q in plan of %s\n%s", name, line, stmt.sql, strings.Join(plan, "\n"))
							}
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

// fullScan reports a plan step that reads a whole table without an index.
func fullScan(detail string) bool {
	for _, table := range []string{"calls", "keys", "call_issues"} {
		if strings.HasPrefix(detail, "SCAN "+table) && !strings.Contains(detail, " USING ") {
			return true
		}
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
