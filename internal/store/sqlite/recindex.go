package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
)

// Record ids are content hashes, so they arrive in random order. Putting
// each into an id-ordered B-tree as it arrives would cost a row and a random
// page write per record. Instead the writer keeps the ids of the newest
// chunks in memory and every memLimit records writes them out as one sorted
// run; runs of a tier are merged into one run of the next tier when
// runsPerTier of them have gathered, so a lookup visits a few runs and every
// id is rewritten only a few times.
const (
	memLimit    = 200_000
	runsPerTier = 4
	pageEntries = 56 // entries per id_pages row, so that a row fits in one SQLite page
	entrySize   = 16 // hash and seq, 8 bytes each
)

// idIndex is the writer's view of the record ids.
type idIndex struct {
	limit  int // memLimit; smaller in tests
	valid  bool
	upto   int64            // index_upto: the ids of chunks up to this one are in runs
	loaded int64            // highest chunk whose ids are in mem
	mem    map[string]int64 // id -> seq of the records of chunks after upto
	bloom  *bloom           // the hashes in runs; nil until built
}

// idHash is the 64-bit hash records are indexed by.
func idHash(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64())
}

// bloom is a Bloom filter over the hashes in the runs: a new record id, the
// common case, is then known to be new without a lookup.
type bloom struct {
	bits []uint64
	mask uint64
	n    int
}

// bloomBitsPer is the filter size per entry; with four probes about one
// lookup in 400 is a false alarm.
const bloomBitsPer = 16

func newBloom(n int) *bloom {
	m := uint64(1 << 20)
	for m < uint64(n)*bloomBitsPer*2 {
		m <<= 1
	}
	return &bloom{bits: make([]uint64, m/64), mask: m - 1}
}

func (b *bloom) probes(h int64, fn func(pos uint64) bool) bool {
	x := uint64(h)
	d := (x*0x9e3779b97f4a7c15)>>32 | 1
	for i := range uint64(4) {
		if !fn((x + i*d) & b.mask) {
			return false
		}
	}
	return true
}

func (b *bloom) add(h int64) {
	b.probes(h, func(pos uint64) bool {
		b.bits[pos/64] |= 1 << (pos % 64)
		return true
	})
	b.n++
}

func (b *bloom) has(h int64) bool {
	return b.probes(h, func(pos uint64) bool { return b.bits[pos/64]&(1<<(pos%64)) != 0 })
}

// full reports that the filter has reached its planned load.
func (b *bloom) full() bool { return uint64(b.n)*bloomBitsPer > b.mask+1 }

// indexEntry is one id in a run: its hash and its record's seq.
type indexEntry struct {
	h, seq int64
}

func compareEntries(a, b indexEntry) int {
	if c := cmpInt(a.h, b.h); c != 0 {
		return c
	}
	return cmpInt(a.seq, b.seq)
}

func encodeEntries(es []indexEntry) []byte {
	b := make([]byte, 0, len(es)*entrySize)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint64(b, uint64(e.h))
		b = binary.LittleEndian.AppendUint64(b, uint64(e.seq))
	}
	return b
}

var errBadPage = errors.New("corrupt id page")

func decodeEntries(b []byte, es []indexEntry) ([]indexEntry, error) {
	if len(b)%entrySize != 0 {
		return es, errBadPage
	}
	for ; len(b) > 0; b = b[entrySize:] {
		es = append(es, indexEntry{int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))})
	}
	return es, nil
}

// rowQuerier runs a single-row query.
type rowQuerier func(ctx context.Context, query string, args ...any) interface{ Scan(...any) error }

// rowsQuerier runs a query.
type rowsQuerier func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// recordID returns the id of the record with the given seq.
func recordID(ctx context.Context, q rowQuerier, seq int64) (string, error) {
	chunk, idx := chunkOf(seq)
	var meta []byte
	if err := q(ctx, qChunkMeta, chunk).Scan(&meta); err != nil {
		return "", fmt.Errorf("read chunk %d: %w", chunk, err)
	}
	e, err := metaAt(meta, idx)
	if err != nil {
		return "", fmt.Errorf("read chunk %d: %w", chunk, err)
	}
	return e.id, nil
}

