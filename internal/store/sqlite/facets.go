package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// The facets of a call, as numbered in the facet column of facet_values.
const (
	facetCallType     = 1
	facetEndpointType = 2
	facetSDK          = 3
	facetOS           = 4
	facetResource     = 5
)

// Statements that keep the facets.
const (
	qCallFacets       = "SELECT vid FROM facets WHERE cid = ? ORDER BY vid"
	qDeleteFacet      = "DELETE FROM facets WHERE vid = ? AND cid = ?"
	qFacetValueID     = "SELECT id FROM facet_values WHERE facet = ? AND value = ?"
	qInsertFacetValue = "INSERT INTO facet_values (facet, value) VALUES (?, ?)"
	qAddFacetCalls    = "UPDATE facet_values SET calls = calls + ? WHERE id = ?"
	qFacetCallHead    = "SELECT call_type, resources FROM calls WHERE cid = ?"
	qCallHasOrphans   = `SELECT 1 FROM client_map m WHERE m.cid = ?
		AND EXISTS (SELECT 1 FROM orphan_ops o WHERE o.ci = m.ci) LIMIT 1`
)

var facetsSpec = newBulkSpec("INSERT INTO facets (vid, cid) VALUES ", "(?,?)", " ON CONFLICT DO NOTHING", 2)

// facetQueries lists the statements of this file for prepareWrites.
func facetQueries() []string {
	qs := []string{qCallFacets, qDeleteFacet, qFacetValueID, qInsertFacetValue, qAddFacetCalls, qFacetCallHead, qCallHasOrphans}
	return append(qs, facetsSpec.queries[:]...)
}

// facetRow is one facet value of a call.
type facetRow struct {
	facet int
	value string
}

// endpointTypes are the endpoint types the model names.
var endpointTypes = []model.EndpointType{model.EndpointVoIP, model.EndpointPSTN, model.EndpointBot,
	model.EndpointServer, model.EndpointTeams, model.EndpointUnknown}

// facetValue spells v the way the facet stores and compares it, so that
// stored values and filters meet: a call type exactly as given; an endpoint
// type or OS family in its model spelling when it is one; everything else
// (SDK versions, resource ids, unknown spellings) trimmed and lower-cased.
func facetValue(facet int, v string) string {
	if facet == facetCallType {
		return v
	}
	v = strings.TrimSpace(v)
	switch facet {
	case facetEndpointType:
		for _, e := range endpointTypes {
			if strings.EqualFold(v, string(e)) {
				return string(e)
			}
		}
	case facetOS:
		for _, f := range model.OSFamilies() {
			if strings.EqualFold(v, f) {
				return f
			}
		}
	}
	return strings.ToLower(v)
}

// facetFilters returns the facet conditions of a search.
func facetFilters(q store.CallQuery) []facetRow {
	var out []facetRow
	if q.CallType != "" {
		out = append(out, facetRow{facetCallType, q.CallType})
	}
	for _, f := range []struct {
		facet int
		v     string
	}{{facetEndpointType, q.EndpointType}, {facetSDK, q.SDK}, {facetOS, q.OS}, {facetResource, q.Resource}} {
		if strings.TrimSpace(f.v) != "" {
			out = append(out, facetRow{f.facet, facetValue(f.facet, f.v)})
		}
	}
	return out
}

// facetCond is a facet filter of a search: its value's id (0, which no
// value has, when no call ever had it) and the number of calls with it.
type facetCond struct {
	facetRow
	vid   int64
	calls int
}

// facetCounts resolves, in the search's transaction, the value of each
// filter and reads how many calls have it and how many calls the store
// holds.
func facetCounts(ctx context.Context, tx *sql.Tx, filters []facetRow) ([]facetCond, int, error) {
	if len(filters) == 0 {
		return nil, 0, nil
	}
	var calls int
	err := tx.QueryRowContext(ctx, "SELECT coalesce((SELECT value FROM counters WHERE name = 'calls'), 0)").Scan(&calls)
	if err != nil {
		return nil, 0, fmt.Errorf("count calls: %w", err)
	}
	out := make([]facetCond, len(filters))
	for i, f := range filters {
		out[i].facetRow = f
		err := tx.QueryRowContext(ctx, "SELECT id, calls FROM facet_values WHERE facet = ? AND value = ?", f.facet, f.value).
			Scan(&out[i].vid, &out[i].calls)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, 0, fmt.Errorf("count facet: %w", err)
		}
	}
	return out, calls, nil
}

// drives reports whether a facet filter should pick the calls of a page
// itself: reading and sorting every call with its value costs less than
// walking the sort order and probing each call for it, as long as fewer
// than about sqrt(limit × calls) calls have the value.
func (c facetCond) drives(limit, calls int) bool {
	return int64(c.calls)*int64(c.calls) <= int64(limit)*int64(max(calls, 1))
}

