package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"calldiag/internal/pipeline"
)

// fakeIngester records what reaches the pipeline and answers with res.
type fakeIngester struct {
	mu    sync.Mutex
	got   []string
	names []string
	res   pipeline.Result
	// entered, when set, is signalled (if it has room) as an ingest
	// starts, which then waits for release.
	entered chan struct{}
	release chan struct{}
}

func (f *fakeIngester) Ingest(ctx context.Context, r io.Reader, name string) (pipeline.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return pipeline.Result{}, err
	}
	f.mu.Lock()
	f.got = append(f.got, string(b))
	f.names = append(f.names, name)
	f.mu.Unlock()
	if f.entered != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
		<-f.release
	}
	return f.res, nil
}

func (f *fakeIngester) bodies() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

const (
	testKey    = "k3y-for-pages"
	testOrigin = "https://app.example"
	// testBatch is a small batch as the collector writes one.
	testBatch = `["identity",null,{"calldiag":1,"callId":"call-1","participantId":"alice","sessionId":"s1","sessionStart":1700000000000,"seq":1},1700000001000]
["create","pc-1",{"iceServers":[{"urls":["stun:stun.example:3478"]}]},1700000000500]
["oniceconnectionstatechange","pc-1","connected",1700000000800]
["calldiag.rtt","pc-1",{"sumMs":0,"count":0},1700000001000]
`
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func collectHandler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	New(cfg).Register(mux)
	return mux
}

