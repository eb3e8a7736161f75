package sqlite

import (
	"context"
	"testing"

	"calldiag/internal/store"
	"calldiag/internal/store/storetest"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), t.TempDir(), nil)
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
