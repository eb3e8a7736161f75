package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// Append stores a batch of records; see store.Store. The records go in
// first and their ids last, so a batch cut short by a crash is stored again
// in full when it is delivered again, and reads ignore the repeats.
func (db *DB) Append(ctx context.Context, batch []model.Record) (store.AppendResult, error) {
	res := store.AppendResult{New: make([]bool, len(batch)), Calls: []string{}}
	if db.closed.Load() {
		return res, errClosed
	}
	if len(batch) == 0 {
		return res, nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()

	first := make(map[string]int, len(batch))
	ids := make([]string, 0, len(batch))
	for i := range batch {
		if _, ok := first[batch[i].ID]; !ok {
			first[batch[i].ID] = i
			ids = append(ids, batch[i].ID)
		}
	}
	t0 := time.Now()
	stored, err := db.storedIDs(ctx, ids)
	if err != nil {
		return res, err
	}
	lookup := time.Since(t0)
	fresh := make([]*model.Record, 0, len(ids))
	for _, id := range ids {
		if !stored[id] {
			i := first[id]
			res.New[i] = true
			fresh = append(fresh, &batch[i])
		}
	}
	res.Stored, res.Duplicates = len(fresh), len(batch)-len(fresh)
	if len(fresh) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return store.AppendResult{New: make([]bool, len(batch)), Calls: []string{}}, err
	}
	ver := db.nextVersion()
	touched, err := db.store(ctx, fresh, ver, lookup)
	if err != nil {
		// The writer's folds may hold records whose ids are not stored;
		// they are read back whole next time.
		db.cache.reset()
		return store.AppendResult{New: make([]bool, len(batch)), Calls: []string{}}, err
	}
	res.Calls = touched
	return res, nil
}

// store writes fresh records, brings the calls they touch up to date and
// records their ids, in that order. It returns the touched calls.
func (db *DB) store(ctx context.Context, fresh []*model.Record, ver uint64, lookup time.Duration) ([]string, error) {
	// Which calls the records touch depends on the batch and on what was
	// stored before it, never on the batch's rows in the tables, so it is
	// found while they are written.
	// So is which of the batch's calls had records before it, if the
	// writer does not hold their folds.
	t0 := time.Now()
	var touched []string
	var known map[string]bool
	var insert, find time.Duration
	err := parallel(
		func() error {
			defer func() { insert = time.Since(t0) }()
			return db.insertRecords(ctx, fresh, ver)
		},
		func() (err error) {
			defer func() { find = time.Since(t0) }()
			if touched, err = db.touchedCalls(ctx, fresh); err != nil {
				return err
			}
			known, err = db.storedBefore(ctx, fresh, ver)
			return err
		},
	)
	if err != nil {
		return nil, err
	}
	// Counted after this batch's records are in: of two processes
	// appending to one call at once, the one that counts last sees the
	// records of both, and its row, made from the most records, wins.
	stored, err := db.storedCounts(ctx, touched)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	if err := db.refresh(ctx, touched, fresh, known, stored, ver); err != nil {
		return nil, err
	}
	t3 := time.Now()
	err = parallel(
		func() error { return db.insertIDs(ctx, fresh) },
		func() error {
			if err := db.insertRow(ctx, "meta", "last_append", ver, time.Now().UnixNano()); err != nil {
				return fmt.Errorf("write last append: %w", err)
			}
			return nil
		},
	)
	if err != nil {
		return nil, err
	}
	db.log.Debug("append", "records", len(fresh), "calls", len(touched), "lookup", lookup, "insert", insert,
		"touched", find, "refresh", t3.Sub(t2), "ids", time.Since(t3))
	return touched, nil
}

// storedIDs reports which ids are stored. The ids travel as external data
// beside the query rather than as literals in it: the server parses a
// query of twenty thousand literals far more slowly than it reads them as
// a block.
func (db *DB) storedIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(ids) == 0 {
		return out, nil
	}
	tbl, err := ext.NewTable("batch_ids", ext.Column("id", "String"))
	if err != nil {
		return nil, fmt.Errorf("look up record ids: %w", err)
	}
	for _, id := range ids {
		if err := tbl.Append(id); err != nil {
			return nil, fmt.Errorf("look up record ids: %w", err)
		}
	}
	qctx := ch.Context(ctx, ch.WithExternalTable(tbl))
	rows, err := db.conn.Query(qctx, "SELECT id FROM "+db.t("ids")+" WHERE id IN (SELECT id FROM batch_ids)")
	if err != nil {
		return nil, fmt.Errorf("look up record ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("look up record ids: %w", err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up record ids: %w", err)
	}
	return out, nil
}

