package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The statements Append runs. They are prepared once when the store opens,
// since parsing SQL would otherwise cost more than running it.
const (
	qCallID       = "SELECT cid FROM calls WHERE id = ?"
	qInsertCall   = "INSERT INTO calls (id) VALUES (?)"
	qLoadCall     = "SELECT first_ns, last_ns, records, unknown, counts, resources FROM calls WHERE cid = ?"
	qNameID       = "SELECT id FROM names WHERE name = ?"
	qInsertName   = "INSERT INTO names (name) VALUES (?)"
	qInsertSeries = "INSERT INTO series (cid, pid, stream, metric, sid) VALUES (?, ?, ?, ?, ?)"
	qClientPID    = "SELECT pid FROM client_map WHERE ci = ? AND cid = ?"
	qHasOrphans   = "SELECT 1 FROM orphan_ops WHERE ci = ? LIMIT 1"
	qParticipants = "SELECT " + participantSelect + " FROM participants WHERE cid = ? ORDER BY pid"
	qUpsertStream = `INSERT INTO streams (cid, pid, media, dir, acs, final, ver, t, rid, server, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (cid, pid, media, dir, acs) DO UPDATE SET
			final = excluded.final, ver = excluded.ver, t = excluded.t, rid = excluded.rid,
			server = excluded.server, data = excluded.data
		WHERE (excluded.final, excluded.ver, excluded.t, excluded.rid) > (streams.final, streams.ver, streams.t, streams.rid)`
	qInsertOrphan = `INSERT INTO orphan_ops (rid, ci, t, kind, pid, name, result, code, subcode, dur, detail, ua, sdk)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qInsertSurvey     = `INSERT INTO surveys (cid, t, survey_id, rid, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qInsertPeerConn   = `INSERT INTO peer_conns (cid, pid, pc, t, rid, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qWriteParticipant = "INSERT OR REPLACE INTO participants (" + participantCols + ") VALUES (" +
		"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	qUpsertClient = `INSERT INTO client_map (ci, cid, pid) VALUES (?, ?, ?)
		ON CONFLICT (ci, cid) DO UPDATE SET pid = excluded.pid
		WHERE excluded.pid <> '' AND (client_map.pid = '' OR excluded.pid < client_map.pid)`
	qUpdateCall = `UPDATE calls SET start_ns = ?, end_ns = ?, duration = ?, call_type = ?,
		teams_thread = ?, participants = ?, client_types = ?, resources = ?, records = ?, unknown = ?, counts = ?,
		first_ns = ?, last_ns = ? WHERE cid = ?`
	qAddCounters = `INSERT INTO counters (name, value) VALUES ('records', ?), ('calls', ?)
		ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`
	qBumpExpireEpoch = `INSERT INTO counters (name, value) VALUES ('expire_epoch', 1)
		ON CONFLICT (name) DO UPDATE SET value = value + 1`
	qExpireEpoch   = "SELECT coalesce((SELECT value FROM counters WHERE name = 'expire_epoch'), 0)"
	qSetLastAppend = `INSERT INTO counters (name, value) VALUES ('last_append_ns', ?)
		ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)`
	qInsertChunk  = "INSERT INTO chunks (id, cid, meta, data) VALUES (?, ?, ?, ?)"
	qInsertPoints = "INSERT INTO points (cid, minute, seq, n, data) VALUES (?, ?, ?, ?, ?)"

	// The second column is the last chunk id ever used: retention may
	// delete the newest chunks, but their ids stay in the record index, so
	// a chunk id is never given out twice.
	qIndexState = `SELECT coalesce((SELECT value FROM counters WHERE name = 'index_upto'), 0),
		max(coalesce((SELECT max(id) FROM chunks), 0), coalesce((SELECT value FROM counters WHERE name = 'index_upto'), 0))`
	qChunksAfter    = "SELECT id, meta FROM chunks WHERE id > ? ORDER BY id"
	qRuns           = "SELECT run FROM id_runs ORDER BY run DESC"
	qRunPage        = "SELECT data FROM id_pages WHERE run = ? AND first <= ? ORDER BY first DESC LIMIT 1"
	qRunSizes       = "SELECT run, n FROM id_runs ORDER BY run DESC"
	qAllPages       = "SELECT run, first, data FROM id_pages ORDER BY run, first"
	qSetRunSize     = "UPDATE id_runs SET n = ? WHERE run = ?"
	qInsertRun      = "INSERT INTO id_runs (tier, n) VALUES (?, ?)"
	qInsertPage     = "INSERT INTO id_pages (run, first, data) VALUES (?, ?, ?)"
	qFullTier       = "SELECT tier FROM id_runs GROUP BY tier HAVING count(*) >= ? ORDER BY tier LIMIT 1"
	qRunsOfTier     = "SELECT run, n FROM id_runs WHERE tier = ? ORDER BY run LIMIT ?"
	qRunPages       = "SELECT data FROM id_pages WHERE run = ? ORDER BY first"
	qDeleteRunPages = "DELETE FROM id_pages WHERE run = ?"
	qDeleteRun      = "DELETE FROM id_runs WHERE run = ?"
	qSetIndexUpto   = `INSERT INTO counters (name, value) VALUES ('index_upto', ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`
)

// rowLadder are the row counts multi-row statements are prepared for; any
// number of rows is sent as a sum of these.
var rowLadder = [...]int{256, 64, 16, 4, 1}

// bulkSpec is a multi-row statement in every ladder size.
type bulkSpec struct {
	cols    int
	queries [len(rowLadder)]string
}

func newBulkSpec(head, row, tail string, cols int) *bulkSpec {
	s := &bulkSpec{cols: cols}
	for i, n := range rowLadder {
		var b strings.Builder
		b.WriteString(head)
		for j := range n {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
		}
		b.WriteString(tail)
		s.queries[i] = b.String()
	}
	return s
}

var (
	eventsSpec = newBulkSpec("INSERT INTO events (cid, t, kind, id, pid, name, result, code, subcode, dur, detail) VALUES ",
		"(?,?,?,?,?,?,?,?,?,?,?)", " ON CONFLICT DO NOTHING", 11)
	keysSpec = newBulkSpec("INSERT INTO keys (key, cid) VALUES ", "(?,?)", " ON CONFLICT DO NOTHING", 2)
)

// pageQueries read the id pages of one run with the given first keys, for
// each size of rowLadder.
var pageQueries = func() (qs [len(rowLadder)]string) {
	for i, n := range rowLadder {
		qs[i] = "SELECT first, data FROM id_pages WHERE run = ? AND first IN (" + placeholders(n) + ")"
	}
	return qs
}()

// pageQuery returns the largest page query for at most n pages.
func pageQuery(n int) (int, string) {
	for i, m := range rowLadder {
		if m <= n {
			return m, pageQueries[i]
		}
	}
	panic("pageQuery: no pages")
}

// writeQueries lists every statement prepared at open.
func writeQueries() []string {
	qs := []string{qCallID, qInsertCall, qLoadCall, qNameID, qInsertName, seriesNamesQuery,
		qInsertSeries, qClientPID, qHasOrphans, qParticipants, qUpsertStream, qInsertOrphan, qInsertSurvey, qInsertPeerConn,
		qWriteParticipant, qUpsertClient, qUpdateCall, qAddCounters, qInsertChunk, qInsertPoints,
		qIndexState, qChunksAfter, qRuns, qRunPage, qRunSizes, qAllPages, qInsertRun, qInsertPage, qSetRunSize,
		qFullTier, qRunsOfTier, qRunPages, qDeleteRunPages, qDeleteRun, qSetIndexUpto}
	for _, s := range []*bulkSpec{eventsSpec, keysSpec} {
		qs = append(qs, s.queries[:]...)
	}
	qs = append(qs, facetQueries()...)
	qs = append(qs, pageQueries[:]...)
	return qs
}

// prepareWrites prepares the writer's statements; it must run before any
// transaction holds the writer connection.
func (db *DB) prepareWrites(ctx context.Context) error {
	db.prep = make(map[string]*sql.Stmt)
	for _, q := range writeQueries() {
		s, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.40q: %w", q, err)
		}
		db.prep[q] = s
	}
	return nil
}

// stmt returns a statement of this transaction for query, reusing the one
// prepared at open when there is one.
func (a *appender) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	// Every statement of an append passes here: a cancelled append stops
	// at its next statement rather than running the batch to the end.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s, ok := a.stmts[query]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if p, ok := a.db.prep[query]; ok {
		s = a.tx.StmtContext(ctx, p)
	} else {
		var err error
		if s, err = a.tx.PrepareContext(ctx, query); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	a.stmts[query] = s
	return s, nil
}

func (a *appender) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := a.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// rowResult lets queryRow report a preparation error through Scan.
type rowResult struct {
	row *sql.Row
	err error
}

func (r rowResult) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

func (a *appender) queryRow(ctx context.Context, query string, args ...any) rowResult {
	s, err := a.stmt(ctx, query)
	if err != nil {
		return rowResult{err: err}
	}
	return rowResult{row: s.QueryRowContext(ctx, args...)}
}

func (a *appender) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := a.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// bulkInsert sends rows through the multi-row statements of a spec.
type bulkInsert struct {
	a       *appender
	spec    *bulkSpec
	args    []any
	pending int
}

func (a *appender) bulk(spec *bulkSpec) *bulkInsert {
	return &bulkInsert{a: a, spec: spec, args: make([]any, 0, rowLadder[0]*spec.cols)}
}

func (b *bulkInsert) add(ctx context.Context, vals ...any) error {
	b.args = append(b.args, vals...)
	b.pending++
	if b.pending < rowLadder[0] {
		return nil
	}
	return b.flush(ctx)
}

// flush sends the pending rows.
func (b *bulkInsert) flush(ctx context.Context) error {
	args := b.args
	for i, n := range rowLadder {
		for b.pending >= n {
			if _, err := b.a.exec(ctx, b.spec.queries[i], args[:n*b.spec.cols]...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			args = args[n*b.spec.cols:]
			b.pending -= n
		}
	}
	b.args = b.args[:0]
	return nil
}