// facetSQL returns the condition of a facet filter on the calls table: the
// list of calls with the value when the filter drives, else a probe of
// each call for it.
func facetSQL(c facetCond, drives bool) (string, []any) {
	if drives {
		return "cid IN (SELECT cid FROM facets WHERE vid = ?)", []any{c.vid}
	}
	return "EXISTS (SELECT 1 FROM facets f WHERE f.vid = ? AND f.cid = calls.cid)", []any{c.vid}
}

// callFacets derives the facet rows of a call, sorted, each once, from its
// call type, resources and merged participants. The agent strings of the
// client operations attached to the call only when read compete with the
// participants' own exactly as they do in the call's overview.
func callFacets(callType string, resources []string, parts []*partState, orphans []orphanOp) []facetRow {
	seen := make(map[facetRow]struct{})
	add := func(facet int, v string) {
		if v != "" {
			seen[facetRow{facet, facetValue(facet, v)}] = struct{}{}
		}
	}
	add(facetCallType, callType)
	for _, r := range resources {
		add(facetResource, r)
	}
	merged := make(map[string]*partState)
	for _, op := range orphans {
		p := merged[op.pid]
		if p == nil {
			i := slices.IndexFunc(parts, func(p *partState) bool { return p.pid == op.pid })
			if i < 0 {
				continue
			}
			cp := *parts[i]
			p = &cp
			merged[op.pid] = p
		}
		p.earliest(&p.ua, &p.uaNS, &p.uaRID, op.ua, op.t, op.rid)
		p.earliest(&p.sdk, &p.sdkNS, &p.sdkRID, op.sdk, op.t, op.rid)
	}
	for _, p := range parts {
		if m := merged[p.pid]; m != nil {
			p = m
		}
		add(facetEndpointType, string(p.endpointType()))
		sdk, osVersion := p.sdk, ""
		if p.sum != nil {
			if p.sum.sdk != "" {
				sdk = p.sum.sdk
			}
			osVersion = p.sum.os
		}
		if callfold.Usable(sdk) {
			add(facetSDK, sdk)
		}
		add(facetOS, model.OSFamily(osVersion, p.ua))
	}
	out := make([]facetRow, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b facetRow) int {
		if c := cmp.Compare(a.facet, b.facet); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	return out
}

// facetsStale reports whether a loaded call's facets may have changed in
// this batch.
func (c *callState) facetsStale() bool {
	if c.isNew || c.resChanged {
		return true
	}
	for _, p := range c.parts {
		if p.dirty {
			return true
		}
	}
	return false
}

// facetTarget is a call whose facets Append brings up to date.
type facetTarget struct {
	cid int64
	id  string
	c   *callState // nil for a call touched only through unlinked operations
}

// writeFacets replaces the facet rows of every call whose facets may have
// changed and adjusts the counts by the difference.
func (a *appender) writeFacets(ctx context.Context) error {
	var targets []facetTarget
	for cid, c := range a.calls {
		if c.facetsStale() {
			targets = append(targets, facetTarget{cid, c.id, c})
		}
	}
	for cid, id := range a.orphanCalls {
		if c, ok := a.calls[cid]; !ok || !c.facetsStale() {
			targets = append(targets, facetTarget{cid, id, c})
		}
	}
	if len(targets) == 0 {
		return nil
	}
	slices.SortFunc(targets, func(x, y facetTarget) int { return cmp.Compare(x.cid, y.cid) })
	// A call new to the store can have client instances, and so unlinked
	// operations, only through this batch.
	mapped := make(map[int64]bool)
	for k := range a.clients {
		mapped[k.cid] = true
	}
	deltas := make(map[int64]int)
	ins := a.bulk(facetsSpec)
	for _, t := range targets {
		orphans := t.c == nil || !t.c.isNew || mapped[t.cid]
		if err := a.replaceFacets(ctx, t, orphans, ins, deltas); err != nil {
			return fmt.Errorf("facets of call %s: %w", t.id, err)
		}
	}
	if err := ins.flush(ctx); err != nil {
		return fmt.Errorf("write facets: %w", err)
	}
	vids := make([]int64, 0, len(deltas))
	for vid, d := range deltas {
		if d != 0 {
			vids = append(vids, vid)
		}
	}
	slices.Sort(vids)
	for _, vid := range vids {
		if _, err := a.exec(ctx, qAddFacetCalls, deltas[vid], vid); err != nil {
			return fmt.Errorf("count facets: %w", err)
		}
	}
	return nil
}

// replaceFacets computes a call's facets, writes the rows that differ from
// the stored ones and adds the differences to deltas. withOrphans says
// whether the call may have unlinked operations attached.
func (a *appender) replaceFacets(ctx context.Context, t facetTarget, withOrphans bool, ins *bulkInsert, deltas map[int64]int) error {
	var callType string
	var resources []string
	var parts []*partState
	isNew := false
	if c := t.c; c != nil {
		callType, resources, parts, isNew = c.callType, c.resources, c.parts, c.isNew
	} else {
		var res string
		if err := a.queryRow(ctx, qFacetCallHead, t.cid).Scan(&callType, &res); err != nil {
			return fmt.Errorf("load call: %w", err)
		}
		if err := json.Unmarshal([]byte(res), &resources); err != nil {
			return fmt.Errorf("decode resources: %w", err)
		}
		rows, err := a.query(ctx, qParticipants, t.cid)
		if err != nil {
			return fmt.Errorf("load participants: %w", err)
		}
		if parts, err = scanParticipants(rows); err != nil {
			return err
		}
	}
	var orphans []orphanOp
	if withOrphans {
		var one int
		switch err := a.queryRow(ctx, qCallHasOrphans, t.cid).Scan(&one); {
		case err == nil:
			if orphans, err = attachedOrphans(ctx, a.tx, t.cid); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("check unlinked operations: %w", err)
		}
	}
	rows := callFacets(callType, resources, parts, orphans)
	want := make([]int64, len(rows))
	for i, r := range rows {
		vid, err := a.facetID(ctx, r)
		if err != nil {
			return err
		}
		want[i] = vid
	}
	slices.Sort(want)
	var have []int64
	if !isNew {
		var err error
		if have, err = a.storedFacets(ctx, t.cid); err != nil {
			return err
		}
	}
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		switch {
		case j == len(have) || (i < len(want) && want[i] < have[j]):
			if err := ins.add(ctx, want[i], t.cid); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			deltas[want[i]]++
			i++
		case i == len(want) || have[j] < want[i]:
			if _, err := a.exec(ctx, qDeleteFacet, have[j], t.cid); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
			deltas[have[j]]--
			j++
		default:
			i++
			j++
		}
	}
	return nil
}

