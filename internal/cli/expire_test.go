package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"calldiag/internal/store"
)

func TestParseRetention(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{" 7d ", 7 * 24 * time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0d", 0, true},
		{"-1d", 0, false},
		{"-5h", 0, false},
		{"1.5d", 0, false},
		{"thirty days", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, err := parseRetention(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func expireJSON(t *testing.T, env map[string]string, args ...string) store.ExpireResult {
	t.Helper()
	out, errs, code := run(t, env, append([]string{"expire", "--json"}, args...)...)
	var res store.ExpireResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("expire %v: exit %d, stdout %q, stderr %q", args, code, out, errs)
	}
	return res
}

func pinnedOf(t *testing.T, db string) bool {
	t.Helper()
	var page store.CallPage
	if err := json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json")), &page); err != nil || len(page.Calls) != 1 {
		t.Fatalf("calls --json: %v, %+v", err, page)
	}
	return page.Calls[0].Pinned
}

func TestPinAndExpire(t *testing.T) {
	db := t.TempDir()
	if res, code := ingestJSON(t, db, "testdata/p2p-call.jsonl"); code != 0 || res.Stored != 10 {
		t.Fatalf("ingest: exit %d, %+v", code, res)
	}
	// The test call is from 2026-03-02: a window of centuries keeps it.
	if got := expireJSON(t, nil, "--db", db, "--retention", "100000d"); got != (store.ExpireResult{}) {
		t.Errorf("expire with a long window = %+v, want nothing removed", got)
	}
	if out := mustRun(t, "pin", "--db", db, p2pCall); !strings.Contains(out, "pinned") {
		t.Errorf("pin printed %q", out)
	}
	if !pinnedOf(t, db) {
		t.Errorf("calls --json does not show the call as pinned")
	}
	if got := expireJSON(t, nil, "--db", db, "--retention", "1h"); got != (store.ExpireResult{}) {
		t.Errorf("expire of a pinned call = %+v, want nothing removed", got)
	}
	mustRun(t, "unpin", "--db", db, p2pCall)
	if pinnedOf(t, db) {
		t.Errorf("calls --json shows the call as pinned after unpin")
	}
	// The window can come from the environment, like every flag.
	env := map[string]string{"CALLDIAG_RETENTION": "1h"}
	// Nine of the ten records name the call; the tenth, a client operation
	// without a call id, is not part of it (its original stays stored).
	if got := expireJSON(t, env, "--db", db); got != (store.ExpireResult{Calls: 1, Records: 9}) {
		t.Errorf("expire after unpin = %+v, want 1 call, 9 records", got)
	}
	if _, _, code := run(t, nil, "call", "--db", db, p2pCall); code == 0 {
		t.Errorf("call %s still shown after it expired", p2pCall)
	}
	// Its records delivered again are duplicates.
	if res, code := ingestJSON(t, db, "testdata/p2p-call.jsonl"); code != 0 || res.Stored != 0 || res.Duplicates != 10 {
		t.Errorf("re-ingesting an expired call: exit %d, %+v; want 10 duplicates", code, res)
	}
	out := mustRun(t, "expire", "--db", db, "--retention", "30d")
	if !strings.Contains(out, "removed 0 calls (0 records)") {
		t.Errorf("expire printed %q", out)
	}
}

func TestPinErrors(t *testing.T) {
	db := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"unknown call", []string{"pin", "--db", db, "no-such-call"}},
		{"unpin unknown call", []string{"unpin", "--db", db, "no-such-call"}},
		{"pin without a call", []string{"pin", "--db", db}},
		{"expire without a window", []string{"expire", "--db", db}},
		{"expire with a bad window", []string{"expire", "--db", db, "--retention", "soon"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if out, errs, code := run(t, nil, tc.args...); code == 0 {
				t.Errorf("calldiag %v succeeded: %q %q", tc.args, out, errs)
			}
		})
	}
}

// fakeExpirer records the cut-offs it is asked for.
type fakeExpirer struct {
	mu      sync.Mutex
	befores []time.Time
	called  chan struct{}
	err     error
}

func (f *fakeExpirer) Expire(_ context.Context, before time.Time) (store.ExpireResult, error) {
	f.mu.Lock()
	f.befores = append(f.befores, before)
	f.mu.Unlock()
	f.called <- struct{}{}
	return store.ExpireResult{Calls: 1, Records: 3}, f.err
}

func TestKeepRetention(t *testing.T) {
	for _, failing := range []bool{false, true} {
		f := &fakeExpirer{called: make(chan struct{})}
		if failing {
			f.err = errors.New("disk on fire")
		}
		now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			keepRetention(ctx, f, 48*time.Hour, time.Millisecond, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
			close(done)
		}()
		// It runs at once and then again on every tick, also after a failure.
		for range 3 {
			select {
			case <-f.called:
			case <-time.After(5 * time.Second):
				t.Fatalf("retention did not run again (failing %v)", failing)
			}
		}
		cancel()
		select {
		case <-done:
		case <-f.called: // a run that started before the cancel
			<-done
		case <-time.After(5 * time.Second):
			t.Fatalf("retention did not stop with its context")
		}
		f.mu.Lock()
		if want := now.Add(-48 * time.Hour); !f.befores[0].Equal(want) {
			t.Errorf("first cut-off = %s, want %s", f.befores[0], want)
		}
		f.mu.Unlock()
	}
}