// lookupID finds the seq of the record with the given id in the runs.
func lookupID(ctx context.Context, q rowQuerier, qs rowsQuerier, id string) (int64, bool, error) {
	h := idHash(id)
	rows, err := qs(ctx, qRuns)
	if err != nil {
		return 0, false, fmt.Errorf("list id runs: %w", err)
	}
	var runs []int64
	for rows.Next() {
		var run int64
		if err := rows.Scan(&run); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("list id runs: %w", err)
		}
		runs = append(runs, run)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("list id runs: %w", err)
	}
	var es []indexEntry
	for _, run := range runs {
		var data []byte
		err := q(ctx, qRunPage, run, h).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("read id run %d: %w", run, err)
		}
		if es, err = decodeEntries(data, es[:0]); err != nil {
			return 0, false, fmt.Errorf("read id run %d: %w", run, err)
		}
		for _, e := range es {
			if e.h != h {
				continue
			}
			stored, err := recordID(ctx, q, e.seq)
			if err != nil {
				return 0, false, err
			}
			if stored == id {
				return e.seq, true, nil
			}
		}
	}
	return 0, false, nil
}

// syncIndex brings the in-memory ids up to date with the store; another
// process may have appended or merged since this one last wrote. It returns
// the next free chunk id.
func (a *appender) syncIndex(ctx context.Context) (int64, error) {
	ix := &a.db.ix
	var upto, last int64
	if err := a.queryRow(ctx, qIndexState).Scan(&upto, &last); err != nil {
		return 0, fmt.Errorf("read index state: %w", err)
	}
	if !ix.valid || upto != ix.upto || last < ix.loaded {
		ix.mem = make(map[string]int64)
		ix.upto, ix.loaded, ix.valid = upto, upto, true
		ix.bloom = nil
	}
	if ix.bloom == nil {
		if err := a.buildBloom(ctx); err != nil {
			ix.valid = false
			return 0, fmt.Errorf("read record index: %w", err)
		}
	}
	if last > ix.loaded {
		if err := a.loadRecentIDs(ctx); err != nil {
			ix.valid = false
			return 0, fmt.Errorf("load recent ids: %w", err)
		}
	}
	return last + 1, nil
}

