package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// minPrefix is the shortest query that also matches as a prefix.
const minPrefix = 8

// sortColumn maps a sort order to its indexed column.
func sortColumn(sort string) (string, error) {
	switch sort {
	case "", store.SortStart:
		return "start_ns", nil
	case store.SortDuration:
		return "duration", nil
	case store.SortParticipants:
		return "participants", nil
	}
	return "", fmt.Errorf("unknown sort %q", sort)
}

func decodeCallCursor(s, sort string, asc bool) (store.CallCursor, any, error) {
	c, err := store.ParseCallCursor(s, sort, asc)
	if err != nil {
		return c, nil, err
	}
	var v any
	if sort == store.SortDuration {
		v, err = strconv.ParseFloat(c.Value, 64)
	} else {
		v, err = strconv.ParseInt(c.Value, 10, 64)
	}
	if err != nil {
		return c, nil, store.ErrBadCursor
	}
	return c, v, nil
}

// prefixEnd returns the smallest string greater than every string that
// starts with p (0xff never occurs in UTF-8).
func prefixEnd(p string) string { return p + "\xff" }

// andSQL joins two conditions, either of which may be empty.
func andSQL(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " AND " + b
}

// searchCounts are what the plan of a search depends on: the number of
// calls in the store, the facet filters with the number of calls that have
// each value, and the number of issue rows of the kind filter and of search
// keys that the query matches, each counted up to driveBound.
type searchCounts struct {
	calls    int
	facets   []facetCond
	kindRows int
	keyRows  int
}

// drives reports whether a filter that n calls (or rows) match should pick
// the calls of a page itself rather than be probed call by call along the
// sort order; see facetCond.drives.
func drives(n, limit, calls int) bool {
	return int64(n)*int64(n) <= int64(limit)*int64(max(calls, 1))
}

// driveBound is one more than the most rows a driving filter may have on
// a page of limit calls from a store of calls calls: counting further
// cannot change the plan.
func driveBound(limit, calls int) int {
	return int(math.Sqrt(float64(limit)*float64(max(calls, 1)))) + 1
}

// kindCount counts the issue rows of the given kinds, up to bound.
func kindCount(ctx context.Context, tx *sql.Tx, kinds []string, bound int) (int, error) {
	if len(kinds) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(kinds)+1)
	for _, k := range kinds {
		args = append(args, k)
	}
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM call_issues WHERE kind IN ("+
		placeholders(len(kinds))+") LIMIT ?)", append(args, bound)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count issue kinds: %w", err)
	}
	return n, nil
}

// kindSQL returns the condition of the kind filter on the calls table: the
// list of calls with one of the kinds when the filter drives, else a probe
// of each call for them.
func kindSQL(kinds []string, drives bool) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	if drives {
		return "cid IN (SELECT cid FROM call_issues WHERE kind IN (" + placeholders(len(kinds)) + "))", args
	}
	// A call has few issue rows: one lookup by call reads them all,
	// however many kinds there are (the unary plus keeps the kind out of
	// the lookup). LIMIT keeps the probe a lookup per call: without it the
	// planner may first read every issue row into a Bloom filter.
	return "EXISTS (SELECT 1 FROM call_issues i WHERE i.cid = calls.cid AND +i.kind IN (" + placeholders(len(kinds)) + ") LIMIT 1)", args
}

// keyCount counts the search keys that q.Q matches, up to bound.
func keyCount(ctx context.Context, tx *sql.Tx, q store.CallQuery, bound int) (int, error) {
	match, args := keyMatch(q, "key")
	if match == "" {
		return 0, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM keys WHERE "+match+" LIMIT ?)", append(args, bound)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count search keys: %w", err)
	}
	return n, nil
}

