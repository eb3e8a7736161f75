package sqlite

import (
	"context"
	"testing"
)

func TestSizeBreakdown(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	emptyTotal, emptyArchive, err := db.SizeBreakdown(ctx)
	if err != nil {
		t.Fatalf("SizeBreakdown: %v", err)
	}
	if emptyTotal <= 0 || emptyArchive < 0 || emptyArchive > emptyTotal {
		t.Errorf("empty store: total %d, archive %d", emptyTotal, emptyArchive)
	}
	appendBatches(t, db, workload(40))
	total, archive, err := db.SizeBreakdown(ctx)
	if err != nil {
		t.Fatalf("SizeBreakdown: %v", err)
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
