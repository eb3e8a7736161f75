package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// detectionExtra is the part of a detection kept as one JSON value.
type detectionExtra struct {
	MOS          map[string]float64  `json:"mos,omitempty"`
	Completeness *model.Completeness `json:"completeness,omitempty"`
}

// ReplaceDetection stores the detection of a call; see store.Store.
func (db *DB) ReplaceDetection(ctx context.Context, callID string, d store.Detection) error {
	if db.closed.Load() {
		return errClosed
	}
	issues := slices.Clone(d.Issues)
	if issues == nil {
		issues = []model.Issue{}
	}
	store.SortIssues(issues)
	blob, err := json.Marshal(issues)
	if err != nil {
		return fmt.Errorf("replace detection of %s: encode issues: %w", callID, err)
	}
	var extra []byte
	if d.MOS != nil || d.Completeness != nil {
		if extra, err = json.Marshal(detectionExtra{MOS: d.MOS, Completeness: d.Completeness}); err != nil {
			return fmt.Errorf("replace detection of %s: encode: %w", callID, err)
		}
	}
	f := store.FactsOf(issues)
	db.mu.Lock()
	defer db.mu.Unlock()
	h, err := db.head(ctx, callID)
	if err != nil {
		return fmt.Errorf("replace detection: %w", err)
	}
	// A detection made from fewer records than the call now has (another
	// process appended some since it was read) is kept at their count, so
	// that it never hides the detection of the call as it is now.
	made := h.records
	if d.Records > 0 && uint64(d.Records) < made {
		made = uint64(d.Records)
	}
	ver := rowVersion(made, db.rowTick(), h)
	r := *h
	r.ver = ver
	r.quality, r.rating = store.CanonicalLabel(d.Quality), store.CanonicalLabel(d.Rating)
	r.hasScore, r.ratingScore = 0, 0
	if d.RatingScore != nil {
		r.hasScore, r.ratingScore = 1, *d.RatingScore
	}
	r.issueCount, r.maxSev, r.issueKinds, r.allKinds = uint32(f.Count), uint8(f.MaxSev), f.Kinds, f.AllKinds()
	// The detection and the row that sums it up go in side by side.
	err = parallel(
		func() error {
			return db.insertRow(ctx, "detections", callID, ver, string(blob), string(extra), d.Rules,
				uint64(max(d.Records, 0)))
		},
		func() error { return db.writeRows(ctx, []*callRow{&r}) },
	)
	if err != nil {
		return fmt.Errorf("replace detection of %s: %w", callID, err)
	}
	// The records are unchanged: a view folded at the previous version
	// stands for this one too.
	db.viewCache.carry(callID, h.ver, ver)
	return nil
}

// Detection returns the stored detection of a call; see store.Store.
func (db *DB) Detection(ctx context.Context, callID string) (store.Detection, error) {
	d := store.Detection{Quality: store.UnknownLabel, Rating: store.UnknownLabel, Issues: []model.Issue{}}
	if db.closed.Load() {
		return d, errClosed
	}
	h, err := db.head(ctx, callID)
	if err != nil {
		return d, fmt.Errorf("detection: %w", err)
	}
	d.Quality, d.Rating = h.quality, h.rating
	if h.hasScore != 0 {
		v := h.ratingScore
		d.RatingScore = &v
	}
	var n uint64
	var issues, extra, rules string
	var records uint64
	err = db.conn.QueryRow(ctx, "SELECT count(), argMax(issues, ver), argMax(extra, ver), argMax(rules, ver),"+
		" argMax(records, ver) FROM "+db.t("detections")+" WHERE call_id = ?", callID).
		Scan(&n, &issues, &extra, &rules, &records)
	if err != nil {
		return d, fmt.Errorf("detection of %s: %w", callID, err)
	}
	if n == 0 {
		return d, nil
	}
	if err := json.Unmarshal([]byte(issues), &d.Issues); err != nil {
		return d, fmt.Errorf("detection of %s: decode issues: %w", callID, err)
	}
	if d.Issues == nil {
		d.Issues = []model.Issue{}
	}
	d.Rules, d.Records = rules, int(records)
	if extra != "" {
		var x detectionExtra
		if err := json.Unmarshal([]byte(extra), &x); err != nil {
			return d, fmt.Errorf("detection of %s: decode: %w", callID, err)
		}
		d.MOS, d.Completeness = x.MOS, x.Completeness
	}
	return d, nil
}

