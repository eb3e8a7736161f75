package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"calldiag/internal/pipeline"
	"calldiag/internal/store/sqlite"
)

// opLine is one client-operation record of call c; i makes it unique.
func opLine(c string, i int) string {
	return fmt.Sprintf(`{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/a","category":"CallClientOperations","properties":{"CallClientTimeStamp":"2026-03-02T10:00:%02d.%03dZ","OperationName":"Join","CallId":"%s","OperationId":"op-%d","ResultType":"Succeeded"}}`, i/1000%60, i%1000, c, i)
}

func lines(c string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(opLine(c, i) + "\n")
	}
	return b.String()
}

type harness struct {
	t     *testing.T
	dir   string
	db    *sqlite.DB
	f     *Folder
	clock time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{t: t, dir: t.TempDir(), db: db, clock: time.Now()}
	h.f = h.folder()
	return h
}

// folder is a follower of the harness folder, as a restarted process would
// make it.
func (h *harness) folder() *Folder {
	return &Folder{Root: h.dir, Name: "dir://" + h.dir, Ingest: pipeline.New(h.db, pipeline.Options{}),
		Checkpoints: h.db, Now: func() time.Time { return h.clock }, Settle: 10 * time.Second}
}

func (h *harness) write(name, content string, appendTo bool) {
	h.t.Helper()
	path := filepath.Join(h.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flag = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		h.t.Fatal(err)
	}
	f.Close()
}

func (h *harness) pass() {
	h.t.Helper()
	if err := h.f.Pass(context.Background()); err != nil {
		h.t.Fatalf("Pass: %v", err)
	}
}

// records is the number of stored records of call c.
func (h *harness) records(c string) int { return storedRecords(h.db, c) }

// storedRecords is the number of records db holds of call c (0 when it
// holds none).
func storedRecords(db *sqlite.DB, c string) int {
	call, err := db.Call(context.Background(), c)
	if err != nil {
		return 0
	}
	n := 0
	for _, k := range call.RecordCounts {
		n += k
	}
	return n
}

const blobPath = "insights-logs-callclientoperations/resourceId=/SUBSCRIPTIONS/S/y=2026/m=03/d=02/h=10/m=00/PT1H.json"

func TestFolderFollowsGrowingFiles(t *testing.T) {
	h := newHarness(t)
	h.write(blobPath, lines("call-a", 0, 5), false)
	h.pass()
	if n := h.records("call-a"); n != 5 {
		t.Fatalf("after the first pass %d records, want 5", n)
	}
	// The hour's blob grows; the last line is still being written.
	partial := opLine("call-a", 7)
	h.write(blobPath, lines("call-a", 5, 7)+partial[:40], true)
	h.pass()
	if n := h.records("call-a"); n != 7 {
		t.Fatalf("after the blob grew %d records, want 7 (the unfinished line waits)", n)
	}
	h.write(blobPath, partial[40:]+"\n", true)
	// A new file appears beside it.
	h.write("insights-logs-callclientoperations/other/PT1H.json", lines("call-b", 100, 103), false)
	h.pass()
	if a, b := h.records("call-a"), h.records("call-b"); a != 8 || b != 3 {
		t.Fatalf("records %d and %d, want 8 and 3", a, b)
	}
	st := h.f.Status.Snapshot()
	if st.State != "following" || st.Records != 11 || st.Stored != 11 || st.Streams != 2 || st.LagBytes != 0 {
		t.Errorf("status %+v; want following 2 streams, 11 records stored, no lag", st)
	}
	cps, err := h.db.Checkpoints(context.Background(), h.f.Name)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(h.dir, blobPath))
	if cp := cps[blobPath]; cp.Offset != fi.Size() || cp.Line != 8 {
		t.Errorf("checkpoint %+v, want offset %d and 8 lines", cp, fi.Size())
	}
}

func TestFolderResumesFromCheckpoints(t *testing.T) {
	h := newHarness(t)
	h.write(blobPath, lines("call-a", 0, 4), false)
	h.pass()
	// A new process: nothing is read twice, and what came meanwhile is.
	h.write(blobPath, lines("call-a", 4, 6)+"{not json\n"+lines("call-a", 6, 7), true)
	h.f = h.folder()
	h.pass()
	st := h.f.Status.Snapshot()
	if st.Records != 4 || st.Duplicates != 0 || st.Rejected != 1 || st.Stored != 3 {
		t.Errorf("after restart %+v; want 3 new records stored and the bad line rejected, none read again", st)
	}
	if n := h.records("call-a"); n != 7 {
		t.Errorf("%d records, want 7", n)
	}
}

