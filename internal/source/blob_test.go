package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"calldiag/internal/pipeline"
	"calldiag/internal/source/sourcetest"
	"calldiag/internal/store/sqlite"
)

const (
	azuriteAccount = sourcetest.AzuriteAccount
	azuriteKey     = sourcetest.AzuriteKey
)

func startAzurite(t *testing.T) string { return sourcetest.StartAzurite(t) }

// blobHarness is a container of Azurite, a store and a follower of the
// container.
type blobHarness struct {
	t     *testing.T
	cs    string
	name  string
	c     *container.Client
	db    *sqlite.DB
	b     *Blob
	logs  *bytes.Buffer
	clock time.Time
}

func newBlobHarness(t *testing.T, cs, name string) *blobHarness {
	t.Helper()
	ctx := context.Background()
	c, err := container.NewClientFromConnectionString(cs, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, nil); err != nil {
		t.Fatalf("create container %s: %v", name, err)
	}
	db, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &blobHarness{t: t, cs: cs, name: name, c: c, db: db, logs: &bytes.Buffer{}, clock: time.Now()}
	h.b = h.follower()
	return h
}

// follower is a follower of the harness container, as a restarted process
// would make it.
func (h *blobHarness) follower() *Blob {
	return &Blob{Account: azuriteAccount, Container: h.name, Prefix: "insights-logs-", ConnectionString: h.cs,
		Name: "blob://" + azuriteAccount + "/" + h.name, Ingest: pipeline.New(h.db, pipeline.Options{}), Checkpoints: h.db,
		Logger: slog.New(slog.NewTextHandler(h.logs, nil)), Now: func() time.Time { return h.clock }, Settle: 10 * time.Second, List: -1}
}

// create makes an append blob holding content.
func (h *blobHarness) create(name, content string) {
	h.t.Helper()
	ab := h.c.NewAppendBlobClient(name)
	if _, err := ab.Create(context.Background(), nil); err != nil {
		h.t.Fatalf("create %s: %v", name, err)
	}
	if content != "" {
		h.append(name, content)
	}
}

// append appends a block to an append blob, as Azure does during the hour.
func (h *blobHarness) append(name, content string) {
	h.t.Helper()
	_, err := h.c.NewAppendBlobClient(name).AppendBlock(context.Background(),
		streaming.NopCloser(strings.NewReader(content)), nil)
	if err != nil {
		h.t.Fatalf("append to %s: %v", name, err)
	}
}

func (h *blobHarness) remove(name string) {
	h.t.Helper()
	if _, err := h.c.NewBlobClient(name).Delete(context.Background(), nil); err != nil {
		h.t.Fatalf("delete %s: %v", name, err)
	}
}

func (h *blobHarness) pass() {
	h.t.Helper()
	if err := h.b.Pass(context.Background()); err != nil {
		h.t.Fatalf("Pass: %v", err)
	}
}

// records is the number of stored records of call c.
func (h *blobHarness) records(c string) int { return storedRecords(h.db, c) }

