package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"calldiag/internal/api"
	"calldiag/internal/ingest/webrtc"
	"calldiag/internal/pipeline"

	"calldiag/internal/browsertest"
)

// The collector's browser tests load /sdk/calldiag.js into a page of
// another origin in headless Chromium and check what reaches the server.
// They skip when no browser is installed, unless CALLDIAG_REQUIRE_BROWSER=1
// makes that a failure (as CI does).

const (
	browserTimeout = 90 * time.Second
	collectTestKey = "collect-key-for-pages"
	adminToken     = "admin-token"
)

// startChromium starts a headless browser with fake camera and microphone
// that lets two peer connections of one page talk over loopback; the
// returned context runs in its first tab.
func startChromium(t *testing.T, path string) context.Context {
	t.Helper()
	return browsertest.Start(t, path, browsertest.Media...)
}

// collected is one request the collector endpoint received.
type collected struct {
	gzip      bool   // the body was gzip bytes
	fetchMode string // Sec-Fetch-Mode: "cors" for fetch, "no-cors" for a beacon
	status    int
	batch     string // the text that reached the pipeline
}

// collectRecorder is a calldiag server with the collector endpoint on,
// whose pipeline keeps the batches it is handed.
type collectRecorder struct {
	// failing makes the server answer 503 without looking at the batch.
	failing atomic.Bool

	mu   sync.Mutex
	reqs []collected
}

// batchKey carries, in a request's context, where Ingest leaves the batch
// it was handed.
type batchKey struct{}

func (c *collectRecorder) Ingest(ctx context.Context, r io.Reader, _ string) (pipeline.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return pipeline.Result{}, err
	}
	if p, ok := ctx.Value(batchKey{}).(*string); ok {
		*p = string(b)
	}
	n := strings.Count(string(b), "\n")
	return pipeline.Result{Read: n, Stored: n}, nil
}

func (c *collectRecorder) requests() []collected {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// statusWriter notes the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// startCollectServer starts calldiag (with an admin token, which the
// collector must not need) accepting batches from pages of origin.
func startCollectServer(t *testing.T, origin string) (*httptest.Server, *collectRecorder) {
	t.Helper()
	rec := &collectRecorder{}
	h := api.New(api.Config{Collector: rec, CollectKey: collectTestKey, CollectOrigins: []string{origin}, MaxBodyBytes: 8 << 20})
	srv, err := New(Config{Addr: "127.0.0.1:0", Token: adminToken, API: h})
	if err != nil {
		t.Fatal(err)
	}
	inner := srv.http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/collect" || r.Method != http.MethodPost {
			inner.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if rec.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			rec.mu.Lock()
			rec.reqs = append(rec.reqs, collected{status: http.StatusServiceUnavailable, fetchMode: r.Header.Get("Sec-Fetch-Mode")})
			rec.mu.Unlock()
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var batch string
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		inner.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), batchKey{}, &batch)))
		c := collected{gzip: len(body) > 1 && body[0] == 0x1f && body[1] == 0x8b, fetchMode: r.Header.Get("Sec-Fetch-Mode"),
			status: sw.status, batch: batch}
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, c)
		rec.mu.Unlock()
	}))
	t.Cleanup(ts.Close)
	return ts, rec
}

// appServer is a web app's server: its own origin, serving one page.
type appServer struct {
	ln     net.Listener
	origin string
}

func listenApp(t *testing.T) *appServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return &appServer{ln: ln, origin: "http://" + ln.Addr().String()}
}

// serve serves page at / and returns the page's URL.
func (a *appServer) serve(t *testing.T, page string) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	ts.Listener.Close()
	ts.Listener = a.ln
	ts.Start()
	t.Cleanup(ts.Close)
	return ts.URL + "/"
}