// SetPinned pins or unpins a call; see store.Store.
func (db *DB) SetPinned(ctx context.Context, callID string, pinned bool) error {
	if db.closed.Load() {
		return errClosed
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	h, err := db.head(ctx, callID)
	if err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	r := *h
	r.pinned = 0
	if pinned {
		r.pinned = 1
	}
	if r.pinned == h.pinned {
		return nil
	}
	ver := rowVersion(h.records, db.rowTick(), h)
	r.ver = ver
	if err := db.writeRows(ctx, []*callRow{&r}); err != nil {
		return fmt.Errorf("pin %s: %w", callID, err)
	}
	db.viewCache.carry(callID, h.ver, ver)
	return nil
}

// expireBatch is how many calls one round of Expire removes.
const expireBatch = 1000

// Expire removes every unpinned call whose newest record is older than
// before; see store.Store. Each round marks its calls deleted (so they
// vanish from every read at once) and then deletes their rows with
// ClickHouse mutations, waiting until the mutations are done.
func (db *DB) Expire(ctx context.Context, before time.Time) (store.ExpireResult, error) {
	var res store.ExpireResult
	if db.closed.Load() {
		return res, errClosed
	}
	for {
		calls, records, err := db.expireRound(ctx, before.UnixNano())
		res.Calls += calls
		res.Records += records
		if err != nil {
			return res, fmt.Errorf("expire: %w", err)
		}
		if calls < expireBatch {
			return res, nil
		}
	}
}

func (db *DB) expireRound(ctx context.Context, beforeNS int64) (calls, records int, err error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	rows, err := db.conn.Query(ctx, "SELECT "+rowCols+" FROM (SELECT "+latestCols+" FROM "+db.t("calls")+
		" WHERE call_id IN (SELECT call_id FROM "+db.t("calls")+" WHERE last < ?) GROUP BY call_id)"+
		" WHERE deleted_ = 0 AND pinned_ = 0 AND last_ != 0 AND last_ < ? ORDER BY call_id LIMIT ?",
		beforeNS, beforeNS, expireBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("select expired calls: %w", err)
	}
	var gone []*callRow
	for rows.Next() {
		r := &callRow{}
		if err := rows.Scan(r.dest()...); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("select expired calls: %w", err)
		}
		gone = append(gone, r)
		records += int(r.records)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("select expired calls: %w", err)
	}
	if len(gone) == 0 {
		return 0, 0, nil
	}
	ids := make([]string, len(gone))
	tick := db.rowTick()
	for i, r := range gone {
		ids[i] = r.id
		r.deleted = 1
		r.ver = rowVersion(maxRowRecords, tick, nil)
	}
	// Operations stored without a call id go with the calls when no other
	// call has their client instance.
	orphanCIs, err := db.soleClients(ctx, ids)
	if err != nil {
		return 0, 0, err
	}
	db.cache.drop(ids...)
	if err := db.writeRows(ctx, gone); err != nil {
		return 0, 0, fmt.Errorf("mark expired calls: %w", err)
	}
	set := inList(ids)
	stmts := []string{
		"ALTER TABLE " + db.t("records") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("raws") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("points") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("keys") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("clients") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("detections") + " DELETE WHERE call_id IN " + set,
		"ALTER TABLE " + db.t("calls") + " DELETE WHERE call_id IN " + set,
	}
	if len(orphanCIs) > 0 {
		for _, table := range []string{"records", "raws"} {
			stmts = append(stmts, "ALTER TABLE "+db.t(table)+" DELETE WHERE call_id = '' AND kind = "+
				fmt.Sprint(kindOperation)+" AND client_id IN "+inList(orphanCIs))
		}
	}
	for _, s := range stmts {
		if err := db.conn.Exec(ctx, s); err != nil {
			return 0, 0, fmt.Errorf("delete expired rows: %w", err)
		}
	}
	if err := db.waitMutations(ctx); err != nil {
		return 0, 0, err
	}
	db.log.Debug("expired calls", "calls", len(gone), "records", records)
	return len(gone), records, nil
}

// soleClients returns the client instances of the calls that no other
// call knows.
func (db *DB) soleClients(ctx context.Context, ids []string) ([]string, error) {
	set := inList(ids)
	rows, err := db.conn.Query(ctx, "SELECT DISTINCT client_id FROM "+db.t("clients")+" WHERE call_id IN "+set+
		" AND client_id NOT IN (SELECT client_id FROM "+db.t("clients")+" WHERE call_id NOT IN "+set+")")
	if err != nil {
		return nil, fmt.Errorf("client instances of expired calls: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ci string
		if err := rows.Scan(&ci); err != nil {
			return nil, fmt.Errorf("client instances of expired calls: %w", err)
		}
		out = append(out, ci)
	}
	return out, rows.Err()
}

// waitMutations waits until the database's mutations are done.
func (db *DB) waitMutations(ctx context.Context) error {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		var n uint64
		err := db.conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = ? AND is_done = 0", db.name).
			Scan(&n)
		if err != nil {
			return fmt.Errorf("wait for deletes: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for deletes: %w", ctx.Err())
		case <-time.After(delay):
		}
	}
}
