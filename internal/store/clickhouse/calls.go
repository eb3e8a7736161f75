package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// callRow is one version of a call's row in the calls table.
type callRow struct {
	id           string
	ver          uint64
	deleted      uint8
	start, end   int64
	duration     float64
	callType     string
	participants uint32
	clientTypes  string
	resources    []string
	records      uint64
	first, last  int64
	etypes       []string
	sdks         []string
	oses         []string
	resFacets    []string
	quality      string
	rating       string
	hasScore     uint8
	ratingScore  float64
	issueCount   uint32
	maxSev       uint8
	issueKinds   []string
	allKinds     []string
	pinned       uint8
}

// latestCols selects the newest version of every column of a call's row,
// grouped by call_id. The aliases end in an underscore so that they never
// shadow a column inside the aggregates.
const latestCols = `call_id, max(ver) AS ver_, argMax(deleted, ver) AS deleted_, argMax(start, ver) AS start_, argMax(end, ver) AS end_,
	argMax(duration, ver) AS duration_, argMax(call_type, ver) AS call_type_, argMax(participants, ver) AS participants_,
	argMax(client_types, ver) AS client_types_, argMax(resources, ver) AS resources_, argMax(records, ver) AS records_,
	argMax(first, ver) AS first_, argMax(last, ver) AS last_, argMax(endpoint_types, ver) AS endpoint_types_,
	argMax(sdks, ver) AS sdks_, argMax(oses, ver) AS oses_, argMax(res_facets, ver) AS res_facets_,
	argMax(quality, ver) AS quality_, argMax(rating, ver) AS rating_, argMax(has_score, ver) AS has_score_,
	argMax(rating_score, ver) AS rating_score_, argMax(issue_count, ver) AS issue_count_,
	argMax(max_sev, ver) AS max_sev_, argMax(issue_kinds, ver) AS issue_kinds_, argMax(all_kinds, ver) AS all_kinds_,
	argMax(pinned, ver) AS pinned_`

// rowCols are the aliases of latestCols in scan order.
const rowCols = `call_id, ver_, deleted_, start_, end_, duration_, call_type_, participants_, client_types_, resources_,
	records_, first_, last_, endpoint_types_, sdks_, oses_, res_facets_, quality_, rating_, has_score_, rating_score_,
	issue_count_, max_sev_, issue_kinds_, all_kinds_, pinned_`

func (r *callRow) dest() []any {
	return []any{&r.id, &r.ver, &r.deleted, &r.start, &r.end, &r.duration, &r.callType, &r.participants, &r.clientTypes,
		&r.resources, &r.records, &r.first, &r.last, &r.etypes, &r.sdks, &r.oses, &r.resFacets, &r.quality,
		&r.rating, &r.hasScore, &r.ratingScore, &r.issueCount, &r.maxSev, &r.issueKinds, &r.allKinds, &r.pinned}
}

// latest returns the newest rows of the given calls that are not deleted.
func (db *DB) latest(ctx context.Context, ids []string) (map[string]*callRow, error) {
	out := make(map[string]*callRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT "+latestCols+" FROM "+db.t("calls")+" WHERE call_id IN "+inList(ids)+
		" GROUP BY call_id")
	if err != nil {
		return nil, fmt.Errorf("read calls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &callRow{}
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("read calls: %w", err)
		}
		if r.deleted == 0 {
			out[r.id] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read calls: %w", err)
	}
	return out, nil
}

// head returns the newest row of one call, or store.ErrNotFound.
func (db *DB) head(ctx context.Context, id string) (*callRow, error) {
	m, err := db.latest(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	r := m[id]
	if r == nil {
		return nil, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	}
	return r, nil
}

// rowOf makes the new version of a call's row from its fold, keeping the
// detection and pin of the previous version (prev may be nil).
func rowOf(c *callfold.Call, prev *callRow) (*callRow, error) {
	ct, err := json.Marshal(c.Summary.ClientTypes)
	if err != nil {
		return nil, fmt.Errorf("encode client types: %w", err)
	}
	r := &callRow{id: c.Summary.ID, start: c.StartNS, end: c.EndNS, duration: c.Summary.DurationSeconds,
		callType: string(c.Summary.CallType), participants: uint32(c.Summary.ParticipantCount),
		clientTypes: string(ct), resources: c.Summary.ResourceIDs, records: uint64(c.Records),
		first: c.First, last: c.Last, etypes: c.Facets.EndpointTypes, sdks: c.Facets.SDKs, oses: c.Facets.OSes,
		resFacets: c.Facets.Resources, quality: store.UnknownLabel, rating: store.UnknownLabel,
		issueKinds: []string{}, allKinds: []string{}}
	if prev != nil {
		r.quality, r.rating, r.hasScore, r.ratingScore = prev.quality, prev.rating, prev.hasScore, prev.ratingScore
		r.issueCount, r.maxSev, r.issueKinds, r.allKinds = prev.issueCount, prev.maxSev, prev.issueKinds, prev.allKinds
		r.pinned = prev.pinned
	}
	return r, nil
}

// day is the partition day of a row whose time is ns.
func day(ns int64) time.Time {
	if ns <= 0 {
		return time.Unix(0, 0).UTC()
	}
	return time.Unix(0, ns).UTC().Truncate(24 * time.Hour)
}

// writeRows inserts new versions of call rows, each at its ver.
func (db *DB) writeRows(ctx context.Context, rows []*callRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("calls"))
	if err != nil {
		return fmt.Errorf("write calls: %w", err)
	}
	for _, r := range rows {
		d := r.start
		if d == 0 {
			d = r.first
		}
		err := b.Append(day(d), r.id, r.ver, r.deleted, r.start, r.end, r.duration, r.callType, r.participants,
			r.clientTypes, nonNil(r.resources), r.records, r.first, r.last, nonNil(r.etypes), nonNil(r.sdks),
			nonNil(r.oses), nonNil(r.resFacets), r.quality, r.rating, r.hasScore, r.ratingScore, r.issueCount,
			r.maxSev, nonNil(r.issueKinds), nonNil(r.allKinds), r.pinned)
		if err != nil {
			b.Abort()
			return fmt.Errorf("write call %s: %w", r.id, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("write calls: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// summaryOf is the search summary of a row.
func summaryOf(r *callRow) (model.CallSummary, error) {
	s := model.CallSummary{ID: r.id, StartTime: callfold.FromNS(r.start), EndTime: callfold.FromNS(r.end),
		DurationSeconds: r.duration, CallType: model.CallType(r.callType), ParticipantCount: int(r.participants),
		ResourceIDs: nonNil(r.resources), RecordCount: int(r.records), Quality: r.quality, Rating: r.rating,
		IssueCount: int(r.issueCount), IssueKinds: nonNil(r.issueKinds), Pinned: r.pinned != 0}
	if err := json.Unmarshal([]byte(r.clientTypes), &s.ClientTypes); err != nil {
		return s, fmt.Errorf("decode client types of %s: %w", r.id, err)
	}
	if s.ClientTypes == nil {
		s.ClientTypes = map[model.EndpointType]int{}
	}
	return s, nil
}
