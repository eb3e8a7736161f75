package clickhouse

import (
	"cmp"
	"context"
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

func sortColumn(sort string) (string, error) {
	switch sort {
	case "", store.SortStart:
		return "start_", nil
	case store.SortDuration:
		return "duration_", nil
	case store.SortParticipants:
		return "participants_", nil
	}
	return "", fmt.Errorf("unknown sort %q", sort)
}

func decodeCallCursor(s, sort string, asc bool) (store.CallCursor, string, error) {
	c, err := store.ParseCallCursor(s, sort, asc)
	if err != nil {
		return c, "", err
	}
	var lit string
	switch sort {
	case store.SortDuration:
		f, err := strconv.ParseFloat(c.Value, 64)
		if err != nil {
			return c, "", store.ErrBadCursor
		}
		lit = "toFloat64(" + strconv.FormatFloat(f, 'g', -1, 64) + ")"
	case store.SortParticipants:
		n, err := strconv.ParseUint(c.Value, 10, 32)
		if err != nil {
			return c, "", store.ErrBadCursor
		}
		lit = "toUInt32(" + strconv.FormatUint(n, 10) + ")"
	default:
		n, err := strconv.ParseInt(c.Value, 10, 64)
		if err != nil {
			return c, "", store.ErrBadCursor
		}
		lit = "toInt64(" + strconv.FormatInt(n, 10) + ")"
	}
	return c, lit, nil
}

// searchConds returns the conditions on the newest rows (outer) and on any
// version of a row (pre): a call whose newest row matches has some row
// that matches pre, so pre narrows the calls read before grouping.
func searchConds(q store.CallQuery) (outer, pre []string, err error) {
	outer = []string{"deleted_ = 0"}
	if kinds := store.FilterKinds(q.IssueKinds); len(kinds) > 0 {
		outer = append(outer, "hasAny(all_kinds_, ["+strings.Trim(inList(kinds), "()")+"])")
	}
	minSev := 0
	if q.MinSeverity != "" {
		minSev = model.Severity(strings.ToLower(strings.TrimSpace(string(q.MinSeverity)))).Rank()
		if minSev == 0 {
			return nil, nil, fmt.Errorf("unknown severity %q", q.MinSeverity)
		}
	}
	if q.HasIssues {
		minSev = max(minSev, model.SeverityWarning.Rank())
	}
	if minSev > 0 {
		outer = append(outer, "max_sev_ >= "+strconv.Itoa(minSev))
	}
	if strings.TrimSpace(q.Quality) != "" {
		outer = append(outer, "quality_ = "+quote(store.CanonicalLabel(q.Quality)))
	}
	if strings.TrimSpace(q.Rating) != "" {
		outer = append(outer, "rating_ = "+quote(store.CanonicalLabel(q.Rating)))
	}
	if !q.Since.IsZero() {
		v := strconv.FormatInt(q.Since.UnixNano(), 10)
		outer = append(outer, "start_ >= "+v)
		pre = append(pre, "start >= "+v, "day >= toDate("+quote(q.Since.UTC().Format("2006-01-02"))+")")
	}
	if !q.Until.IsZero() {
		v := strconv.FormatInt(q.Until.UnixNano(), 10)
		outer = append(outer, "start_ < "+v)
		pre = append(pre, "start < "+v, "day <= toDate("+quote(q.Until.UTC().Format("2006-01-02"))+")")
	}
	if q.CallType != "" {
		outer = append(outer, "call_type_ = "+quote(callfold.FacetValue(callfold.FacetCallType, q.CallType)))
	}
	for _, f := range []struct {
		col   string
		facet callfold.Facet
		v     string
	}{{"endpoint_types_", callfold.FacetEndpointType, q.EndpointType}, {"sdks_", callfold.FacetSDK, q.SDK},
		{"oses_", callfold.FacetOS, q.OS}, {"res_facets_", callfold.FacetResource, q.Resource}} {
		if strings.TrimSpace(f.v) != "" {
			outer = append(outer, "has("+f.col+", "+quote(callfold.FacetValue(f.facet, f.v))+")")
		}
	}
	return outer, pre, nil
}

// keyFilter is the subquery of calls whose search keys match q, or "".
func (db *DB) keyFilter(q store.CallQuery) string {
	key := strings.ToLower(strings.TrimSpace(q.Q))
	if key == "" {
		return ""
	}
	if utf8.RuneCountInString(key) >= minPrefix {
		return "SELECT call_id FROM " + db.t("keys") + " WHERE key >= " + quote(key) + " AND key < " + quote(key+"\xff")
	}
	return "SELECT call_id FROM " + db.t("keys") + " WHERE key = " + quote(key)
}

// latestSQL is the query of the newest rows of the calls that may match.
func (db *DB) latestSQL(q store.CallQuery, pre []string) string {
	inner := "SELECT " + latestCols + " FROM " + db.t("calls")
	var where []string
	if kf := db.keyFilter(q); kf != "" {
		where = append(where, "call_id IN ("+kf+")")
	}
	if len(pre) > 0 {
		where = append(where, "call_id IN (SELECT call_id FROM "+db.t("calls")+" WHERE "+strings.Join(pre, " AND ")+")")
	}
	if len(where) > 0 {
		inner += " WHERE " + strings.Join(where, " AND ")
	}
	return inner + " GROUP BY call_id"
}

// SearchCalls returns one page of call summaries; see store.CallQuery.
func (db *DB) SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error) {
	page := store.CallPage{Calls: []model.CallSummary{}}
	if db.closed.Load() {
		return page, errClosed
	}
	limit := store.PageLimit(q.Limit, store.DefaultCallLimit, store.MaxCallLimit)
	col, err := sortColumn(q.Sort)
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	sort := q.Sort
	if sort == "" {
		sort = store.SortStart
	}
	outer, pre, err := searchConds(q)
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	from := "(" + db.latestSQL(q, pre) + ")"
	// The total counts at most one call more than store.MaxCallTotal, so
	// that the reading stops early and a capped total is told apart.
	var total uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM (SELECT 1 FROM "+from+" WHERE "+strings.Join(outer, " AND ")+
		" LIMIT "+strconv.Itoa(store.MaxCallTotal+1)+")").Scan(&total); err != nil {
		return page, fmt.Errorf("search calls: count: %w", err)
	}
	page.Total = int(min(total, store.MaxCallTotal))
	page.TotalCapped = total > store.MaxCallTotal
	conds := slices.Clone(outer)
	if q.Cursor != "" {
		c, lit, err := decodeCallCursor(q.Cursor, sort, q.Asc)
		if err != nil {
			return page, fmt.Errorf("search calls: %w", err)
		}
		op := "<"
		if q.Asc {
			op = ">"
		}
		conds = append(conds, "("+col+", call_id) "+op+" ("+lit+", "+quote(c.ID)+")")
	}
	dir := " DESC"
	if q.Asc {
		dir = " ASC"
	}
	rows, err := db.conn.Query(ctx, "SELECT "+rowCols+" FROM "+from+" WHERE "+strings.Join(conds, " AND ")+
		" ORDER BY "+col+dir+", call_id"+dir+" LIMIT "+strconv.Itoa(limit+1))
	if err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	defer rows.Close()
	var last []*callRow
	for rows.Next() {
		r := &callRow{}
		if err := rows.Scan(r.dest()...); err != nil {
			return page, fmt.Errorf("search calls: %w", err)
		}
		s, err := summaryOf(r)
		if err != nil {
			return page, fmt.Errorf("search calls: %w", err)
		}
		page.Calls = append(page.Calls, s)
		last = append(last, r)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("search calls: %w", err)
	}
	if len(page.Calls) > limit {
		page.Calls = page.Calls[:limit]
		r := last[limit-1]
		var v string
		switch sort {
		case store.SortDuration:
			v = strconv.FormatFloat(r.duration, 'g', -1, 64)
		case store.SortParticipants:
			v = strconv.FormatUint(uint64(r.participants), 10)
		default:
			v = strconv.FormatInt(r.start, 10)
		}
		page.NextCursor = store.CallCursor{Sort: sort, Asc: q.Asc, Value: v, ID: r.id}.Encode()
	}
	return page, nil
}

