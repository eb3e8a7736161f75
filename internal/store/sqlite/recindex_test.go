package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
)

// hexID returns an id shaped like the ingest's: 32 hex digits of a SHA-256.
func hexID(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// plainRecord is a record with no call, whose raw bytes name its id.
func plainRecord(id string, n int) model.Record {
	return model.Record{ID: id, Category: model.CatCallingMetrics, Known: true,
		Time: time.Unix(int64(n), 0), Raw: []byte(`{"id":"` + id + `"}`)}
}

func TestKeyOf(t *testing.T) {
	hashed := func(id string) idKey {
		h := sha256.Sum256([]byte(id))
		k := keyOf(hex.EncodeToString(h[:16]))
		return idKey{hi: k.hi, lo: k.lo, hashed: true}
	}
	cases := []struct {
		name, id string
		want     idKey
	}{
		{"hex", "0123456789abcdeffedcba9876543210", idKey{hi: 0x0123456789abcdef, lo: 0xfedcba9876543210}},
		{"hex zero", strings.Repeat("0", 32), idKey{}},
		{"upper case", "0123456789ABCDEFFEDCBA9876543210", hashed("0123456789ABCDEFFEDCBA9876543210")},
		{"not hex", "0123456789abcdeffedcba987654321g", hashed("0123456789abcdeffedcba987654321g")},
		{"31 digits", "0123456789abcdeffedcba987654321", hashed("0123456789abcdeffedcba987654321")},
		{"33 digits", "0123456789abcdeffedcba98765432100", hashed("0123456789abcdeffedcba98765432100")},
		{"short", "rec-1", hashed("rec-1")},
		{"empty", "", hashed("")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyOf(tc.id); got != tc.want {
				t.Errorf("keyOf(%q) = %+v, want %+v", tc.id, got, tc.want)
			}
		})
	}
	// An id and the hex id spelling its hash share all 128 bits; the flag
	// still tells them apart.
	a, b := keyOf("x"), keyOf(hexID("x"))
	if a.hi != b.hi || a.lo != b.lo || compareKeys(a, b) == 0 || a.mix() == b.mix() {
		t.Errorf("keyOf(x) = %+v, keyOf(hex of its hash) = %+v; want the same bits, told apart", a, b)
	}
}

func TestBloom(t *testing.T) {
	cases := []struct {
		name string
		key  func(i int) idKey
	}{
		{"hashed ids", func(i int) idKey { return keyOf(fmt.Sprintf("rec-%d", i)) }},
		{"hex ids", func(i int) idKey { return keyOf(hexID(fmt.Sprint(i))) }},
		// Hex ids need not be random; the filter must not depend on it.
		{"sequential hex ids", func(i int) idKey { return idKey{lo: uint64(i)} }},
		{"one high half", func(i int) idKey { return idKey{hi: 7, lo: uint64(i) << 40} }},
	}
	const n = 20000
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBloom(n)
			for i := range n {
				b.add(tc.key(i).mix())
			}
			for i := range n {
				if !b.has(tc.key(i).mix()) {
					t.Fatalf("key %d added but not found", i)
				}
			}
			fp := 0
			for i := n; i < 11*n; i++ {
				if b.has(tc.key(i).mix()) {
					fp++
				}
			}
			if rate := float64(fp) / (10 * n); rate > 0.005 {
				t.Errorf("false positive rate %.4f, want at most 0.005", rate)
			}
		})
	}
}

func TestFindEntry(t *testing.T) {
	es := []indexEntry{
		{idKey{hi: 1, lo: 1}, 10},
		{idKey{hi: 1, lo: 1, hashed: true}, 11},
		{idKey{hi: 1, lo: 2}, 12},
		{idKey{hi: 3, lo: 0}, 13},
	}
	var page []byte
	for _, e := range es {
		page = appendEntry(page, e)
	}
	for _, e := range es {
		if seq, ok, err := findEntry(page, e.key); err != nil || !ok || seq != e.seq {
			t.Errorf("findEntry(%+v) = %d, %v, %v; want %d", e.key, seq, ok, err, e.seq)
		}
	}
	for _, k := range []idKey{{}, {hi: 1}, {hi: 1, lo: 2, hashed: true}, {hi: 2}, {hi: 3, lo: 1}, {hi: ^uint64(0)}} {
		if _, ok, err := findEntry(page, k); err != nil || ok {
			t.Errorf("findEntry(%+v) = %v, %v; want not found", k, ok, err)
		}
	}
	if _, _, err := findEntry(page[:len(page)-1], idKey{}); err == nil {
		t.Error("findEntry accepts a truncated page")
	}
}