func kindOf(r *model.Record) uint8 {
	switch {
	case r.Participant != nil:
		return kindSummary
	case r.Stream != nil:
		return kindStream
	case r.Operation != nil:
		return kindOperation
	case r.Sample != nil:
		return kindSample
	case r.Survey != nil:
		return kindSurvey
	case r.Event != nil:
		return kindService
	case r.PeerConn != nil:
		return kindPeerConn
	}
	return kindOther
}

func clientOf(r *model.Record) string {
	switch {
	case r.Operation != nil:
		return r.Operation.ClientInstanceID
	case r.Sample != nil:
		return r.Sample.ClientInstanceID
	}
	return ""
}

// idHash orders points of the same time independently of arrival order:
// the 64-bit FNV-1a hash of the record id, as the SQLite store orders them.
func idHash(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64())
}

// insertRecords writes the records, their original bytes and the points of
// their media-stats samples. The inserts run side by side: each keeps one
// server thread busy writing its part.
func (db *DB) insertRecords(ctx context.Context, fresh []*model.Record, ver uint64) error {
	chunks, refs := chunkRaws(fresh)
	return parallel(
		func() error { return db.insertRecordRows(ctx, fresh, refs, ver) },
		func() error { return db.insertChunks(ctx, chunks, ver) },
		func() error { return db.insertPoints(ctx, fresh) },
	)
}

// parallel runs the functions at once and returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (db *DB) insertRecordRows(ctx context.Context, fresh []*model.Record, refs []rawRef, ver uint64) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("records"))
	if err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	defer b.Abort()
	for i, r := range fresh {
		t := callfold.NS(callfold.EventTime(r))
		kind := kindOf(r)
		var rec []byte
		if kind != kindSample {
			if rec, err = callfold.MarshalRecord(r); err != nil {
				return fmt.Errorf("record %s: encode: %w", r.ID, err)
			}
		}
		err := b.Append(day(t), r.Resource, r.CallID, t, callfold.NS(r.Time), r.ID, kind, clientOf(r),
			callfold.CategoryName(r), ver, rec, refs[i].seq, refs[i].off, refs[i].len)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert records: %w", err)
	}
	return nil
}

func (db *DB) insertPoints(ctx context.Context, fresh []*model.Record) error {
	var b driver.Batch
	for _, r := range fresh {
		if r.Sample == nil || r.CallID == "" || kindOf(r) != kindSample {
			continue
		}
		if b == nil {
			var err error
			if b, err = db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("points")); err != nil {
				return fmt.Errorf("insert points: %w", err)
			}
			defer b.Abort()
		}
		t := callfold.NS(callfold.EventTime(r))
		s := r.Sample
		v, ok := callfold.SampleValue(s)
		var has uint8
		if ok {
			has = 1
		} else {
			v = 0
		}
		err := b.Append(day(t), r.Resource, r.CallID, t, idHash(r.ID), r.ID, callfold.SeriesParticipant(s),
			s.ParticipantID, s.EndpointID, s.ClientInstanceID, callfold.CategoryName(r), callfold.SeriesStream(s),
			s.Metric, has, v)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	if b == nil {
		return nil
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert points: %w", err)
	}
	return nil
}

func (db *DB) insertIDs(ctx context.Context, fresh []*model.Record) error {
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("ids"))
	if err != nil {
		return fmt.Errorf("insert record ids: %w", err)
	}
	now := time.Now().UnixNano()
	for _, r := range fresh {
		t := callfold.NS(callfold.EventTime(r))
		if err := b.Append(r.ID, r.CallID, r.Resource, day(t), t, now); err != nil {
			b.Abort()
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert record ids: %w", err)
	}
	return nil
}

