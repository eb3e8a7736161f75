package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// itemKey is the place of a timeline item; see store.TimelineKey.
type itemKey = store.TimelineKey

// item is one timeline entry before paging: an event or a point.
type item struct {
	key   itemKey
	event *model.TimelineEvent // nil for a point
	sid   int64
	value float64
}

// storedEventKinds are the kinds kept in the events table.
var storedEventKinds = []string{model.KindOperation, model.KindService, model.KindSurvey, model.KindUFD}

// Timeline returns one page of a call's timeline, or store.ErrNotFound.
func (db *DB) Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error) {
	tl := model.Timeline{Events: []model.TimelineEvent{}, Series: []model.Series{}}
	limit := store.PageLimit(q.Limit, store.DefaultTimelineLimit, store.MaxTimelineLimit)
	var after *itemKey
	if q.Cursor != "" {
		k, err := store.ParseTimelineCursor(q.Cursor)
		if err != nil {
			return tl, fmt.Errorf("timeline: %w", err)
		}
		after = &k
	}
	want := func(kind string) bool { return true }
	if len(q.Kinds) > 0 {
		set := make(map[string]bool, len(q.Kinds))
		for _, k := range q.Kinds {
			set[k] = true
		}
		want = func(kind string) bool { return set[kind] }
	}
	tx, err := db.readTx(ctx)
	if err != nil {
		return tl, err
	}
	defer tx.Rollback()
	h, err := loadCallHead(ctx, tx, q.CallID)
	if err != nil {
		return tl, fmt.Errorf("timeline: %w", err)
	}
	w := window{q: q, after: after, want: want}
	var items []item
	if items, err = w.storedEvents(ctx, tx, h.cid, limit, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
	}
	if items, err = w.points(ctx, tx, h.cid, limit, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
	}
	if items, err = w.legEvents(ctx, tx, h.cid, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
	}
	if items, err = w.orphanEvents(ctx, tx, h.cid, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key.Less(items[j].key) })
	if len(items) > limit {
		items = items[:limit]
		tl.NextCursor = items[limit-1].key.Cursor()
	}
	bySID := make(map[int64]int)
	for _, it := range items {
		if it.key.Kind != model.KindMetric {
			tl.Events = append(tl.Events, *it.event)
			continue
		}
		i, ok := bySID[it.sid]
		if !ok {
			i = len(tl.Series)
			bySID[it.sid] = i
			tl.Series = append(tl.Series, model.Series{})
		}
		tl.Series[i].Points = append(tl.Series[i].Points, model.Point{Time: callfold.FromNS(it.key.T), Value: it.value})
	}
	if err := describeSeries(ctx, tx, h.cid, bySID, tl.Series); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
	}
	sortSeries(tl.Series)
	return tl, nil
}

// sortSeries orders a timeline's series by participant, stream and metric,
// keeping the order of equal ones.
func sortSeries(series []model.Series) {
	sort.SliceStable(series, func(i, j int) bool {
		a, b := series[i], series[j]
		if a.ParticipantID != b.ParticipantID {
			return a.ParticipantID < b.ParticipantID
		}
		if a.StreamID != b.StreamID {
			return a.StreamID < b.StreamID
		}
		return a.Metric < b.Metric
	})
}

// window is the part of a timeline a query selects.
type window struct {
	q     store.TimelineQuery
	after *itemKey
	want  func(kind string) bool
}

// keep applies the filters to an item built in Go.
func (w *window) keep(k itemKey, pid string) bool {
	switch {
	case !w.want(k.Kind):
	case w.q.ParticipantID != "" && pid != w.q.ParticipantID:
	case !w.q.From.IsZero() && k.T < w.q.From.UnixNano():
	case !w.q.To.IsZero() && k.T >= w.q.To.UnixNano():
	case w.after != nil && !w.after.Less(k):
	default:
		return true
	}
	return false
}

