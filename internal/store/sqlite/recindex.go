package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// Record ids are content hashes, so they arrive in random order. Putting
// each into an id-ordered B-tree as it arrives would cost a row and a random
// page write per record. Instead the writer keeps the ids of the newest
// chunks in memory and every memLimit records writes them out as one sorted
// run; runs of a tier are merged into one run of the next tier when
// runsPerTier of them have gathered, so every id is rewritten only a few
// times. The writer keeps, per run, the first key of every page and a Bloom
// filter, so checking a batch costs one page read per id that is likely
// stored and nothing for the others.
const (
	memLimit    = 200_000
	runsPerTier = 4
	pageEntries = 40 // entries per id_pages row, so that a row fits in one SQLite page
	entrySize   = 24 // key (16 bytes) and seq (8)
)

// idKey is the identity a record id is indexed by. An id in the ingest's
// form, 32 lower-case hex digits, is its own 128 bits; any other id is the
// first 128 bits of its SHA-256, marked as hashed so that it never equals
// the key of a hex id.
type idKey struct {
	hi, lo uint64
	hashed bool
}

// hashedBit marks, in the seq field of a stored entry, a hashed key.
const hashedBit = uint64(1) << 63

func keyOf(id string) idKey {
	if len(id) == 32 {
		hi, okHi := parseHex64(id[:16])
		lo, okLo := parseHex64(id[16:])
		if okHi && okLo {
			return idKey{hi: hi, lo: lo}
		}
	}
	s := sha256.Sum256([]byte(id))
	return idKey{hi: binary.BigEndian.Uint64(s[:8]), lo: binary.BigEndian.Uint64(s[8:16]), hashed: true}
}

// hexDigits maps a lower-case hex digit to its value and any other byte to
// 0xff.
var hexDigits = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// parseHex64 reads 16 lower-case hex digits; upper case is refused so that
// two different ids never share a key.
func parseHex64(s string) (uint64, bool) {
	_ = s[15]
	var v uint64
	var bad byte
	for i := range 16 {
		d := hexDigits[s[i]]
		bad |= d
		v = v<<4 | uint64(d&0xf)
	}
	return v, bad&0xf0 == 0
}

func compareKeys(a, b idKey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	switch {
	case a.hashed == b.hashed:
		return 0
	case b.hashed:
		return -1
	}
	return 1
}

