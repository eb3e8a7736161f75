package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"calldiag/internal/pipeline"
	"calldiag/internal/store/sqlite"
)

const kafkaTopic = "acs-logs"

// kafkaHarness is an in-process Kafka cluster and a SQLite store.
type kafkaHarness struct {
	t       *testing.T
	cluster *kfake.Cluster
	db      *sqlite.DB
	next    int // number of the next record made
	// produceOpts are added to the producer's options.
	produceOpts []kgo.Opt
}

func newKafkaHarness(t *testing.T, opts ...kfake.Opt) *kafkaHarness {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(4, kafkaTopic)}, opts...)
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	db, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &kafkaHarness{t: t, cluster: cluster, db: db}
}

// doc is an Event Hub document of n new records of call c.
func (h *kafkaHarness) doc(c string, n int) string {
	recs := make([]string, n)
	for i := range recs {
		recs[i] = opLine(c, h.next)
		h.next++
	}
	return `{"records":[` + strings.Join(recs, ",") + "]}"
}

// produce writes the values to partition p of the topic.
func (h *kafkaHarness) produce(p int32, values ...string) {
	h.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(h.cluster.ListenAddrs()...),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}, h.produceOpts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: kafkaTopic, Partition: p, Value: []byte(v)}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// follower is a member of group g.
func (h *kafkaHarness) follower(g string) *Kafka {
	return &Kafka{
		Brokers: h.cluster.ListenAddrs(), Topic: kafkaTopic, Group: g, Name: "kafka://test/" + kafkaTopic,
		Ingest: pipeline.New(h.db, pipeline.Options{}), Status: NewStatus("kafka://test/"+kafkaTopic, "kafka"), Retry: 20 * time.Millisecond, Timeout: 5 * time.Second,
		opts: []kgo.Opt{kgo.HeartbeatInterval(100 * time.Millisecond), kgo.FetchMaxWait(200 * time.Millisecond)},
	}
}

// running is a follower running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func start(k *Kafka) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- k.Run(ctx) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// stored is the number of records of the calls in the store.
func (h *kafkaHarness) stored(calls ...string) int {
	n := 0
	for _, c := range calls {
		call, err := h.db.Call(context.Background(), c)
		if err != nil {
			continue
		}
		for _, k := range call.RecordCounts {
			n += k
		}
	}
	return n
}

