package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCollectConfig(t *testing.T) {
	tests := []struct {
		name        string
		key         string
		origins     []string
		wantOrigins []string
		wantErr     string
	}{
		{name: "off"},
		{name: "key alone", key: "k"},
		{name: "origins", key: "k", origins: []string{"https://App.Example.com/", "http://localhost:3000", "*"},
			wantOrigins: []string{"https://app.example.com", "http://localhost:3000", "*"}},
		{name: "origin without a key", origins: []string{"https://app.example.com"}, wantErr: "--collect-origin needs --collect-key"},
		{name: "not an origin", key: "k", origins: []string{"app.example.com", "https://app.example.com/call", "ftp://x"},
			wantErr: `"app.example.com"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := serveFlags{collectKey: tc.key, collectOrigins: tc.origins}
			key, origins, err := f.collectConfig()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || ExitCode(err) != ExitUsage {
					t.Fatalf("error %v, want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key != tc.key || !slices.Equal(origins, tc.wantOrigins) {
				t.Errorf("key %q origins %q, want %q %q", key, origins, tc.key, tc.wantOrigins)
			}
		})
	}
}

// TestServeCollect runs serve configured from the environment, as a
// deployment does, and sends it a collector batch from a page's origin
// without the admin token: the call is then in the store.
func TestServeCollect(t *testing.T) {
	env := map[string]string{
		"CALLDIAG_TOKEN":          "admin",
		"CALLDIAG_COLLECT_KEY":    "page-key",
		"CALLDIAG_COLLECT_ORIGIN": "https://app.example.com,https://other.example.com",
	}
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- Run(ctx, []string{"serve", "--db", t.TempDir(), "--addr", "127.0.0.1:0"},
			IO{Stdin: strings.NewReader(""), Stdout: pw, Stderr: &stderr, Env: func(k string) string { return env[k] }})
		pw.Close()
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	out := bufio.NewReader(pr)
	line, err := out.ReadString('\n')
	if err != nil {
		t.Fatalf("server printed no address: %v; stderr %s", err, stderr.String())
	}
	base := strings.Fields(line[strings.Index(line, "http://"):])[0]
	if line, _ := out.ReadString('\n'); !strings.Contains(line, base+"/sdk/calldiag.js") {
		t.Errorf("serve does not say where pages load the collector: %q", line)
	}
	go io.Copy(io.Discard, out)

	batch := `["identity",null,{"calldiag":1,"callId":"collected-call","participantId":"alice","sessionId":"s1","sessionStart":1795773600000,"seq":1},1795773610000]
["create","pc-1",{"iceServers":[]},1795773600500]
["oniceconnectionstatechange","pc-1","checking",1795773600600]
["oniceconnectionstatechange","pc-1","connected",1795773600900]
["calldiag.rtt","pc-1",{"sumMs":0,"count":0},1795773610000]
`
	post := func(origin string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/collect?key=page-key", strings.NewReader(batch))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("https://evil.example.com"); code != http.StatusForbidden {
		t.Errorf("from an origin not named: status %d, want 403", code)
	}
	if code := post("https://other.example.com"); code != http.StatusNoContent {
		t.Fatalf("from a named origin: status %d, want 204", code)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/calls/collected-call", nil)
	req.Header.Set("Authorization", "Bearer admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "alice") {
		t.Errorf("GET the collected call: status %d: %.300s", resp.StatusCode, body)
	}
}