// Facets returns the values of the facet filters that stored calls have;
// see store.Store.
func (db *DB) Facets(ctx context.Context) (store.Facets, error) {
	f := store.Facets{CallTypes: []store.FacetValue{}, EndpointTypes: []store.FacetValue{}, SDKs: []store.FacetValue{},
		OSes: []store.FacetValue{}, Resources: []store.FacetValue{}}
	if db.closed.Load() {
		return f, errClosed
	}
	latest := "(SELECT argMax(deleted, ver) AS deleted_, argMax(call_type, ver) AS call_type_," +
		" argMax(endpoint_types, ver) AS endpoint_types_, argMax(sdks, ver) AS sdks_, argMax(oses, ver) AS oses_," +
		" argMax(res_facets, ver) AS res_facets_ FROM " + db.t("calls") + " GROUP BY call_id)"
	for _, l := range []struct {
		expr string
		list *[]store.FacetValue
	}{
		{"call_type_", &f.CallTypes}, {"arrayJoin(endpoint_types_)", &f.EndpointTypes}, {"arrayJoin(sdks_)", &f.SDKs},
		{"arrayJoin(oses_)", &f.OSes}, {"arrayJoin(res_facets_)", &f.Resources},
	} {
		rows, err := db.conn.Query(ctx, "SELECT v, count() FROM (SELECT "+l.expr+" AS v FROM "+latest+
			" WHERE deleted_ = 0) WHERE v != '' GROUP BY v")
		if err != nil {
			return f, fmt.Errorf("facets: %w", err)
		}
		for rows.Next() {
			var v store.FacetValue
			var n uint64
			if err := rows.Scan(&v.Value, &n); err != nil {
				rows.Close()
				return f, fmt.Errorf("facets: %w", err)
			}
			v.Calls = int(n)
			*l.list = append(*l.list, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return f, fmt.Errorf("facets: %w", err)
		}
		slices.SortFunc(*l.list, func(a, b store.FacetValue) int {
			if c := cmp.Compare(b.Calls, a.Calls); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
	}
	return f, nil
}
