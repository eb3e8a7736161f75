package sqlite

import (
	"context"
	"testing"
	"time"
)

// TestExpiryInAnotherProcess checks that a writer forgets its cached rows
// when another process (here another handle on the same file) expired
// calls: records of an expired call that arrive later build it afresh
// instead of pointing at rows that are gone.
func TestExpiryInAnotherProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := openDir(t, dir), openDir(t, dir)
	w := &liveWorkload{calls: 1, parts: 2, steps: 50}
	first := w.batch()
	call := first[0].CallID
	if _, err := a.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Call(ctx, call); err != nil {
		t.Fatalf("call after the first append: %v", err)
	}
	// The other process expires every call.
	res, err := b.Expire(ctx, time.Now().Add(100*365*24*time.Hour))
	if err != nil || res.Calls != 1 {
		t.Fatalf("expire: %+v, %v", res, err)
	}
	// More records of the same call reach the first writer.
	second := w.batch()
	if second[0].CallID != call {
		t.Fatalf("the workload moved on to call %s", second[0].CallID)
	}
	if r, err := a.Append(ctx, second); err != nil || r.Stored != len(second) {
		t.Fatalf("append after expiry: %+v, %v", r, err)
	}
	for name, db := range map[string]*DB{"writer": a, "other": b} {
		c, err := db.Call(ctx, call)
		if err != nil {
			t.Fatalf("%s: the call's new records were lost: %v", name, err)
		}
		if len(c.Participants) == 0 {
			t.Errorf("%s: call rebuilt without participants", name)
		}
	}
}
