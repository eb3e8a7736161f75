package sqlite

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/storetest"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	return openDir(t, t.TempDir())
}

func openDir(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store { return openTest(t) })
}

// workload returns n batches of a live workload of two calls (samples,
// operations, diagnostics and summaries) plus operations logged before
// their call.
func workload(n int) [][]model.Record {
	w := &liveWorkload{calls: 2, parts: 3, steps: 4}
	var out [][]model.Record
	for i := range n {
		b := w.batch()
		pre := model.Record{
			ID: fmt.Sprintf("pre-%d", i), Category: model.CatCallClientOperations, Known: true, Time: time.Unix(int64(1000+i), 0),
			Raw:       []byte(fmt.Sprintf(`{"OperationName":"CallAgentInit","n":%d}`, i)),
			Operation: &model.Operation{Name: "CallAgentInit", ClientInstanceID: "ci-" + b[0].Sample.ParticipantID},
		}
		out = append(out, append(b, pre))
	}
	return out
}

// snapshot renders everything the store answers about its calls.
func snapshot(t testing.TB, db *DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	fmt.Fprintf(&b, "%+v\n", st)
	page, err := db.SearchCalls(ctx, store.CallQuery{Limit: store.MaxCallLimit, Asc: true})
	if err != nil {
		t.Fatalf("SearchCalls: %v", err)
	}
	for _, s := range page.Calls {
		c, err := db.Call(ctx, s.ID)
		if err != nil {
			t.Fatalf("Call: %v", err)
		}
		tl, err := db.Timeline(ctx, store.TimelineQuery{CallID: s.ID, Limit: store.MaxTimelineLimit})
		if err != nil {
			t.Fatalf("Timeline: %v", err)
		}
		for _, v := range []any{s, c, tl} {
			j, _ := json.Marshal(v)
			b.Write(j)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func appendBatches(t testing.TB, db *DB, batches [][]model.Record) int {
	t.Helper()
	n := 0
	for _, b := range batches {
		res, err := db.Append(context.Background(), b)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		n += res.Stored
	}
	return n
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	batches := workload(6)
	db, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := appendBatches(t, db, batches)
	before := snapshot(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDir(t, dir)
	if after := snapshot(t, db); after != before {
		t.Fatalf("reopened store differs:\nbefore %s\nafter  %s", before, after)
	}
	var dups int
	for _, b := range batches {
		res, err := db.Append(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		dups += res.Duplicates
		if res.Stored != 0 {
			t.Errorf("re-append after reopen stored %d records, want 0", res.Stored)
		}
	}
	if dups != stored {
		t.Errorf("re-append after reopen found %d duplicates, want %d", dups, stored)
	}
	r, err := db.Record(context.Background(), "pre-3")
	if err != nil || string(r.Raw) != `{"OperationName":"CallAgentInit","n":3}` {
		t.Errorf("Record(pre-3) after reopen = %q, %v", r.Raw, err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	t.Run("idempotent", func(t *testing.T) {
		dir := t.TempDir()
		db := openDir(t, dir)
		for range 2 {
			if err := migrate(ctx, db.w, migrationFiles); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
		}
		var n, v int
		if err := db.w.QueryRowContext(ctx, "SELECT count(*), max(version) FROM schema_version").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		ms, err := loadMigrations(migrationFiles)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(ms) || v != len(ms) {
			t.Errorf("schema_version has %d rows up to %d, want %d rows up to %[3]d", n, v, len(ms))
		}
		db2, err := Open(ctx, dir, nil) // a second open of the same store
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		db2.Close()
	})
	t.Run("newer store refused", func(t *testing.T) {
		dir := t.TempDir()
		db, err := Open(ctx, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.w.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (99)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if db, err := Open(ctx, dir, nil); err == nil || !strings.Contains(err.Error(), "newer") {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open of a store at version 99 = %v, want an error about a newer schema", err)
		}
	})
	t.Run("steps applied in order, failed step rolled back", func(t *testing.T) {
		db := openTest(t)
		ms, err := loadMigrations(migrationFiles)
		if err != nil {
			t.Fatal(err)
		}
		// The store already has every real version; the steps after them
		// run, the second fails.
		have := len(ms)
		good := fstest.MapFS{}
		for i := 1; i <= have; i++ {
			good[fmt.Sprintf("migrations/%04d_done.sql", i)] = &fstest.MapFile{Data: []byte("CREATE TABLE never (x)")}
		}
		good[fmt.Sprintf("migrations/%04d_more.sql", have+1)] = &fstest.MapFile{Data: []byte("CREATE TABLE two (x); INSERT INTO two VALUES (2)")}
		broke := fmt.Sprintf("%04d_broke.sql", have+2)
		good["migrations/"+broke] = &fstest.MapFile{Data: []byte("CREATE TABLE three (x); INSERT INTO nowhere VALUES (1)")}
		err = migrate(ctx, db.w, good)
		if err == nil || !strings.Contains(err.Error(), broke) {
			t.Fatalf("migrate = %v, want an error naming %s", err, broke)
		}
		var v, two int
		if err := db.w.QueryRowContext(ctx, "SELECT max(version) FROM schema_version").Scan(&v); err != nil || v != have+1 {
			t.Errorf("version after failed step = %d, %v; want %d", v, err, have+1)
		}
		if err := db.w.QueryRowContext(ctx, "SELECT x FROM two").Scan(&two); err != nil || two != 2 {
			t.Errorf("step 0002 not applied: %v", err)
		}
		var n int
		if err := db.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'three'").Scan(&n); err != nil || n != 0 {
			t.Errorf("failed step left table three behind (%d, %v)", n, err)
		}
	})
	t.Run("bad file names", func(t *testing.T) {
		for name, fsys := range map[string]fstest.MapFS{
			"gap":       {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
			"no number": {"migrations/init.sql": {}},
			"zero":      {"migrations/0000_a.sql": {}},
		} {
			if _, err := loadMigrations(fsys); err == nil {
				t.Errorf("%s: loadMigrations accepted %v", name, fsys)
			}
		}
	})
}

// cancelAfter is a context that is cancelled by the n-th call of its Err
// method; Append and database/sql call it between statements, so the
// cancellation lands at a chosen point inside the transaction.
//
// database/sql also calls Err from the goroutine that watches each Rows and
// Tx, whenever that goroutine is scheduled, possibly after Append returned.
// Those calls are not counted, so the n-th call is the same point of Append
// in every run, however busy the machine.
type cancelAfter struct {
	context.Context
	cancel context.CancelFunc
	n      atomic.Int64
}

func (c *cancelAfter) Err() error {
	if !fromWatcher() && c.n.Add(-1) == 0 {
		c.cancel()
	}
	return c.Context.Err()
}

// fromWatcher reports whether the caller runs in one of database/sql's
// awaitDone goroutines.
func fromWatcher() bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "database/sql.") && strings.HasSuffix(f.Function, ".awaitDone") {
			return true
		}
		if !more {
			return false
		}
	}
}

func TestFailedAppendLeavesNothing(t *testing.T) {
	db := openTest(t)
	first := workload(2)
	appendBatches(t, db, first)
	before := snapshot(t, db)

	// A batch large enough for Append to check for cancellation many times.
	w := &liveWorkload{calls: 6, parts: 10, steps: 3, next: 1 << 30}
	var big []model.Record
	for range 6 {
		big = append(big, w.batch()...)
	}
	// Count the checks a successful Append of big makes, on another store
	// holding the same calls, and cancel at the first, a third of the way and
	// two thirds of it.
	twin := openTest(t)
	appendBatches(t, twin, first)
	counter := &cancelAfter{Context: context.Background(), cancel: func() {}}
	counter.n.Store(1 << 40)
	if _, err := twin.Append(counter, big); err != nil {
		t.Fatal(err)
	}
	checks := 1<<40 - counter.n.Load()
	if checks < 30 {
		t.Fatalf("a successful Append checks the context only %d times", checks)
	}
	for _, at := range []int64{1, checks / 3, 2 * checks / 3} {
		inner, cancel := context.WithCancel(context.Background())
		ctx := &cancelAfter{Context: inner, cancel: cancel}
		ctx.n.Store(at)
		_, err := db.Append(ctx, big)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Append cancelled at check %d = %v, want context.Canceled", at, err)
		}
		if after := snapshot(t, db); after != before {
			t.Fatalf("cancelled Append (check %d) changed the store:\nbefore %s\nafter  %s", at, before, after)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Append(cancelled, big); err == nil {
		t.Fatal("Append with a cancelled context succeeded")
	}
	// Nothing of the failed attempts may linger in the writer's memory.
	res, err := db.Append(context.Background(), big)
	if err != nil || res.Stored != len(big) || res.Duplicates != 0 {
		t.Fatalf("Append after failures = %+v, %v; want all %d stored", res, err, len(big))
	}
}

func TestNonFiniteValuesBecomeMissing(t *testing.T) {
	db := openTest(t)
	nan, inf := math.NaN(), math.Inf(1)
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	recs := []model.Record{
		{ID: "s", Category: model.CatCallSummary, CallID: "c", Time: t0, Known: true, Raw: []byte("{}"),
			Participant: &model.ParticipantRow{ParticipantID: "p", StartTime: t0, CallStartTime: t0, Duration: &nan, CallDuration: &inf}},
		{ID: "d", Category: model.CatCallDiagnostics, CallID: "c", Time: t0, Known: true, Raw: []byte("{}"),
			Stream: &model.StreamRow{ParticipantID: "p", MediaType: model.MediaAudio, Direction: model.DirInbound, JitterAvgMs: &nan}},
		{ID: "m", Category: model.CatCallClientMediaStatsTimeSeries, CallID: "c", Time: t0, Known: true, Raw: []byte("{}"),
			Sample: &model.Sample{ParticipantID: "p", Metric: "JitterInMs", ClientTime: t0, Average: &inf}},
		{ID: "o", Category: model.CatCallClientOperations, CallID: "c", Time: t0, Known: true, Raw: []byte("{}"),
			Operation: &model.Operation{Name: "Join", ParticipantID: "p", ClientTime: t0, DurationMs: &nan}},
	}
	if _, err := db.Append(context.Background(), recs); err != nil {
		t.Fatalf("Append: %v", err)
	}
	c, err := db.Call(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Participants[0]
	if p.DurationSeconds != nil || len(p.Streams) != 1 || p.Streams[0].JitterAvgMs != nil {
		t.Errorf("participant = %+v; want missing duration and jitter", p)
	}
	tl, err := db.Timeline(context.Background(), store.TimelineQuery{CallID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Series) != 0 || len(tl.Events) == 0 || tl.Events[len(tl.Events)-1].DurationMs != nil {
		t.Errorf("timeline = %+v; want no points and no operation duration", tl)
	}
	if _, err := json.Marshal(tl); err != nil {
		t.Errorf("timeline does not encode: %v", err)
	}
}

// TestIDRuns drives the record id index through many runs and merges.
func TestIDRuns(t *testing.T) {
	dir := t.TempDir()
	db := openDir(t, dir)
	db.ix.limit = 40
	ctx := context.Background()
	var all []model.Record
	for i := range 60 {
		var batch []model.Record
		for j := range 25 {
			id := fmt.Sprintf("rec-%d-%d", i, j)
			if j%2 == 1 {
				id = hexID(id) // the ingest's shape
			}
			batch = append(batch, model.Record{ID: id, Category: model.CatCallingMetrics, Known: true,
				Time: time.Unix(int64(i*100+j), 0), Raw: []byte(`{"id":"` + id + `"}`)})
		}
		if i > 0 {
			batch = append(batch, all[(i*37)%len(all)]) // an old record again
		}
		res, err := db.Append(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stored != 25 || res.Duplicates != len(batch)-25 {
			t.Fatalf("batch %d: %+v, want 25 stored", i, res)
		}
		all = append(all, batch[:25]...)
	}
	var tiers []string
	rows, err := db.r.QueryContext(ctx, "SELECT tier, count(*), sum(n) FROM id_runs GROUP BY tier ORDER BY tier")
	if err != nil {
		t.Fatal(err)
	}
	indexed := 0
	for rows.Next() {
		var tier, n, sum int
		if err := rows.Scan(&tier, &n, &sum); err != nil {
			t.Fatal(err)
		}
		if n >= runsPerTier {
			t.Errorf("tier %d has %d runs, want them merged", tier, n)
		}
		indexed += sum
		tiers = append(tiers, fmt.Sprintf("%d:%d", tier, n))
	}
	rows.Close()
	if indexed+len(db.ix.mem) != len(all) || len(tiers) < 2 {
		t.Errorf("runs %v hold %d ids, memory %d; want %d in all, over more than one tier", tiers, indexed, len(db.ix.mem), len(all))
	}
	// A page must fit in one SQLite page, or every lookup reads two.
	var overflow int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM dbstat WHERE name = 'id_pages' AND pagetype = 'overflow'").
		Scan(&overflow); err != nil || overflow != 0 {
		t.Errorf("id_pages has %d overflow pages (%v), want none", overflow, err)
	}
	check := func(db *DB) {
		t.Helper()
		for _, r := range all {
			got, err := db.Record(ctx, r.ID)
			if err != nil || string(got.Raw) != string(r.Raw) {
				t.Fatalf("Record(%s) = %q, %v", r.ID, got.Raw, err)
			}
		}
		if _, err := db.Record(ctx, "rec-none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Record(unknown) = %v, want ErrNotFound", err)
		}
		res, err := db.Append(ctx, all)
		if err != nil || res.Stored != 0 || res.Duplicates != len(all) {
			t.Errorf("re-append of everything = %+v, %v; want all duplicates", res, err)
		}
	}
	check(db)
	db2 := openDir(t, dir) // a second process view: rebuilds memory and filter from disk
	check(db2)
}

// TestCrashLeavesWholeBatches kills a writing process (SIGKILL) in the
// middle of its appends and checks that the store holds whole batches only.
func TestCrashLeavesWholeBatches(t *testing.T) {
	if dir := os.Getenv("CALLDIAG_SQLITE_CRASH_DIR"); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLeavesWholeBatches$")
	cmd.Env = append(os.Environ(), "CALLDIAG_SQLITE_CRASH_DIR="+dir)
	stdin, err := cmd.StdinPipe() // never written: the child waits on it after batch 3
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed, pending := 0, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		n, _ := strconv.Atoi(f[2])
		switch f[0] {
		case "append":
			pending = n
		case "committed":
			committed, pending = n, 0
		}
		if f[0] == "append" && f[1] == "3" {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	db := openDir(t, dir)
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != committed && st.Records != committed+pending {
		t.Fatalf("after the kill the store has %d records; want %d (committed batches) or %d (with the last one)",
			st.Records, committed, committed+pending)
	}
	total := 0
	for _, s := range snapshotCalls(t, db) {
		total += s.RecordCount
	}
	if total > st.Records {
		t.Errorf("call summaries count %d records, the store %d", total, st.Records)
	}
	// The surviving store keeps working: the whole input appends cleanly.
	appendBatches(t, db, crashBatches())
	if st2, _ := db.Stats(context.Background()); st2.Records != crashTotal() {
		t.Errorf("after re-ingest %d records, want %d", st2.Records, crashTotal())
	}
}

func snapshotCalls(t testing.TB, db *DB) []model.CallSummary {
	t.Helper()
	p, err := db.SearchCalls(context.Background(), store.CallQuery{Limit: store.MaxCallLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Calls
}

func crashBatches() [][]model.Record {
	w := &liveWorkload{calls: 4, parts: 10, steps: 6}
	var out [][]model.Record
	for range 5 {
		var b []model.Record
		for range 3 {
			b = append(b, w.batch()...)
		}
		out = append(out, b)
	}
	return out
}

func crashTotal() int {
	n := 0
	for _, b := range crashBatches() {
		n += len(b)
	}
	return n
}

// crashChild appends batches and reports progress until it is killed.
func crashChild(dir string) {
	db, err := Open(context.Background(), dir, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	total := 0
	for i, b := range crashBatches() {
		fmt.Printf("append %d %d\n", i, len(b))
		if _, err := db.Append(context.Background(), b); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		total += len(b)
		fmt.Printf("committed %d %d\n", i, total)
		if i == 3 {
			// The parent kills this process while batch 3 is being written
			// or, if it is late, here: either way batch 4 never starts.
			os.Stdin.Read(make([]byte, 1))
			select {}
		}
	}
}