// mix spreads a key's bits for the Bloom filters, which must work even for
// hex ids that are not random.
func (k idKey) mix() uint64 {
	h := (k.hi ^ bits.RotateLeft64(k.lo, 32)) * 0x9e3779b97f4a7c15
	if k.hashed {
		h = ^h
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// pageFirst is the value of id_pages.first for a page whose first key has
// the given high half: flipping the sign bit makes SQLite's signed order
// the unsigned order of the keys.
func pageFirst(hi uint64) int64 { return int64(hi ^ 1<<63) }

// bloom is a blocked Bloom filter over the keys of one run: every key sets
// one bit in each of the eight words of one 64-byte block, so a check
// touches one cache line.
type bloom struct {
	words  []uint64
	blocks uint64
}

// bloomBitsPer is the filter size per entry: about one check in a thousand
// is a false alarm.
const bloomBitsPer = 16

var bloomSalts = [8]uint32{0x7ee14c87, 0x924f87b1, 0x5591a6a9, 0x1646c94d, 0x6ad96549, 0xfb29f76f, 0x0d25208b, 0xb93dff69}

func newBloom(n int) *bloom {
	blocks := max(1, (n*bloomBitsPer+511)/512)
	return &bloom{words: make([]uint64, 8*blocks), blocks: uint64(blocks)}
}

func (b *bloom) block(h uint64) []uint64 {
	i := (h >> 32) * b.blocks >> 32
	return b.words[i*8 : i*8+8]
}

func (b *bloom) add(h uint64) {
	blk, x := b.block(h), uint32(h)
	for i, s := range bloomSalts {
		blk[i] |= 1 << (x * s >> 26)
	}
}

func (b *bloom) has(h uint64) bool {
	blk, x := b.block(h), uint32(h)
	for i, s := range bloomSalts {
		if blk[i]&(1<<(x*s>>26)) == 0 {
			return false
		}
	}
	return true
}

// indexEntry is one id in a run: its key and its record's seq.
type indexEntry struct {
	key idKey
	seq int64
}

func compareEntries(a, b indexEntry) int {
	if a.key.hi != b.key.hi { // nearly always: decided without a call
		if a.key.hi < b.key.hi {
			return -1
		}
		return 1
	}
	if c := compareKeys(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func appendEntry(b []byte, e indexEntry) []byte {
	b = binary.BigEndian.AppendUint64(b, e.key.hi)
	b = binary.BigEndian.AppendUint64(b, e.key.lo)
	s := uint64(e.seq)
	if e.key.hashed {
		s |= hashedBit
	}
	return binary.BigEndian.AppendUint64(b, s)
}

// entryAt decodes entry i of a page; the page length must be a multiple of
// entrySize.
func entryAt(page []byte, i int) indexEntry {
	b := page[i*entrySize : (i+1)*entrySize]
	s := binary.BigEndian.Uint64(b[16:])
	return indexEntry{
		key: idKey{hi: binary.BigEndian.Uint64(b), lo: binary.BigEndian.Uint64(b[8:]), hashed: s&hashedBit != 0},
		seq: int64(s &^ hashedBit),
	}
}

var errBadPage = errors.New("corrupt id page")

func checkPage(page []byte) error {
	if len(page) == 0 || len(page)%entrySize != 0 {
		return errBadPage
	}
	return nil
}

// findEntry looks for a key in a page, in place.
func findEntry(page []byte, k idKey) (int64, bool, error) {
	if err := checkPage(page); err != nil {
		return 0, false, err
	}
	n := len(page) / entrySize
	lo, up := 0, n // the first entry not below k is in [lo, up]
	for lo < up {
		m := int(uint(lo+up) >> 1)
		if compareKeys(entryAt(page, m).key, k) < 0 {
			lo = m + 1
		} else {
			up = m
		}
	}
	if lo < n {
		if e := entryAt(page, lo); e.key == k {
			return e.seq, true, nil
		}
	}
	return 0, false, nil
}

// rowQuerier runs a single-row query.
type rowQuerier func(ctx context.Context, query string, args ...any) interface{ Scan(...any) error }

// rowsQuerier runs a query.
type rowsQuerier func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// lookupID finds the seq of the record with the given id in the runs, for
// a reader, which has none of the writer's memory: one page query per run.
func lookupID(ctx context.Context, q rowQuerier, qs rowsQuerier, id string) (int64, bool, error) {
	k := keyOf(id)
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
	for _, run := range runs {
		var data []byte
		err := q(ctx, qRunPage, run, pageFirst(k.hi)).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("read id run %d: %w", run, err)
		}
		seq, ok, err := findEntry(data, k)
		if err != nil {
			return 0, false, fmt.Errorf("read id run %d: %w", run, err)
		}
		if ok {
			return seq, true, nil
		}
	}
	return 0, false, nil
}

// idRun is the writer's summary of one run.
type idRun struct {
	run    int64
	firsts []uint64 // high half of the first key of every page, ascending
	filter *bloom
}

// pageOf returns the page that would hold a key with the given high half,
// or -1: pages never split keys with the same high half.
func (r *idRun) pageOf(hi uint64) int {
	lo, up := 0, len(r.firsts)
	for lo < up {
		m := int(uint(lo+up) >> 1)
		if r.firsts[m] <= hi {
			lo = m + 1
		} else {
			up = m
		}
	}
	return lo - 1
}

// idIndex is the writer's view of the record ids.
type idIndex struct {
	limit    int // memLimit; smaller in tests
	valid    bool
	upto     int64           // index_upto: the ids of chunks up to this one are in runs
	loaded   int64           // highest chunk whose ids are in mem
	mem      map[idKey]int64 // key -> seq of the records of chunks after upto
	haveRuns bool            // runs is loaded
	runs     []*idRun        // newest first
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
		ix.mem = make(map[idKey]int64)
		ix.upto, ix.loaded, ix.valid = upto, upto, true
		ix.runs, ix.haveRuns = nil, false
	}
	if !ix.haveRuns {
		if err := a.loadRuns(ctx); err != nil {
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

// loadRuns reads every run once, to build its page list and filter.
func (a *appender) loadRuns(ctx context.Context) error {
	byID := make(map[int64]*idRun)
	var runs []*idRun
	err := a.collect(ctx, qRunSizes, nil, func(rows *sql.Rows) error {
		var run int64
		var n int
		if err := rows.Scan(&run, &n); err != nil {
			return err
		}
		r := &idRun{run: run, filter: newBloom(n), firsts: make([]uint64, 0, n/pageEntries+1)}
		byID[run] = r
		runs = append(runs, r)
		return nil
	})
	if err != nil {
		return err
	}
	var cur *idRun
	err = a.collect(ctx, qAllPages, nil, func(rows *sql.Rows) error {
		var run, first int64
		var data sql.RawBytes
		if err := rows.Scan(&run, &first, &data); err != nil {
			return err
		}
		if cur == nil || cur.run != run {
			if cur = byID[run]; cur == nil {
				return fmt.Errorf("id page of unknown run %d", run)
			}
		}
		if err := checkPage(data); err != nil {
			return fmt.Errorf("id run %d: %w", run, err)
		}
		cur.firsts = append(cur.firsts, uint64(first)^1<<63)
		for i := range len(data) / entrySize {
			cur.filter.add(entryAt(data, i).key.mix())
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.db.ix.runs, a.db.ix.haveRuns = runs, true
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
			ix.mem[keyOf(e.id)] = chunk<<seqShift | int64(idx)
			return true
		}); err != nil {
			return fmt.Errorf("chunk %d: %w", chunk, err)
		}
		ix.loaded = chunk
		return nil
	})
}

// candidate is an id of a batch that a run's filter lets through.
type candidate struct {
	page int // in the run
	i    int // in the batch
}

// storedIDs reports which of the ids with the given keys are already
// stored. The ids not in memory are looked up run by run, newest first,
// each in the runs whose filter lets it through, reading each needed page
// once.
func (a *appender) storedIDs(ctx context.Context, keys []idKey) ([]bool, error) {
	ix := &a.db.ix
	found := make([]bool, len(keys))
	var mixed []uint64
	var pending []int
	for i, k := range keys {
		if _, ok := ix.mem[k]; ok {
			found[i] = true
			continue
		}
		if mixed == nil {
			mixed = make([]uint64, len(keys))
		}
		mixed[i] = k.mix()
		pending = append(pending, i)
	}
	var cands []candidate
	var pages []int
	var args []any
	for _, r := range ix.runs {
		if len(pending) == 0 {
			break
		}
		cands = cands[:0]
		for _, i := range pending {
			if r.filter.has(mixed[i]) {
				if p := r.pageOf(keys[i].hi); p >= 0 {
					cands = append(cands, candidate{p, i})
				}
			}
		}
		if len(cands) == 0 {
			continue
		}
		slices.SortFunc(cands, func(x, y candidate) int { return cmp.Compare(x.page, y.page) })
		pages = pages[:0]
		for j, c := range cands {
			if j == 0 || c.page != cands[j-1].page {
				pages = append(pages, c.page)
			}
		}
		hit := false
		for len(pages) > 0 {
			n, query := pageQuery(len(pages))
			args = append(args[:0], r.run)
			for _, p := range pages[:n] {
				args = append(args, pageFirst(r.firsts[p]))
			}
			pages = pages[n:]
			got := 0
			err := a.collect(ctx, query, args, func(rows *sql.Rows) error {
				var first int64
				var data sql.RawBytes
				if err := rows.Scan(&first, &data); err != nil {
					return err
				}
				got++
				p := r.pageOf(uint64(first) ^ 1<<63)
				j, _ := slices.BinarySearchFunc(cands, p, func(c candidate, p int) int { return cmp.Compare(c.page, p) })
				for ; j < len(cands) && cands[j].page == p; j++ {
					i := cands[j].i
					_, ok, err := findEntry(data, keys[i])
					if err != nil {
						return err
					}
					if ok {
						found[i], hit = true, true
					}
				}
				return nil
			})
			if err == nil && got != n {
				// The pages are known to exist; if not, the store changed
				// under this index, which is then reloaded.
				ix.valid = false
				err = fmt.Errorf("%d of %d pages missing", n-got, n)
			}
			if err != nil {
				return nil, fmt.Errorf("check ids: read id run %d: %w", r.run, err)
			}
		}
		if hit {
			pending = slices.DeleteFunc(pending, func(i int) bool { return found[i] })
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

// idSeq is a stored record's key with its seq.
type idSeq struct {
	key idKey
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
		ix.mem[a.key] = a.seq
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
	if !ix.valid || len(ix.mem) == 0 {
		return nil
	}
	entries := make([]indexEntry, 0, len(ix.mem))
	for k, seq := range ix.mem {
		entries = append(entries, indexEntry{k, seq})
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
	w, err := a.newRunWriter(ctx, 0, len(entries))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := w.add(ctx, e); err != nil {
			return err
		}
	}
	if err := w.finish(ctx); err != nil {
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
	ix.mem = make(map[idKey]int64)
	if ix.haveRuns {
		ix.runs = slices.DeleteFunc(ix.runs, func(r *idRun) bool { return a.droppedRuns[r.run] })
		for _, r := range a.newRuns {
			if !a.droppedRuns[r.run] {
				ix.runs = append(ix.runs, r)
			}
		}
		slices.SortFunc(ix.runs, func(x, y *idRun) int { return cmp.Compare(y.run, x.run) })
	}
	return nil
}

// runWriter writes sorted entries as the pages of a new run and builds the
// run's summary as it goes.
type runWriter struct {
	a    *appender
	r    *idRun
	n    int // entries written
	page []indexEntry
	buf  []byte
}

// newRunWriter starts a run of the given tier that will hold about n entries.
func (a *appender) newRunWriter(ctx context.Context, tier, n int) (*runWriter, error) {
	res, err := a.exec(ctx, qInsertRun, tier, n)
	if err != nil {
		return nil, fmt.Errorf("write id run: %w", err)
	}
	run, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("write id run: %w", err)
	}
	r := &idRun{run: run, filter: newBloom(n), firsts: make([]uint64, 0, n/pageEntries+1)}
	return &runWriter{a: a, r: r, page: make([]indexEntry, 0, pageEntries)}, nil
}

// add appends the next entry; entries must come in order.
func (w *runWriter) add(ctx context.Context, e indexEntry) error {
	// Keys with the same high half stay on one page, so a lookup reads
	// only the page whose first key is the greatest not above its own.
	if len(w.page) >= pageEntries && e.key.hi != w.page[len(w.page)-1].key.hi {
		if err := w.flushPage(ctx); err != nil {
			return err
		}
	}
	w.page = append(w.page, e)
	w.r.filter.add(e.key.mix())
	w.n++
	return nil
}

func (w *runWriter) flushPage(ctx context.Context) error {
	if len(w.page) == 0 {
		return nil
	}
	w.buf = w.buf[:0]
	for _, e := range w.page {
		w.buf = appendEntry(w.buf, e)
	}
	hi := w.page[0].key.hi
	if _, err := w.a.exec(ctx, qInsertPage, w.r.run, pageFirst(hi), w.buf); err != nil {
		return fmt.Errorf("write id run: %w", err)
	}
	w.r.firsts = append(w.r.firsts, hi)
	w.page = w.page[:0]
	return nil
}

// finish writes the last page and records the run as written.
func (w *runWriter) finish(ctx context.Context) error {
	if err := w.flushPage(ctx); err != nil {
		return err
	}
	if _, err := w.a.exec(ctx, qSetRunSize, w.n, w.r.run); err != nil {
		return fmt.Errorf("write id run: %w", err)
	}
	w.a.newRuns = append(w.a.newRuns, w.r)
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
		total := 0
		if err := a.collect(ctx, qRunsOfTier, []any{tier, runsPerTier}, func(rows *sql.Rows) error {
			var run int64
			var n int
			err := rows.Scan(&run, &n)
			runs = append(runs, run)
			total += n
			return err
		}); err != nil {
			return fmt.Errorf("find id runs to merge: %w", err)
		}
		if err := a.mergeRuns(ctx, tier+1, runs, total); err != nil {
			return err
		}
	}
}

// mergeRuns writes the entries of runs as one run of the given tier and
// drops them. It streams: memory holds one page per run, whatever their size.
func (a *appender) mergeRuns(ctx context.Context, tier int, runs []int64, total int) error {
	w, err := a.newRunWriter(ctx, tier, total)
	if err != nil {
		return err
	}
	ins := make([]*runReader, 0, len(runs))
	defer func() {
		for _, in := range ins {
			in.close()
		}
	}()
	for _, run := range runs {
		in, err := a.readRun(ctx, run)
		if err != nil {
			return err
		}
		ins = append(ins, in)
	}
	for {
		var best *runReader
		for _, in := range ins {
			if in.ok() && (best == nil || compareEntries(in.head(), best.head()) < 0) {
				best = in
			}
		}
		if best == nil {
			break
		}
		if err := w.add(ctx, best.head()); err != nil {
			return err
		}
		if err := best.next(); err != nil {
			return err
		}
	}
	for _, in := range ins {
		in.close()
	}
	ins = ins[:0]
	if err := w.finish(ctx); err != nil {
		return err
	}
	for _, run := range runs {
		if _, err := a.exec(ctx, qDeleteRunPages, run); err != nil {
			return fmt.Errorf("drop id run %d: %w", run, err)
		}
		if _, err := a.exec(ctx, qDeleteRun, run); err != nil {
			return fmt.Errorf("drop id run %d: %w", run, err)
		}
		if a.droppedRuns == nil {
			a.droppedRuns = make(map[int64]bool)
		}
		a.droppedRuns[run] = true
	}
	return nil
}

// runReader steps through the entries of one run in order.
type runReader struct {
	run  int64
	rows *sql.Rows
	page []byte
	i    int
}

// readRun opens a run for reading. Its query is not a shared prepared
// statement, since several runs are read at once.
func (a *appender) readRun(ctx context.Context, run int64) (*runReader, error) {
	rows, err := a.tx.QueryContext(ctx, qRunPages, run)
	if err != nil {
		return nil, fmt.Errorf("read id run %d: %w", run, err)
	}
	in := &runReader{run: run, rows: rows}
	if err := in.nextPage(); err != nil {
		rows.Close()
		return nil, err
	}
	return in, nil
}

func (in *runReader) ok() bool { return in.i < len(in.page)/entrySize }

func (in *runReader) head() indexEntry { return entryAt(in.page, in.i) }

func (in *runReader) next() error {
	if in.i++; in.ok() {
		return nil
	}
	return in.nextPage()
}

func (in *runReader) nextPage() error {
	in.page, in.i = in.page[:0], 0
	if !in.rows.Next() {
		if err := in.rows.Err(); err != nil {
			return fmt.Errorf("read id run %d: %w", in.run, err)
		}
		return nil
	}
	var data sql.RawBytes
	if err := in.rows.Scan(&data); err != nil {
		return fmt.Errorf("read id run %d: %w", in.run, err)
	}
	if err := checkPage(data); err != nil {
		return fmt.Errorf("read id run %d: %w", in.run, err)
	}
	in.page = append(in.page, data...)
	return nil
}

func (in *runReader) close() { in.rows.Close() }
