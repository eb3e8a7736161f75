// Package clickhouse is the scale-out store: records kept as an append-only
// log in ClickHouse MergeTree tables, with call views folded from a call's
// records when they are read (see callfold) and a per-call search summary
// written as a new row version whenever a call changes.
//
// It works with ClickHouse 18.16 (Debian's clickhouse-server) as well as
// current releases, so it keeps to their common SQL: Int64 nanosecond
// timestamps instead of DateTime64, JSON kept as String, no Map, TTL,
// window functions or LowCardinality, and argMax over a version column
// instead of FINAL to read the latest row of a ReplacingMergeTree.
//
// Writes from one process are serialized. Several processes may append to
// one database, records of the same calls included: each append counts the
// records stored of the calls it touches once its own are in, and folds a
// call again whole when its fold lacks some; call rows are versioned by
// record count first (see rowVersion), so the row made from the most
// records wins.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/klauspost/compress/zstd"

	"calldiag/internal/store"
)

// DB is a store in one ClickHouse database. It is safe for concurrent use.
type DB struct {
	conn driver.Conn
	name string // database
	log  *slog.Logger

	mu    sync.Mutex // serializes writes
	cache foldCache  // guarded by mu

	rawEnc *zstd.Encoder // compresses chunks of original records
	rawDec *zstd.Decoder

	viewCache viewCache
	closed    atomic.Bool
	gen       atomic.Int64 // last version handed out
	tick      atomic.Int64 // last row clock handed out
}

var _ store.Store = (*DB)(nil)

var errClosed = errors.New("store is closed")

// Open connects to the database a clickhouse:// URL names
// (clickhouse://[user[:password]@]host:port/database[?options], the
// driver's DSN options), creating the database and its tables when they do
// not exist.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "clickhouse" || u.Host == "" {
		return nil, fmt.Errorf("clickhouse store: %q is not a clickhouse://host:port/database URL", redact(dsn))
	}
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse store %s: %w", redact(dsn), err)
	}
	name := opts.Auth.Database
	if name == "" {
		name = "calldiag"
	}
	if !validName(name) {
		return nil, fmt.Errorf("clickhouse store: database name %q: use letters, digits and underscores", name)
	}
	// Connect without the database, which may not exist yet; every
	// statement names it.
	opts.Auth.Database = "default"
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 10 * time.Second
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse store %s: %w", redact(dsn), err)
	}
	enc, dec, err := newRawCodec()
	if err != nil {
		conn.Close()
		return nil, err
	}
	db := &DB{conn: conn, name: name, log: logger, rawEnc: enc, rawDec: dec}
	if err := conn.Ping(ctx); err != nil {
		db.closeCodec()
		conn.Close()
		return nil, fmt.Errorf("clickhouse store %s: %w", redact(dsn), err)
	}
	if err := db.migrate(ctx); err != nil {
		db.closeCodec()
		conn.Close()
		return nil, fmt.Errorf("clickhouse store %s: %w", redact(dsn), err)
	}
	return db, nil
}

// redact hides a password in a URL for messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func validName(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// t names a table of the store's database.
func (db *DB) t(table string) string { return "`" + db.name + "`." + table }

// A call's row and its detection are versioned first by the number of the
// call's records they were made from, then by when: the high 24 bits of a
// version hold the count, the low 40 a clock in milliseconds since 2020.
// Records are only ever added to a call, so when several processes append
// records of one call at once, the row folded from the most records wins
// whatever their clocks say, and a pin or a detection made from the same
// records wins over the row it follows. A call marked deleted has the
// highest count.
const (
	rowClockBits   = 40
	rowClockMask   = 1<<rowClockBits - 1
	maxRowRecords  = 1<<(64-rowClockBits) - 1
	rowClockOrigin = 1577836800000 // 2020-01-01, in Unix milliseconds
)

// rowTick returns the row clock, later than any this process handed out.
func (db *DB) rowTick() uint64 {
	for {
		old := db.tick.Load()
		v := max(time.Now().UnixMilli()-rowClockOrigin, old+1)
		if db.tick.CompareAndSwap(old, v) {
			return uint64(v) & rowClockMask
		}
	}
}

// rowVersion is the version of a row made from records at tick, later
// than prev (the newest row before it, or nil) when made from as many
// records.
func rowVersion(records, tick uint64, prev *callRow) uint64 {
	v := min(records, maxRowRecords)<<rowClockBits | tick&rowClockMask
	if prev != nil && prev.ver>>rowClockBits == v>>rowClockBits && v <= prev.ver {
		v = prev.ver + 1
	}
	return v
}

// nextVersion returns a version greater than any this process handed out
// before, close to the current time in nanoseconds, so that versions from
// writers in other processes interleave sensibly.
func (db *DB) nextVersion() uint64 {
	for {
		old := db.gen.Load()
		v := max(time.Now().UnixNano(), old+1)
		if db.gen.CompareAndSwap(old, v) {
			return uint64(v)
		}
	}
}

// Close releases the connection.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.closeCodec()
	return db.conn.Close()
}

func (db *DB) closeCodec() {
	db.rawEnc.Close()
	db.rawDec.Close()
}

// Drop removes the store's database with everything in it.
func (db *DB) Drop(ctx context.Context) error {
	return db.conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db.name+"`")
}

// insertRow inserts one row, its values in the table's column order. (An
// INSERT … VALUES with parameters never completes on ClickHouse 18.16 over
// the native protocol; a one-row batch does.)
func (db *DB) insertRow(ctx context.Context, table string, vals ...any) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t(table))
	if err != nil {
		return err
	}
	if err := b.Append(vals...); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

// quote writes s as a ClickHouse string literal.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString("\\0")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// inList writes a parenthesized list of string literals for IN; an empty
// set becomes a list no value matches.
func inList(vs []string) string {
	if len(vs) == 0 {
		return "(NULL)"
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(quote(v))
	}
	b.WriteByte(')')
	return b.String()
}

// Size returns the bytes of the store's active parts on disk and, of
// those, the compressed bytes of the original records (the raws table's
// data) and of the record id index (the ids table).
func (db *DB) Size(ctx context.Context) (total, rawArchive, idIndex int64, err error) {
	var t, r, ids uint64
	if err := db.conn.QueryRow(ctx, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = ? AND active",
		db.name).Scan(&t); err != nil {
		return 0, 0, 0, fmt.Errorf("store size: %w", err)
	}
	if err := db.conn.QueryRow(ctx, "SELECT sum(data_compressed_bytes) FROM system.columns WHERE database = ?"+
		" AND table = 'raws' AND name = 'data'", db.name).Scan(&r); err != nil {
		return 0, 0, 0, fmt.Errorf("store size: %w", err)
	}
	if err := db.conn.QueryRow(ctx, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = ? AND table = 'ids' AND active",
		db.name).Scan(&ids); err != nil {
		return 0, 0, 0, fmt.Errorf("store size: %w", err)
	}
	return int64(t), int64(r), int64(ids), nil
}

// PreferredBatchSize is the number of records the ingest pipeline should
// append at a time: every insert makes a part the server merges later, so
// ClickHouse wants them large.
func (db *DB) PreferredBatchSize() int { return 20000 }

// Database is the name of the store's database.
func (db *DB) Database() string { return db.name }