func TestFolderReplacedAndTruncatedFiles(t *testing.T) {
	h := newHarness(t)
	h.write(blobPath, lines("call-a", 0, 6), false)
	h.pass()
	// Truncated and rewritten with other records: read from the start.
	h.write(blobPath, lines("call-c", 50, 52), false)
	h.pass()
	if n := h.records("call-c"); n != 2 {
		t.Fatalf("after truncation %d records of the new content, want 2", n)
	}
	// Replaced by a new file of the same length: the inode tells.
	tmp := filepath.Join(h.dir, "new.tmp.json")
	content := lines("call-d", 60, 62)
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(h.dir, blobPath)); err != nil {
		t.Fatal(err)
	}
	h.pass()
	if n := h.records("call-d"); n != 2 {
		t.Errorf("after replacement %d records of the new file, want 2", n)
	}
	// A deleted file is no error.
	if err := os.Remove(filepath.Join(h.dir, blobPath)); err != nil {
		t.Fatal(err)
	}
	h.pass()
}

func TestFolderSettledTailAndGzip(t *testing.T) {
	h := newHarness(t)
	// A file whose last line has no newline is read whole once unchanged
	// for the settle time.
	h.write("export.json", strings.TrimSuffix(lines("call-e", 0, 3), "\n"), false)
	h.pass()
	if n := h.records("call-e"); n != 2 {
		t.Fatalf("%d records before the file settled, want 2", n)
	}
	h.clock = h.clock.Add(time.Minute)
	h.pass()
	if n := h.records("call-e"); n != 3 {
		t.Fatalf("%d records after it settled, want 3", n)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(lines("call-f", 0, 4)))
	w.Close()
	h.clock = time.Now()
	h.write("old/export.json.gz", gz.String(), false)
	h.pass()
	if n := h.records("call-f"); n != 0 {
		t.Fatalf("a gzip file was read while it may still be written")
	}
	h.clock = h.clock.Add(time.Minute)
	h.pass()
	h.pass()
	if n := h.records("call-f"); n != 4 {
		t.Fatalf("%d records of the gzip file, want 4", n)
	}
	if st := h.f.Status.Snapshot(); st.Duplicates != 0 {
		t.Errorf("status %+v: a settled file was read twice", st)
	}
}

func TestFolderSegmentsAndLongLines(t *testing.T) {
	h := newHarness(t)
	h.f.Segment = 1000 // a few lines per segment; one record is longer
	long := strings.Replace(opLine("call-g", 999), `"ResultType":"Succeeded"`, `"ResultType":"Succeeded","Pad":"`+strings.Repeat("x", 3000)+`"`, 1)
	h.write(blobPath, lines("call-g", 0, 10)+long+"\n"+lines("call-g", 10, 12), false)
	h.pass()
	if n := h.records("call-g"); n != 13 {
		t.Fatalf("%d records, want 13", n)
	}
	cps, _ := h.db.Checkpoints(context.Background(), h.f.Name)
	if cp := cps[blobPath]; cp.Line != 13 {
		t.Errorf("checkpoint %+v, want 13 lines", cp)
	}
}

func TestFolderErrors(t *testing.T) {
	h := newHarness(t)
	h.f.Root = filepath.Join(h.dir, "missing")
	if err := h.f.Pass(context.Background()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Pass on a missing folder = %v, want an error naming it", err)
	}
	// Run keeps trying and says why.
	ctx, cancel := context.WithCancel(context.Background())
	h.f.Poll = 10 * time.Millisecond
	done := make(chan error)
	go func() { done <- h.f.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for h.f.Status.Snapshot().Errors < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := h.f.Status.Snapshot()
	if st.State != "retrying" || !strings.Contains(st.LastError, "missing") {
		t.Errorf("status %+v; want retrying with the error", st)
	}
	// The folder appears: the source recovers.
	if err := os.MkdirAll(h.f.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	for h.f.Status.Snapshot().State != "following" && time.Now().Before(deadline.Add(60*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := h.f.Status.Snapshot(); st.State != "following" || st.LastError != "" {
		t.Errorf("status %+v; want following again", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if st := h.f.Status.Snapshot(); st.State != "stopped" {
		t.Errorf("status after cancel %+v", st)
	}
}

var _ Checkpoints = (*sqlite.DB)(nil)
