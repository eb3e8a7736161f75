package clickhouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// view folds one stored call, or returns store.ErrNotFound. Every change
// to a call writes a new version of its row, so a fold made at the row's
// version is reused.
func (db *DB) view(ctx context.Context, id string) (*callfold.Call, *callRow, error) {
	h, err := db.head(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if v := db.viewCache.get(id, h.ver); v != nil {
		return v, h, nil
	}
	vs, err := db.views(ctx, []string{id})
	if err != nil {
		return nil, nil, fmt.Errorf("call %s: %w", id, err)
	}
	v := vs[id]
	if v == nil {
		return nil, nil, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	}
	db.viewCache.put(id, h.ver, v)
	return v, h, nil
}

// Call returns the overview of one call; see store.Store.
func (db *DB) Call(ctx context.Context, id string) (model.Call, error) {
	if db.closed.Load() {
		return model.Call{}, errClosed
	}
	v, h, err := db.view(ctx, id)
	if err != nil {
		return model.Call{}, err
	}
	c := v.Call
	c.Pinned = h.pinned != 0
	return c, nil
}

// Record returns the original bytes of a stored record; see store.Store.
func (db *DB) Record(ctx context.Context, id string) (store.StoredRecord, error) {
	if db.closed.Load() {
		return store.StoredRecord{}, errClosed
	}
	var callID, resource string
	var d time.Time
	var t int64
	err := db.conn.QueryRow(ctx, "SELECT call_id, resource, day, t FROM "+db.t("ids")+" WHERE id = ? LIMIT 1", id).
		Scan(&callID, &resource, &d, &t)
	if err != nil {
		if isNoRows(err) {
			return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, store.ErrNotFound)
		}
		return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
	}
	// A record stored again by a retried batch has a row per try; any
	// whose chunk is stored will do.
	rows, err := db.conn.Query(ctx, "SELECT category, rec_time, ver, raw_seq, raw_off, raw_len FROM "+db.t("records")+
		" WHERE resource = ? AND call_id = ? AND t = ? AND id = ?", resource, callID, t, id)
	if err != nil {
		return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
	}
	type stored struct {
		cat string
		rt  int64
		ver uint64
		ref rawRef
	}
	var found []stored
	for rows.Next() {
		var s stored
		if err := rows.Scan(&s.cat, &s.rt, &s.ver, &s.ref.seq, &s.ref.off, &s.ref.len); err != nil {
			rows.Close()
			return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
		}
		found = append(found, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
	}
	var cat string
	var rt int64
	var raw []byte
	for _, s := range found {
		b, ok, err := db.rawBytes(ctx, resource, callID, s.ver, s.ref)
		if err != nil {
			return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
		}
		if ok {
			cat, rt, raw = s.cat, s.rt, b
			break
		}
	}
	if raw == nil {
		// An expired call's record: its id stays known, its bytes are gone.
		return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, store.ErrNotFound)
	}
	if callID != "" {
		if _, err := db.head(ctx, callID); err != nil {
			return store.StoredRecord{}, fmt.Errorf("record %s: %w", id, err)
		}
	}
	return store.StoredRecord{ID: id, CallID: callID, Category: model.Category(cat), Resource: resource,
		Time: callfold.FromNS(rt), Raw: raw}, nil
}

func isNoRows(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no rows in result set")
}

// itemKey is the place of a timeline item; see store.TimelineKey.
type itemKey = store.TimelineKey

type item struct {
	key    itemKey
	event  *model.TimelineEvent
	series string // participant|stream|metric of a point
	value  float64
}

type seriesKey struct{ pid, stream, metric string }