// touchedCalls lists, sorted, the calls whose views fresh records change:
// the calls they name, and the calls that gain or may lose client
// operations that arrived without a call id.
func (db *DB) touchedCalls(ctx context.Context, fresh []*model.Record) ([]string, error) {
	set := make(map[string]bool)
	orphanCIs := make(map[string]bool) // instances of fresh unlinked operations
	callCIs := make(map[string]bool)   // instances seen in calls in this batch
	for _, r := range fresh {
		ci := clientOf(r)
		switch {
		case r.CallID != "":
			set[r.CallID] = true
			if ci != "" {
				callCIs[ci] = true
			}
		case r.Operation != nil && ci != "":
			orphanCIs[ci] = true
		}
	}
	// An instance newly seen in a call may take operations away from its
	// other calls; only instances with unlinked operations matter.
	if len(callCIs) > 0 {
		have, err := db.clientsWithOrphans(ctx, keys(callCIs))
		if err != nil {
			return nil, err
		}
		for ci := range have {
			orphanCIs[ci] = true
		}
	}
	if len(orphanCIs) > 0 {
		mapped, err := db.mappings(ctx, keys(orphanCIs))
		if err != nil {
			return nil, err
		}
		for _, ms := range mapped {
			for _, m := range ms {
				set[m.ID] = true
			}
		}
	}
	return keys(set), nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// clientsWithOrphans returns which of the client instances have operations
// stored without a call id.
func (db *DB) clientsWithOrphans(ctx context.Context, cis []string) (map[string]bool, error) {
	out := make(map[string]bool)
	rows, err := db.conn.Query(ctx, "SELECT DISTINCT client_id FROM "+db.t("records")+
		" WHERE call_id = '' AND kind = ? AND client_id IN "+inList(cis), kindOperation)
	if err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ci string
		if err := rows.Scan(&ci); err != nil {
			return nil, fmt.Errorf("unlinked operations: %w", err)
		}
		out[ci] = true
	}
	return out, rows.Err()
}

