package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// clickhouseStore returns a store URL naming a database of the test's own
// on the server CALLDIAG_CLICKHOUSE_URL names, or skips (fails when
// CALLDIAG_REQUIRE_CLICKHOUSE=1) without one.
func clickhouseStore(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CALLDIAG_CLICKHOUSE_URL")
	if base == "" {
		if os.Getenv("CALLDIAG_REQUIRE_CLICKHOUSE") == "1" {
			t.Fatal("CALLDIAG_REQUIRE_CLICKHOUSE=1 but CALLDIAG_CLICKHOUSE_URL is not set")
		}
		t.Skip("no ClickHouse server: set CALLDIAG_CLICKHOUSE_URL=clickhouse://127.0.0.1:9000/calldiag_test to run the commands against one")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("CALLDIAG_CLICKHOUSE_URL: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := strings.Trim(u.Path, "/") + "_cli_" + hex.EncodeToString(b)
	u.Path = "/" + name
	t.Cleanup(func() {
		// Drop the test's database through the server's own client when
		// it is installed; otherwise it stays behind on a test server.
		if _, err := exec.LookPath("clickhouse-client"); err == nil {
			args := []string{"--host", u.Hostname(), "-q", "DROP DATABASE IF EXISTS " + name}
			if p := u.Port(); p != "" {
				args = append(args, "--port", p)
			}
			if out, err := exec.Command("clickhouse-client", args...).CombinedOutput(); err != nil {
				t.Logf("drop %s: %v: %s", name, err, out)
			}
		}
	})
	return u.String()
}

// The commands work the same on the ClickHouse store: --store (or
// CALLDIAG_STORE) selects it for ingest, search, call, timeline and pin.
func TestCommandsOnClickHouse(t *testing.T) {
	st := clickhouseStore(t)
	env := map[string]string{"CALLDIAG_STORE": st}
	out, errs, code := run(t, env, "ingest", "--json", "testdata/p2p-call.jsonl")
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	var res pipeline.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Stored == 0 {
		t.Fatalf("ingest --json = %s (%v)", out, err)
	}
	out, errs, code = run(t, env, "calls", "--json")
	if code != 0 {
		t.Fatalf("calls: exit %d: %s", code, errs)
	}
	var page store.CallPage
	if err := json.Unmarshal([]byte(out), &page); err != nil || page.Total != 1 || page.Calls[0].ID != p2pCall {
		t.Fatalf("calls --json = %s (%v)", out, err)
	}
	for _, args := range [][]string{{"call", p2pCall}, {"timeline", p2pCall}, {"issues", p2pCall}, {"pin", p2pCall}} {
		if _, errs, code := run(t, env, args...); code != 0 {
			t.Errorf("calldiag %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
	}
	out, _, _ = run(t, env, "calls", "--json")
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Calls) != 1 || !page.Calls[0].Pinned {
		t.Errorf("after pin, calls --json = %s", out)
	}
	// The same file again stores nothing new.
	out, _, _ = run(t, env, "ingest", "--json", "testdata/p2p-call.jsonl")
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Stored != 0 || res.Duplicates == 0 {
		t.Errorf("second ingest --json = %s", out)
	}
}

func TestStoreURLErrors(t *testing.T) {
	for _, c := range []struct {
		store, want string
		code        int
	}{
		{"postgres://x/y", "unknown store", ExitUsage},
		{"sqlite:", "needs a folder", ExitUsage},
		{"clickhouse://127.0.0.1:1/calldiag", "127.0.0.1:1", ExitError},
		{"clickhouse://127.0.0.1:1/bad-name", "database name", ExitError},
	} {
		_, errs, code := run(t, map[string]string{"CALLDIAG_STORE": c.store}, "calls")
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("--store %s: exit %d, stderr %q; want exit %d mentioning %q", c.store, code, errs, c.code, c.want)
		}
	}
}