// waitFor polls cond every 200 ms until it holds or the time is up.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func evalIn[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// callPage makes two peer connections of one page call each other with
// the fake camera and microphone, recorded by the collector.
const callPage = `<!doctype html>
<title>two peers</title>
<video id="remote" autoplay muted playsinline></video>
<script type="module">
import {start} from "{{CALLDIAG}}/sdk/calldiag.js";
window.collector = start({endpoint: "{{CALLDIAG}}", key: "{{KEY}}", callId: "browser-call",
  participantId: "alice", userLabel: "Alice", statsInterval: 2000, batchInterval: 5000});
try {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 160, height: 120, frameRate: 15}});
  const a = new RTCPeerConnection({iceServers: [{urls: "stun:stun.invalid:3478", username: "u", credential: "secret"}]});
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = (e) => { if (e.candidate) a.addIceCandidate(e.candidate); };
  b.ontrack = (e) => { document.getElementById("remote").srcObject = e.streams[0]; };
  for (const track of stream.getTracks()) a.addTrack(track, stream);
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  window.peers = {a, b};
  window.started = "ok";
} catch (e) {
  window.started = String(e);
}
</script>`

// TestCollectorInBrowser runs a loopback call in Chromium for about 12 s
// with the collector loaded from calldiag into a page of another origin,
// hides the page, and checks that the batches calldiag received are
// rtcstats the parser reads whole: the identity, both peer connections'
// creation, ICE reaching connected, and getStats snapshots whose packet
// counters grow, over fetch (gzip) and over a beacon when the page hid.
func TestCollectorInBrowser(t *testing.T) {
	path := browsertest.Find(t)
	browserCtx := startChromium(t, path)

	app := listenApp(t)
	calldiag, rec := startCollectServer(t, app.origin)
	pageURL := app.serve(t, strings.NewReplacer("{{CALLDIAG}}", calldiag.URL, "{{KEY}}", collectTestKey).Replace(callPage))

	ctx, cancel := context.WithTimeout(browserCtx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	waitFor(t, "the call to start", 20*time.Second, func() bool {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.started || ""`))
		return s != ""
	})
	if s := evalIn[string](t, ctx, `window.started`); s != "ok" {
		t.Fatalf("the page could not start its call: %s", s)
	}
	// About 12 s of call: batches at 5 and 10 s, snapshots every 2 s.
	waitFor(t, "two batches", 30*time.Second, func() bool { return len(rec.requests()) >= 2 })
	time.Sleep(2 * time.Second)
	sent := len(rec.requests())

	// Minimized, the page is hidden and sends what it has.
	hide(t, ctx)
	waitFor(t, "the page's last batch, as a beacon", 20*time.Second, func() bool {
		return slices.ContainsFunc(rec.requests()[sent:], func(c collected) bool { return c.fetchMode == "no-cors" })
	})
	if v := evalIn[string](t, ctx, `document.visibilityState`); v != "hidden" {
		t.Errorf("the page is %s in a minimized window; want hidden", v)
	}

	reqs := rec.requests()
	var gz, beacon bool
	for _, r := range reqs {
		if r.status != http.StatusNoContent {
			t.Errorf("a batch was answered %d, want 204", r.status)
		}
		gz = gz || r.gzip
		beacon = beacon || r.fetchMode == "no-cors"
	}
	if !gz {
		t.Error("no batch came gzip-compressed; Chromium has CompressionStream")
	}
	if !beacon {
		t.Errorf("no batch came as a beacon when the page hid (fetch modes: %v)", fetchModes(reqs))
	}
	checkCallBatches(t, reqs)
}

func fetchModes(reqs []collected) []string {
	var m []string
	for _, r := range reqs {
		m = append(m, r.fetchMode)
	}
	return m
}

// hide minimizes the window of the page's tab, which hides the page.
func hide(t *testing.T, tab context.Context) {
	t.Helper()
	err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		win, err := chromedp.CallBrowser(ctx, browser.GetWindowForTarget, browser.GetWindowForTargetParams{TargetID: tg.TargetID})
		if err != nil {
			return err
		}
		_, err = chromedp.CallBrowser(ctx, browser.SetWindowBounds, browser.SetWindowBoundsParams{WindowID: win.WindowID,
			Bounds: &browser.Bounds{WindowState: browser.WindowStateMinimized}})
		return err
	}))
	if err != nil {
		t.Fatalf("minimize the page's window: %v", err)
	}
}

// checkCallBatches parses every batch as the server will and checks what
// the call should have left in them.
func checkCallBatches(t *testing.T, reqs []collected) {
	t.Helper()
	type counter struct {
		first, last float64
		firstT      time.Time
		lastT       time.Time
		seen        bool
	}
	grow := map[string]*counter{} // "pc/type/field"
	created := map[string]bool{}
	connected := map[string]bool{}
	seqs := map[string]bool{}
	rttLines := 0
	for i, r := range reqs {
		d, lineErrs, err := webrtc.Parse(strings.NewReader(r.batch), fmt.Sprintf("batch %d", i+1))
		if err != nil {
			t.Fatalf("batch %d does not parse: %v\n%s", i+1, err, r.batch)
		}
		for _, le := range lineErrs {
			t.Errorf("batch %d: %v", i+1, le)
		}
		if !strings.HasPrefix(r.batch, `["identity",null,`) {
			t.Errorf("batch %d does not start with the identity: %.200s", i+1, r.batch)
		}
		id := d.Identity
		if id["calldiag"] != "1" || id["callId"] != "browser-call" || id["participantId"] != "alice" || id["userLabel"] != "Alice" ||
			id["sessionId"] == "" || id["sessionStart"] == "" || !strings.Contains(id["userAgent"], "Chrome") || !strings.HasPrefix(id["url"], "http://127.0.0.1") {
			t.Errorf("batch %d identity %v", i+1, id)
		}
		if seqs[id["seq"]] {
			t.Errorf("batch %d repeats seq %s", i+1, id["seq"])
		}
		seqs[id["seq"]] = true
		for _, pc := range d.PeerConnections {
			for _, e := range pc.Events {
				switch e.Name {
				case "create":
					created[pc.ID] = true
					if strings.Contains(e.Value, "secret") || strings.Contains(e.Value, `"username"`) {
						t.Errorf("%s create keeps the ICE server's credentials: %s", pc.ID, e.Value)
					}
				case "oniceconnectionstatechange":
					if e.Value == "connected" || e.Value == "completed" {
						connected[pc.ID] = true
					}
				case "calldiag.rtt":
					rttLines++
				case "onicecandidate":
					if strings.Contains(e.Value, "candidate:") {
						t.Errorf("%s onicecandidate sends the whole candidate: %s", pc.ID, e.Value)
					}
				}
			}
			for _, s := range pc.Snapshots {
				for rid, rep := range s.Reports {
					switch rep.Type {
					case "local-candidate", "remote-candidate":
						if a := rep.Text("address"); a != "" && a != "x.x.x.x" {
							t.Errorf("%s candidate %s keeps its address %s", pc.ID, rid, a)
						}
					case "inbound-rtp", "outbound-rtp":
						field := "packetsReceived"
						if rep.Type == "outbound-rtp" {
							field = "packetsSent"
						}
						v, ok := rep.Number(field)
						if !ok {
							continue
						}
						key := pc.ID + "/" + rep.Type + "/" + rep.Text("kind")
						c := grow[key]
						if c == nil {
							c = &counter{}
							grow[key] = c
						}
						if !c.seen || rep.Time.Before(c.firstT) {
							c.first, c.firstT = v, rep.Time
						}
						if !c.seen || rep.Time.After(c.lastT) {
							c.last, c.lastT = v, rep.Time
						}
						c.seen = true
					}
				}
			}
		}
	}
	for _, pc := range []string{"pc-1", "pc-2"} {
		if !created[pc] {
			t.Errorf("no create line of %s", pc)
		}
		if !connected[pc] {
			t.Errorf("%s never reported ICE connected", pc)
		}
	}
	if rttLines < len(reqs) {
		t.Errorf("%d calldiag.rtt lines in %d batches; want one per peer connection in each", rttLines, len(reqs))
	}
	for _, key := range []string{"pc-1/outbound-rtp/audio", "pc-1/outbound-rtp/video", "pc-2/inbound-rtp/audio", "pc-2/inbound-rtp/video"} {
		c := grow[key]
		if c == nil {
			t.Errorf("no %s report in any snapshot (have %v)", key, mapsKeys(grow))
			continue
		}
		if !(c.last > c.first) {
			t.Errorf("%s packets did not grow: %v at %s, %v at %s", key, c.first, c.firstT, c.last, c.lastT)
		}
	}
}

func mapsKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// fakePage gives the test a peer connection whose getStats answers are
// scripted, to check the collector's delta compression against the parser
// report by report.
const fakePage = `<!doctype html>
<title>scripted peer</title>
<script type="module">
import {start} from "{{CALLDIAG}}/sdk/calldiag.js";
const script = {{SCRIPT}};
class FakePC extends EventTarget {
  constructor() {
    super();
    this.i = 0;
    this.iceConnectionState = "new";
    this.signalingState = "stable";
    this.connectionState = "new";
    this.iceGatheringState = "new";
  }
  getConfiguration() {
    return {iceServers: [{urls: ["turn:turn.example:3478?transport=udp"], username: "user", credential: "secret"}],
      iceTransportPolicy: "all", certificates: []};
  }
  getStats() {
    const s = script[Math.min(this.i++, script.length - 1)];
    return Promise.resolve(new Map(Object.entries(s).map(([id, r]) => [id, Object.assign({id}, r)])));
  }
  setLocalDescription(d) { return Promise.resolve(); }
  addIceCandidate(c) { return Promise.reject(new DOMException("no remote description", "InvalidStateError")); }
  close() {}
  change(type, prop, value) { this[prop] = value; this.dispatchEvent(new Event(type)); }
}
const until = async (f) => { while (!f()) await new Promise((r) => setTimeout(r, 10)); };
window.scripted = async () => {
  const c = start({endpoint: "{{CALLDIAG}}", key: "{{KEY}}", callId: "scripted-call", participantId: "bob",
    statsInterval: 30, batchInterval: 600000, wrap: false});
  const pc = new FakePC();
  c.attach(pc);
  pc.change("iceconnectionstatechange", "iceConnectionState", "checking");
  pc.change("iceconnectionstatechange", "iceConnectionState", "connected");
  await pc.setLocalDescription({type: "offer", sdp: "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\n"});
  await pc.addIceCandidate({candidate: "candidate:1 1 udp 2122260223 192.0.2.7 5000 typ host", sdpMid: "0"}).catch(() => {});
  await navigator.mediaDevices.getUserMedia({video: {width: {exact: 99999}}}).catch(() => {});
  const s = await navigator.mediaDevices.getUserMedia({audio: true});
  for (const t of s.getTracks()) t.stop();
  await until(() => pc.i >= 3);
  const first = await c.flush();
  await until(() => pc.i >= script.length + 1);
  const last = await c.stop();
  return first && last;
};
window.dropping = async (failing) => {
  window.dc = window.dc || start({endpoint: "{{CALLDIAG}}", key: "{{KEY}}", callId: "dropping-call", participantId: "carol",
    statsInterval: 600000, batchInterval: 600000, maxBuffered: 1, wrap: false});
  window.dpc = window.dpc || new FakePC();
  window.dc.attach(window.dpc);
  window.dpc.change("signalingstatechange", "signalingState", failing ? "have-local-offer" : "stable");
  return window.dc.flush();
};
window.ready = true;
</script>`

// statsScript is what the scripted peer connection's getStats answers,
// one snapshot after the other (the last one again once they run out).
// Between them reports change, stay, disappear and appear, and fields
// change, stay and disappear.
const statsScript = `[
 {"T": {"type": "transport", "timestamp": 1732700000000.125, "selectedCandidatePairId": "CP", "bytesSent": 100, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700000000.125, "currentRoundTripTime": 0.04, "state": "succeeded", "nominated": true},
  "LC": {"type": "local-candidate", "timestamp": 1732700000000.125, "address": "192.0.2.7", "ip": "192.0.2.7", "port": 5000, "candidateType": "host", "url": "stun:stun.example:3478"},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700000000.125, "kind": "video", "packetsReceived": 10, "qualityLimitationDurations": {"none": 1.5}, "decoderImplementation": "libvpx", "framesDecoded": null},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}},
 {"T": {"type": "transport", "timestamp": 1732700001000.5, "selectedCandidatePairId": "CP", "bytesSent": 200, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700001000.5, "currentRoundTripTime": 0.06, "state": "succeeded", "nominated": true},
  "LC": {"type": "local-candidate", "timestamp": 1732700001000.5, "address": "192.0.2.7", "ip": "192.0.2.7", "port": 5000, "candidateType": "host", "url": "stun:stun.example:3478"},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700001000.5, "kind": "video", "packetsReceived": 20, "qualityLimitationDurations": {"none": 2.5}, "decoderImplementation": "libvpx", "framesDecoded": 3},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}},
 {"T": {"type": "transport", "timestamp": 1732700002000, "selectedCandidatePairId": "CP", "bytesSent": 300, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700002000, "currentRoundTripTime": 0, "state": "succeeded", "nominated": true},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700002000, "kind": "video", "packetsReceived": 30, "qualityLimitationDurations": {"none": 2.5}, "decoderImplementation": "libvpx", "framesDecoded": 6},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}},
 {"T": {"type": "transport", "timestamp": 1732700003000, "selectedCandidatePairId": "CP", "bytesSent": 300, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700003000, "currentRoundTripTime": 0, "state": "succeeded", "nominated": true},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700003000, "kind": "video", "packetsReceived": 30, "qualityLimitationDurations": {"none": 2.5}, "framesDecoded": 6},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}},
 {"T": {"type": "transport", "timestamp": 1732700004000, "selectedCandidatePairId": "CP", "bytesSent": 400, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700004000, "currentRoundTripTime": 0.05, "state": "succeeded", "nominated": true},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700004000, "kind": "video", "packetsReceived": 40, "qualityLimitationDurations": {"none": 2.5}, "framesDecoded": 9},
  "OUT": {"type": "outbound-rtp", "timestamp": 1732700004000, "kind": "audio", "packetsSent": 7, "active": true},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}},
 {"T": {"type": "transport", "timestamp": 1732700005000, "selectedCandidatePairId": "CP", "bytesSent": 400, "dtlsState": "connected"},
  "CP": {"type": "candidate-pair", "timestamp": 1732700005000, "currentRoundTripTime": 0.05, "state": "succeeded", "nominated": true},
  "IN": {"type": "inbound-rtp", "timestamp": 1732700005000, "kind": "video", "packetsReceived": 40, "qualityLimitationDurations": {"none": 2.5}, "framesDecoded": 9},
  "OUT": {"type": "outbound-rtp", "timestamp": 1732700005000, "kind": "audio", "packetsSent": 7, "active": true},
  "CERT": {"type": "certificate", "timestamp": 1732700000000.125, "fingerprint": "AB:CD"}}
]`

// wantReport is a report as the parser should give it back.
type wantReport struct {
	typ string
	t   time.Time
	num map[string]float64
	str map[string]string
}

// scriptedSnapshots reads statsScript into what the parser should return
// for each snapshot: numbers as numbers, booleans as text, objects as
// JSON, nulls and ids left out, candidate addresses masked.
func scriptedSnapshots(t *testing.T) []map[string]wantReport {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(statsScript))
	dec.UseNumber()
	var raw []map[string]map[string]any
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var out []map[string]wantReport
	for _, snap := range raw {
		reports := map[string]wantReport{}
		for id, r := range snap {
			w := wantReport{num: map[string]float64{}, str: map[string]string{}}
			candidate := r["type"] == "local-candidate" || r["type"] == "remote-candidate"
			for k, v := range r {
				switch {
				case k == "type":
					w.typ = v.(string)
				case k == "timestamp":
					ms, _ := v.(json.Number).Float64()
					w.t = time.UnixMicro(int64(ms * 1000)).UTC()
				case v == nil:
				case candidate && slices.Contains([]string{"address", "ip", "relatedAddress", "url"}, k):
					w.str[k] = "x.x.x.x"
				default:
					switch v := v.(type) {
					case json.Number:
						f, _ := v.Float64()
						w.num[k] = f
					case string:
						w.str[k] = v
					case bool:
						w.str[k] = fmt.Sprint(v)
					default:
						b, _ := json.Marshal(v)
						w.str[k] = string(b)
					}
				}
			}
			reports[id] = w
		}
		out = append(out, reports)
	}
	return out
}

// openScriptedPage starts the browser and a collector server, and opens
// the page whose scripted peer connection feeds the collector; the
// context runs in that page until the test ends.
func openScriptedPage(t *testing.T) (context.Context, *collectRecorder) {
	t.Helper()
	path := browsertest.Find(t)
	browserCtx := startChromium(t, path)
	app := listenApp(t)
	calldiag, rec := startCollectServer(t, app.origin)
	pageURL := app.serve(t, strings.NewReplacer("{{CALLDIAG}}", calldiag.URL, "{{KEY}}", collectTestKey, "{{SCRIPT}}", statsScript).Replace(fakePage))

	ctx, cancel := context.WithTimeout(browserCtx, browserTimeout)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	waitFor(t, "the page's script", 10*time.Second, func() bool {
		ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.ready === true`))
		return ok
	})
	return ctx, rec
}