// timeConds adds the time window to a query on column t.
func (w *window) timeConds(conds []string, args []any) ([]string, []any) {
	if !w.q.From.IsZero() {
		conds = append(conds, "t >= ?")
		args = append(args, w.q.From.UnixNano())
	}
	if !w.q.To.IsZero() {
		conds = append(conds, "t < ?")
		args = append(args, w.q.To.UnixNano())
	}
	return conds, args
}

func (w *window) storedEvents(ctx context.Context, tx *sql.Tx, cid int64, limit int, items []item) ([]item, error) {
	var kinds []any
	for _, k := range storedEventKinds {
		if w.want(k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return items, nil
	}
	conds := []string{"cid = ?"}
	args := []any{cid}
	conds, args = w.timeConds(conds, args)
	if len(kinds) < len(storedEventKinds) {
		conds = append(conds, "kind IN ("+placeholders(len(kinds))+")")
		args = append(args, kinds...)
	}
	if w.q.ParticipantID != "" {
		conds = append(conds, "pid = ?")
		args = append(args, w.q.ParticipantID)
	}
	if w.after != nil {
		conds = append(conds, "(t, kind, id) > (?, ?, ?)")
		args = append(args, w.after.T, w.after.Kind, w.after.ID)
	}
	args = append(args, limit+1)
	rows, err := tx.QueryContext(ctx, `SELECT t, kind, id, pid, name, result, code, subcode, dur, detail
		FROM events WHERE `+strings.Join(conds, " AND ")+` ORDER BY t, kind, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it := item{event: &model.TimelineEvent{}}
		var code, subcode sql.NullInt64
		var dur sql.NullFloat64
		e := it.event
		if err := rows.Scan(&it.key.T, &e.Kind, &e.ID, &e.ParticipantID, &e.Name, &e.Result, &code, &subcode, &dur, &e.Detail); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		it.key.Kind, it.key.ID = e.Kind, e.ID
		e.Time = callfold.FromNS(it.key.T)
		e.Code, e.SubCode, e.DurationMs = intPtr(code), intPtr(subcode), floatPtr(dur)
		e.RecordID = e.ID
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return items, nil
}

func intPtr(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func floatPtr(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// points reads packed points a minute at a time, in item order, until it
// has more than limit of them (or none are left).
func (w *window) points(ctx context.Context, tx *sql.Tx, cid int64, limit int, items []item) ([]item, error) {
	if !w.want(model.KindMetric) {
		return items, nil
	}
	var sids map[int64]bool
	if w.q.ParticipantID != "" {
		list, err := seriesOf(ctx, tx, cid, w.q.ParticipantID)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return items, nil
		}
		sids = make(map[int64]bool, len(list))
		for _, sid := range list {
			sids[sid.(int64)] = true
		}
	}
	keys, err := seriesKeys(ctx, tx, cid)
	if err != nil {
		return nil, err
	}
	// Points are sorted by the rank of their series' key, an integer
	// compare, rather than by the key itself.
	sorted := make([]int64, 0, len(keys))
	for sid := range keys {
		sorted = append(sorted, sid)
	}
	slices.SortFunc(sorted, func(a, b int64) int { return strings.Compare(keys[a], keys[b]) })
	ranks := make(map[int64]int, len(sorted))
	for i, sid := range sorted {
		ranks[sid] = i
	}
	var from, to int64 = math.MinInt64, math.MaxInt64
	if !w.q.From.IsZero() {
		from = w.q.From.UnixNano()
	}
	if !w.q.To.IsZero() {
		to = w.q.To.UnixNano()
	}
	if w.after != nil {
		from = max(from, w.after.T)
	}
	if from >= to {
		return items, nil
	}
	args := []any{cid, minuteOf(from)}
	cond := ""
	if to != math.MaxInt64 {
		cond = " AND minute <= ?"
		args = append(args, minuteOf(to-1))
	}
	rows, err := tx.QueryContext(ctx, "SELECT minute, data FROM points WHERE cid = ? AND minute >= ?"+cond+
		" ORDER BY minute, seq", args...)
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	defer rows.Close()
	minute := pointMinute{keys: keys, after: w.after}
	// A point of a series the call does not list has the empty key, which
	// sorts first.
	unknown := -1
	got := 0
	for rows.Next() {
		var m int64
		var data []byte
		if err := rows.Scan(&m, &data); err != nil {
			return nil, fmt.Errorf("points: %w", err)
		}
		if m != minute.m && len(minute.ps) > 0 {
			items, got = minute.flush(items, got, limit)
			if got > limit {
				return items, nil
			}
		}
		minute.m = m
		err := decodePoints(data, m, func(p point) {
			switch {
			case p.t < from || p.t >= to:
			case sids != nil && !sids[p.sid]:
			default:
				r, ok := ranks[p.sid]
				if !ok {
					r = unknown
				}
				p.rank = r
				minute.ps = append(minute.ps, p)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("points of minute %d: %w", m, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	items, _ = minute.flush(items, got, limit)
	return items, nil
}

// seriesNamesQuery lists a call's series with their names.
const seriesNamesQuery = `SELECT s.sid, s.pid, st.name, me.name FROM series s
	JOIN names st ON st.id = s.stream JOIN names me ON me.id = s.metric WHERE s.cid = ?`

// seriesKeys maps the call's series ids to their ordering keys.
func seriesKeys(ctx context.Context, tx *sql.Tx, cid int64) (map[int64]string, error) {
	rows, err := tx.QueryContext(ctx, seriesNamesQuery, cid)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	defer rows.Close()
	keys := make(map[int64]string)
	for rows.Next() {
		var sid int64
		var pid, stream, metric string
		if err := rows.Scan(&sid, &pid, &stream, &metric); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		keys[sid] = store.SeriesOrderKey(pid, stream, metric)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	return keys, nil
}

// pointMinute gathers the points of one minute, which may come from rows
// of several batches, so that they can be put in order.
type pointMinute struct {
	m     int64
	ps    []point
	keys  map[int64]string
	after *itemKey
}

// flush appends the gathered points that follow the cursor, in order, but
// never more than limit+1 items in all: later ones cannot be on this page.
func (pm *pointMinute) flush(items []item, got, limit int) ([]item, int) {
	slices.SortFunc(pm.ps, func(a, b point) int {
		if a.t != b.t {
			return cmpInt(a.t, b.t)
		}
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return cmp.Compare(a.value, b.value)
	})
	var prev itemKey
	for i, p := range pm.ps {
		if got > limit {
			break
		}
		k := itemKey{T: p.t, Kind: model.KindMetric, ID: pm.keys[p.sid], VBits: int64(math.Float64bits(p.value))}
		if i > 0 && k.T == prev.T && k.ID == prev.ID && p.value == pm.ps[i-1].value {
			k.Dup = prev.Dup + 1
		}
		prev = k
		if pm.after != nil && !pm.after.Less(k) {
			continue
		}
		items = append(items, item{key: k, sid: p.sid, value: p.value})
		got++
	}
	pm.ps = pm.ps[:0]
	return items, got
}

func seriesOf(ctx context.Context, tx *sql.Tx, cid int64, pid string) ([]any, error) {
	// A series of samples that named no participant is keyed by its client
	// instance; it belongs to the participant that instance is mapped to.
	rows, err := tx.QueryContext(ctx, `SELECT sid FROM series WHERE cid = ? AND (pid = ?
		OR pid IN (SELECT '`+clientPlaceholder+`' || ci FROM client_map WHERE cid = ? AND pid = ?))`, cid, pid, cid, pid)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var sid int64
		if err := rows.Scan(&sid); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		out = append(out, sid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	return out, nil
}

// legEvents derives join and leave events from each participant's winning
// summary row, so they always follow the newest version of the row.
func (w *window) legEvents(ctx context.Context, tx *sql.Tx, cid int64, items []item) ([]item, error) {
	if !w.want(model.KindJoin) && !w.want(model.KindLeave) {
		return items, nil
	}
	args := []any{cid}
	cond := ""
	if w.q.ParticipantID != "" {
		cond = " AND pid = ?"
		args = append(args, w.q.ParticipantID)
	}
	rows, err := tx.QueryContext(ctx, "SELECT pid, s_rid, s_data FROM participants WHERE cid = ? AND s_final IS NOT NULL"+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("legs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, rid string
		var data []byte
		if err := rows.Scan(&pid, &rid, &data); err != nil {
			return nil, fmt.Errorf("legs: %w", err)
		}
		var row model.ParticipantRow
		if err := decodeRow(data, &row); err != nil {
			return nil, fmt.Errorf("decode summary row of %s: %w", pid, err)
		}
		if row.StartTime.IsZero() {
			continue
		}
		var durMs *float64
		if row.Duration != nil {
			d := *row.Duration * 1000
			durMs = &d
		}
		start := row.StartTime.UTC()
		join := model.TimelineEvent{
			ID: "join:" + pid, Time: start, ParticipantID: pid, Kind: model.KindJoin, Name: "join",
			DurationMs: durMs, RecordID: rid, Detail: string(row.EndpointType),
		}
		if k := (itemKey{T: callfold.NS(start), Kind: model.KindJoin, ID: join.ID}); w.keep(k, pid) {
			items = append(items, item{key: k, event: &join})
		}
		if row.Duration == nil {
			continue
		}
		end := callfold.FromNS(callfold.NS(start) + secondsNS(*row.Duration))
		leave := model.TimelineEvent{
			ID: "leave:" + pid, Time: end, ParticipantID: pid, Kind: model.KindLeave, Name: "leave",
			Result: row.ResultCategory, Code: row.EndReason, SubCode: row.EndSubCode, RecordID: rid,
			Detail: string(row.EndpointType),
		}
		if k := (itemKey{T: callfold.NS(end), Kind: model.KindLeave, ID: leave.ID}); w.keep(k, pid) {
			items = append(items, item{key: k, event: &leave})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("legs: %w", err)
	}
	return items, nil
}

func (w *window) orphanEvents(ctx context.Context, tx *sql.Tx, cid int64, items []item) ([]item, error) {
	if !w.want(model.KindOperation) && !w.want(model.KindUFD) {
		return items, nil
	}
	ops, err := attachedOrphans(ctx, tx, cid)
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		k := itemKey{T: op.t, Kind: op.kind, ID: op.rid}
		if !w.keep(k, op.pid) {
			continue
		}
		items = append(items, item{key: k, event: &model.TimelineEvent{
			ID: op.rid, Time: callfold.FromNS(op.t), ParticipantID: op.pid, Kind: op.kind, Name: op.name,
			Result: op.result, Code: intPtr(op.code), SubCode: intPtr(op.subcode), DurationMs: floatPtr(op.dur),
			RecordID: op.rid, Detail: op.detail,
		}})
	}
	return items, nil
}

// describeSeries fills in the participant, stream and metric of each series.
func describeSeries(ctx context.Context, tx *sql.Tx, cid int64, bySID map[int64]int, series []model.Series) error {
	if len(bySID) == 0 {
		return nil
	}
	clients, err := clientParticipants(ctx, tx, cid)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, seriesNamesQuery, cid)
	if err != nil {
		return fmt.Errorf("series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid int64
		var s model.Series
		if err := rows.Scan(&sid, &s.ParticipantID, &s.StreamID, &s.Metric); err != nil {
			return fmt.Errorf("series: %w", err)
		}
		if ci, ok := strings.CutPrefix(s.ParticipantID, clientPlaceholder); ok {
			s.ParticipantID = clients[ci] // "" while the client instance is not known
		}
		if i, ok := bySID[sid]; ok {
			s.Points = series[i].Points
			series[i] = s
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	return nil
}

// clientParticipants maps the call's client instances to their participants.
func clientParticipants(ctx context.Context, tx *sql.Tx, cid int64) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT ci, pid FROM client_map WHERE cid = ?", cid)
	if err != nil {
		return nil, fmt.Errorf("client map: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var ci, pid string
		if err := rows.Scan(&ci, &pid); err != nil {
			return nil, fmt.Errorf("client map: %w", err)
		}
		m[ci] = pid
	}
	return m, rows.Err()
}
