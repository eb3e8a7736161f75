package source

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// Kafka follows a Kafka topic — an Event Hub through its Kafka endpoint, or
// any Kafka cluster — as a member of a consumer group: several followers in
// one group share the topic's partitions.
//
// Each message holds an Event Hub document ({"records":[…]}) or JSON lines.
// Offsets are committed only once the store has the records of the messages
// before them, and a rebalance waits for the batch in hand to be stored and
// committed, so a crash makes the group deliver some messages again, which
// the store recognises as duplicates: nothing is lost and nothing is stored
// twice. A message that cannot be read is rejected, logged with its topic,
// partition and offset, and committed like any other.
type Kafka struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// Topic is the topic (Event Hub) followed.
	Topic string
	// Group is the consumer group.
	Group string
	// TLS, when set, makes the connections use TLS with this configuration.
	TLS *tls.Config
	// User and Password, when User is set, sign in with SASL PLAIN.
	User, Password string
	// Name names the source in logs and status (its URL, without secrets).
	Name string
	// MaxPoll caps the messages handled at once (default 5000).
	MaxPoll int
	// Timeout bounds reaching the cluster and checking the topic when a
	// session starts, and each offset commit (default 30 s).
	Timeout time.Duration
	// Retry is the pause after a failure (default 1 s); it doubles with
	// each failure in a row, up to a minute.
	Retry time.Duration

	Ingest Ingester
	Status *Status
	Logger *slog.Logger
	// Now gives the time (default time.Now).
	Now func() time.Time

	// opts are added to the client's options (tests: shorter timeouts).
	opts []kgo.Opt
	// beforeCommit, when set, runs after a poll's records are stored and
	// before their offsets are committed; an error it returns ends Run at
	// once without committing, as a crash there would (tests).
	beforeCommit func() error
}

// errHalted marks the end of Run asked by beforeCommit.
var errHalted = errors.New("halted before the offset commit")

func (k *Kafka) defaults() {
	if k.Group == "" {
		k.Group = "calldiag"
	}
	if k.MaxPoll <= 0 {
		k.MaxPoll = 5000
	}
	if k.Timeout <= 0 {
		k.Timeout = 30 * time.Second
	}
	if k.Retry <= 0 {
		k.Retry = time.Second
	}
	common(&k.Logger, &k.Now, &k.Status, k.Name, "kafka")
}

// Run follows the topic until ctx ends. A session that fails (the cluster
// is unreachable, the credentials or permissions are wrong, the topic does
// not exist, the store refuses a batch) is given up and a new one started
// after a growing pause; Status tells why meanwhile.
func (k *Kafka) Run(ctx context.Context) error {
	k.defaults()
	backoff := k.Retry
	for {
		progressed, err := k.session(ctx)
		if ctx.Err() != nil {
			k.Status.update(func(s *Snapshot) { s.State, s.Streams = "stopped", 0 })
			return nil
		}
		if errors.Is(err, errHalted) {
			return err
		}
		if progressed {
			backoff = k.Retry
		}
		if err == nil {
			err = errors.New("the session ended")
		}
		k.Status.fail(err, k.Now())
		k.Status.update(func(s *Snapshot) { s.Streams = 0 })
		k.Logger.Warn("source session failed", "source", k.Name, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			k.Status.update(func(s *Snapshot) { s.State = "stopped" })
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// partState is what is known of one assigned partition.
type partState struct {
	next     int64     // offset of the next message to read; -1 before the first
	high     int64     // high watermark of the last fetch; -1 before the first
	lastTime time.Time // timestamp of the last message read
}

// kafkaSession is one client's membership of the group.
type kafkaSession struct {
	status *Status
	mu     sync.Mutex
	parts  map[int32]*partState
}

func (s *kafkaSession) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ps := range m {
		for _, p := range ps {
			if s.parts[p] == nil {
				s.parts[p] = &partState{next: -1, high: -1}
			}
		}
	}
	n := len(s.parts)
	s.status.update(func(st *Snapshot) { st.Streams = n })
}

func (s *kafkaSession) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	// Nothing is left to commit here: a poll's offsets are committed
	// before the rebalance it blocks may go on.
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ps := range m {
		for _, p := range ps {
			delete(s.parts, p)
		}
	}
	n := len(s.parts)
	s.status.update(func(st *Snapshot) { st.Streams = n })
}

// session joins the group and consumes until ctx ends or something fails.
// progressed tells whether a poll was handled.
func (k *Kafka) session(ctx context.Context) (progressed bool, err error) {
	sess := &kafkaSession{status: k.Status, parts: map[int32]*partState{}}
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID("calldiag"),
		kgo.ConsumerGroup(k.Group),
		kgo.ConsumeTopics(k.Topic),
		// A new group starts at the oldest message kept: logs delivered
		// before the first start are read too.
		kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(sess.assigned),
		kgo.OnPartitionsRevoked(sess.revoked),
		kgo.OnPartitionsLost(sess.revoked),
		kgo.WithLogger(kgoLogger{log: k.Logger, source: k.Name}),
	}
	if k.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(k.TLS.Clone()))
	}
	if k.User != "" {
		opts = append(opts, kgo.SASL(plain.Auth{User: k.User, Pass: k.Password}.AsMechanism()))
	}
	cl, err := kgo.NewClient(append(opts, k.opts...)...)
	if err != nil {
		return false, fmt.Errorf("kafka client: %w", err)
	}
	defer func() {
		cl.AllowRebalance()
		cl.Close()
	}()
	if err := k.check(ctx, cl); err != nil {
		return false, err
	}
	k.Status.update(func(s *Snapshot) { s.State, s.LastError = "following", "" })
	for {
		fetches := cl.PollRecords(ctx, k.MaxPoll)
		if ctx.Err() != nil {
			// What was polled is not committed: the group delivers it again.
			return progressed, nil
		}
		if err := k.fetchErrors(fetches); err != nil {
			return progressed, err
		}
		done, ingestErr := k.ingest(ctx, fetches)
		if ingestErr == nil && k.beforeCommit != nil {
			if err := k.beforeCommit(); err != nil {
				return progressed, fmt.Errorf("%w: %w", errHalted, err)
			}
		}
		if len(done) > 0 {
			// The records are stored: commit even when being stopped, so
			// that a restart does not read them again.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.Timeout)
			err := cl.CommitRecords(cctx, done...)
			cancel()
			if err != nil {
				return progressed, fmt.Errorf("commit offsets of group %s: %w", k.Group, err)
			}
		}
		k.noteProgress(sess, fetches, done)
		cl.AllowRebalance()
		if ingestErr != nil {
			return progressed, ingestErr
		}
		progressed = true
	}
}

