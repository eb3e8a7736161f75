package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"calldiag/internal/api"
	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

func newTestServer(t *testing.T, token string, app pipeline.Appender, queue int) (*httptest.Server, store.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if app == nil {
		app = st
	}
	reg := prometheus.NewRegistry()
	h := api.New(api.Config{Store: st, Pipeline: pipeline.New(app, pipeline.Options{}), Registry: reg, MaxBodyBytes: 64 << 10, QueueDepth: queue})
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: token, API: h, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.http.Handler)
	t.Cleanup(ts.Close)
	return ts, st
}

func do(t *testing.T, method, url, token string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../cli/testdata/p2p-call.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type envelope struct {
	Error struct {
		Kind    string          `json:"kind"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

func wantError(t *testing.T, status int, body []byte, wantStatus int, kind string) {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(body, &e); err != nil || status != wantStatus || e.Error.Kind != kind || e.Error.Message == "" {
		t.Errorf("got %d %s, want %d with error kind %s", status, body, wantStatus, kind)
	}
}

func TestIngestThenRead(t *testing.T) {
	ts, _ := newTestServer(t, "", nil, 4)
	status, body, _ := do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t))
	var res pipeline.Result
	if err := json.Unmarshal(body, &res); err != nil || status != 200 || res.Stored != 10 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	// Visible at once: the answer comes after the commit.
	status, body, _ = do(t, "GET", ts.URL+"/api/v1/calls", "", nil)
	var page store.CallPage
	if json.Unmarshal(body, &page); status != 200 || page.Total != 1 {
		t.Fatalf("calls: %d %s", status, body)
	}
	id := page.Calls[0].ID
	status, body, _ = do(t, "GET", ts.URL+"/api/v1/calls/"+id, "", nil)
	var call model.Call
	if json.Unmarshal(body, &call); status != 200 || len(call.Participants) != 2 || call.Quality != "Poor" || len(call.Issues) == 0 {
		t.Errorf("call: %d %s", status, body)
	}
	status, body, _ = do(t, "GET", ts.URL+"/api/v1/calls/"+id+"/timeline?kind=operation,ufd&limit=2", "", nil)
	var tl model.Timeline
	if json.Unmarshal(body, &tl); status != 200 || len(tl.Events) != 2 || tl.NextCursor == "" || len(tl.Series) != 0 {
		t.Errorf("timeline page: %d %s", status, body)
	}
	for _, e := range tl.Events {
		if e.Kind != model.KindOperation && e.Kind != model.KindUFD {
			t.Errorf("kind filter let through %s", e.Kind)
		}
	}
	status, body, hdr := do(t, "GET", ts.URL+"/api/v1/records/"+tl.Events[0].RecordID, "", nil)
	if status != 200 || hdr.Get("Content-Type") != "application/json" || !json.Valid(body) {
		t.Errorf("record: %d %s", status, body)
	}
	// The same upload again is all duplicates, gzip-compressed it is too.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(fixture(t))
	zw.Close()
	status, body, _ = do(t, "POST", ts.URL+"/api/v1/ingest", "", gz.Bytes())
	if json.Unmarshal(body, &res); status != 200 || res.Duplicates != 10 || res.Stored != 0 {
		t.Errorf("gzip re-upload: %d %s", status, body)
	}
}

func TestIngestStatuses(t *testing.T) {
	ts, _ := newTestServer(t, "", nil, 4)
	lines := strings.Split(strings.TrimSpace(string(fixture(t))), "\n")

	status, body, _ := do(t, "POST", ts.URL+"/api/v1/ingest", "", []byte(lines[0]+"\nnot json\n"))
	var res pipeline.Result
	if json.Unmarshal(body, &res); status != http.StatusUnprocessableEntity || res.Stored != 1 || res.Rejected != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 2 {
		t.Errorf("partly bad upload: %d %s", status, body)
	}
	status, body, _ = do(t, "POST", ts.URL+"/api/v1/ingest", "", []byte("not json\nnor this\n"))
	wantError(t, status, body, http.StatusBadRequest, api.KindBadRequest)

	big := bytes.Repeat([]byte(lines[0]+"\n"), 200) // over the 64 KiB test bound
	status, body, _ = do(t, "POST", ts.URL+"/api/v1/ingest", "", big)
	wantError(t, status, body, http.StatusRequestEntityTooLarge, api.KindPayloadTooLarge)
	if _, body, _ := do(t, "GET", ts.URL+"/api/v1/calls", "", nil); !bytes.Contains(body, []byte(`"total":1`)) {
		t.Errorf("a too-large upload stored something: %s", body)
	}

	status, _, _ = do(t, "POST", ts.URL+"/api/v1/ingest", "", nil)
	if status != 200 {
		t.Errorf("empty upload: %d", status)
	}
}

func TestErrorsUseOneEnvelope(t *testing.T) {
	ts, _ := newTestServer(t, "", nil, 4)
	for _, c := range []struct {
		path   string
		status int
		kind   string
	}{
		{"/api/v1/calls/nope", 404, api.KindNotFound},
		{"/api/v1/calls/nope/timeline", 404, api.KindNotFound},
		{"/api/v1/records/nope", 404, api.KindNotFound},
		{"/api/v1/calls?sort=size", 400, api.KindBadRequest},
		{"/api/v1/calls?limit=0", 400, api.KindBadRequest},
		{"/api/v1/calls?since=yesterday", 400, api.KindBadRequest},
		{"/api/v1/calls?cursor=not-a-cursor!", 400, api.KindBadRequest},
		{"/api/v1/calls/x/timeline?kind=bogus", 400, api.KindBadRequest},
		{"/api/v1/nothing-here", 404, api.KindNotFound},
	} {
		status, body, _ := do(t, "GET", ts.URL+c.path, "", nil)
		wantError(t, status, body, c.status, c.kind)
	}
}

// blockingAppender holds every Append until released, to fill the queue.
type blockingAppender struct {
	inner   pipeline.Appender
	entered chan struct{}
	release chan struct{}
}

func (b *blockingAppender) Append(ctx context.Context, batch []model.Record) (store.AppendResult, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.inner.Append(ctx, batch)
}

func TestFullQueueAnswers429(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ba := &blockingAppender{inner: st, entered: make(chan struct{}, 1), release: make(chan struct{})}
	ts, _ := newTestServer(t, "", ba, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		status, body, _ := do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t))
		if status != 200 {
			t.Errorf("first upload: %d %s", status, body)
		}
	}()
	<-ba.entered
	status, body, hdr := do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t))
	wantError(t, status, body, http.StatusTooManyRequests, api.KindTooManyRequests)
	if hdr.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	close(ba.release)
	wg.Wait()
}

func TestToken(t *testing.T) {
	ts, _ := newTestServer(t, "s3cret", nil, 4)
	status, body, _ := do(t, "GET", ts.URL+"/api/v1/calls", "", nil)
	wantError(t, status, body, http.StatusUnauthorized, api.KindUnauthorized)
	status, _, _ = do(t, "GET", ts.URL+"/api/v1/calls", "wrong", nil)
	if status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	if status, _, _ = do(t, "GET", ts.URL+"/api/v1/calls", "s3cret", nil); status != 200 {
		t.Errorf("right token: %d", status)
	}
	if status, _, _ = do(t, "GET", ts.URL+"/metrics", "", nil); status != 401 {
		t.Errorf("metrics without token: %d", status)
	}
	if status, _, _ = do(t, "GET", ts.URL+"/healthz", "", nil); status != 200 {
		t.Errorf("healthz: %d", status)
	}
}

func TestRefusesOpenAddressWithoutToken(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "localhost:0": true, "[::1]:9": true, "0.0.0.0:8080": false, ":8080": false, "10.1.2.3:80": false} {
		_, err := New(Config{Addr: addr})
		if (err == nil) != ok {
			t.Errorf("New(%s) without token: err %v", addr, err)
		}
		if _, err := New(Config{Addr: addr, Token: "t"}); err != nil {
			t.Errorf("New(%s) with token: %v", addr, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	ts, _ := newTestServer(t, "", nil, 4)
	do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t))
	_, body, _ := do(t, "GET", ts.URL+"/metrics", "", nil)
	for _, name := range []string{"calldiag_records_ingested_total 10", "calldiag_records_rejected_total 0", "calldiag_ingest_duration_seconds_count 1", "calldiag_ingest_queue_depth"} {
		if !bytes.Contains(body, []byte(name)) {
			t.Errorf("metrics lack %q", name)
		}
	}
}

func TestIssuesEndpoint(t *testing.T) {
	ts, st := newTestServer(t, "", nil, 4)
	do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t))
	id := "c0ffee00-1111-4222-8333-444455556666"
	status, body, _ := do(t, "GET", ts.URL+"/api/v1/calls/"+id+"/issues", "", nil)
	var res callview.CallIssues
	if err := json.Unmarshal(body, &res); err != nil || status != 200 {
		t.Fatalf("issues: %d %s", status, body)
	}
	want, err := callview.Issues(context.Background(), st, id, detect.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonString(t, res), jsonString(t, want); a != b || len(res.Issues) == 0 {
		t.Errorf("API issues differ from detection on the stored call:\n%s\n%s", a, b)
	}
	status, body, _ = do(t, "GET", ts.URL+"/api/v1/calls/nope/issues", "", nil)
	wantError(t, status, body, http.StatusNotFound, api.KindNotFound)
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCallFiltersOverHTTP(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	h := api.New(api.Config{Store: st, Pipeline: pipeline.New(st, pipeline.Options{Detector: st}), Registry: reg})
	srv, err := New(Config{Addr: "127.0.0.1:0", API: h})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.http.Handler)
	defer ts.Close()
	if status, body, _ := do(t, "POST", ts.URL+"/api/v1/ingest", "", fixture(t)); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	for q, want := range map[string]int{
		"issue=dropped-ungracefully":                 1,
		"issue=camera-freeze":                        0,
		"severity=critical&quality=Poor":             1,
		"has-issues=true&rating=Good":                0,
		"has-issues=true&since=2026-01-01T00:00:00Z": 1,
	} {
		_, body, _ := do(t, "GET", ts.URL+"/api/v1/calls?"+q, "", nil)
		var page store.CallPage
		if err := json.Unmarshal(body, &page); err != nil || page.Total != want {
			t.Errorf("calls?%s: %s, want %d calls", q, body, want)
		}
	}
	status, body, _ := do(t, "GET", ts.URL+"/api/v1/calls?quality=Fine", "", nil)
	wantError(t, status, body, http.StatusBadRequest, api.KindBadRequest)
}

// TestUploadWebRTCDump uploads a webrtc-internals dump naming its call and
// participant; the dump of the other end joins the same call.
func TestUploadWebRTCDump(t *testing.T) {
	ts, _ := newTestServer(t, "", nil, 4)
	dump, err := os.ReadFile("../ingest/webrtc/testdata/internals/current.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		status, body, _ := do(t, "POST", ts.URL+"/api/v1/ingest?source=dump.txt&callId=standup&participant="+who, "", dump)
		var res pipeline.Result
		if err := json.Unmarshal(body, &res); err != nil || status != 200 || res.Stored == 0 ||
			len(res.Calls) != 1 || res.Calls[0] != "standup" {
			t.Fatalf("upload as %s: %d %s", who, status, body)
		}
	}
	status, body, _ := do(t, "GET", ts.URL+"/api/v1/calls/standup", "", nil)
	var call model.Call
	if json.Unmarshal(body, &call); status != 200 || len(call.Participants) != 2 || len(call.PeerConnections) < 2 ||
		call.Participants[0].ID != "alice" || call.Participants[1].ID != "bob" {
		t.Errorf("call: %d %s", status, body)
	}
}