// keyMatch returns the condition on a key column that q.Q matches, or ""
// without a query.
func keyMatch(q store.CallQuery, col string) (string, []any) {
	key := strings.ToLower(strings.TrimSpace(q.Q))
	switch {
	case key == "":
		return "", nil
	case utf8.RuneCountInString(key) >= minPrefix:
		return col + " >= ? AND " + col + " < ?", []any{key, prefixEnd(key)}
	}
	return col + " = ?", []any{key}
}

// keySQL returns the condition of q.Q on the calls table: the list of
// calls with a matching search key when it drives, else a probe of each
// call's keys.
func keySQL(q store.CallQuery, drives bool) (string, []any) {
	if drives {
		match, args := keyMatch(q, "key")
		return "cid IN (SELECT cid FROM keys WHERE " + match + ")", args
	}
	match, args := keyMatch(q, "k.key")
	return "EXISTS (SELECT 1 FROM keys k WHERE k.cid = calls.cid AND " + match + " LIMIT 1)", args
}

// callFilter builds the WHERE clause shared by the page and the total,
// apart from the query, kind and facet filters (see keySQL, kindSQL and
// facetSQL).
func callFilter(q store.CallQuery) (string, []any, error) {
	var conds []string
	var args []any
	minSev := 0
	if q.MinSeverity != "" {
		minSev = model.Severity(strings.ToLower(strings.TrimSpace(string(q.MinSeverity)))).Rank()
		if minSev == 0 {
			return "", nil, fmt.Errorf("unknown severity %q", q.MinSeverity)
		}
	}
	if q.HasIssues {
		// A call has issues exactly when one is of severity warning or worse.
		minSev = max(minSev, model.SeverityWarning.Rank())
	}
	if minSev > 0 {
		conds = append(conds, "max_sev >= ?")
		args = append(args, minSev)
	}
	if strings.TrimSpace(q.Quality) != "" {
		conds = append(conds, "quality = ?")
		args = append(args, store.CanonicalLabel(q.Quality))
	}
	if strings.TrimSpace(q.Rating) != "" {
		conds = append(conds, "rating = ?")
		args = append(args, store.CanonicalLabel(q.Rating))
	}
	if !q.Since.IsZero() {
		conds = append(conds, "start_ns >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		conds = append(conds, "start_ns < ?")
		args = append(args, q.Until.UnixNano())
	}
	return strings.Join(conds, " AND "), args, nil
}

// detectionFilter reports whether q filters on a summary-row detection
// column (the kind filter goes through call_issues instead).
func detectionFilter(q store.CallQuery) bool {
	return q.MinSeverity != "" || q.HasIssues || strings.TrimSpace(q.Quality) != "" || strings.TrimSpace(q.Rating) != ""
}

// searchQueries are the statements of one search, each with its
// arguments.
type searchQueries struct {
	// walk, when set, looks for the page among the first calls of the sort
	// order only, walking its index; it is tried first, and its answer
	// stands when it fills the page (limit+1 rows). Otherwise page runs.
	walk     string
	walkArgs []any
	// page picks the page (limit+1 rows, the last one only telling that
	// another page follows).
	page     string
	pageArgs []any
	// total counts the matching calls up to a bound.
	total     string
	totalArgs []any
}

// pageCols are the columns of a call summary, as scanned by SearchCalls.
const pageCols = "SELECT id, start_ns, end_ns, duration, call_type, participants, client_types, resources, records," +
	" quality, rating, issue_count, issue_kinds, pinned FROM calls"

// searchSQL returns the statements of a search. The counts decide how the
// query, kind and facet filters are applied. The total query counts at most
// most+1 calls.
func searchSQL(q store.CallQuery, counts searchCounts, most int) (searchQueries, error) {
	var sq searchQueries
	col, err := sortColumn(q.Sort)
	if err != nil {
		return sq, err
	}
	sort := q.Sort
	if sort == "" {
		sort = store.SortStart
	}
	base, baseArgs, err := callFilter(q)
	if err != nil {
		return sq, err
	}
	limit := store.PageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)
	// Each of the query, kind and facet filters either drives the search
	// or is probed call by call; probes holds the latter form of each.
	calls, facets, kinds := counts.calls, counts.facets, store.FilterKinds(q.IssueKinds)
	hasQ := strings.TrimSpace(q.Q) != ""
	where, args := base, slices.Clone(baseArgs)
	var probes []string
	var probeArgs []any
	probing, driving := false, false
	apply := func(n int, cond func(drives bool) (string, []any)) {
		d := drives(n, limit+1, calls)
		c, cargs := cond(d)
		where, args = andSQL(where, c), append(args, cargs...)
		probing, driving = probing || !d, driving || d
		c, cargs = cond(false)
		probes, probeArgs = append(probes, c), append(probeArgs, cargs...)
	}
	if hasQ {
		apply(counts.keyRows, func(d bool) (string, []any) { return keySQL(q, d) })
	}
	if len(kinds) > 0 {
		apply(counts.kindRows, func(d bool) (string, []any) { return kindSQL(kinds, d) })
	}
	for _, f := range facets {
		apply(f.calls, func(d bool) (string, []any) { return facetSQL(f, d) })
	}
	// The total is counted through the query's keys, or else through the
	// kinds' issue rows unless the start time is bounded: they are read in
	// order and each of their calls is checked against the other filters
	// until the bound is reached. (Issue rows are read in call order, which
	// is about the order calls arrived in, so a time range would pass over
	// many of them first; the start time index serves it better.)
	timed := !q.Since.IsZero() || !q.Until.IsZero()
	switch {
	case hasQ || (len(kinds) > 0 && !timed):
		var driver string
		var dargs []any
		if hasQ {
			match, margs := keyMatch(q, "d.key")
			driver, dargs = "keys d CROSS JOIN calls ON calls.cid = d.cid WHERE "+match, margs
			probes, probeArgs = probes[1:], probeArgs[len(margs):]
		} else {
			driver = "call_issues d CROSS JOIN calls ON calls.cid = d.cid WHERE d.kind IN (" + placeholders(len(kinds)) + ")"
			for _, k := range kinds {
				dargs = append(dargs, k)
			}
			probes, probeArgs = probes[1:], probeArgs[len(kinds):]
		}
		rest := base
		for _, p := range probes {
			rest = andSQL(rest, p)
		}
		if rest != "" {
			driver += " AND " + rest
		}
		sq.total = "SELECT count(*) FROM (SELECT DISTINCT d.cid FROM " + driver + " LIMIT ?)"
		sq.totalArgs = append(append(append(dargs, baseArgs...), probeArgs...), most+1)
	case base == "" && len(facets) > 0:
		sq.total, sq.totalArgs = facetTotal(facets, most)
	case where != "":
		sq.total, sq.totalArgs = "SELECT count(*) FROM (SELECT 1 FROM calls WHERE "+where+" LIMIT ?)", append(slices.Clone(args), most+1)
	default:
		sq.total, sq.totalArgs = "SELECT min(coalesce((SELECT value FROM counters WHERE name = 'calls'), 0), ?)", []any{most + 1}
	}
	var after string
	var afterArgs []any
	if q.Cursor != "" {
		c, v, err := decodeCallCursor(q.Cursor, sort, q.Asc)
		if err != nil {
			return sq, err
		}
		op := "<"
		if q.Asc {
			op = ">"
		}
		after, afterArgs = "("+col+", id) "+op+" (?, ?)", []any{v, c.ID}
	}
	conds := andSQL(where, after)
	sq.pageArgs = append(slices.Clone(args), afterArgs...)
	dir := " DESC"
	if q.Asc {
		dir = " ASC"
	}
	order := " ORDER BY " + col + dir + ", id" + dir
	sq.page = pageCols
	switch {
	case sort != store.SortStart && where != "" && !driving && !probing:
		// Only detection and time filters: the page is looked for among
		// the first calls of the sort order, and when it is not found
		// there, the filters pick the calls instead of the sort order
		// (whose walk could pass any number of calls that do not match).
		// SQLite reads the walk in its own order, which the ORDER BY on
		// its columns keeps, so it stops at the page's last match. The
		// sort indexes hold the start time: only a detection filter needs
		// the rows themselves.
		cols, from := "cid, start_ns", "w.cid FROM (%s) AS w"
		if detectionFilter(q) {
			cols, from = "cid AS wcid", "calls.cid FROM (%s) AS w CROSS JOIN calls ON calls.cid = w.wcid"
		}
		walk := "SELECT " + cols + ", " + col + " AS wkey, id AS wid FROM calls"
		sq.walkArgs = slices.Clone(afterArgs)
		if after != "" {
			walk += " WHERE " + after
		}
		walk += order + " LIMIT ?"
		sq.walkArgs = append(sq.walkArgs, driveBound(limit+1, calls))
		sq.walk = pageCols + " WHERE cid IN (SELECT " + fmt.Sprintf(from, walk) + " WHERE " + where +
			" ORDER BY wkey" + dir + ", wid" + dir + " LIMIT ?)" + order
		sq.walkArgs = append(append(sq.walkArgs, args...), limit+1)
		// The unary plus keeps the sort order's index out.
		sq.page += " WHERE cid IN (SELECT cid FROM calls WHERE " + conds + " ORDER BY +" + col + dir + ", +id" + dir + " LIMIT ?)" + order
	case detectionFilter(q) || probing:
		// The page is picked from an index that holds the sort columns (a
		// detection index, or the sort order's own while facets or kinds
		// are probed), and only its rows are then read.
		sq.page += " WHERE cid IN (SELECT cid FROM calls WHERE " + conds + order + " LIMIT ?)" + order
	case conds != "":
		sq.page += " WHERE " + conds + order + " LIMIT ?"
	default:
		sq.page += order + " LIMIT ?"
	}
	sq.pageArgs = append(sq.pageArgs, limit+1)
	return sq, nil
}

