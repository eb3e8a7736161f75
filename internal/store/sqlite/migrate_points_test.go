package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"io/fs"
	"math"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// encodePointsV1 writes a row as schema version 1 did.
func encodePointsV1(ps []point, minute int64) []byte {
	var b []byte
	for i, p := range ps {
		b = binary.AppendUvarint(b, uint64(p.t-minute*minuteNS))
		b = binary.LittleEndian.AppendUint64(b, uint64(i*7919)) // the record hash
		b = binary.AppendUvarint(b, uint64(p.seq))
		b = binary.AppendUvarint(b, uint64(p.sid))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.value))
	}
	return b
}

// TestMigrateVersion1Points opens a store written at schema version 1:
// its series keep their ids and its points are repacked with the same
// times, series and values.
func TestMigrateVersion1Points(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "calldiag.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	init1, err := fs.ReadFile(migrationFiles, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, w, fstest.MapFS{"migrations/0001_init.sql": {Data: init1}}); err != nil {
		t.Fatal(err)
	}
	const minute = 29_000_000
	base := int64(minute) * minuteNS
	var ps []point
	for i := range 300 {
		ps = append(ps, point{t: base + int64(i/3)*1e9, seq: int64(i), sid: int64(i%3 + 40), value: float64(i) / 8})
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO calls (cid, id) VALUES (1, 'c')", nil},
		{"INSERT INTO series (sid, cid, pid, stream, metric) VALUES (40, 1, 'p', 'audio-outbound', 'Jitter'), (41, 1, 'p', 'audio-outbound', 'Bitrate'), (42, 1, 'q', 'video-inbound', 'FrameRate')", nil},
		{"INSERT INTO points (cid, minute, seq, n, data) VALUES (1, ?, 0, ?, ?)", []any{minute, len(ps), encodePointsV1(ps, minute)}},
		{`INSERT INTO participants (cid, pid, grp, client, diag, d_etype, endpoint, identifier, ua, ua_ns, ua_rid,
			sdk, sdk_ns, sdk_rid, resources, s_final, s_res, s_data) VALUES
			(1, 'p', 1, 1, 0, '', '', '', 'Mozilla/5.0 (Macintosh)', 5, 'r1', '', 0, '', '/subscriptions/x', 1, '/subscriptions/x', '{}'),
			(1, 'q', 1, 0, 0, '', '', '', '', 0, '', '', 0, '', '', NULL, NULL, NULL)`, nil},
		{`INSERT INTO orphan_ops (rid, ci, t, kind, pid, name, result, detail, ua, sdk) VALUES
			('o1', 'ci-1', 5, 'operation', '', 'Join', 'Succeeded', '', 'Mozilla/5.0 (Macintosh)', '1.30.1'),
			('o2', 'ci-1', 6, 'operation', '', 'Leave', 'Succeeded', '', '', '')`, nil},
	} {
		if _, err := w.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	w.Close()

	db, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatalf("Open of a version 1 store: %v", err)
	}
	defer db.Close()
	var data []byte
	if err := db.w.QueryRowContext(ctx, "SELECT data FROM points WHERE cid = 1").Scan(&data); err != nil {
		t.Fatal(err)
	}
	got := map[[2]int64]float64{}
	if err := decodePoints(data, minute, func(p point) { got[[2]int64{p.t, p.sid}] = p.value }); err != nil {
		t.Fatalf("repacked row: %v", err)
	}
	if len(got) != len(ps) {
		t.Fatalf("%d points after the migration, want %d", len(got), len(ps))
	}
	for _, p := range ps {
		if v, ok := got[[2]int64{p.t, p.sid}]; !ok || v != p.value {
			t.Errorf("point at %d of series %d = %v, %v; want %v", p.t, p.sid, v, ok, p.value)
		}
	}
	parts, err := loadParticipants(ctx, db.w, 1)
	if err != nil || len(parts) != 2 {
		t.Fatalf("participants after the migration: %v, %v", parts, err)
	}
	if p := parts[0]; p.ua != "Mozilla/5.0 (Macintosh)" || p.sum == nil || p.sum.res != "/subscriptions/x" || p.resources[0] != "/subscriptions/x" {
		t.Errorf("participant p after the migration: %+v %+v", p, p.sum)
	}
	if q := parts[1]; q.ua != "" || q.sum != nil {
		t.Errorf("participant q after the migration: %+v", q)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ops, err := orphansOf(ctx, tx, "ci-1")
	if err != nil || len(ops) != 2 || ops[0].ua != "Mozilla/5.0 (Macintosh)" || ops[0].sdk != "1.30.1" || ops[1].ua != "" {
		t.Errorf("unlinked operations after the migration: %+v, %v", ops, err)
	}
	var sid int64
	if err := tx.QueryRowContext(ctx, `SELECT sid FROM series WHERE cid = 1 AND pid = 'q'
		AND stream = (SELECT id FROM names WHERE name = 'video-inbound') AND metric = (SELECT id FROM names WHERE name = 'FrameRate')`).Scan(&sid); err != nil || sid != 42 {
		t.Errorf("series id after the migration = %d, %v; want 42", sid, err)
	}
}