// TestIDLookalikes stores ids whose keys share their first 64 bits (more of
// them than a page holds), or all 128 bits, in different runs: each must be
// told apart from the others.
func TestIDLookalikes(t *testing.T) {
	var first, second []model.Record
	n := 0
	add := func(a, b string) {
		first = append(first, plainRecord(a, n))
		second = append(second, plainRecord(b, n+1))
		n += 2
	}
	for i := range 60 {
		add(fmt.Sprintf("00000000deadbeef%016x", 2*i), fmt.Sprintf("00000000deadbeef%016x", 2*i+1))
	}
	add("x", hexID("x"))
	add(hexID("w"), "w")
	add(hexID("y"), strings.ToUpper(hexID("y")))
	add("ffffffffffffffffffffffffffffffff", "fffffffffffffffffffffffffffffffe")
	add(strings.Repeat("0", 32), "0")
	for i := range 40 {
		add(hexID(fmt.Sprint("a", i)), hexID(fmt.Sprint("b", i)))
	}

	dir := t.TempDir()
	db := openDir(t, dir)
	db.ix.limit = 1 << 20 // runs only where the test writes them
	ctx := context.Background()
	appendAll(t, db, first, 5)
	if err := db.flushIDs(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.Append(ctx, second)
	if err != nil || res.Stored != len(second) {
		t.Fatalf("Append of the lookalikes = %+v, %v; want all %d stored", res, err, len(second))
	}
	all := append(append([]model.Record(nil), first...), second...)
	check := func(db *DB) {
		t.Helper()
		for _, r := range all {
			got, err := db.Record(ctx, r.ID)
			if err != nil || string(got.Raw) != string(r.Raw) {
				t.Errorf("Record(%q) = %q, %v; want %q", r.ID, got.Raw, err, r.Raw)
			}
		}
		res, err := db.Append(ctx, all)
		if err != nil || res.Stored != 0 || res.Duplicates != len(all) {
			t.Errorf("re-append = %+v, %v; want %d duplicates", res, err, len(all))
		}
	}
	check(db) // one half in a run, the other in memory
	if err := db.flushIDs(ctx); err != nil {
		t.Fatal(err)
	}
	check(db) // the halves in two runs
	db.ix.limit = 12
	var filler []model.Record
	for i := range 200 {
		filler = append(filler, plainRecord(hexID(fmt.Sprint("filler", i)), n+i))
	}
	appendAll(t, db, filler, 5) // many more runs and merges
	all = append(all, filler...)
	check(db)
	check(openDir(t, dir))
}

// TestIDRunsOfTwoWriters has two stores on one file take turns: each must
// notice the runs the other wrote and merged.
func TestIDRunsOfTwoWriters(t *testing.T) {
	dir := t.TempDir()
	a, b := openDir(t, dir), openDir(t, dir)
	a.ix.limit, b.ix.limit = 20, 20
	ctx := context.Background()
	var recs []model.Record
	for i := range 300 {
		id := hexID(fmt.Sprint(i))
		if i%3 == 0 {
			id = fmt.Sprint("rec-", i)
		}
		recs = append(recs, plainRecord(id, i))
	}
	steps := []struct {
		db         *DB
		from, to   int
		wantStored int
	}{
		{a, 0, 70, 70},
		{b, 50, 160, 90},
		{a, 0, 200, 40},
		{b, 0, 250, 50},
		{a, 100, 300, 50},
		{b, 0, 300, 0},
		{a, 0, 300, 0},
	}
	for i, s := range steps {
		stored := 0
		for j := s.from; j < s.to; j += 7 {
			res, err := s.db.Append(ctx, recs[j:min(j+7, s.to)])
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			stored += res.Stored
		}
		if stored != s.wantStored {
			t.Errorf("step %d: %d of records %d..%d stored, want %d", i, stored, s.from, s.to, s.wantStored)
		}
	}
	st, err := a.Stats(ctx)
	if err != nil || st.Records != len(recs) {
		t.Errorf("Stats = %+v, %v; want %d records", st, err, len(recs))
	}
}
