package cli

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"calldiag/internal/pipeline"
	"calldiag/internal/source"
	"calldiag/internal/store/sqlite"
)

func TestParseKafkaSources(t *testing.T) {
	long := strings.Repeat("t", 250)
	for _, tc := range []struct {
		in, wantRaw, wantKind, wantErr string
	}{
		{in: "kafka://k1:9092/acs-logs", wantRaw: "kafka://k1:9092/acs-logs?group=calldiag", wantKind: "kafka"},
		{in: "kafka://k1,k2:19092/acs.logs_1?group=diag&tls=1", wantRaw: "kafka://k1:9092,k2:19092/acs.logs_1?group=diag&tls=1", wantKind: "kafka"},
		{in: "kafka://[::1]:9092/t?tls=0", wantRaw: "kafka://[::1]:9092/t?group=calldiag", wantKind: "kafka"},
		{in: "kafka:///t", wantErr: "no broker"},
		{in: "kafka://k1:9092", wantErr: "no topic"},
		{in: "kafka://k1:9092/", wantErr: "no topic"},
		{in: "kafka://k1:9092/a/b", wantErr: `topic "a/b": only letters`},
		{in: "kafka://k1:9092/" + long, wantErr: "longer than 249"},
		{in: "kafka://k1:notaport/t", wantErr: `port "notaport"`},
		{in: "kafka://k1:9092,,k2/t", wantErr: "empty broker"},
		{in: "kafka://user:pw@k1:9092/t", wantErr: "credentials do not go in the URL; set CALLDIAG_KAFKA_USER"},
		{in: "kafka://k1/t?group=", wantErr: "group is empty"},
		{in: "kafka://k1/t?tls=maybe", wantErr: "tls=maybe: want 1 or 0"},
		{in: "kafka://k1/t?partition=3", wantErr: "unknown parameter partition (group, tls)"},
		{in: "eventhub://contoso-logs/acs", wantRaw: "eventhub://contoso-logs/acs?consumerGroup=$Default", wantKind: "eventhub"},
		{in: "eventhub://contoso.servicebus.chinacloudapi.cn/acs?consumerGroup=calldiag", wantRaw: "eventhub://contoso.servicebus.chinacloudapi.cn/acs?consumerGroup=calldiag", wantKind: "eventhub"},
		{in: "eventhub:///acs", wantErr: "no namespace"},
		{in: "eventhub://ns", wantErr: "no topic"},
		{in: "eventhub://ns:9093/acs", wantErr: "without port"},
		{in: "eventhub://key@ns/acs", wantErr: "set CALLDIAG_EVENTHUB_CONNECTION_STRING"},
		{in: "eventhub://ns/acs?group=x", wantErr: "unknown parameter group (consumerGroup)"},
		{in: "eventhub://ns/acs?consumerGroup=", wantErr: "consumerGroup is empty"},
	} {
		got, err := parseSource(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSource(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got.raw != tc.wantRaw || got.kind != tc.wantKind || got.build == nil:
			t.Errorf("parseSource(%q) = %q %q, %v; want %q %q", tc.in, got.raw, got.kind, err, tc.wantRaw, tc.wantKind)
		}
	}
}

// TestBuildKafkaSources checks what the followers are made of: the brokers,
// TLS and the credentials taken from the environment.
func TestBuildKafkaSources(t *testing.T) {
	const conn = "Endpoint=sb://contoso-logs.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0"
	for _, tc := range []struct {
		url     string
		env     map[string]string
		want    source.Kafka // Brokers, Topic, Group, User, Password
		tls     bool
		wantErr string
	}{
		{url: "kafka://k1:9092,k2:9092/acs?group=g",
			want: source.Kafka{Brokers: []string{"k1:9092", "k2:9092"}, Topic: "acs", Group: "g"}},
		{url: "kafka://k1/acs?tls=1", env: map[string]string{envKafkaUser: "diag", envKafkaPassword: "pw"},
			want: source.Kafka{Brokers: []string{"k1:9092"}, Topic: "acs", Group: "calldiag", User: "diag", Password: "pw"}, tls: true},
		{url: "kafka://k1/acs", env: map[string]string{envKafkaUser: "diag"}, wantErr: "set both CALLDIAG_KAFKA_USER and CALLDIAG_KAFKA_PASSWORD"},
		{url: "eventhub://contoso-logs/acs", env: map[string]string{envEventHubConnStr: conn},
			want: source.Kafka{Brokers: []string{"contoso-logs.servicebus.windows.net:9093"}, Topic: "acs", Group: "$Default",
				User: "$ConnectionString", Password: conn}, tls: true},
		{url: "eventhub://contoso-logs/acs?consumerGroup=diag", env: map[string]string{envEventHubConnStr: conn + ";EntityPath=acs"},
			want: source.Kafka{Brokers: []string{"contoso-logs.servicebus.windows.net:9093"}, Topic: "acs", Group: "diag",
				User: "$ConnectionString", Password: conn + ";EntityPath=acs"}, tls: true},
		{url: "eventhub://contoso-logs/acs", wantErr: "set CALLDIAG_EVENTHUB_CONNECTION_STRING"},
		{url: "eventhub://contoso-logs/acs", env: map[string]string{envEventHubConnStr: "secret"}, wantErr: "not an Event Hubs connection string"},
		{url: "eventhub://contoso-logs/acs", env: map[string]string{envEventHubConnStr: conn + ";EntityPath=other"},
			wantErr: "for Event Hub other, not acs"},
	} {
		sp, err := parseSource(tc.url)
		if err != nil {
			t.Fatalf("parseSource(%q): %v", tc.url, err)
		}
		env := func(k string) string { return tc.env[k] }
		f, err := sp.build(sourceDeps{status: source.NewStatus(sp.raw, sp.kind), env: env})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: build = %v; want an error with %q", tc.url, err, tc.wantErr)
			}
			continue
		}
		k, ok := f.(*source.Kafka)
		if err != nil || !ok {
			t.Errorf("%s: build = %T, %v", tc.url, f, err)
			continue
		}
		got := source.Kafka{Brokers: k.Brokers, Topic: k.Topic, Group: k.Group, User: k.User, Password: k.Password}
		if !reflect.DeepEqual(got, tc.want) || (k.TLS != nil) != tc.tls || k.Name != sp.raw {
			t.Errorf("%s: built %+v (TLS %v, name %s); want %+v (TLS %v)", tc.url, got, k.TLS != nil, k.Name, tc.want, tc.tls)
		}
		for _, secret := range []string{"pw", "c2VjcmV0"} {
			if strings.Contains(sp.raw, secret) {
				t.Errorf("%s: the source's name %s holds a secret", tc.url, sp.raw)
			}
		}
	}
}

