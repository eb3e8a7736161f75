package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// memStore is an in-memory Appender that stores records by id.
type memStore struct {
	mu      sync.Mutex
	byID    map[string]model.Record
	batches []int
	failAt  int // fail the n-th Append (1-based); 0 never
}

func (m *memStore) Append(_ context.Context, batch []model.Record) (store.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, len(batch))
	if m.failAt > 0 && len(m.batches) == m.failAt {
		return store.AppendResult{}, errors.New("disk full")
	}
	if m.byID == nil {
		m.byID = map[string]model.Record{}
	}
	res := store.AppendResult{New: make([]bool, len(batch))}
	calls := map[string]bool{}
	for i, r := range batch {
		if _, ok := m.byID[r.ID]; ok {
			res.Duplicates++
			continue
		}
		m.byID[r.ID] = r
		res.New[i] = true
		res.Stored++
		if r.CallID != "" && !calls[r.CallID] {
			calls[r.CallID] = true
			res.Calls = append(res.Calls, r.CallID)
		}
	}
	return res, nil
}

// opLine is one client-operation record of call c.
func opLine(c string, i int) string {
	return fmt.Sprintf(`{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/a","category":"CallClientOperations","properties":{"CallClientTimeStamp":"2026-03-02T10:00:00.%03dZ","OperationName":"Join","CallId":"%s","OperationId":"op-%d","ResultType":"Succeeded"}}`, i%1000, c, i)
}

func TestCountsAddUpAcrossBatches(t *testing.T) {
	var b strings.Builder
	for i := range 2500 {
		fmt.Fprintln(&b, opLine(fmt.Sprintf("call-%d", i%7), i))
		if i%500 == 250 {
			fmt.Fprintln(&b, "{broken")
		}
	}
	fmt.Fprintln(&b, opLine("call-0", 0)) // a duplicate inside the same source
	ms := &memStore{}
	p := New(ms, Options{BatchSize: 300})
	res, err := p.Ingest(context.Background(), strings.NewReader(b.String()), "big.json")
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2500 || res.Duplicates != 1 || res.Rejected != 5 || res.Read != 2506 {
		t.Errorf("counts = %+v", res)
	}
	if len(res.Calls) != 7 || res.Calls[0] != "call-0" || res.Calls[6] != "call-6" {
		t.Errorf("calls = %v", res.Calls)
	}
	for _, n := range ms.batches {
		if n > 300 {
			t.Errorf("batch of %d exceeds BatchSize", n)
		}
	}
	for i, e := range res.Errors {
		if e.Source != "big.json" || e.Line == 0 || (i > 0 && e.Line < res.Errors[i-1].Line) {
			t.Errorf("error %d = %+v (errors must name the source and be ordered by line)", i, e)
		}
	}
}

func TestStoreFailureIsAnError(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintln(&b, opLine("c", i))
	}
	p := New(&memStore{failAt: 2}, Options{BatchSize: 100})
	_, err := p.Ingest(context.Background(), strings.NewReader(b.String()), "x")
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the store's error", err)
	}
}

func TestCancelledContextStops(t *testing.T) {
	var b bytes.Buffer
	for i := range 5000 {
		fmt.Fprintln(&b, opLine("c", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(&memStore{}, Options{}).Ingest(ctx, &b, "x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestIngestPathsReportsUnreadableSources(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(opLine("c1", 1)+"\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b.json"), []byte(opLine("c2", 2)+"\n"), 0o644)
	unreadable := filepath.Join(dir, "sub", "c.json")
	os.WriteFile(unreadable, []byte(opLine("c3", 3)), 0o000)
	res, err := New(&memStore{}, Options{}).IngestPaths(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root reads everything; the two files and the third are stored.
		if res.Stored != 3 {
			t.Errorf("stored %d, want 3", res.Stored)
		}
		return
	}
	if res.Stored != 2 || res.Rejected != 1 || res.Errors[0].Source != unreadable {
		t.Errorf("res = %+v", res)
	}
}

func TestMergeKeepsCallsSortedAndUnique(t *testing.T) {
	r := Result{Calls: []string{"b", "d"}}
	r.Merge(Result{Read: 2, Stored: 2, Calls: []string{"a", "d"}}, 10)
	if strings.Join(r.Calls, ",") != "a,b,d" || r.Read != 2 {
		t.Errorf("merged = %+v", r)
	}
}