// check reaches the cluster and makes sure the topic exists and may be
// read, so that a wrong address, credential or topic is reported plainly.
func (k *Kafka) check(ctx context.Context, cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, k.Timeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		switch {
		case errors.Is(err, kerr.SaslAuthenticationFailed):
			return fmt.Errorf("sign in to brokers %v as %s: wrong credentials: %w", k.Brokers, k.User, err)
		case k.User != "" && errors.Is(err, io.EOF):
			// Some brokers close the connection instead of answering.
			return fmt.Errorf("reach brokers %v: connection closed while signing in as %s (wrong credentials?): %w", k.Brokers, k.User, err)
		}
		return fmt.Errorf("reach brokers %v: %w", k.Brokers, err)
	}
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(k.Topic)
	req.Topics = append(req.Topics, t)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("look up topic %s: %w", k.Topic, err)
	}
	for _, rt := range resp.Topics {
		err := kerr.ErrorForCode(rt.ErrorCode)
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return fmt.Errorf("topic %s does not exist: %w", k.Topic, err)
		case errors.Is(err, kerr.TopicAuthorizationFailed):
			return fmt.Errorf("not allowed to read topic %s: %w", k.Topic, err)
		case err != nil:
			return fmt.Errorf("topic %s: %w", k.Topic, err)
		}
	}
	return nil
}

// fetchErrors returns the first error of a poll that ends the session; a
// notice of lost data is only logged.
func (k *Kafka) fetchErrors(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(topic string, partition int32, err error) {
		var loss *kgo.ErrDataLoss
		switch {
		case first != nil, errors.Is(err, context.Canceled), errors.Is(err, kgo.ErrClientClosed):
		case errors.As(err, &loss):
			k.Logger.Warn("messages expired before they were read", "source", k.Name, "topic", topic,
				"partition", partition, "from", loss.ConsumedTo, "to", loss.ResetTo)
		case errors.As(err, new(*kgo.ErrGroupSession)):
			first = fmt.Errorf("consumer group %s: %w", k.Group, err)
		case topic == "":
			first = err
		default:
			first = fmt.Errorf("read %s partition %d: %w", topic, partition, err)
		}
	})
	return first
}

// ingest stores the records of a poll, partition by partition, and returns
// the last record of each partition stored; it stops at the first
// partition the store refuses.
func (k *Kafka) ingest(ctx context.Context, fetches kgo.Fetches) ([]*kgo.Record, error) {
	var parts []kgo.FetchTopicPartition
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			parts = append(parts, p)
		}
	})
	var done []*kgo.Record
	for _, p := range parts {
		if err := k.ingestPartition(ctx, p.Records); err != nil {
			return done, err
		}
		done = append(done, p.Records[len(p.Records)-1])
	}
	return done, nil
}

