package realcall

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"calldiag/internal/cli"
	"calldiag/internal/model"

	"calldiag/internal/browsertest"
)

const (
	// talk is how long the two ends stay connected.
	talk = 28 * time.Second
	// connectLimit bounds the ICE connection through the relay.
	connectLimit = 20 * time.Second
	// ingestLimit bounds the wait for the call to be in calldiag whole.
	ingestLimit = 30 * time.Second
)

// runScenario is the child's side: in the namespace, it starts calldiag,
// the relay and the browser, makes the call and checks it.
func runScenario(t *testing.T, sc scenario) {
	ctx, cancel := context.WithTimeout(context.Background(), childLimit-10*time.Second)
	defer cancel()
	if err := loopbackUp(); err != nil {
		t.Fatal(err)
	}
	if err := onlyLoopback(); err != nil {
		t.Fatalf("not isolated: %v", err)
	}
	browserPath, err := browsertest.Lookup()
	if err != nil {
		t.Fatalf("the child found no browser: %v", err)
	}

	key := randomHex(16)
	page := newPageServer(t, sc.name)
	base := startCalldiag(t, ctx, key, page.origin)
	page.calldiag = base

	r, err := newRelay("127.0.0.1", sc.relay, 1)
	if err != nil {
		t.Fatal(err)
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan error, 1)
	go func() { relayDone <- r.run(relayCtx) }()
	defer func() {
		stopRelay()
		if err := <-relayDone; err != nil {
			t.Errorf("relay: %v", err)
		}
	}()
	if sc.nftLoss > 0 {
		if err := dropShare(ctx, r.portA(), sc.nftLoss); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("scenario %s: relay ports A %d (alice → bob) and B %d (bob → alice); relay impairment of alice → bob: %s; nftables drop of alice → bob: %d %%",
		sc.name, r.portA(), r.portB(), sc.relay, sc.nftLoss)

	b := startBrowser(t, ctx, browserPath)
	callID := "realcall-" + sc.name + "-" + randomHex(4)
	endpoint := base
	if page.saveDir != "" {
		endpoint = page.origin // through the recording proxy
	}
	open := func(me, peer string) *tab {
		q := url.Values{"sdk": {base + "/sdk/calldiag.js"}, "endpoint": {endpoint}, "key": {key},
			"call": {callID}, "me": {me}, "peer": {peer}}
		return b.open(t, me, page.origin+"/call.html?"+q.Encode())
	}
	alice, bob := open("alice", "bob"), open("bob", "alice")

	// Signalling: the test carries the descriptions, each rewritten so that
	// its reader sends to the relay.
	for _, p := range []*tab{alice, bob} {
		if kinds := eval[string](p, `call.setup()`); kinds != "audio,video" {
			t.Fatalf("%s got the tracks %q, want audio,video", p.who, kinds)
		}
	}
	offer := mustRewrite(t, eval[string](alice, `call.offer()`), r.portB())
	answer := mustRewrite(t, eval[string](bob, `call.answer(`+jsString(offer)+`)`), r.portA())
	eval[any](alice, `call.accept(`+jsString(answer)+`)`)

	connected := time.Now()
	for _, p := range []*tab{alice, bob} {
		for {
			s := state(p)
			if s.Connection == "connected" {
				break
			}
			if s.Connection == "failed" || time.Since(connected) > connectLimit {
				t.Fatalf("%s: the connection is %s (ICE %s) after %s; relay: %s", p.who, s.Connection, s.ICE,
					time.Since(connected).Round(time.Millisecond), r.report())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("both ends connected through the relay in %s", time.Since(connected).Round(time.Millisecond))

	end := time.Now().Add(talk)
	for time.Now().Before(end) {
		time.Sleep(min(5*time.Second, time.Until(end)))
		for _, p := range []*tab{alice, bob} {
			s := state(p)
			t.Logf("%5s: %s, received audio %.0f video %.0f, sent audio %.0f video %.0f, round trip %.0f ms",
				p.who, s.Connection, s.Inbound["audio"], s.Inbound["video"], s.Outbound["audio"], s.Outbound["video"], s.RTTMs)
		}
	}
	for _, p := range []*tab{alice, bob} {
		s := state(p)
		if s.Inbound["audio"] == 0 || s.Inbound["video"] == 0 {
			t.Errorf("%s received audio %.0f and video %.0f packets, want both", p.who, s.Inbound["audio"], s.Inbound["video"])
		}
	}
	for _, p := range []*tab{alice, bob} {
		if !eval[bool](p, `call.hangUp()`) {
			t.Errorf("%s: the collector could not deliver its last batches", p.who)
		}
	}
	t.Logf("relay: %s", r.report())
	if sc.nftLoss > 0 {
		n, err := nftDropped(ctx)
		if err != nil {
			t.Error(err)
		}
		in := r.aliceIn.Load()
		t.Logf("nftables dropped %d alice → bob datagrams (%.1f %% of the %d sent)", n, pct(n, n+in), n+in)
	}

	call := waitForCall(t, ctx, base, callID)
	check(t, ctx, base, sc, call)
}

// mustRewrite points a description's candidates at the relay.
func mustRewrite(t *testing.T, sdp string, port int) string {
	t.Helper()
	out, err := throughRelay(sdp, port)
	if err != nil {
		t.Fatalf("%v:\n%s", err, sdp)
	}
	return out
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pageServer serves the call page and, when batches are to be saved, a
// proxy of the collect endpoint that keeps each batch.
type pageServer struct {
	origin   string
	calldiag string // set once calldiag runs
	saveDir  string
	scenario string
}

func newPageServer(t *testing.T, scenario string) *pageServer {
	t.Helper()
	html, err := os.ReadFile(filepath.Join("testdata", "call.html"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pageServer{scenario: scenario}
	if dir := os.Getenv(saveEnv); dir != "" {
		p.saveDir = filepath.Join(dir, scenario)
		if err := os.MkdirAll(p.saveDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /call.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(html)
	})
	mux.HandleFunc("POST /api/v1/collect", p.proxy(t))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.origin = srv.URL
	return p
}

// proxy keeps a batch the page sends and passes it on to calldiag.
func (p *pageServer) proxy(t *testing.T) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		if err := p.save(body); err != nil {
			t.Errorf("saving a batch: %v", err)
		}
		mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.calldiag+"/api/v1/collect?"+r.URL.RawQuery, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		req.Header.Set("Origin", p.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}
}

// save writes a batch, uncompressed, as <participant>-<seq>.rtcstats.
func (p *pageServer) save(body []byte) error {
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	first, _, _ := bytes.Cut(body, []byte("\n"))
	var line []json.RawMessage
	var id struct {
		ParticipantID string `json:"participantId"`
		Seq           int    `json:"seq"`
	}
	if err := json.Unmarshal(first, &line); err != nil || len(line) < 3 {
		return fmt.Errorf("a batch whose first line is not an rtcstats line: %.100q", first)
	}
	if err := json.Unmarshal(line[2], &id); err != nil || id.ParticipantID == "" {
		return fmt.Errorf("a batch without an identity: %.200q", first)
	}
	name := fmt.Sprintf("%s-%03d.rtcstats", filepath.Base(id.ParticipantID), id.Seq)
	return os.WriteFile(filepath.Join(p.saveDir, name), body, 0o644)
}

// startCalldiag runs `calldiag serve` in this process with a collect key
// and the page's origin, and returns its base URL.
func startCalldiag(t *testing.T, ctx context.Context, key, origin string) string {
	t.Helper()
	srvCtx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- cli.Run(srvCtx, []string{"serve", "--db", t.TempDir(), "--addr", "127.0.0.1:0",
			"--collect-key", key, "--collect-origin", origin},
			cli.IO{Stdout: pw, Stderr: &stderr, Env: func(string) string { return "" }})
		pw.Close()
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("calldiag serve: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("calldiag printed no address: %v; stderr: %s", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("calldiag printed %q, not its address", line)
	}
	return strings.Fields(line[i:])[0]
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// browser is the headless Chromium of a scenario.
type browser struct {
	ctx context.Context
}

// startBrowser starts Chromium with fake camera and microphone, and the
// flags that let peer connections use loopback.
func startBrowser(t *testing.T, ctx context.Context, path string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-gpu", true),
		// Host candidates with their addresses, not mDNS names, so the test
		// can point them at the relay.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(bctx, 10*time.Second)
		_ = chromedp.Cancel(cctx)
		ccancel()
		cancel()
		cancelAlloc()
		if c := chromedp.FromContext(bctx); c != nil && c.Allocator != nil {
			c.Allocator.Wait()
		}
	})
	// The first run starts the browser and binds it to bctx, which must
	// carry no deadline: a timer cancels it instead.
	timer := time.AfterFunc(30*time.Second, cancel)
	err := chromedp.Do(bctx)
	if !timer.Stop() {
		t.Fatalf("the browser %s did not start within 30 s: %v", path, err)
	}
	if err != nil {
		t.Fatalf("starting the browser %s: %v", path, err)
	}
	return &browser{ctx: bctx}
}

// tab is one end of the call.
type tab struct {
	t   *testing.T
	who string
	ctx context.Context
}

// open loads the call page in a new tab and waits until its script is
// ready; the page's script errors are logged, and fail the test.
func (b *browser) open(t *testing.T, who, u string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("%s: opening a tab: %v", who, err)
	}
	var wg sync.WaitGroup
	messages := chromedp.Console(ctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue // the page declares no icon; the browser asks anyway
			}
			switch m.Type {
			case chromedp.ConsoleException:
				t.Errorf("%s: the page threw: %s", who, m.String())
			case chromedp.ConsoleError, chromedp.ConsoleWarning:
				t.Logf("%s: the page reported: %s", who, m.String())
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	p := &tab{t: t, who: who, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("%s: loading the call page: %v", who, err)
	}
	for start := time.Now(); !eval[bool](p, `window.ready === true`); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%s: the call page did not get ready (did the collector load from calldiag?)", who)
		}
	}
	return p
}

// eval evaluates a script expression in the tab, awaiting a promise.
func eval[T any](p *tab, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: %.60s: %v", p.who, expr, err)
	}
	return v
}

// pageState is what a page sees of its connection.
type pageState struct {
	Connection string             `json:"connection"`
	ICE        string             `json:"ice"`
	Inbound    map[string]float64 `json:"inbound"`
	Outbound   map[string]float64 `json:"outbound"`
	RTTMs      float64            `json:"rttMs"`
}

func state(p *tab) pageState {
	p.t.Helper()
	return eval[pageState](p, `call.state()`)
}

// waitForCall polls calldiag until the call has both participants and
// both peer connections and its records stopped growing, and returns it.
func waitForCall(t *testing.T, ctx context.Context, base, callID string) model.Call {
	t.Helper()
	start := time.Now()
	last := -1
	for {
		var call model.Call
		status, err := getJSON(ctx, base+"/api/v1/calls/"+url.PathEscape(callID), &call)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range call.RecordCounts {
			n += c
		}
		if status == http.StatusOK && len(call.Participants) >= 2 && len(call.PeerConnections) >= 2 && n == last {
			t.Logf("the call was in calldiag whole %s after hanging up (%d records)", time.Since(start).Round(100*time.Millisecond), n)
			return call
		}
		last = n
		if time.Since(start) > ingestLimit {
			t.Fatalf("after %s calldiag answers %d for the call, with %d participants, %d peer connections and %d records",
				ingestLimit, status, len(call.Participants), len(call.PeerConnections), n)
		}
		time.Sleep(time.Second)
	}
}

// getJSON reads a JSON API answer into v when it is 200 OK.
func getJSON(ctx context.Context, u string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: %w: %.200s", u, err, body)
	}
	return resp.StatusCode, nil
}
