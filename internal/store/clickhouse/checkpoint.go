package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"time"

	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// Checkpoints returns the checkpoints of a source, keyed by stream.
func (db *DB) Checkpoints(ctx context.Context, source string) (map[string]store.Checkpoint, error) {
	if db.closed.Load() {
		return nil, errClosed
	}
	rows, err := db.conn.Query(ctx, "SELECT stream, argMax(offset, ver), argMax(line, ver), argMax(tag, ver), argMax(updated, ver)"+
		" FROM "+db.t("checkpoints")+" WHERE source = "+quote(source)+" GROUP BY stream")
	if err != nil {
		return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
	}
	defer rows.Close()
	out := make(map[string]store.Checkpoint)
	for rows.Next() {
		var stream, tag string
		var off, line, updated int64
		if err := rows.Scan(&stream, &off, &line, &tag, &updated); err != nil {
			return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
		}
		out[stream] = store.Checkpoint{Offset: off, Line: int(line), Tag: tag, Updated: callfold.FromNS(updated)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints of %s: %w", source, err)
	}
	return out, nil
}

// SaveCheckpoints stores checkpoints of a source in one insert. A later
// save wins over an earlier one by its version, the time of the save.
func (db *DB) SaveCheckpoints(ctx context.Context, source string, cps map[string]store.Checkpoint) error {
	if db.closed.Load() {
		return errClosed
	}
	streams := make([]string, 0, len(cps))
	for s := range cps {
		streams = append(streams, s)
	}
	sort.Strings(streams)
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.t("checkpoints"))
	if err != nil {
		return fmt.Errorf("save checkpoints of %s: %w", source, err)
	}
	ver := uint64(time.Now().UnixNano())
	for _, s := range streams {
		cp := cps[s]
		if err := b.Append(source, s, ver, cp.Offset, int64(cp.Line), cp.Tag, callfold.NS(cp.Updated)); err != nil {
			b.Abort()
			return fmt.Errorf("save checkpoint of %s %s: %w", source, s, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("save checkpoints of %s: %w", source, err)
	}
	return nil
}

// SourceProgress sums up the checkpoints of every source, by source.
func (db *DB) SourceProgress(ctx context.Context) ([]store.SourceProgress, error) {
	if db.closed.Load() {
		return nil, errClosed
	}
	rows, err := db.conn.Query(ctx, "SELECT source, count(), sum(o), sum(l), max(u) FROM (SELECT source, stream,"+
		" argMax(offset, ver) AS o, argMax(line, ver) AS l, argMax(updated, ver) AS u FROM "+db.t("checkpoints")+
		" GROUP BY source, stream) GROUP BY source ORDER BY source")
	if err != nil {
		return nil, fmt.Errorf("source progress: %w", err)
	}
	defer rows.Close()
	out := []store.SourceProgress{}
	for rows.Next() {
		var p store.SourceProgress
		var n uint64
		var bytes, lines, updated int64
		if err := rows.Scan(&p.Source, &n, &bytes, &lines, &updated); err != nil {
			return nil, fmt.Errorf("source progress: %w", err)
		}
		p.Streams, p.Bytes, p.Lines, p.Updated = int(n), bytes, lines, callfold.FromNS(updated)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("source progress: %w", err)
	}
	return out, nil
}
