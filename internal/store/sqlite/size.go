package sqlite

import (
	"context"
	"fmt"
)

// Size is what a store's pages in use (free pages left out) hold.
type Size struct {
	// Total is every page in use: data and indexes.
	Total int64
	// RawArchive is the pages of the chunks table: the compressed original
	// records with their per-record metadata.
	RawArchive int64
	// IDIndex is the pages of the record id index (id_runs, id_pages),
	// which finds an original record by its id and keeps the archive free
	// of duplicates.
	IDIndex int64
}

// SizeBreakdown returns what the store's pages in use hold. Record ids of
// the latest appends are kept in memory until enough have gathered
// (memLimit); FlushRecordIDs writes them out first, for a figure that
// counts them.
func (db *DB) SizeBreakdown(ctx context.Context) (Size, error) {
	var s Size
	tx, err := db.readTx(ctx)
	if err != nil {
		return s, err
	}
	defer tx.Rollback()
	var pages, free, pageSize int64
	for _, q := range []struct {
		sql string
		dst *int64
	}{
		{"PRAGMA page_count", &pages},
		{"PRAGMA freelist_count", &free},
		{"PRAGMA page_size", &pageSize},
		{"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'chunks'", &s.RawArchive},
		{"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('id_runs', 'id_pages')", &s.IDIndex},
	} {
		if err := tx.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return s, fmt.Errorf("size: %s: %w", q.sql, err)
		}
	}
	s.Total = (pages - free) * pageSize
	return s, nil
}

// FlushRecordIDs writes the record ids held in memory into the id index.
func (db *DB) FlushRecordIDs(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errClosed
	}
	if err := db.flushIDs(ctx); err != nil {
		return fmt.Errorf("flush record ids: %w", err)
	}
	return nil
}