// mappings lists, per client instance, the stored calls it is known in,
// with each call's first record time, sorted by call id.
func (db *DB) mappings(ctx context.Context, cis []string) (map[string][]callfold.MappedCall, error) {
	out := make(map[string][]callfold.MappedCall)
	if len(cis) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT client_id, call_id, argMax(pid, ver) FROM "+db.t("clients")+
		" WHERE client_id IN "+inList(cis)+" GROUP BY client_id, call_id")
	if err != nil {
		return nil, fmt.Errorf("client calls: %w", err)
	}
	type pair struct{ ci, call, pid string }
	var pairs []pair
	callSet := make(map[string]bool)
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.ci, &p.call, &p.pid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("client calls: %w", err)
		}
		pairs = append(pairs, p)
		callSet[p.call] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("client calls: %w", err)
	}
	heads, err := db.latest(ctx, keys(callSet))
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		h := heads[p.call]
		if h == nil {
			continue // expired
		}
		out[p.ci] = append(out[p.ci], callfold.MappedCall{ID: p.call, First: h.first, ParticipantID: p.pid})
	}
	for ci := range out {
		slices.SortFunc(out[ci], func(a, b callfold.MappedCall) int { return compareStrings(a.ID, b.ID) })
	}
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// storedBefore reports which of the calls of fresh records that the
// writer holds no fold of have records stored by an earlier batch (rows of
// this batch, version ver, may or may not be written yet).
func (db *DB) storedBefore(ctx context.Context, fresh []*model.Record, ver uint64) (map[string]bool, error) {
	set := make(map[string]bool)
	for _, r := range fresh {
		if r.CallID != "" && db.cache.entries[r.CallID] == nil {
			set[r.CallID] = true
		}
	}
	out := make(map[string]bool)
	if len(set) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT DISTINCT call_id FROM "+db.t("records")+" WHERE call_id IN "+
		inList(keys(set))+" AND ver != ?", ver)
	if err != nil {
		return nil, fmt.Errorf("calls stored before: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("calls stored before: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// storedCounts returns the number of records stored of each call.
func (db *DB) storedCounts(ctx context.Context, ids []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT call_id, count() FROM "+db.t("records")+" WHERE call_id IN "+inList(ids)+
		" GROUP BY call_id")
	if err != nil {
		return nil, fmt.Errorf("count the calls' records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count the calls' records: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// refresh folds the touched calls again and writes their new rows, keys
// and client mappings. A call the writer has folded before is brought up to
// date from the fresh records alone, and so is a call none of whose
// records were stored before (known says which were); any other is read
// back whole. stored holds the calls' record counts: a call whose fold
// would not reach its count (another process stored some of its records
// meanwhile) is read back whole too.
func (db *DB) refresh(ctx context.Context, ids []string, fresh []*model.Record, known map[string]bool,
	stored map[string]uint64, ver uint64) error {
	if len(ids) == 0 {
		return nil
	}
	byCall := make(map[string][]*model.Record)
	for _, r := range fresh {
		if r.CallID != "" {
			byCall[r.CallID] = append(byCall[r.CallID], r)
		}
	}
	folds := make(map[string]*callfold.Fold, len(ids))
	fp := freshPoints(fresh)
	points := make(map[string]callPoints) // calls whose points are all known
	var missing []string
	complete := func(had int, id string) bool {
		return uint64(had+len(byCall[id])) == stored[id]
	}
	for _, id := range ids {
		if f := db.cache.get(id); f != nil && !complete(f.Records(), id) {
			db.cache.drop(id)
		}
		if f := db.cache.get(id); f != nil {
			for _, r := range byCall[id] {
				f.Add(r)
			}
			folds[id] = f
			if old, ok := db.cache.pointsOf(id); ok {
				points[id] = merge(old, fp[id])
			}
			continue
		}
		if len(byCall[id]) > 0 && !known[id] && complete(0, id) {
			f := callfold.New(id)
			for _, r := range byCall[id] {
				f.Add(r)
			}
			folds[id] = f
			points[id] = fp[id]
			continue
		}
		missing = append(missing, id)
	}
	if len(missing) > 0 {
		loaded, err := db.folds(ctx, missing)
		if err != nil {
			return err
		}
		for id, f := range loaded {
			folds[id] = f
			// Every stored record of the call is in this batch.
			if f.Records() == len(byCall[id]) {
				points[id] = fp[id]
			}
		}
	}
	for id, ps := range points {
		if len(ps) > maxCallPoints {
			delete(points, id)
		}
	}
	// The newest rows carry the detection and pin, which other processes
	// (calldiag pin, a detection run) may have changed. They are read while
	// the folds are finished.
	var prev map[string]*callRow
	var views map[string]*callfold.Call
	err := parallel(
		func() (err error) { prev, err = db.latest(ctx, ids); return err },
		func() (err error) { views, err = db.attach(ctx, folds); return err },
	)
	if err != nil {
		return err
	}
	var rows []*callRow
	tick := db.rowTick()
	kb, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("keys"))
	if err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	defer kb.Abort()
	cb, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("clients"))
	if err != nil {
		return fmt.Errorf("write clients: %w", err)
	}
	defer cb.Abort()
	nk, nc := 0, 0
	for _, id := range ids {
		v := views[id]
		if v == nil {
			continue
		}
		r, err := rowOf(v, prev[id])
		if err != nil {
			return fmt.Errorf("call %s: %w", id, err)
		}
		r.ver = rowVersion(r.records, tick, prev[id])
		rows = append(rows, r)
		for _, k := range v.Keys {
			if err := kb.Append(k, id); err != nil {
				return fmt.Errorf("write keys: %w", err)
			}
			nk++
		}
		for ci, pid := range v.Clients {
			if err := cb.Append(ci, id, ver, pid); err != nil {
				return fmt.Errorf("write clients: %w", err)
			}
			nc++
		}
	}
	// The keys, client mappings and rows go in side by side; the ids,
	// written after them, make the batch count as stored.
	err = parallel(
		func() error {
			if nk == 0 {
				return nil
			}
			if err := kb.Send(); err != nil {
				return fmt.Errorf("write keys: %w", err)
			}
			return nil
		},
		func() error {
			if nc == 0 {
				return nil
			}
			if err := cb.Send(); err != nil {
				return fmt.Errorf("write clients: %w", err)
			}
			return nil
		},
		func() error { return db.writeRows(ctx, rows) },
	)
	if err != nil {
		return err
	}
	for _, r := range rows {
		ps, has := points[r.id]
		db.cache.put(r.id, folds[r.id], ps, has)
		db.viewCache.putPoints(r.id, r.ver, views[r.id], ps, has)
	}
	return nil
}