// TestCollectorDeltasInBrowser drives the collector with a scripted peer
// connection and checks that the parser rebuilds every snapshot exactly
// from the batches, that a batch repeats the connection's creation and
// state changes, that the running round trip counts every non-zero
// reading, and what the collector leaves out by default.
func TestCollectorDeltasInBrowser(t *testing.T) {
	ctx, rec := openScriptedPage(t)
	if !evalIn[bool](t, ctx, `window.scripted()`) {
		t.Fatal("the collector did not deliver its batches")
	}

	want := scriptedSnapshots(t)
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d batches, want 2 (one flush, one stop)", len(reqs))
	}
	var snaps []webrtc.Snapshot
	var dumps []*webrtc.Dump
	for i, r := range reqs {
		d, lineErrs, err := webrtc.Parse(strings.NewReader(r.batch), fmt.Sprintf("batch %d", i+1))
		if err != nil || len(lineErrs) > 0 {
			t.Fatalf("batch %d: %v %v\n%s", i+1, err, lineErrs, r.batch)
		}
		if len(d.PeerConnections) != 1 || d.PeerConnections[0].ID != "pc-1" {
			t.Fatalf("batch %d has peer connections %v, want pc-1", i+1, d.PeerConnections)
		}
		dumps = append(dumps, d)
		got := d.PeerConnections[0].Snapshots
		if i > 0 && len(snaps) > 0 {
			// A later batch starts from the last snapshot of the one
			// before, whole, so that the interval between them counts.
			last := snaps[len(snaps)-1]
			same := len(got) > 0 && len(got[0].Reports) == len(last.Reports)
			for id, lr := range last.Reports {
				gr, ok := got[0].Reports[id]
				same = same && ok && maps.Equal(gr.Num, lr.Num) && maps.Equal(gr.Str, lr.Str)
			}
			if !same {
				t.Fatalf("batch %d does not start from the last snapshot of batch %d:\n%s", i+1, i, r.batch)
			}
			got = got[1:]
		}
		snaps = append(snaps, got...)
	}
	if len(snaps) < len(want) {
		t.Fatalf("%d snapshots, want at least %d", len(snaps), len(want))
	}
	wantSum, wantCount := 0.0, 0
	for k, s := range snaps {
		w := want[min(k, len(want)-1)]
		if rtt := w["CP"].num["currentRoundTripTime"]; rtt > 0 {
			wantSum += rtt * 1000
			wantCount++
		}
		if len(s.Reports) != len(w) {
			t.Errorf("snapshot %d has reports %v, want %v", k, mapsKeys(s.Reports), mapsKeys(w))
		}
		for id, wr := range w {
			got, ok := s.Reports[id]
			if !ok {
				t.Errorf("snapshot %d lacks report %s", k, id)
				continue
			}
			if got.Type != wr.typ || !got.Time.Equal(wr.t) {
				t.Errorf("snapshot %d report %s: type %q at %s, want %q at %s", k, id, got.Type, got.Time, wr.typ, wr.t)
			}
			if !maps.Equal(got.Num, wr.num) || !maps.Equal(got.Str, wr.str) {
				t.Errorf("snapshot %d report %s:\n got %v %v\nwant %v %v", k, id, got.Num, got.Str, wr.num, wr.str)
			}
		}
	}

	// The second batch stands alone: it repeats the creation and the state
	// changes, with their times, that the first batch carried.
	first, second := reqs[0].batch, reqs[1].batch
	for _, line := range strings.Split(first, "\n") {
		if strings.HasPrefix(line, `["create",`) || strings.HasPrefix(line, `["oniceconnectionstatechange",`) {
			if !strings.Contains(second, line+"\n") {
				t.Errorf("the second batch does not repeat %s", line)
			}
		}
	}
	pc := dumps[1].PeerConnections[0]
	if !strings.Contains(pc.Config, "turn:turn.example:3478") || strings.Contains(pc.Config, "secret") || strings.Contains(pc.Config, "user") {
		t.Errorf("configuration %s: want the ICE server's URL without its username and credential", pc.Config)
	}
	var rtt struct {
		SumMs float64 `json:"sumMs"`
		Count int     `json:"count"`
	}
	for _, e := range pc.Events {
		if e.Name == "calldiag.rtt" {
			if err := json.Unmarshal([]byte(e.Value), &rtt); err != nil {
				t.Errorf("calldiag.rtt %s: %v", e.Value, err)
			}
		}
	}
	if rtt.Count != wantCount || math.Abs(rtt.SumMs-wantSum) > 1e-6 {
		t.Errorf("running round trip %+v, want sum %v ms over %d readings", rtt, wantSum, wantCount)
	}

	// Nothing personal by default: no SDP, no candidate address, no labels.
	events := map[string]string{}
	for _, d := range dumps {
		for _, e := range d.PeerConnections[0].Events {
			events[e.Name] = e.Value
		}
	}
	if v := events["setLocalDescription"]; v != `{"type":"offer"}` {
		t.Errorf("setLocalDescription %s, want the type without the SDP", v)
	}
	if v := events["addIceCandidate"]; v != `{"type":"host","protocol":"udp","component":"rtp"}` {
		t.Errorf("addIceCandidate %s, want type, protocol and component only", v)
	}
	if v := events["addIceCandidateOnFailure"]; !strings.Contains(v, "InvalidStateError") {
		t.Errorf("addIceCandidateOnFailure %q, want the error", v)
	}
	var failed, succeeded bool
	for _, m := range dumps[0].Media {
		switch m.Outcome {
		case webrtc.MediaFailure:
			failed = m.Error == "OverconstrainedError"
		case webrtc.MediaSuccess:
			succeeded = len(m.Tracks) == 1 && m.Tracks[0].Kind == "audio" && m.Tracks[0].Label == ""
		}
	}
	if !failed || !succeeded {
		t.Errorf("media requests %+v: want an OverconstrainedError and an audio track without its label", dumps[0].Media)
	}
}