func TestCollect(t *testing.T) {
	tests := []struct {
		name        string
		key         string // the server's key; "" turns the endpoint off
		origins     []string
		maxBody     int64
		method      string
		query       string
		origin      string
		contentType string
		body        []byte
		res         pipeline.Result

		status int
		kind   string
		want   string // the text the pipeline must get; "" when it must get nothing
		acao   string // the Access-Control-Allow-Origin answered
		inMsg  string // a substring of the error message
	}{
		{name: "stored", key: testKey, query: "?key=" + testKey, contentType: "text/plain;charset=UTF-8",
			body: []byte(testBatch), status: http.StatusNoContent, want: testBatch},
		{name: "gzip is sniffed", key: testKey, query: "?key=" + testKey, contentType: "text/plain",
			body: gz(t, testBatch), status: http.StatusNoContent, want: testBatch},
		{name: "application/json", key: testKey, query: "?key=" + testKey, contentType: "application/json",
			body: []byte(testBatch), status: http.StatusNoContent, want: testBatch},
		{name: "no content type", key: testKey, query: "?key=" + testKey,
			body: []byte(testBatch), status: http.StatusNoContent, want: testBatch},
		{name: "some lines rejected", key: testKey, query: "?key=" + testKey, body: []byte(testBatch),
			res:    pipeline.Result{Read: 4, Stored: 3, Rejected: 1},
			status: http.StatusUnprocessableEntity, want: testBatch},
		{name: "endpoint off without a key", query: "?key=anything", body: []byte(testBatch),
			status: http.StatusNotFound, kind: KindNotFound, inMsg: "--collect-key"},
		{name: "key missing", key: testKey, body: []byte(testBatch),
			status: http.StatusUnauthorized, kind: KindUnauthorized},
		{name: "key wrong", key: testKey, query: "?key=" + testKey + "x", body: []byte(testBatch),
			status: http.StatusUnauthorized, kind: KindUnauthorized},
		{name: "listed origin", key: testKey, origins: []string{testOrigin}, origin: testOrigin,
			query: "?key=" + testKey, body: []byte(testBatch), status: http.StatusNoContent, want: testBatch, acao: testOrigin},
		{name: "any origin", key: testKey, origins: []string{"*"}, origin: "https://other.example",
			query: "?key=" + testKey, body: []byte(testBatch), status: http.StatusNoContent, want: testBatch, acao: "https://other.example"},
		{name: "unlisted origin", key: testKey, origins: []string{testOrigin}, origin: "https://evil.example",
			query: "?key=" + testKey, body: []byte(testBatch), status: http.StatusForbidden, kind: KindForbidden, inMsg: "--collect-origin"},
		{name: "no origins configured", key: testKey, origin: testOrigin,
			query: "?key=" + testKey, body: []byte(testBatch), status: http.StatusForbidden, kind: KindForbidden},
		{name: "wrong key from a listed origin can be read by the page", key: testKey, origins: []string{testOrigin}, origin: testOrigin,
			query: "?key=nope", body: []byte(testBatch), status: http.StatusUnauthorized, kind: KindUnauthorized, acao: testOrigin},
		{name: "preflight of a listed origin", key: testKey, origins: []string{testOrigin}, method: http.MethodOptions,
			origin: testOrigin, status: http.StatusNoContent, acao: testOrigin},
		{name: "preflight of an unlisted origin", key: testKey, origins: []string{testOrigin}, method: http.MethodOptions,
			origin: "https://evil.example", status: http.StatusForbidden, kind: KindForbidden},
		{name: "preflight with the endpoint off", method: http.MethodOptions, origin: testOrigin,
			status: http.StatusNotFound, kind: KindNotFound},
		{name: "other content type", key: testKey, query: "?key=" + testKey, contentType: "application/xml",
			body: []byte(testBatch), status: http.StatusUnsupportedMediaType, kind: KindBadRequest},
		{name: "over the size bound", key: testKey, query: "?key=" + testKey, maxBody: 100,
			body: []byte(testBatch), status: http.StatusRequestEntityTooLarge, kind: KindPayloadTooLarge},
		{name: "over the size bound once decompressed", key: testKey, query: "?key=" + testKey, maxBody: 400,
			body:   gz(t, testBatch+strings.Repeat(`["getstats","pc-1",{},1700000002000]`+"\n", 100)),
			status: http.StatusRequestEntityTooLarge, kind: KindPayloadTooLarge, inMsg: "decompressed"},
		{name: "empty body", key: testKey, query: "?key=" + testKey,
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "not a collector batch"},
		{name: "ACS logs", key: testKey, query: "?key=" + testKey,
			body:   []byte(`{"time":"2024-01-01T00:00:00Z","category":"CallSummary","correlationId":"c"}` + "\n"),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "not a JSON array"},
		{name: "first line not the identity", key: testKey, query: "?key=" + testKey,
			body:   []byte(`["create","pc-1",{},1]` + "\n" + testBatch),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "not an identity record"},
		{name: "identity without call and participant", key: testKey, query: "?key=" + testKey,
			body:   []byte(`["identity",null,{"calldiag":1,"callId":"","sessionId":"s"},1]` + "\n"),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "callId, participantId"},
		{name: "identity of another version", key: testKey, query: "?key=" + testKey,
			body:   []byte(`["identity",null,{"calldiag":2,"callId":"c","participantId":"p"},1]` + "\n"),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: `"calldiag": 1`},
		{name: "identity of another client", key: testKey, query: "?key=" + testKey,
			body:   []byte(`["identity",null,{"conferenceId":"c","userId":"p"},1]` + "\n"),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "callId"},
		{name: "ACS logs after an identity", key: testKey, query: "?key=" + testKey,
			body:   []byte(testBatch + `{"category":"CallSummary"}` + "\n"),
			status: http.StatusBadRequest, kind: KindBadRequest, inMsg: "line 5 is not a JSON array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ing := &fakeIngester{res: tc.res}
			maxBody := tc.maxBody
			if maxBody == 0 {
				maxBody = 1 << 20
			}
			h := collectHandler(Config{Collector: ing, CollectKey: tc.key, CollectOrigins: tc.origins, MaxBodyBytes: maxBody})
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/api/v1/collect"+tc.query, bytes.NewReader(tc.body))
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "content-type")
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.acao {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.acao)
			}
			if tc.acao != "" && !strings.Contains(rec.Header().Get("Vary"), "Origin") {
				t.Errorf("Vary %q: an answer that depends on the Origin must say so", rec.Header().Get("Vary"))
			}
			if method == http.MethodOptions && tc.status == http.StatusNoContent &&
				!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "POST") {
				t.Errorf("the preflight allows %q, not POST", rec.Header().Get("Access-Control-Allow-Methods"))
			}
			if tc.kind != "" {
				var env struct {
					Error struct{ Kind, Message string } `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
					t.Fatalf("error body %q: %v", rec.Body, err)
				}
				if env.Error.Kind != tc.kind || !strings.Contains(env.Error.Message, tc.inMsg) {
					t.Errorf("error %q %q, want kind %q with %q", env.Error.Kind, env.Error.Message, tc.kind, tc.inMsg)
				}
			}
			if tc.status == http.StatusUnprocessableEntity {
				var res pipeline.Result
				if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil || res.Rejected != tc.res.Rejected {
					t.Errorf("body %q is not the ingest result %+v (%v)", rec.Body, tc.res, err)
				}
			}
			got := ing.bodies()
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("the pipeline got %q; want nothing", got)
			case tc.want != "" && (len(got) != 1 || got[0] != tc.want):
				t.Errorf("the pipeline got %q, want %q", got, tc.want)
			case tc.want != "" && ing.names[0] != "collect":
				t.Errorf("the batch reached the pipeline as %q, want \"collect\"", ing.names[0])
			}
		})
	}
}

// TestCollectQueueFull checks that collector batches share the ingest
// queue with uploads: while it is full a batch is answered 429, which the
// collector retries.
func TestCollectQueueFull(t *testing.T) {
	ing := &fakeIngester{entered: make(chan struct{}, 1), release: make(chan struct{})}
	h := collectHandler(Config{Collector: ing, CollectKey: testKey, QueueDepth: 1})
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/collect?key="+testKey, strings.NewReader(testBatch)))
		return rec
	}
	first := make(chan int)
	go func() { first <- post().Code }()
	<-ing.entered

	rec := post()
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("with the queue full: status %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	close(ing.release)
	if code := <-first; code != http.StatusNoContent {
		t.Errorf("the first batch: status %d, want 204", code)
	}
	if rec := post(); rec.Code != http.StatusNoContent {
		t.Errorf("after the queue drained: status %d, want 204: %s", rec.Code, rec.Body)
	}
}

// TestCollectRoutes checks that the collector endpoint answers only POST
// and OPTIONS.
func TestCollectRoutes(t *testing.T) {
	h := collectHandler(Config{Collector: &fakeIngester{}, CollectKey: testKey})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/collect?key="+testKey, nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET: status %d, want 404", rec.Code)
	}
}