func (a *appender) buildBloom(ctx context.Context) error {
	var n int
	if err := a.queryRow(ctx, qIndexCount).Scan(&n); err != nil {
		return err
	}
	b := newBloom(n + a.db.ix.limit)
	var es []indexEntry
	err := a.collect(ctx, qAllPages, nil, func(rows *sql.Rows) error {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return err
		}
		var err error
		if es, err = decodeEntries(data, es[:0]); err != nil {
			return err
		}
		for _, e := range es {
			b.add(e.h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.db.ix.bloom = b
	return nil
}

func (a *appender) loadRecentIDs(ctx context.Context) error {
	ix := &a.db.ix
	return a.collect(ctx, qChunksAfter, []any{ix.loaded}, func(rows *sql.Rows) error {
		var chunk int64
		var meta []byte
		if err := rows.Scan(&chunk, &meta); err != nil {
			return err
		}
		if err := eachMeta(meta, func(idx int, e metaEntry) bool {
			ix.mem[e.id] = chunk<<seqShift | int64(idx)
			return true
		}); err != nil {
			return fmt.Errorf("chunk %d: %w", chunk, err)
		}
		ix.loaded = chunk
		return nil
	})
}

// storedIDs returns which of ids are already stored.
func (a *appender) storedIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	found := make(map[string]bool)
	ix := &a.db.ix
	q, qs := a.queryRowFunc(), a.queryFunc()
	for _, id := range ids {
		if _, ok := ix.mem[id]; ok {
			found[id] = true
			continue
		}
		if !ix.bloom.has(idHash(id)) {
			continue
		}
		_, ok, err := lookupID(ctx, q, qs, id)
		if err != nil {
			return nil, fmt.Errorf("check ids: %w", err)
		}
		if ok {
			found[id] = true
		}
	}
	return found, nil
}

func (a *appender) collect(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := a.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (a *appender) queryRowFunc() rowQuerier {
	return func(ctx context.Context, query string, args ...any) interface{ Scan(...any) error } {
		return a.queryRow(ctx, query, args...)
	}
}

func (a *appender) queryFunc() rowsQuerier {
	return func(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
		return a.query(ctx, query, args...)
	}
}

// idSeq is a record id with its seq.
type idSeq struct {
	id  string
	seq int64
}

// remember adds the ids of a committed batch to memory and, when enough
// have gathered, writes them out as a run.
func (db *DB) remember(ctx context.Context, added []idSeq, last int64) {
	ix := &db.ix
	if !ix.valid {
		return
	}
	for _, a := range added {
		ix.mem[a.id] = a.seq
	}
	ix.loaded = max(ix.loaded, last)
	if len(ix.mem) < ix.limit {
		return
	}
	if err := db.flushIDs(ctx); err != nil {
		// The ids stay in memory and a later append tries again; nothing
		// is lost, lookups just scan a longer tail meanwhile.
		db.log.Warn("index record ids", "err", err)
	}
}

// flushIDs writes the in-memory ids as a new run and merges full tiers.
func (db *DB) flushIDs(ctx context.Context) error {
	ix := &db.ix
	entries := make([]indexEntry, 0, len(ix.mem))
	for id, seq := range ix.mem {
		entries = append(entries, indexEntry{idHash(id), seq})
	}
	slices.SortFunc(entries, compareEntries)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	a := newAppender(db, tx)
	defer a.close()
	var upto int64
	if err := a.queryRow(ctx, qIndexState).Scan(&upto, new(int64)); err != nil {
		return fmt.Errorf("read index state: %w", err)
	}
	if upto != ix.upto {
		ix.valid = false // another process wrote a run; reload on the next append
		return nil
	}
	if err := a.writeRun(ctx, 0, entries); err != nil {
		return err
	}
	if err := a.compactRuns(ctx); err != nil {
		return err
	}
	if _, err := a.exec(ctx, qSetIndexUpto, ix.loaded); err != nil {
		return fmt.Errorf("record index state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	ix.upto = ix.loaded
	ix.mem = make(map[string]int64)
	for _, e := range entries {
		ix.bloom.add(e.h)
	}
	if ix.bloom.full() {
		ix.bloom = nil // rebuilt larger on the next append
	}
	return nil
}

// writeRun stores sorted entries as a new run of the given tier.
func (a *appender) writeRun(ctx context.Context, tier int, entries []indexEntry) error {
	res, err := a.exec(ctx, qInsertRun, tier, len(entries))
	if err != nil {
		return fmt.Errorf("write id run: %w", err)
	}
	run, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("write id run: %w", err)
	}
	for len(entries) > 0 {
		n := min(pageEntries, len(entries))
		// Entries with the same hash stay on one page, so a lookup reads
		// only the page whose first hash is the greatest not above its own.
		for n < len(entries) && entries[n].h == entries[n-1].h {
			n++
		}
		if _, err := a.exec(ctx, qInsertPage, run, entries[0].h, encodeEntries(entries[:n])); err != nil {
			return fmt.Errorf("write id run: %w", err)
		}
		entries = entries[n:]
	}
	return nil
}

// compactRuns merges runsPerTier runs of a tier into one of the next tier,
// as long as some tier has that many.
func (a *appender) compactRuns(ctx context.Context) error {
	for {
		var tier int
		err := a.queryRow(ctx, qFullTier, runsPerTier).Scan(&tier)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find id runs to merge: %w", err)
		}
		var runs []int64
		if err := a.collect(ctx, qRunsOfTier, []any{tier, runsPerTier}, func(rows *sql.Rows) error {
			var run int64
			err := rows.Scan(&run)
			runs = append(runs, run)
			return err
		}); err != nil {
			return fmt.Errorf("find id runs to merge: %w", err)
		}
		var merged []indexEntry
		for _, run := range runs {
			if err := a.collect(ctx, qRunPages, []any{run}, func(rows *sql.Rows) error {
				var data []byte
				if err := rows.Scan(&data); err != nil {
					return err
				}
				var err error
				merged, err = decodeEntries(data, merged)
				return err
			}); err != nil {
				return fmt.Errorf("read id run %d: %w", run, err)
			}
			if _, err := a.exec(ctx, qDeleteRunPages, run); err != nil {
				return fmt.Errorf("drop id run %d: %w", run, err)
			}
			if _, err := a.exec(ctx, qDeleteRun, run); err != nil {
				return fmt.Errorf("drop id run %d: %w", run, err)
			}
		}
		slices.SortFunc(merged, compareEntries)
		if err := a.writeRun(ctx, tier+1, merged); err != nil {
			return err
		}
	}
}
