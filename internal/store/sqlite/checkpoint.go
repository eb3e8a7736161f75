package sqlite

import (
	"context"
	"fmt"
	"sort"

	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// Checkpoints returns the checkpoints of a source, keyed by stream.
func (db *DB) Checkpoints(ctx context.Context, source string) (map[string]store.Checkpoint, error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT stream, "offset", line, tag, updated_ns FROM checkpoints WHERE source = ?`, source)
	if err != nil {
		return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
	}
	defer rows.Close()
	out := make(map[string]store.Checkpoint)
	for rows.Next() {
		var stream string
		var cp store.Checkpoint
		var ns int64
		if err := rows.Scan(&stream, &cp.Offset, &cp.Line, &cp.Tag, &ns); err != nil {
			return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
		}
		cp.Updated = callfold.FromNS(ns)
		out[stream] = cp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
	}
	return out, nil
}

// SaveCheckpoints stores checkpoints of a source, all or none.
func (db *DB) SaveCheckpoints(ctx context.Context, source string, cps map[string]store.Checkpoint) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errClosed
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save checkpoints of %s: %w", source, err)
	}
	defer tx.Rollback()
	streams := make([]string, 0, len(cps))
	for s := range cps {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	for _, s := range streams {
		cp := cps[s]
		_, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (source, stream, "offset", line, tag, updated_ns)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, stream) DO UPDATE SET
			"offset" = excluded."offset", line = excluded.line, tag = excluded.tag, updated_ns = excluded.updated_ns`,
			source, s, cp.Offset, cp.Line, cp.Tag, callfold.NS(cp.Updated))
		if err != nil {
			return fmt.Errorf("save checkpoint of %s %s: %w", source, s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save checkpoints of %s: %w", source, err)
	}
	return nil
}

// SourceProgress sums up the checkpoints of every source, by source.
func (db *DB) SourceProgress(ctx context.Context) ([]store.SourceProgress, error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT source, count(*), sum("offset"), sum(line), max(updated_ns)
		FROM checkpoints GROUP BY source ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("source progress: %w", err)
	}
	defer rows.Close()
	out := []store.SourceProgress{}
	for rows.Next() {
		var p store.SourceProgress
		var ns int64
		if err := rows.Scan(&p.Source, &p.Streams, &p.Bytes, &p.Lines, &ns); err != nil {
			return nil, fmt.Errorf("source progress: %w", err)
		}
		p.Updated = callfold.FromNS(ns)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("source progress: %w", err)
	}
	return out, nil
}
