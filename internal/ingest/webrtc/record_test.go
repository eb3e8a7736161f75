//go:build record

// The recorder drives a browser through chromedp. It sits behind the
// "record" build tag so that the package's other test binaries, the fuzz
// targets' above all, do not carry chromedp: the fuzzer's coverage map
// would grow with it and slow every run down.

package webrtc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// recordEnv names the file TestRecordInternalsDump writes a fresh
// webrtc-internals dump to. The test is a tool, not a check: it runs only
// when the variable is set.
const recordEnv = "CALLDIAG_RECORD_INTERNALS"

// loopbackPage makes a two-peer call inside one page with the browser's
// fake camera and microphone, and also asks for a camera that does not
// exist, so that the dump holds a failed getUserMedia as well.
const loopbackPage = `<!doctype html><meta charset="utf-8"><title>loopback</title>
<script>
window.callState = "starting";
(async () => {
  try {
    await navigator.mediaDevices.getUserMedia({video: {deviceId: {exact: "no-such-camera"}}});
  } catch (e) {}
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 360}});
  const config = {iceServers: [{urls: "stun:stun.invalid:3478"}, {urls: "turn:turn.invalid:3478", username: "user", credential: "secret"}]};
  const a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
  a.onicecandidate = e => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = e => e.candidate && a.addIceCandidate(e.candidate);
  b.ontrack = e => {};
  stream.getTracks().forEach(t => a.addTrack(t, stream));
  a.createDataChannel("chat");
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  window.callState = "connecting";
  a.onconnectionstatechange = () => { window.callState = a.connectionState; };
})().catch(e => { window.callState = "error: " + e; });
</script>`

// dumpScript clicks the internals page's download button and reads the
// dump from the Blob the page hands to URL.createObjectURL for the
// download, which a headless browser would otherwise save out of reach.
const dumpScript = `(async () => {
  const buttons = [...document.querySelectorAll("button")];
  const button = buttons.find(b => /PeerConnection updates and stats/i.test(b.textContent)) ||
    buttons.find(b => /download/i.test(b.textContent));
  if (!button) return "no download button: " + buttons.map(b => b.textContent).join(" | ");
  let blob;
  const create = URL.createObjectURL;
  URL.createObjectURL = b => { blob = b; return create.call(URL, b); };
  button.click();
  for (let i = 0; i < 50 && !blob; i++) await new Promise(r => setTimeout(r, 100));
  if (!blob) return "no blob after the click";
  // Recent versions gzip the dump.
  const head = new Uint8Array(await blob.slice(0, 2).arrayBuffer());
  if (head[0] === 0x1f && head[1] === 0x8b) {
    return await new Response(blob.stream().pipeThrough(new DecompressionStream("gzip"))).text();
  }
  return await blob.text();
})()`

// TestRecordInternalsDump records a real webrtc-internals dump from a
// headless Chromium making a loopback call:
//
//	CALLDIAG_RECORD_INTERNALS=$PWD/internal/ingest/webrtc/testdata/internals/new.json \
//	  go test -tags record -run TestRecordInternalsDump ./internal/ingest/webrtc/
func TestRecordInternalsDump(t *testing.T) {
	out := os.Getenv(recordEnv)
	if out == "" {
		t.Skipf("a tool, not a check: set %s to the file to write a fresh dump to", recordEnv)
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is needed to record a dump: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(loopbackPage))
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// webrtc-internals polls stats only while it is open, so it goes first.
	if err := chromedp.Do(ctx, chromedp.Navigate("chrome://webrtc-internals")); err != nil {
		t.Fatalf("open webrtc-internals: %v", err)
	}
	callCtx, cancelCall := chromedp.NewContext(ctx)
	defer cancelCall()
	if err := chromedp.Do(callCtx, chromedp.Navigate(srv.URL+"/call.html")); err != nil {
		t.Fatalf("open the call page: %v", err)
	}
	if err := chromedp.Do(callCtx, chromedp.Sleep(8*time.Second)); err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(callCtx, chromedp.Evaluate[string](`window.callState`))
	if err != nil || state != "connected" {
		t.Fatalf("the loopback call is %q (%v)", state, err)
	}
	dump, err := chromedp.Run(ctx, chromedp.Evaluate[string](dumpScript, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the dump: %v", err)
	}
	if len(dump) < 1000 || dump[0] != '{' {
		t.Fatalf("no dump: %.300s", dump)
	}
	if err := os.WriteFile(out, []byte(dump), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d bytes to %s", len(dump), out)
}