// Timeline returns one page of a call's timeline; see store.Store.
func (db *DB) Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error) {
	tl := model.Timeline{Events: []model.TimelineEvent{}, Series: []model.Series{}}
	if db.closed.Load() {
		return tl, errClosed
	}
	limit := store.PageLimit(q.Limit, store.DefaultTimelineLimit, store.MaxTimelineLimit)
	var after *itemKey
	if q.Cursor != "" {
		k, err := store.ParseTimelineCursor(q.Cursor)
		if err != nil {
			return tl, fmt.Errorf("timeline: %w", err)
		}
		after = &k
	}
	want := func(string) bool { return true }
	if len(q.Kinds) > 0 {
		set := make(map[string]bool, len(q.Kinds))
		for _, k := range q.Kinds {
			set[k] = true
		}
		want = func(kind string) bool { return set[kind] }
	}
	v, h, err := db.view(ctx, q.CallID)
	if err != nil {
		return tl, fmt.Errorf("timeline: %w", err)
	}
	var from, to int64 = -1 << 63, 1<<63 - 1
	if !q.From.IsZero() {
		from = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		to = q.To.UnixNano()
	}
	keep := func(k itemKey, pid string) bool {
		switch {
		case !want(k.Kind):
		case q.ParticipantID != "" && pid != q.ParticipantID:
		case k.T < from || k.T >= to:
		case after != nil && !after.Less(k):
		default:
			return true
		}
		return false
	}
	var items []item
	for i := range v.Events {
		e := &v.Events[i]
		k := itemKey{T: callfold.NS(e.Time), Kind: e.Kind, ID: e.ID}
		if keep(k, e.ParticipantID) {
			items = append(items, item{key: k, event: e})
			if len(items) > limit {
				break
			}
		}
	}
	if want(model.KindMetric) {
		if items, err = db.points(ctx, q, h, v, from, to, after, limit, items); err != nil {
			return tl, fmt.Errorf("timeline %s: %w", q.CallID, err)
		}
	}
	slices.SortFunc(items, func(a, b item) int {
		switch {
		case a.key.Less(b.key):
			return -1
		case b.key.Less(a.key):
			return 1
		}
		return 0
	})
	if len(items) > limit {
		items = items[:limit]
		tl.NextCursor = items[limit-1].key.Cursor()
	}
	bySeries := make(map[string]int)
	for _, it := range items {
		if it.event != nil {
			tl.Events = append(tl.Events, *it.event)
			continue
		}
		i, ok := bySeries[it.series]
		if !ok {
			i = len(tl.Series)
			bySeries[it.series] = i
			f := strings.SplitN(it.series, "|", 3)
			pid := f[0]
			if ci, ok := strings.CutPrefix(pid, callfold.ClientPlaceholder); ok {
				pid = v.Clients[ci] // "" while the client instance is not known
			}
			tl.Series = append(tl.Series, model.Series{ParticipantID: pid, StreamID: f[1], Metric: f[2]})
		}
		tl.Series[i].Points = append(tl.Series[i].Points, model.Point{Time: callfold.FromNS(it.key.T), Value: it.value})
	}
	slices.SortStableFunc(tl.Series, func(a, b model.Series) int {
		if c := strings.Compare(a.ParticipantID, b.ParticipantID); c != 0 {
			return c
		}
		if c := strings.Compare(a.StreamID, b.StreamID); c != 0 {
			return c
		}
		return strings.Compare(a.Metric, b.Metric)
	})
	return tl, nil
}

// points reads up to limit+1 media-stats points of the window in item
// order.
func (db *DB) points(ctx context.Context, q store.TimelineQuery, h *callRow, v *callfold.Call, from, to int64,
	after *itemKey, limit int, items []item) ([]item, error) {
	if pts, ok := db.viewCache.pointsAt(q.CallID, h.ver); ok {
		return memPointItems(pts, q, h, v, from, to, after, limit, items)
	}
	conds := []string{"call_id = " + quote(q.CallID), "has_value = 1"}
	if len(h.resources) > 0 {
		// The leading key column: lets the primary index find the call.
		conds = append(conds, "resource IN "+inList(append(slices.Clone(h.resources), "")))
	}
	if from > -1<<63 {
		conds = append(conds, "t >= "+strconv.FormatInt(from, 10))
	}
	if to < 1<<63-1 {
		conds = append(conds, "t < "+strconv.FormatInt(to, 10))
	}
	if q.ParticipantID != "" {
		// A series of samples that named no participant is keyed by its
		// client instance; it belongs to the participant that instance is
		// mapped to.
		pids := []string{q.ParticipantID}
		for ci, pid := range v.Clients {
			if pid == q.ParticipantID {
				pids = append(pids, callfold.ClientPlaceholder+ci)
			}
		}
		slices.Sort(pids)
		conds = append(conds, "pid IN "+inList(pids))
	}
	if after != nil {
		switch {
		case after.Kind < model.KindMetric:
			conds = append(conds, "t >= "+strconv.FormatInt(after.T, 10))
		case after.Kind > model.KindMetric:
			conds = append(conds, "t > "+strconv.FormatInt(after.T, 10))
		default:
			// Exact on the time and series; the value and dup are compared
			// here, not in SQL, where a float literal might not parse back
			// to the same bits.
			f := strings.SplitN(after.ID, "\x00", 3)
			if len(f) != 3 {
				return nil, store.ErrBadCursor
			}
			conds = append(conds, fmt.Sprintf("(t, pid, stream, metric) >= (%d, %s, %s, %s)",
				after.T, quote(f[0]), quote(f[1]), quote(f[2])))
		}
	}
	query := "SELECT t, id, pid, stream, metric, value FROM " + db.t("points") +
		" WHERE " + strings.Join(conds, " AND ") + " ORDER BY t, pid, stream, metric, value, id LIMIT "
	// Rows skipped (a record stored twice by a retried batch, points at the
	// cursor's time and series up to the cursor) can leave a page short;
	// then ask again for more.
	for n := limit + 2; ; n *= 2 {
		got, full, err := db.pointRows(ctx, query+strconv.Itoa(n), n, after, limit, items)
		if err != nil {
			return nil, err
		}
		if full || len(got)-len(items) > limit {
			return got, nil
		}
	}
}