// TestBlobAgainstAzurite follows containers of a local Azurite, with the
// SQLite store and the real pipeline.
func TestBlobAgainstAzurite(t *testing.T) {
	cs := startAzurite(t)
	ctx := context.Background()

	t.Run("blobs appear and grow", func(t *testing.T) {
		h := newBlobHarness(t, cs, "grow")
		h.create(blobPath, lines("call-a", 0, 5))
		h.create("elsewhere/PT1H.json", lines("call-x", 0, 3)) // outside the prefix
		h.pass()
		if n := h.records("call-a"); n != 5 {
			t.Fatalf("after the first pass %d records, want 5", n)
		}
		// The hour's blob grows; its last line is still being written.
		partial := opLine("call-a", 7)
		h.append(blobPath, lines("call-a", 5, 7)+partial[:40])
		h.pass()
		if n := h.records("call-a"); n != 7 {
			t.Fatalf("after the blob grew %d records, want 7 (the unfinished line waits)", n)
		}
		h.append(blobPath, partial[40:]+"\n")
		other := "insights-logs-callclientoperations/resourceId=/SUBSCRIPTIONS/T/y=2026/m=03/d=02/h=10/m=00/PT1H.json"
		h.create(other, lines("call-b", 100, 103))
		h.pass()
		if a, b, x := h.records("call-a"), h.records("call-b"), h.records("call-x"); a != 8 || b != 3 || x != 0 {
			t.Fatalf("records %d, %d and %d; want 8, 3 and none from outside the prefix", a, b, x)
		}
		st := h.b.Status.Snapshot()
		if st.State != "following" || st.Kind != "blob" || st.Records != 11 || st.Stored != 11 || st.Duplicates != 0 ||
			st.Streams != 2 || st.LagBytes != 0 {
			t.Errorf("status %+v; want following 2 blobs, 11 records stored once each, no lag", st)
		}
		cps, err := h.db.Checkpoints(ctx, h.b.Name)
		if err != nil {
			t.Fatal(err)
		}
		props, err := h.c.NewBlobClient(blobPath).GetProperties(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cp := cps["grow/"+blobPath]; cp.Offset != *props.ContentLength || cp.Line != 8 || !strings.HasPrefix(cp.Tag, "created ") {
			t.Errorf("checkpoint %+v, want offset %d, 8 lines and the creation time", cp, *props.ContentLength)
		}
	})

	t.Run("hot blobs looked at between listings", func(t *testing.T) {
		h := newBlobHarness(t, cs, "looks")
		// Half past the hour nearest now: not the start of an hour, when
		// every pass lists, and within an hour of the blobs' real times.
		h.clock = time.Now().Add(-30 * time.Minute).Truncate(time.Hour).Add(90 * time.Minute)
		if time.Until(h.clock) > 30*time.Minute {
			h.clock = h.clock.Add(-time.Hour)
		}
		h.b.List = 30 * time.Second
		h.create(blobPath, lines("call-h", 0, 2))
		h.pass() // the first pass lists
		h.append(blobPath, lines("call-h", 2, 5))
		other := "insights-logs-callclientoperations/resourceId=/SUBSCRIPTIONS/T/y=2026/m=03/d=02/h=11/m=00/PT1H.json"
		h.create(other, lines("call-i", 0, 2))
		h.clock = h.clock.Add(time.Second)
		h.pass()
		if a, i := h.records("call-h"), h.records("call-i"); a != 5 || i != 0 {
			t.Fatalf("after a look, records %d and %d; want the grown blob read (5) and the new one not yet (0)", a, i)
		}
		if h.b.listings != 1 || h.b.looks != 1 {
			t.Fatalf("%d listings and %d looks; want 1 listing and a look at the one hot blob", h.b.listings, h.b.looks)
		}
		h.remove(blobPath)
		h.clock = h.clock.Add(time.Second)
		h.pass() // a look finds the blob gone: it leaves the listing
		if h.b.listings != 1 || len(h.b.listed) != 0 {
			t.Fatalf("%d listings, %d blobs listed; want the gone blob dropped without a listing", h.b.listings, len(h.b.listed))
		}
		h.clock = h.clock.Add(30 * time.Second)
		h.pass() // the listing is due
		if i := h.records("call-i"); i != 2 || h.b.listings != 2 {
			t.Fatalf("after the next listing %d records of the new blob, %d listings; want 2 and 2", i, h.b.listings)
		}
		// At the top of the hour the account is listed at every pass.
		h.clock = h.clock.Truncate(time.Hour).Add(time.Hour + 10*time.Second)
		h.pass()
		h.clock = h.clock.Add(time.Second)
		h.pass()
		if h.b.listings != 4 {
			t.Fatalf("%d listings; want one at each pass of the hour's first minutes", h.b.listings)
		}
	})

	t.Run("every container of the diagnostic logs", func(t *testing.T) {
		// As a Diagnostic Setting archives them: a container per category.
		ops := newBlobHarness(t, cs, "insights-logs-callclientoperations")
		ops.create("resourceId=/SUBSCRIPTIONS/S/y=2026/m=03/d=02/h=10/m=00/PT1H.json", lines("call-m", 0, 3))
		other := newBlobHarness(t, cs, "insights-logs-calldiagnostics")
		other.create("resourceId=/SUBSCRIPTIONS/S/y=2026/m=03/d=02/h=11/m=00/PT1H.json", lines("call-n", 0, 2))
		unrelated := newBlobHarness(t, cs, "backups")
		unrelated.create("resourceId=/SUBSCRIPTIONS/S/y=2026/m=03/d=02/h=11/m=00/PT1H.json", lines("call-o", 0, 2))
		h := newBlobHarness(t, cs, "account-wide-store")
		h.b.Container = ""
		h.pass()
		if m, n, o := h.records("call-m"), h.records("call-n"), h.records("call-o"); m != 3 || n != 2 || o != 0 {
			t.Fatalf("records %d, %d and %d; want 3, 2 and none from a container without the prefix", m, n, o)
		}
		cps, err := h.db.Checkpoints(ctx, h.b.Name)
		if err != nil {
			t.Fatal(err)
		}
		key := "insights-logs-callclientoperations/resourceId=/SUBSCRIPTIONS/S/y=2026/m=03/d=02/h=10/m=00/PT1H.json"
		if cp := cps[key]; cp.Line != 3 || len(cps) != 2 {
			t.Errorf("checkpoints %+v; want 2, and 3 lines read of %s", cps, key)
		}
	})

	t.Run("segments and a long line over ranged reads", func(t *testing.T) {
		h := newBlobHarness(t, cs, "segments")
		h.b.Segment = 1000
		long := strings.Replace(opLine("call-g", 999), `"ResultType":"Succeeded"`,
			`"ResultType":"Succeeded","Pad":"`+strings.Repeat("x", 3000)+`"`, 1)
		h.create(blobPath, lines("call-g", 0, 10)+long+"\n"+lines("call-g", 10, 12))
		h.pass()
		if n := h.records("call-g"); n != 13 {
			t.Fatalf("%d records, want 13", n)
		}
		if st := h.b.Status.Snapshot(); st.Duplicates != 0 {
			t.Errorf("status %+v: records read twice", st)
		}
	})

	t.Run("restart from checkpoints and a bad record", func(t *testing.T) {
		h := newBlobHarness(t, cs, "restart")
		h.create(blobPath, lines("call-a", 0, 4))
		h.pass()
		// A new process: nothing is read twice, and what came meanwhile is.
		h.append(blobPath, lines("call-a", 4, 6)+"{not json\n"+lines("call-a", 6, 7))
		h.b = h.follower()
		h.pass()
		st := h.b.Status.Snapshot()
		if st.Records != 4 || st.Duplicates != 0 || st.Rejected != 1 || st.Stored != 3 {
			t.Errorf("after restart %+v; want 3 new records stored and the bad line rejected, none read again", st)
		}
		if n := h.records("call-a"); n != 7 {
			t.Errorf("%d records, want 7", n)
		}
		// The rejected record is logged with its blob and line.
		logs := h.logs.String()
		if !strings.Contains(logs, "record rejected") || !strings.Contains(logs, blobPath) || !strings.Contains(logs, "line=7") {
			t.Errorf("logs do not name the bad record's blob and line 7:\n%s", logs)
		}
	})

	t.Run("deleted, truncated and replaced blobs", func(t *testing.T) {
		h := newBlobHarness(t, cs, "replace")
		h.create(blobPath, lines("call-a", 0, 6))
		h.pass()
		// Deleted and created again, shorter and with other records: read
		// from the start.
		h.remove(blobPath)
		h.create(blobPath, lines("call-c", 50, 52))
		h.pass()
		if n := h.records("call-c"); n != 2 {
			t.Fatalf("after truncation %d records of the new content, want 2", n)
		}
		// Replaced by a longer blob with other records: its creation time
		// tells (it is kept to the second, so let one pass).
		props, err := h.c.NewBlobClient(blobPath).GetProperties(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(props.CreationTime.Add(1100 * time.Millisecond)))
		h.remove(blobPath)
		h.create(blobPath, lines("call-d", 60, 64))
		h.pass()
		if n := h.records("call-d"); n != 4 {
			t.Errorf("after replacement %d records of the new blob, want 4", n)
		}
		// A deleted blob is no error, and is no longer counted.
		h.remove(blobPath)
		h.pass()
		if st := h.b.Status.Snapshot(); st.State != "following" || st.Streams != 0 {
			t.Errorf("status after the blob was deleted %+v; want following no blob", st)
		}
	})

	t.Run("gzip blob read once settled", func(t *testing.T) {
		h := newBlobHarness(t, cs, "gzip")
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write([]byte(lines("call-f", 0, 4)))
		w.Close()
		h.create("insights-logs-export/old.json.gz", gz.String())
		h.pass()
		if n := h.records("call-f"); n != 0 {
			t.Fatalf("a gzip blob was read while it may still be written")
		}
		h.clock = h.clock.Add(time.Minute)
		h.pass()
		h.pass()
		if n := h.records("call-f"); n != 4 {
			t.Fatalf("%d records of the gzip blob, want 4", n)
		}
	})

	t.Run("failures show in the status", func(t *testing.T) {
		h := newBlobHarness(t, cs, "present")
		h.create(blobPath, lines("call-z", 0, 2))
		tests := []struct {
			name string
			edit func(b *Blob)
			want []string
		}{
			{"missing container", func(b *Blob) { b.Container = "absent" }, []string{"container absent", "does not exist"}},
			{"bad key", func(b *Blob) {
				b.ConnectionString = strings.Replace(cs, azuriteKey, "AAAA"+azuriteKey[4:], 1)
			}, []string{"refused", EnvConnectionString}},
			{"no permission to list", func(b *Blob) {
				u, err := h.c.GetSASURL(sas.ContainerPermissions{Read: true}, time.Now().Add(time.Hour), nil)
				if err != nil {
					t.Fatal(err)
				}
				base, query, _ := strings.Cut(u, "?")
				b.ConnectionString = "BlobEndpoint=" + base[:strings.LastIndexByte(base, '/')] + ";SharedAccessSignature=" + query
			}, []string{"may not list", EnvConnectionString}},
			{"no credentials", func(b *Blob) { b.ConnectionString = "" }, []string{EnvConnectionString, EnvStorageKey}},
			{"connection string of another account", func(b *Blob) { b.Account = "otheraccount" }, []string{EnvConnectionString, "otheraccount"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := h.follower()
				tc.edit(b)
				err := b.Pass(ctx)
				if err == nil {
					t.Fatalf("Pass succeeded; want an error with %q", tc.want)
				}
				t.Log(err)
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Pass = %v; want it to say %q", err, w)
					}
				}
				if strings.Contains(err.Error(), azuriteKey) || strings.Contains(err.Error(), "sig=") {
					t.Errorf("the error shows a secret: %v", err)
				}
			})
		}
		// Run keeps trying and says why; the container appears and the
		// source recovers.
		b := h.follower()
		b.Container, b.Poll, b.Status = "late", 20*time.Millisecond, NewStatus(b.Name, "blob")
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- b.Run(runCtx) }()
		deadline := time.Now().Add(30 * time.Second)
		for b.Status.Snapshot().Errors < 2 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if st := b.Status.Snapshot(); st.State != "retrying" || !strings.Contains(st.LastError, "does not exist") {
			t.Errorf("status %+v; want retrying, saying the container does not exist", st)
		}
		late, err := container.NewClientFromConnectionString(cs, "late", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := late.Create(ctx, nil); err != nil {
			t.Fatal(err)
		}
		for b.Status.Snapshot().State != "following" && time.Now().Before(deadline.Add(90*time.Second)) {
			time.Sleep(20 * time.Millisecond)
		}
		if st := b.Status.Snapshot(); st.State != "following" || st.LastError != "" {
			t.Errorf("status %+v; want following again", st)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}
