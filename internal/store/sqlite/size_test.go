package sqlite

import (
	"context"
	"testing"
)

func TestSizeBreakdown(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	empty, err := db.SizeBreakdown(ctx)
	if err != nil {
		t.Fatalf("SizeBreakdown: %v", err)
	}
	emptyTotal, emptyArchive := empty.Total, empty.RawArchive
	if emptyTotal <= 0 || emptyArchive < 0 || emptyArchive > emptyTotal {
		t.Errorf("empty store: total %d, archive %d", emptyTotal, emptyArchive)
	}
	appendBatches(t, db, workload(40))
	before, err := db.SizeBreakdown(ctx)
	if err != nil {
		t.Fatalf("SizeBreakdown: %v", err)
	}
	// The latest ids are still in memory; flushed, the index holds them.
	if err := db.FlushRecordIDs(ctx); err != nil {
		t.Fatal(err)
	}
	size, err := db.SizeBreakdown(ctx)
	if err != nil {
		t.Fatalf("SizeBreakdown: %v", err)
	}
	total, archive := size.Total, size.RawArchive
	if size.IDIndex <= before.IDIndex || size.IDIndex < 16*int64(len(workload(40))) || archive+size.IDIndex >= total {
		t.Errorf("id index %d bytes after the flush (before %d) for %d records, total %d, archive %d",
			size.IDIndex, before.IDIndex, len(workload(40)), total, archive)
	}
	if total <= emptyTotal || archive <= emptyArchive || archive >= total {
		t.Errorf("after appends: total %d (empty %d), archive %d (empty %d); want both grown, archive a part of total",
			total, emptyTotal, archive, emptyArchive)
	}
	var data int64
	if err := db.r.QueryRowContext(ctx, "SELECT sum(length(data)) FROM chunks").Scan(&data); err != nil {
		t.Fatal(err)
	}
	if archive < data {
		t.Errorf("archive %d bytes is smaller than the compressed records it holds (%d)", archive, data)
	}
}
