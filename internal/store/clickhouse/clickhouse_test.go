package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/storetest"
)

// serverURL returns the ClickHouse server the tests use, or skips the test
// when none is configured (and fails when one is required).
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CALLDIAG_CLICKHOUSE_URL")
	if u == "" {
		if os.Getenv("CALLDIAG_REQUIRE_CLICKHOUSE") == "1" {
			t.Fatal("CALLDIAG_REQUIRE_CLICKHOUSE=1 but CALLDIAG_CLICKHOUSE_URL is not set")
		}
		t.Skip("no ClickHouse server: set CALLDIAG_CLICKHOUSE_URL=clickhouse://127.0.0.1:9000/calldiag_test to run the store contract against one")
	}
	return u
}

// openTest opens a store in a database of its own, dropped when the test
// ends.
func openTest(t testing.TB) *DB {
	t.Helper()
	u, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatalf("CALLDIAG_CLICKHOUSE_URL: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	base := strings.Trim(u.Path, "/")
	if base == "" {
		base = "calldiag_test"
	}
	u.Path = "/" + base + "_" + hex.EncodeToString(b)
	db, err := Open(context.Background(), u.String(), nil)
	if err != nil {
		if os.Getenv("CALLDIAG_REQUIRE_CLICKHOUSE") != "1" {
			t.Skipf("ClickHouse at %s is not reachable (%v); start one or unset CALLDIAG_CLICKHOUSE_URL", u.Redacted(), err)
		}
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Drop(context.Background()); err != nil {
			t.Errorf("Drop: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t testing.TB) store.Store { return openTest(t) })
}

// The ClickHouse server Debian ships (18.16) takes batch inserts from
// driver v2.25.0 and refuses them from later versions, which speak a newer
// protocol revision. Bumping the driver needs a check against that server
// first; this test makes the bump a deliberate act.
func TestDriverVersionPinned(t *testing.T) {
	got := fmt.Sprintf("%d.%d.%d", ch.ClientVersionMajor, ch.ClientVersionMinor, ch.ClientVersionPatch)
	if got != "2.25.0" {
		t.Fatalf("clickhouse-go is v%s; the store is tested with v2.25.0, the last version whose batch inserts work on ClickHouse 18.16", got)
	}
}

// TestOlderDatabaseRefused opens a database whose call rows are versioned
// by time alone, as older builds wrote them: its rows would hide every new
// one, so the store says to make it again rather than serve stale calls.
func TestOlderDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ingest(ctx, t, db, simulate.Config{Calls: 1, Seed: 5, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err := db.conn.Exec(ctx, "TRUNCATE TABLE "+db.t("meta")); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, sameDatabase(t, db), nil)
	if err == nil {
		again.Close()
		t.Fatal("Open accepted a database without versioned call rows")
	}
	if !strings.Contains(err.Error(), "older calldiag") || !strings.Contains(err.Error(), "DROP DATABASE") {
		t.Errorf("Open: %v; want it to say the database is older and how to drop it", err)
	}
}
