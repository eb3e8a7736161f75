// Package sqlite is calldiag's embedded store: one SQLite file (through
// modernc.org/sqlite) in WAL mode, written through a single connection and
// read through a small pool of read-only connections.
//
// Every Append is one transaction that also brings the per-call summary rows
// up to date, so a search never aggregates at query time. Merging rules keep
// the stored state independent of the order in which records arrive: the
// winning participant and stream rows are chosen by rank, sets and counters
// commute, and client operations logged before their call existed are
// attached to a call when read.
//
// It imports model and store only; it must not import ingest, pipeline, api
// or web.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"calldiag/internal/store"
)

// FileName is the name of the database file inside the store directory.
const FileName = "calldiag.db"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// errClosed is returned by every method after Close.
var errClosed = errors.New("store is closed")

// DB is the SQLite store. It is safe for concurrent use; appends are
// serialized.
type DB struct {
	log  *slog.Logger
	path string
	w    *sql.DB // exactly one connection; only Append and migrations write
	r    *sql.DB // read-only pool
	// rawBufs holds the buffers (*[]byte) that chunks are joined in
	// before compression.
	rawBufs sync.Pool

	mu     sync.Mutex // serializes Append and guards the fields below
	closed bool
	cache  writerCache
	// cacheEpoch is the expiry epoch the cache was filled under.
	cacheEpoch int64
	ix         idIndex
	// sinceOptimize counts records appended since the planner statistics
	// were last refreshed.
	sinceOptimize int
	prep          map[string]*sql.Stmt // Append's statements, prepared on w
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the store in directory dir; the file is
// dir/calldiag.db. A new or empty store behaves as an empty one.
func Open(ctx context.Context, dir string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := createFile(ctx, path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", path+"?_txlock=immediate"+
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
		"&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=analysis_limit(1000)")
	if err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{log: logger.With("component", "store.sqlite"), path: path, w: w}
	if err := db.init(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if err := db.prepareWrites(ctx); err != nil {
		w.Close()
		return nil, err
	}
	// Refresh planner statistics that are missing or stale (cheap with the
	// analysis limit), so searches keep their plans as the store grows.
	if _, err := w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		w.Close()
		return nil, fmt.Errorf("optimize: %w", err)
	}
	r, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)"+
		"&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open readers: %w", err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.r = r
	db.cache.reset()
	db.ix.limit = memLimit
	return db, nil
}

// pageSize is the page size of a new store. With 8 KiB rather than
// SQLite's default 4 KiB, a row of a WITHOUT ROWID table (a participant's,
// say) can be twice as long before it spills into an overflow page, which
// takes a page of its own however little spills.
const pageSize = 8192

// createFile creates the database file with the store's page size when it
// does not exist yet. The page size of an existing file is left alone: it
// cannot change once the file is in WAL mode.
func createFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	c, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	if _, err := c.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	return c.Close()
}

// init checks the journal mode and applies pending migrations.
func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return migrate(ctx, db.w, migrationFiles)
}

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql in version order.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and an underscore", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", ms[i].name, i+1)
		}
	}
	return ms, nil
}

// schemaVersion returns the version recorded in the store (0 for a new one).
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// migrate applies every migration newer than the store's version, each in
// its own transaction, and refuses a store newer than this binary.
func migrate(ctx context.Context, w *sql.DB, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	if _, err := w.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	cur, err := schemaVersion(ctx, w)
	if err != nil {
		return err
	}
	if cur > len(ms) {
		return fmt.Errorf("store schema version %d is newer than this program supports (%d)", cur, len(ms))
	}
	for _, m := range ms[cur:] {
		if err := applyMigration(ctx, w, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, w *sql.DB, m migration) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()
	// Another process may have migrated meanwhile; the immediate transaction
	// holds the write lock, so this check is reliable.
	cur, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if cur >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if step := programStep(m.name); step != nil {
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (?)", m.version); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// Close releases the store. Appends in progress finish first.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	for _, s := range db.prep {
		s.Close()
	}
	errR := db.r.Close()
	if _, err := db.w.Exec("PRAGMA optimize"); err != nil {
		db.log.Warn("optimize on close", "err", err)
	}
	errW := db.w.Close()
	if err := errors.Join(errR, errW); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Stats returns store-wide counts.
func (db *DB) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	tx, err := db.readTx(ctx)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT name, value FROM counters WHERE name IN ('records', 'calls', 'last_append_ns')")
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v int
		if err := rows.Scan(&name, &v); err != nil {
			return st, fmt.Errorf("stats: %w", err)
		}
		switch name {
		case "records":
			st.Records = v
		case "calls":
			st.Calls = v
		case "last_append_ns":
			st.LastAppend = time.Unix(0, int64(v)).UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM orphan_ops o
		WHERE NOT EXISTS (SELECT 1 FROM client_map m WHERE m.ci = o.ci)`).Scan(&st.UnlinkedOperations)
	if err != nil {
		return st, fmt.Errorf("stats: count unlinked operations: %w", err)
	}
	return st, nil
}

// readTx starts a read-only transaction so that the queries of one answer
// see one snapshot.
func (db *DB) readTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		if db.isClosed() {
			return nil, errClosed
		}
		return nil, fmt.Errorf("begin read: %w", err)
	}
	return tx, nil
}

func (db *DB) isClosed() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.closed
}
