package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/store"
)

// Retention removes whole calls. A call's age is the time of its newest
// record (calls.last_ns, the record's own time rather than its arrival), so
// a call whose uploads keep arriving late stays as long as they do.
//
// The record id index is not rewritten: the ids of removed records stay in
// id_runs and id_pages as tombstones that point at chunks which no longer
// exist. Re-delivered records of an expired call are therefore counted as
// duplicates and not stored, so such a call never reappears with only part
// of its records, and Record of such an id finds no chunk and reports
// store.ErrNotFound. The cost is that the index keeps about 24 bytes per
// removed record. To keep the tombstones meaningful a chunk id is never
// given out twice (see qIndexState), and only chunks whose ids are already
// written to the index are deleted.

// expireBatch is how many calls one Expire transaction removes at most, so
// that appends never wait long for the writer.
const expireBatch = 200

// SetPinned pins or unpins a call; see store.Store.
func (db *DB) SetPinned(ctx context.Context, callID string, pinned bool) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errClosed
	}
	res, err := db.w.ExecContext(ctx, "UPDATE calls SET pinned = ? WHERE id = ?", pinned, callID)
	if err != nil {
		return fmt.Errorf("pin call %s: %w", callID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("pin call %s: %w", callID, err)
	}
	if n == 0 {
		return fmt.Errorf("pin call %s: %w", callID, store.ErrNotFound)
	}
	return nil
}

// Expire removes every unpinned call whose newest record is older than
// before; see store.Store. Each transaction removes at most expireBatch
// calls and the writer lock is released between them.
func (db *DB) Expire(ctx context.Context, before time.Time) (store.ExpireResult, error) {
	var res store.ExpireResult
	if err := db.indexRecentIDs(ctx); err != nil {
		return res, fmt.Errorf("expire: %w", err)
	}
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("expire: %w", err)
		}
		calls, records, last, err := db.expireBatch(ctx, before.UnixNano(), after)
		if err != nil {
			return res, fmt.Errorf("expire: %w", withCancel(ctx, err))
		}
		res.Calls += calls
		res.Records += records
		if last == 0 {
			return res, nil
		}
		after = last
	}
}

// indexRecentIDs writes the ids of the chunks not yet in the record index
// out as a run, so that the chunks Expire deletes stay known as tombstones.
func (db *DB) indexRecentIDs(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errClosed
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	a := newAppender(db, tx)
	_, err = a.syncIndex(ctx)
	a.close()
	tx.Rollback()
	if err != nil {
		return err
	}
	if err := db.flushIDs(ctx); err != nil {
		return fmt.Errorf("index record ids: %w", err)
	}
	return nil
}

// expireBatch removes, in one transaction, up to expireBatch expired calls
// with a cid above after. It returns the calls and records it removed and
// the highest cid it looked at (0 when there are no more). A call with a
// chunk not yet in the record index is left for a later run.
func (db *DB) expireBatch(ctx context.Context, beforeNS, after int64) (calls, records int, last int64, err error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return 0, 0, 0, errClosed
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT cid, records FROM calls c
		WHERE cid > ? AND pinned = 0 AND last_ns IS NOT NULL AND last_ns < ?
		AND NOT EXISTS (SELECT 1 FROM chunks k WHERE k.cid = c.cid AND k.id >
			coalesce((SELECT value FROM counters WHERE name = 'index_upto'), 0))
		ORDER BY cid LIMIT ?`, after, beforeNS, expireBatch)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("select expired calls: %w", err)
	}
	var cids []string
	for rows.Next() {
		var cid int64
		var n int
		if err := rows.Scan(&cid, &n); err != nil {
			rows.Close()
			return 0, 0, 0, fmt.Errorf("select expired calls: %w", err)
		}
		cids = append(cids, strconv.FormatInt(cid, 10))
		records += n
		last = cid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("select expired calls: %w", err)
	}
	if len(cids) == 0 {
		return 0, 0, 0, nil
	}
	if err := deleteCalls(ctx, tx, "("+strings.Join(cids, ",")+")", len(cids), records); err != nil {
		return 0, 0, 0, err
	}
	// Writers in other processes cache rows that are gone now; the epoch
	// tells them to forget (see appender.checkEpoch).
	if _, err := tx.ExecContext(ctx, qBumpExpireEpoch); err != nil {
		return 0, 0, 0, fmt.Errorf("bump expiry epoch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, 0, fmt.Errorf("commit: %w", err)
	}
	// The writer cache maps call ids, series and client instances to rows
	// that are gone now.
	db.cache.reset()
	db.log.Debug("expired calls", "calls", len(cids), "records", records)
	return len(cids), records, last, nil
}

// deleteCalls removes every row of the calls in set, an SQL list of cids,
// and takes them out of the facet counts and the store counters.
func deleteCalls(ctx context.Context, tx *sql.Tx, set string, calls, records int) error {
	stmts := []struct{ what, sql string }{
		{"facet counts", `UPDATE facet_values SET calls = calls -
			(SELECT count(*) FROM facets f WHERE f.vid = facet_values.id AND f.cid IN ` + set + `)
			WHERE id IN (SELECT vid FROM facets WHERE cid IN ` + set + `)`},
		{"facets", "DELETE FROM facets WHERE cid IN " + set},
		// Client operations that arrived without a call id and belong to
		// no other call are shown only as part of these calls.
		{"unlinked operations", `DELETE FROM orphan_ops WHERE ci IN (SELECT ci FROM client_map WHERE cid IN ` + set + `)
			AND NOT EXISTS (SELECT 1 FROM client_map m WHERE m.ci = orphan_ops.ci AND m.cid NOT IN ` + set + `)`},
		{"client map", "DELETE FROM client_map WHERE cid IN " + set},
		{"keys", "DELETE FROM keys WHERE cid IN " + set},
		{"issues", "DELETE FROM call_issues WHERE cid IN " + set},
		{"detections", "DELETE FROM detections WHERE cid IN " + set},
		{"participants", "DELETE FROM participants WHERE cid IN " + set},
		{"streams", "DELETE FROM streams WHERE cid IN " + set},
		{"events", "DELETE FROM events WHERE cid IN " + set},
		{"points", "DELETE FROM points WHERE cid IN " + set},
		{"series", "DELETE FROM series WHERE cid IN " + set},
		{"surveys", "DELETE FROM surveys WHERE cid IN " + set},
		{"peer connections", "DELETE FROM peer_conns WHERE cid IN " + set},
		{"chunks", "DELETE FROM chunks WHERE cid IN " + set},
		{"calls", "DELETE FROM calls WHERE cid IN " + set},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			return fmt.Errorf("delete %s: %w", s.what, err)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE counters SET value = value - CASE name WHEN 'records' THEN ? ELSE ? END
		WHERE name IN ('records', 'calls')`, records, calls)
	if err != nil {
		return fmt.Errorf("update counters: %w", err)
	}
	return nil
}