// TestKafkaSourceFollows builds a kafka:// source as serve does, with the
// credentials from the environment, and finds the call it delivers.
func TestKafkaSourceFollows(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "acs-logs"),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "diag", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	addr := cluster.ListenAddrs()[0]
	var recs []string
	for i := range 4 {
		recs = append(recs, fmt.Sprintf(`{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/a","category":"CallClientOperations","properties":{"CallClientTimeStamp":"2026-03-02T10:00:0%dZ","OperationName":"Join","CallId":"call-from-kafka","OperationId":"op-%d","ResultType":"Succeeded"}}`, i, i))
	}
	if err := produceTo(addr, "acs-logs", `{"records":[`+strings.Join(recs, ",")+"]}"); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sp, err := parseSource("kafka://" + addr + "/acs-logs?group=serve")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envKafkaUser: "diag", envKafkaPassword: "pw"}
	set, err := newSources(db, pipeline.New(db, pipeline.Options{}), []sourceSpec{sp}, slog.New(slog.DiscardHandler),
		func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { set.run(ctx, slog.New(slog.DiscardHandler)); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for set.snapshots()[0].Stored < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	st := set.snapshots()[0]
	if st.Kind != "kafka" || st.Stored != 4 || st.Name != "kafka://"+addr+"/acs-logs?group=serve" {
		t.Fatalf("status %+v; want the 4 records stored", st)
	}
	if c, err := db.Call(context.Background(), "call-from-kafka"); err != nil || c.RecordCounts["CallClientOperations"] != 4 {
		t.Errorf("call = %+v, %v; want its 4 records", c, err)
	}
}

// produceTo writes one message to topic, signing in as the test's user.
func produceTo(addr, topic, value string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.SASL(plain.Auth{User: "diag", Pass: "pw"}.AsMechanism()))
	if err != nil {
		return err
	}
	defer cl.Close()
	return cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(value)}).FirstErr()
}