// facetTotal counts, up to most+1, the calls of a search that has only
// facet filters without touching the calls table: one filter's count is
// kept, several are counted through the rarest value, probing each of its
// calls for the others.
func facetTotal(facets []facetCond, most int) (string, []any) {
	if len(facets) == 1 {
		return "SELECT min(coalesce((SELECT calls FROM facet_values WHERE id = ?), 0), ?)", []any{facets[0].vid, most + 1}
	}
	byCount := slices.Clone(facets)
	slices.SortStableFunc(byCount, func(a, b facetCond) int { return cmp.Compare(a.calls, b.calls) })
	q := "SELECT count(*) FROM (SELECT 1 FROM facets WHERE vid = ?"
	args := []any{byCount[0].vid}
	for _, f := range byCount[1:] {
		q += " AND EXISTS (SELECT 1 FROM facets f WHERE f.vid = ? AND f.cid = facets.cid)"
		args = append(args, f.vid)
	}
	return q + " LIMIT ?)", append(args, most+1)
}

// planSearch reads, in the search's transaction, what the plan of q
// depends on and returns its statements (see searchSQL).
func planSearch(ctx context.Context, tx *sql.Tx, q store.CallQuery, most int) (searchQueries, error) {
	var c searchCounts
	var err error
	if c.facets, c.calls, err = facetCounts(ctx, tx, facetFilters(q)); err != nil {
		return searchQueries{}, err
	}
	if c.facets == nil {
		err := tx.QueryRowContext(ctx, "SELECT coalesce((SELECT value FROM counters WHERE name = 'calls'), 0)").Scan(&c.calls)
		if err != nil {
			return searchQueries{}, fmt.Errorf("count calls: %w", err)
		}
	}
	bound := driveBound(store.PageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)+1, c.calls)
	if c.kindRows, err = kindCount(ctx, tx, store.FilterKinds(q.IssueKinds), bound); err != nil {
		return searchQueries{}, err
	}
	if c.keyRows, err = keyCount(ctx, tx, q, bound); err != nil {
		return searchQueries{}, err
	}
	return searchSQL(q, c, most)
}

