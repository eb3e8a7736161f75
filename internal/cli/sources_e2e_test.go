package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/source"
	"calldiag/internal/source/sourcetest"
	"calldiag/internal/store/sqlite"
)

// TestSourcesEndToEnd runs the server following an Event Hub–like Kafka
// topic and a Storage account (Azurite) at once. Simulated calls are
// delivered one at a time, each half through the topic and half appended
// to an hour's blob, as Azure would deliver the same call's categories to
// two destinations; each must become searchable with its issues detected.
// The time from a call's last delivery to the moment search lists it is
// printed.
func TestSourcesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Azurite, a Kafka test cluster and a server")
	}
	ctx := context.Background()
	cs := sourcetest.StartAzurite(t)
	ctr, err := container.NewClientFromConnectionString(cs, "insights-logs-acs", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctr.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	const blobName = "resourceId=/SUBSCRIPTIONS/S/y=2026/m=11/d=27/h=10/m=00/PT1H.json"
	blob := ctr.NewAppendBlobClient(blobName)
	if _, err := blob.Create(ctx, nil); err != nil {
		t.Fatal(err)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "acs-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	producer, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("acs-logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()

	// The server, as a user runs it: sources and credentials from the
	// environment.
	env := map[string]string{
		"CALLDIAG_SOURCE": "kafka://" + cluster.ListenAddrs()[0] + "/acs-logs?group=e2e," +
			"blob://" + sourcetest.AzuriteAccount + "/insights-logs-acs",
		source.EnvConnectionString: cs,
	}
	srvCtx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Run(srvCtx, []string{"serve", "--db", t.TempDir(), "--addr", "127.0.0.1:0"},
			IO{Stdin: strings.NewReader(""), Stdout: pw, Stderr: &stderr, Env: func(k string) string { return env[k] }})
		pw.Close()
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("server printed no address: %v; stderr %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	base := strings.Fields(line[strings.Index(line, "http://"):])[0]

	var took []time.Duration
	for i := range 10 {
		var lines [][]byte
		labels, err := simulate.Records(simulate.Config{Calls: 1, Seed: 700 + uint64(i), Start: time.Now().Add(-3 * time.Hour)},
			func(_ string, l []byte) error { lines = append(lines, append([]byte(nil), l...)); return nil })
		if err != nil {
			t.Fatal(err)
		}
		id := labels.Calls[0].CallID
		// Even lines to the topic, as Event Hub documents of up to 200
		// records; odd lines appended to the blob.
		var doc []string
		var recs []*kgo.Record
		var blobPart bytes.Buffer
		for j, l := range lines {
			if j%2 == 1 {
				blobPart.Write(l)
				blobPart.WriteByte('\n')
				continue
			}
			doc = append(doc, string(l))
			if len(doc) == 200 || j >= len(lines)-2 {
				recs = append(recs, &kgo.Record{Value: []byte(`{"records":[` + strings.Join(doc, ",") + `]}`)})
				doc = nil
			}
		}
		want := recordCounts(t, lines, id)
		// Deliveries at random points of the sources' poll cycles, as
		// Azure's are: right after the last call was found, each would
		// wait for a whole cycle.
		time.Sleep(rand.N(1500 * time.Millisecond))
		if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if _, err := blob.AppendBlock(ctx, streaming.NopCloser(bytes.NewReader(blobPart.Bytes())), nil); err != nil {
			t.Fatal(err)
		}
		delivered := time.Now()
		// Searchable with its detection, and with both halves: every
		// record a file ingest of the same lines stores.
		var call struct {
			ID      string `json:"id"`
			Quality string `json:"quality"`
		}
		var full struct {
			RecordCounts map[string]int `json:"recordCounts"`
		}
		complete := func() bool {
			var page struct {
				Calls []json.RawMessage `json:"calls"`
			}
			getJSON(t, base+"/api/v1/calls?q="+id, &page)
			if len(page.Calls) != 1 {
				return false
			}
			json.Unmarshal(page.Calls[0], &call)
			if call.Quality == "" || call.Quality == "Unknown" {
				return false
			}
			getJSON(t, base+"/api/v1/calls/"+id, &full)
			return reflect.DeepEqual(full.RecordCounts, want)
		}
		for deadline := delivered.Add(60 * time.Second); !complete() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if !complete() {
			t.Fatalf("call %s never became searchable whole with its detection: %+v with records %v, want %v; stderr %s",
				id, call, full.RecordCounts, want, stderr.String())
		}
		took = append(took, time.Since(delivered))
		var issues struct {
			Issues []json.RawMessage `json:"issues"`
		}
		getJSON(t, base+"/api/v1/calls/"+id+"/issues", &issues)
		if issues.Issues == nil {
			t.Errorf("call %s: no issue list", id)
		}
	}
	var sources struct {
		Sources []source.Snapshot `json:"sources"`
	}
	getJSON(t, base+"/api/v1/sources", &sources)
	if len(sources.Sources) != 2 {
		t.Fatalf("sources %+v", sources.Sources)
	}
	for _, s := range sources.Sources {
		if s.State != "following" || s.Stored == 0 || s.Rejected != 0 {
			t.Errorf("source %s: %+v; want following, records stored, none rejected", s.Name, s)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	t.Logf("freshness, from the last delivery (to Kafka and to a blob, default timings) until the call is searchable "+
		"whole with its issues, %d calls: p50 %v, p95 %v, max %v", len(took), took[len(took)/2],
		took[(len(took)*95+99)/100-1], took[len(took)-1])
}

// recordCounts is what a file ingest of lines stores of call id.
func recordCounts(t *testing.T, lines [][]byte, id string) map[string]int {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := pipeline.New(db, pipeline.Options{}).Ingest(context.Background(), bytes.NewReader(bytes.Join(lines, []byte("\n"))), "lines"); err != nil {
		t.Fatal(err)
	}
	c, err := db.Call(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for k, v := range c.RecordCounts {
		out[string(k)] = v
	}
	return out
}

// getJSON decodes the JSON answer of a GET into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
