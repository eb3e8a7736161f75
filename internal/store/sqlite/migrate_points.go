package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// programStep returns the part of the named migration that SQL cannot do,
// run in the migration's transaction after its SQL, or nil.
func programStep(name string) func(context.Context, *sql.Tx) error {
	if name == "0002_compact.sql" {
		return repackPoints
	}
	return nil
}

// repackPoints rewrites every packed row of points from the encoding of
// schema version 1 to the current one.
func repackPoints(ctx context.Context, tx *sql.Tx) error {
	type row struct {
		cid, minute, seq int64
		data             []byte
	}
	var last row
	first := true
	for {
		// Rows are read in key order a page at a time, so that the update
		// of one page never disturbs the reading of the next.
		q := "SELECT cid, minute, seq, data FROM points ORDER BY cid, minute, seq LIMIT 512"
		args := []any{}
		if !first {
			q = "SELECT cid, minute, seq, data FROM points WHERE (cid, minute, seq) > (?, ?, ?) ORDER BY cid, minute, seq LIMIT 512"
			args = []any{last.cid, last.minute, last.seq}
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("repack points: %w", err)
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.cid, &r.minute, &r.seq, &r.data); err != nil {
				rows.Close()
				return fmt.Errorf("repack points: %w", err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("repack points: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, r := range page {
			var ps []point
			if err := decodePointsV1(r.data, r.minute, func(p point) { ps = append(ps, p) }); err != nil {
				return fmt.Errorf("repack points of call %d, minute %d: %w", r.cid, r.minute, err)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE points SET data = ? WHERE cid = ? AND minute = ? AND seq = ?",
				encodePoints(ps, r.minute), r.cid, r.minute, r.seq); err != nil {
				return fmt.Errorf("repack points: %w", err)
			}
		}
		last, first = page[len(page)-1], false
	}
}