// TestCollectorRetriesAndDrops checks that batches the server does not
// take are retried, and that the ones dropped beyond maxBuffered are
// counted in a later identity line: every batch is either delivered or
// counted.
func TestCollectorRetriesAndDrops(t *testing.T) {
	ctx, rec := openScriptedPage(t)
	rec.failing.Store(true)
	for range 3 {
		if evalIn[bool](t, ctx, `window.dropping(true)`) {
			t.Fatal("a flush to a failing server reported delivery")
		}
	}
	rec.failing.Store(false)
	for range 2 {
		if !evalIn[bool](t, ctx, `window.dropping(false)`) {
			t.Fatal("a flush to a working server did not deliver")
		}
	}
	reqs := rec.requests()
	var delivered, dropped, maxSeq int
	var refused int
	for i, r := range reqs {
		if r.status != http.StatusNoContent {
			refused++
			continue
		}
		d, _, err := webrtc.Parse(strings.NewReader(r.batch), fmt.Sprintf("batch %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		delivered++
		var n int
		fmt.Sscan(d.Identity["dropped"], &n)
		dropped += n
		var seq int
		fmt.Sscan(d.Identity["seq"], &seq)
		maxSeq = max(maxSeq, seq)
	}
	if refused < 3 {
		t.Errorf("the failing server was asked %d times, want every batch tried", refused)
	}
	if maxSeq != 5 || delivered+dropped != maxSeq || dropped == 0 {
		t.Errorf("%d batches built, %d delivered, %d counted as dropped: want 5 built, each delivered or counted, some dropped",
			maxSeq, delivered, dropped)
	}
}