// readSummaries runs a page query and returns its call summaries with
// their start times in nanoseconds.
func readSummaries(ctx context.Context, tx *sql.Tx, query string, args []any) ([]model.CallSummary, []int64, error) {
	calls := []model.CallSummary{}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var startNS []int64
	for rows.Next() {
		var s model.CallSummary
		var start, end int64
		var callType, clientTypes, resources, kinds string
		err := rows.Scan(&s.ID, &start, &end, &s.DurationSeconds, &callType, &s.ParticipantCount,
			&clientTypes, &resources, &s.RecordCount, &s.Quality, &s.Rating, &s.IssueCount, &kinds, &s.Pinned)
		if err != nil {
			return nil, nil, err
		}
		s.StartTime, s.EndTime, s.CallType = callfold.FromNS(start), callfold.FromNS(end), model.CallType(callType)
		if err := json.Unmarshal([]byte(clientTypes), &s.ClientTypes); err != nil {
			return nil, nil, fmt.Errorf("decode client types of %s: %w", s.ID, err)
		}
		if err := json.Unmarshal([]byte(resources), &s.ResourceIDs); err != nil {
			return nil, nil, fmt.Errorf("decode resources of %s: %w", s.ID, err)
		}
		if err := json.Unmarshal([]byte(kinds), &s.IssueKinds); err != nil {
			return nil, nil, fmt.Errorf("decode issue kinds of %s: %w", s.ID, err)
		}
		if s.IssueKinds == nil {
			s.IssueKinds = []string{}
		}
		if s.ResourceIDs == nil {
			s.ResourceIDs = []string{}
		}
		if s.ClientTypes == nil {
			s.ClientTypes = map[model.EndpointType]int{}
		}
		calls = append(calls, s)
		startNS = append(startNS, start)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return calls, startNS, nil
}

// SearchCalls returns one page of call summaries; see store.CallQuery.
func (db *DB) SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	page := store.CallPage{Calls: []model.CallSummary{}}
	limit := store.PageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)
	tx, err := db.readTx(ctx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	sq, err := planSearch(ctx, tx, q, store.MaxCallTotal)
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	if err := tx.QueryRowContext(ctx, sq.total, sq.totalArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("search calls: count: %w", err)
	}
	if page.Total > store.MaxCallTotal {
		page.Total, page.TotalCapped = store.MaxCallTotal, true
	}
	var startNS []int64
	if sq.walk != "" {
		if page.Calls, startNS, err = readSummaries(ctx, tx, sq.walk, sq.walkArgs); err != nil {
			return page, fmt.Errorf("search calls: %w", err)
		}
	}
	if len(page.Calls) <= limit {
		if page.Calls, startNS, err = readSummaries(ctx, tx, sq.page, sq.pageArgs); err != nil {
			return page, fmt.Errorf("search calls: %w", err)
		}
	}
	if len(page.Calls) > limit {
		page.Calls = page.Calls[:limit]
		last := page.Calls[limit-1]
		sort := q.Sort
		if sort == "" {
			sort = store.SortStart
		}
		var v string
		switch sort {
		case store.SortDuration:
			v = strconv.FormatFloat(last.DurationSeconds, 'g', -1, 64)
		case store.SortParticipants:
			v = strconv.Itoa(last.ParticipantCount)
		default:
			v = strconv.FormatInt(startNS[limit-1], 10)
		}
		page.NextCursor = store.CallCursor{Sort: sort, Asc: q.Asc, Value: v, ID: last.ID}.Encode()
	}
	return page, nil
}