// facetID returns the id of a facet value, interning it.
func (a *appender) facetID(ctx context.Context, r facetRow) (int64, error) {
	if id, ok := a.db.cache.facets[r]; ok {
		return id, nil
	}
	if id, ok := a.newFacets[r]; ok {
		return id, nil
	}
	var id int64
	err := a.queryRow(ctx, qFacetValueID, r.facet, r.value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		res, err = a.exec(ctx, qInsertFacetValue, r.facet, r.value)
		if err == nil {
			id, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("intern facet value: %w", err)
	}
	a.newFacets[r] = id
	return id, nil
}

// storedFacets reads the value ids of a call's facet rows, sorted.
func (a *appender) storedFacets(ctx context.Context, cid int64) ([]int64, error) {
	rows, err := a.query(ctx, qCallFacets, cid)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var vid int64
		if err := rows.Scan(&vid); err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		out = append(out, vid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return out, nil
}

// Facets returns the values of the facet filters that stored calls have;
// see store.Store. It reads only the interned values and the counts Append
// keeps with them.
func (db *DB) Facets(ctx context.Context) (store.Facets, error) {
	f := store.Facets{CallTypes: []store.FacetValue{}, EndpointTypes: []store.FacetValue{}, SDKs: []store.FacetValue{},
		OSes: []store.FacetValue{}, Resources: []store.FacetValue{}}
	tx, err := db.readTx(ctx)
	if err != nil {
		return f, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT facet, value, calls FROM facet_values WHERE calls > 0")
	if err != nil {
		return f, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	lists := map[int]*[]store.FacetValue{
		facetCallType: &f.CallTypes, facetEndpointType: &f.EndpointTypes, facetSDK: &f.SDKs,
		facetOS: &f.OSes, facetResource: &f.Resources,
	}
	for rows.Next() {
		var facet int
		var v store.FacetValue
		if err := rows.Scan(&facet, &v.Value, &v.Calls); err != nil {
			return f, fmt.Errorf("facets: %w", err)
		}
		if l := lists[facet]; l != nil {
			*l = append(*l, v)
		}
	}
	if err := rows.Err(); err != nil {
		return f, fmt.Errorf("facets: %w", err)
	}
	for _, l := range lists {
		slices.SortFunc(*l, func(a, b store.FacetValue) int {
			if c := cmp.Compare(b.Calls, a.Calls); c != 0 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		})
	}
	return f, nil
}