// pointRows runs a points query limited to n rows and appends the items
// after the cursor; full is false when the query returned all n rows, so
// that more may follow.
func (db *DB) pointRows(ctx context.Context, query string, n int, after *itemKey, limit int, items []item) ([]item, bool, error) {
	rows, err := db.conn.Query(ctx, query)
	if err != nil {
		return nil, false, fmt.Errorf("points: %w", err)
	}
	defer rows.Close()
	var last itemKey
	var lastID string
	read := 0
	added := 0
	for rows.Next() {
		read++
		var k itemKey
		var s seriesKey
		var id string
		var value float64
		if err := rows.Scan(&k.T, &id, &s.pid, &s.stream, &s.metric, &value); err != nil {
			return nil, false, fmt.Errorf("points: %w", err)
		}
		k.Kind = model.KindMetric
		k.ID = store.SeriesOrderKey(s.pid, s.stream, s.metric)
		k.VBits = int64(math.Float64bits(value))
		if read > 1 && k.T == last.T && k.ID == last.ID && value == math.Float64frombits(uint64(last.VBits)) {
			if id == lastID {
				continue // a record stored twice by a retried batch
			}
			k.Dup = last.Dup + 1
		}
		last, lastID = k, id
		if after != nil && !after.Less(k) {
			continue
		}
		if added > limit {
			continue
		}
		items = append(items, item{key: k, series: s.pid + "|" + s.stream + "|" + s.metric, value: value})
		added++
	}
	return items, read < n, rows.Err()
}

// Stats returns store-wide counts; see store.Store.
func (db *DB) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	if db.closed.Load() {
		return st, errClosed
	}
	var calls, records uint64
	err := db.conn.QueryRow(ctx, "SELECT count(), sum(records_) FROM (SELECT argMax(deleted, ver) AS deleted_,"+
		" argMax(records, ver) AS records_ FROM "+db.t("calls")+" GROUP BY call_id) WHERE deleted_ = 0").
		Scan(&calls, &records)
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	var callless uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+db.t("ids")+" WHERE call_id = ''").Scan(&callless); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	st.Calls, st.Records = int(calls), int(records+callless)
	var unlinked uint64
	err = db.conn.QueryRow(ctx, "SELECT uniqExact(id) FROM "+db.t("records")+" WHERE call_id = '' AND kind = ?"+
		" AND client_id NOT IN (SELECT client_id FROM "+db.t("clients")+")", kindOperation).Scan(&unlinked)
	if err != nil {
		return st, fmt.Errorf("stats: count unlinked operations: %w", err)
	}
	st.UnlinkedOperations = int(unlinked)
	var last int64
	var n uint64
	err = db.conn.QueryRow(ctx, "SELECT count(), argMax(value, ver) FROM "+db.t("meta")+" WHERE name = 'last_append'").
		Scan(&n, &last)
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if n > 0 && last != 0 {
		st.LastAppend = time.Unix(0, last).UTC()
	}
	return st, nil
}
