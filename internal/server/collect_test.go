package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"calldiag/internal/api"
	sdkjs "calldiag/sdk/js"
)

// TestCollectWithoutToken checks that web pages reach the collector
// endpoint with the collect key alone while the rest of the API keeps
// asking for the admin token.
func TestCollectWithoutToken(t *testing.T) {
	rec := &collectRecorder{}
	h := api.New(api.Config{Collector: rec, CollectKey: collectTestKey, CollectOrigins: []string{"https://app.example"}})
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: adminToken, API: h})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.http.Handler)
	defer ts.Close()
	batch := `["identity",null,{"calldiag":1,"callId":"c","participantId":"p"},1700000000000]` + "\n"

	tests := []struct {
		name   string
		method string
		path   string
		token  string
		origin string
		status int
	}{
		{"batch with the key", http.MethodPost, "/api/v1/collect?key=" + collectTestKey, "", "https://app.example", http.StatusNoContent},
		{"batch with a wrong key", http.MethodPost, "/api/v1/collect?key=guess", "", "https://app.example", http.StatusUnauthorized},
		{"batch with the token but no key", http.MethodPost, "/api/v1/collect", adminToken, "", http.StatusUnauthorized},
		{"preflight", http.MethodOptions, "/api/v1/collect?key=" + collectTestKey, "", "https://app.example", http.StatusNoContent},
		{"the key does not open the API", http.MethodGet, "/api/v1/calls?key=" + collectTestKey, "", "", http.StatusUnauthorized},
		{"nor ingest", http.MethodPost, "/api/v1/ingest?key=" + collectTestKey, "", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, ts.URL+tc.path, strings.NewReader(batch))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			req.Header.Set("Content-Type", "text/plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
		})
	}
}

// TestCollectorScript checks how the collector's script is served: public,
// importable from other origins as a module, cached and revalidated.
func TestCollectorScript(t *testing.T) {
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: adminToken, API: api.New(api.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.http.Handler)
	defer ts.Close()

	resp, err := http.Get(ts.URL + "/sdk/calldiag.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, sdkjs.Collector) {
		t.Fatalf("status %d, %d bytes; want 200 with the collector's %d bytes", resp.StatusCode, len(body), len(sdkjs.Collector))
	}
	for header, want := range map[string]string{
		"Content-Type":                "text/javascript",
		"Access-Control-Allow-Origin": "*",
		"Cache-Control":               "max-age=",
	} {
		if got := resp.Header.Get(header); !strings.Contains(got, want) {
			t.Errorf("%s %q, want it to contain %q", header, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag to revalidate the script with")
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/sdk/calldiag.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating with the ETag: status %d, want 304", resp.StatusCode)
	}
}
