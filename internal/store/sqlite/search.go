package sqlite

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
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

// callCursor is the position after the last call of a page: its sort value
// and id, plus the order it belongs to.
type callCursor struct {
	sort  string
	asc   bool
	value string
	id    string
}

func (c callCursor) encode() string {
	dir := "d"
	if c.asc {
		dir = "a"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c.sort + "|" + dir + "|" + c.value + "|" + c.id))
}

func decodeCallCursor(s, sort string, asc bool) (callCursor, any, error) {
	var c callCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, nil, store.ErrBadCursor
	}
	parts := strings.SplitN(string(b), "|", 4)
	if len(parts) != 4 || parts[0] != sort || (parts[1] != "a" && parts[1] != "d") || (parts[1] == "a") != asc {
		return c, nil, store.ErrBadCursor
	}
	c = callCursor{sort: parts[0], asc: asc, value: parts[2], id: parts[3]}
	var v any
	if sort == store.SortDuration {
		v, err = strconv.ParseFloat(c.value, 64)
	} else {
		v, err = strconv.ParseInt(c.value, 10, 64)
	}
	if err != nil {
		return c, nil, store.ErrBadCursor
	}
	return c, v, nil
}

// prefixEnd returns the smallest string greater than every string that
// starts with p (0xff never occurs in UTF-8).
func prefixEnd(p string) string { return p + "\xff" }

// callFilter builds the WHERE clause shared by the page and the total,
// apart from the facet filters (see facetSQL).
func callFilter(q store.CallQuery) (string, []any, error) {
	var conds []string
	var args []any
	if kinds := issueKinds(q.IssueKinds); len(kinds) > 0 {
		conds = append(conds, "cid IN (SELECT cid FROM call_issues WHERE kind IN (?"+strings.Repeat(", ?", len(kinds)-1)+"))")
		for _, k := range kinds {
			args = append(args, k)
		}
	}
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
		args = append(args, canonicalLabel(q.Quality))
	}
	if strings.TrimSpace(q.Rating) != "" {
		conds = append(conds, "rating = ?")
		args = append(args, canonicalLabel(q.Rating))
	}
	if !q.Since.IsZero() {
		conds = append(conds, "start_ns >= ?")
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		conds = append(conds, "start_ns < ?")
		args = append(args, q.Until.UnixNano())
	}
	if key := strings.ToLower(strings.TrimSpace(q.Q)); key != "" {
		if utf8.RuneCountInString(key) >= minPrefix {
			conds = append(conds, "cid IN (SELECT cid FROM keys WHERE key >= ? AND key < ?)")
			args = append(args, key, prefixEnd(key))
		} else {
			conds = append(conds, "cid IN (SELECT cid FROM keys WHERE key = ?)")
			args = append(args, key)
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// detectionFilter reports whether q filters on a summary-row detection
// column (the kind filter goes through call_issues instead).
func detectionFilter(q store.CallQuery) bool {
	return q.MinSeverity != "" || q.HasIssues || strings.TrimSpace(q.Quality) != "" || strings.TrimSpace(q.Rating) != ""
}

// issueKinds returns the non-empty kinds of a filter, each once.
func issueKinds(in []string) []string {
	var out []string
	for _, k := range in {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// searchSQL returns the page query and the total query with their
// arguments. facets are q's facet filters with the number of calls that
// have each value, and calls is the number of calls in the store: they
// decide how each facet filter is applied.
func searchSQL(q store.CallQuery, facets []facetCond, calls int) (page string, pageArgs []any, total string, totalArgs []any, err error) {
	col, err := sortColumn(q.Sort)
	if err != nil {
		return "", nil, "", nil, err
	}
	sort := q.Sort
	if sort == "" {
		sort = store.SortStart
	}
	where, args, err := callFilter(q)
	if err != nil {
		return "", nil, "", nil, err
	}
	others := where != ""
	limit := pageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)
	probing := false
	for _, f := range facets {
		drives := f.drives(limit+1, calls)
		cond, fargs := facetSQL(f, drives)
		if where != "" {
			where += " AND "
		}
		where += cond
		args = append(args, fargs...)
		probing = probing || !drives
	}
	switch {
	case !others && len(facets) > 0:
		total, totalArgs = facetTotalSQL(facets)
	case where != "":
		total, totalArgs = "SELECT count(*) FROM calls WHERE "+where, args
	default:
		total = "SELECT count(*) FROM calls"
	}
	conds := where
	pageArgs = append([]any(nil), args...)
	if q.Cursor != "" {
		c, v, err := decodeCallCursor(q.Cursor, sort, q.Asc)
		if err != nil {
			return "", nil, "", nil, err
		}
		op := "<"
		if q.Asc {
			op = ">"
		}
		if conds != "" {
			conds += " AND "
		}
		conds += "(" + col + ", id) " + op + " (?, ?)"
		pageArgs = append(pageArgs, v, c.id)
	}
	dir := " DESC"
	if q.Asc {
		dir = " ASC"
	}
	order := " ORDER BY " + col + dir + ", id" + dir
	page = "SELECT id, start_ns, end_ns, duration, call_type, participants, client_types, resources, records," +
		" quality, rating, issue_count, issue_kinds, pinned FROM calls"
	switch {
	case detectionFilter(q) || probing:
		// The page is picked from an index that holds the sort columns (a
		// detection index, or the sort order's own while facets are
		// probed), and only its rows are then read.
		page += " WHERE cid IN (SELECT cid FROM calls WHERE " + conds + order + " LIMIT ?)" + order
	case conds != "":
		page += " WHERE " + conds + order + " LIMIT ?"
	default:
		page += order + " LIMIT ?"
	}
	pageArgs = append(pageArgs, limit+1)
	return page, pageArgs, total, totalArgs, nil
}

func pageLimit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}

// SearchCalls returns one page of call summaries; see store.CallQuery.
func (db *DB) SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	page := store.CallPage{Calls: []model.CallSummary{}}
	limit := pageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)
	tx, err := db.readTx(ctx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	facets, calls, err := facetCounts(ctx, tx, facetFilters(q))
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	pageSQL, pageArgs, totalSQL, totalArgs, err := searchSQL(q, facets, calls)
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	if err := tx.QueryRowContext(ctx, totalSQL, totalArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("search calls: count: %w", err)
	}
	rows, err := tx.QueryContext(ctx, pageSQL, pageArgs...)
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
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
			return page, fmt.Errorf("search calls: %w", err)
		}
		s.StartTime, s.EndTime, s.CallType = callfold.FromNS(start), callfold.FromNS(end), model.CallType(callType)
		if err := json.Unmarshal([]byte(clientTypes), &s.ClientTypes); err != nil {
			return page, fmt.Errorf("search calls: decode client types of %s: %w", s.ID, err)
		}
		if err := json.Unmarshal([]byte(resources), &s.ResourceIDs); err != nil {
			return page, fmt.Errorf("search calls: decode resources of %s: %w", s.ID, err)
		}
		if err := json.Unmarshal([]byte(kinds), &s.IssueKinds); err != nil {
			return page, fmt.Errorf("search calls: decode issue kinds of %s: %w", s.ID, err)
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
		page.Calls = append(page.Calls, s)
		startNS = append(startNS, start)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("search calls: %w", err)
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
		page.NextCursor = callCursor{sort: sort, asc: q.Asc, value: v, id: last.ID}.encode()
	}
	return page, nil
}