// committed is the offsets group g has committed, by partition.
func (h *kafkaHarness) committed(g string) map[int32]int64 {
	out := map[int32]int64{}
	if info := h.cluster.GroupInfo(g); info != nil {
		for p, c := range info.Commits[kafkaTopic] {
			out[p] = c.Offset
		}
	}
	return out
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestKafkaConsumes(t *testing.T) {
	h := newKafkaHarness(t)
	for p := range int32(4) {
		h.produce(p, h.doc(fmt.Sprintf("call-%d", p), 3), h.doc(fmt.Sprintf("call-%d", p), 2))
	}
	// JSON lines in one message work too.
	h.produce(1, opLine("call-lines", 900)+"\n"+opLine("call-lines", 901)+"\n")
	k := h.follower("g")
	r := start(k)
	calls := []string{"call-0", "call-1", "call-2", "call-3", "call-lines"}
	waitFor(t, "the records stored", func() bool { return h.stored(calls...) == 22 })
	for _, c := range calls[:4] {
		if n := h.stored(c); n != 5 {
			t.Errorf("call %s has %d records, want 5", c, n)
		}
	}
	waitFor(t, "the offsets committed", func() bool {
		c := h.committed("g")
		return c[0] == 2 && c[1] == 3 && c[2] == 2 && c[3] == 2
	})
	r.stop(t)
	st := k.Status.Snapshot()
	if st.State != "stopped" || st.Records != 22 || st.Stored != 22 || st.Rejected != 0 || st.LagMessages != 0 || st.LastRead.IsZero() {
		t.Errorf("status %+v; want 22 records stored, no lag, stopped", st)
	}
	// A new member of the group goes on from the committed offsets.
	h.produce(2, h.doc("call-2", 1))
	k2 := h.follower("g")
	r2 := start(k2)
	waitFor(t, "the new record", func() bool { return h.stored("call-2") == 6 })
	waitFor(t, "all partitions assigned", func() bool { return k2.Status.Snapshot().Streams == 4 })
	r2.stop(t)
	if st := k2.Status.Snapshot(); st.Records != 1 || st.Duplicates != 0 {
		t.Errorf("restarted member read %+v; want only the one new record", st)
	}
}

// TestKafkaRebalance starts a second member of the group while records
// keep coming: the partitions are shared and nothing is lost.
func TestKafkaRebalance(t *testing.T) {
	h := newKafkaHarness(t)
	a, b := h.follower("g"), h.follower("g")
	ra := start(a)
	const batches = 40
	produced := make(chan struct{})
	docs := make([]string, batches)
	for i := range docs {
		docs[i] = h.doc("call-flow", 5)
	}
	var rb *running
	go func() {
		defer close(produced)
		for i, d := range docs {
			h.produce(int32(i%4), d)
			if i == batches/2 {
				rb = start(b)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	<-produced
	waitFor(t, "every record stored", func() bool { return h.stored("call-flow") == batches*5 })
	waitFor(t, "the partitions shared", func() bool {
		sa, sb := a.Status.Snapshot(), b.Status.Snapshot()
		return sa.Streams > 0 && sb.Streams > 0 && sa.Streams+sb.Streams == 4
	})
	waitFor(t, "every offset committed", func() bool {
		c := h.committed("g")
		return c[0] == batches/4 && c[1] == batches/4 && c[2] == batches/4 && c[3] == batches/4
	})
	ra.stop(t)
	rb.stop(t)
	sa, sb := a.Status.Snapshot(), b.Status.Snapshot()
	if sa.Stored+sb.Stored != batches*5 || sa.Rejected+sb.Rejected != 0 {
		t.Errorf("members stored %d and %d records, want %d in all", sa.Stored, sb.Stored, batches*5)
	}
	if sb.Records == 0 {
		t.Errorf("the second member read nothing: %+v", sb)
	}
}

// TestKafkaCrashBeforeCommit stops a member after the store has a batch and
// before its offsets are committed: the member that takes over reads the
// batch again, and the store keeps one copy of each record.
func TestKafkaCrashBeforeCommit(t *testing.T) {
	h := newKafkaHarness(t)
	for p := range int32(4) {
		h.produce(p, h.doc("call-crash", 4), h.doc("call-crash", 4))
	}
	a := h.follower("g")
	a.beforeCommit = func() error { return errors.New("killed") }
	err := a.Run(context.Background())
	if !errors.Is(err, errHalted) {
		t.Fatalf("Run = %v, want it halted by the hook", err)
	}
	stored := a.Status.Snapshot().Stored
	if stored == 0 || int(stored) != h.stored("call-crash") {
		t.Fatalf("before the crash %d records stored, %d in the store; want some", stored, h.stored("call-crash"))
	}
	if c := h.committed("g"); len(c) != 0 {
		t.Fatalf("offsets %v committed before the crash", c)
	}
	b := h.follower("g")
	rb := start(b)
	waitFor(t, "every record stored", func() bool { return h.stored("call-crash") == 32 })
	waitFor(t, "every offset committed", func() bool {
		c := h.committed("g")
		return c[0] == 2 && c[1] == 2 && c[2] == 2 && c[3] == 2
	})
	rb.stop(t)
	sb := b.Status.Snapshot()
	if sb.Duplicates != stored || sb.Stored != 32-stored {
		t.Errorf("the member taking over %+v; want the %d records stored before the crash read again as duplicates and the %d others stored",
			sb, stored, 32-stored)
	}
}

func TestKafkaPoisonMessage(t *testing.T) {
	h := newKafkaHarness(t)
	bad := strings.Replace(opLine("call-p", 999), `"2026-03-02T10:00:00Z"`, `"yesterday"`, 1)
	h.produce(2, h.doc("call-p", 2), "this is not JSON at all", h.doc("call-p", 2), `{"records":[`+bad+"]}", h.doc("call-p", 1))
	var logs logBuffer
	k := h.follower("g")
	k.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r := start(k)
	waitFor(t, "the offsets committed past the bad messages", func() bool { return h.committed("g")[2] == 5 })
	r.stop(t)
	if n := h.stored("call-p"); n != 5 {
		t.Errorf("%d records stored, want the 5 good ones", n)
	}
	if st := k.Status.Snapshot(); st.Rejected != 2 || st.Stored != 5 {
		t.Errorf("status %+v; want 2 rejected, 5 stored", st)
	}
	out := logs.String()
	for _, want := range []string{"topic=acs-logs partition=2 offset=1", "topic=acs-logs partition=2 offset=3"} {
		if !strings.Contains(out, "record rejected") || !strings.Contains(out, want) {
			t.Errorf("log lacks a rejected record with %s:\n%s", want, out)
		}
	}
}

func TestKafkaSASLPlain(t *testing.T) {
	h := newKafkaHarness(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "calldiag", "s3cret"))
	h.produceOpts = []kgo.Opt{kgo.SASL(plain.Auth{User: "calldiag", Pass: "s3cret"}.AsMechanism())}
	h.produce(0, h.doc("call-s", 3))
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"wrong", false}, {"s3cret", true}} {
		k := h.follower("g")
		k.User, k.Password = "calldiag", tc.password
		r := start(k)
		if tc.ok {
			waitFor(t, "the records stored", func() bool { return h.stored("call-s") == 3 })
			r.stop(t)
			if st := k.Status.Snapshot(); st.Errors != 0 {
				t.Errorf("status %+v; want no error", st)
			}
			continue
		}
		waitFor(t, "a failure", func() bool { return k.Status.Snapshot().Errors >= 2 })
		r.stop(t)
		st := k.Status.Snapshot()
		if !strings.Contains(st.LastError, "signing in as calldiag (wrong credentials?)") || st.Records != 0 {
			t.Errorf("with a wrong password status %+v; want the authentication failure", st)
		}
	}
}

func TestKafkaFailures(t *testing.T) {
	h := newKafkaHarness(t)
	for _, tc := range []struct {
		name string
		edit func(*Kafka)
		want string
	}{
		{"unknown topic", func(k *Kafka) { k.Topic = "no-such-hub" }, "topic no-such-hub does not exist"},
		{"unreachable", func(k *Kafka) { k.Brokers = []string{"127.0.0.1:1"} }, "reach brokers [127.0.0.1:1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := h.follower("g")
			tc.edit(k)
			r := start(k)
			waitFor(t, "failures", func() bool { return k.Status.Snapshot().Errors >= 2 })
			st := k.Status.Snapshot()
			r.stop(t)
			if st.State != "retrying" || !strings.Contains(st.LastError, tc.want) {
				t.Errorf("status %+v; want retrying with %q", st, tc.want)
			}
		})
	}
}
