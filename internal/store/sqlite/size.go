package sqlite

import (
	"context"
	"fmt"
)

// SizeBreakdown returns the bytes of the database's pages in use (data and
// indexes, free pages left out) and, of those, the bytes of the pages of the
// chunks table: the compressed archive of the original records with their
// per-record metadata.
func (db *DB) SizeBreakdown(ctx context.Context) (total, rawArchive int64, err error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	var pages, free, pageSize int64
	for _, q := range []struct {
		sql string
		dst *int64
	}{{"PRAGMA page_count", &pages}, {"PRAGMA freelist_count", &free}, {"PRAGMA page_size", &pageSize}} {
		if err := tx.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return 0, 0, fmt.Errorf("size: %s: %w", q.sql, err)
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'chunks'").Scan(&rawArchive); err != nil {
		return 0, 0, fmt.Errorf("size: chunks pages: %w", err)
	}
	return (pages - free) * pageSize, rawArchive, nil
}