// ingestPartition stores messages of one partition, in offset order.
// Messages that are each one whole JSON document are read together, one
// after the other; any other message (JSON lines, or not JSON at all) is
// read on its own, so that it cannot spoil the reading of the others.
func (k *Kafka) ingestPartition(ctx context.Context, recs []*kgo.Record) error {
	var run []*kgo.Record
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		err := k.ingestMessages(ctx, run)
		run = run[:0]
		return err
	}
	for _, r := range recs {
		value := bytes.TrimSpace(r.Value)
		switch {
		case len(value) == 0:
			continue
		case value[0] == '{' && json.Valid(value):
			run = append(run, r)
		default:
			if err := flush(); err != nil {
				return err
			}
			if err := k.ingestMessages(ctx, []*kgo.Record{r}); err != nil {
				return err
			}
		}
	}
	return flush()
}

// ingestMessages reads messages of one partition as one stream, each
// starting on a new line, and logs each rejected record with the message
// it came from.
func (k *Kafka) ingestMessages(ctx context.Context, msgs []*kgo.Record) error {
	first, last := msgs[0], msgs[len(msgs)-1]
	name := first.Topic + "/" + strconv.Itoa(int(first.Partition)) + "@" + strconv.FormatInt(first.Offset, 10)
	if last != first {
		name += "-" + strconv.FormatInt(last.Offset, 10)
	}
	readers := make([]io.Reader, 0, 2*len(msgs))
	starts := make([]int, len(msgs)) // line of the stream each message starts on
	line := 1
	for i, m := range msgs {
		starts[i] = line
		readers = append(readers, bytes.NewReader(m.Value))
		line += bytes.Count(m.Value, []byte{'\n'})
		if !bytes.HasSuffix(m.Value, []byte{'\n'}) {
			readers = append(readers, bytes.NewReader([]byte{'\n'}))
			line++
		}
	}
	res, err := k.Ingest.IngestFrom(ctx, io.MultiReader(readers...), name, 1)
	if err != nil {
		return fmt.Errorf("ingest %s: %w", name, err)
	}
	for _, e := range res.Errors {
		i := max(sort.SearchInts(starts, e.Line+1)-1, 0)
		m := msgs[i]
		k.Logger.Warn("record rejected", "source", k.Name, "topic", m.Topic, "partition", m.Partition,
			"offset", m.Offset, "line", e.Line-starts[i]+1, "field", e.Field, "reason", e.Reason)
	}
	now := k.Now()
	k.Status.ingested(res, now)
	return nil
}

// noteProgress records where each partition of a poll stands and updates
// the lag. LagMessages sums, over the assigned partitions, the high
// watermark of the last fetch minus the next offset to read. The age of
// the oldest unread message is not known until it is read; LagSeconds
// shows, among partitions that have unread messages, the longest time since
// the last message read was written (its Kafka timestamp). Messages come
// in order, so the oldest unread one is at most that old: LagSeconds is an
// upper bound, refreshed at each poll, and 0 when every partition is caught
// up.
func (k *Kafka) noteProgress(sess *kafkaSession, fetches kgo.Fetches, done []*kgo.Record) {
	stored := make(map[int32]bool, len(done))
	for _, r := range done {
		stored[r.Partition] = true
	}
	now := k.Now()
	sess.mu.Lock()
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		ps := sess.parts[p.Partition]
		if ps == nil || (len(p.Records) > 0 && !stored[p.Partition]) {
			return
		}
		ps.high = p.HighWatermark
		if n := len(p.Records); n > 0 {
			ps.next = p.Records[n-1].Offset + 1
			ps.lastTime = p.Records[n-1].Timestamp
		}
	})
	var lagMsgs int64
	var lagSecs float64
	for _, ps := range sess.parts {
		if ps.high < 0 || ps.next < 0 || ps.high <= ps.next {
			continue
		}
		lagMsgs += ps.high - ps.next
		if !ps.lastTime.IsZero() {
			lagSecs = max(lagSecs, now.Sub(ps.lastTime).Seconds())
		}
	}
	streams := len(sess.parts)
	sess.mu.Unlock()
	k.Status.update(func(s *Snapshot) {
		s.Streams, s.LagMessages, s.LagSeconds = streams, lagMsgs, lagSecs
	})
}

// kgoLogger passes the client's warnings and errors to slog.
type kgoLogger struct {
	log    *slog.Logger
	source string
}

func (l kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	l.log.Log(context.Background(), lv, "kafka: "+msg, append([]any{"source", l.source}, keyvals...)...)
}
