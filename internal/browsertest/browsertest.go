// Package browsertest finds and starts the headless Chromium that the
// browser tests drive. It is imported by tests only.
//
// A test that needs the browser skips when none is installed, saying how
// to install one, unless CALLDIAG_REQUIRE_BROWSER=1 (as CI sets it) makes
// that a failure.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// RequireEnv set to 1 turns a missing browser into a failure.
const RequireEnv = "CALLDIAG_REQUIRE_BROWSER"

// StartTimeout bounds the browser's start.
const StartTimeout = 60 * time.Second

var names = []string{"chromium", "chromium-browser", "google-chrome"}

// Lookup returns the path of a Chromium-like browser on PATH.
func Lookup() (string, error) {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s is on PATH: install Debian's chromium package", strings.Join(names, ", "))
}

// Find returns the path of the browser, or skips the test (fails it when
// CALLDIAG_REQUIRE_BROWSER=1).
func Find(t testing.TB) string {
	t.Helper()
	p, err := Lookup()
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	return p
}

// SkipOrFail skips the test for the reason given, or fails it when
// CALLDIAG_REQUIRE_BROWSER=1.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s=1 but %s", RequireEnv, msg)
	}
	t.Skipf("%s; set %s=1 to make this a failure", msg, RequireEnv)
}

// Media are the flags of a browser whose pages make WebRTC calls: a fake
// camera and microphone granted without asking, and peer connections over
// loopback.
var Media = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("disable-dev-shm-usage", true),
}

// Start starts the browser at path headless with a fresh profile and the
// given options, and stops it when the test ends. The context it returns
// runs in the browser's first tab; it has no deadline of its own.
func Start(t testing.TB, path string, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	profile := t.TempDir()
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
	)
	all = append(all, opts...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Registered after t.TempDir, so it runs first: the browser is gone
	// before its profile directory is removed.
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(cctx)
		ccancel()
		cancel()
		cancelAlloc()
		if c := chromedp.FromContext(ctx); c != nil && c.Allocator != nil {
			c.Allocator.Wait()
		}
	})
	// The first run starts the browser and binds it to ctx, so it must not
	// carry a deadline itself: a timer cancels it instead.
	timer := time.AfterFunc(StartTimeout, cancel)
	err := chromedp.Do(ctx)
	stopped := timer.Stop()
	if err != nil {
		if !stopped {
			t.Fatalf("the browser %s did not start within %s: %v", path, StartTimeout, err)
		}
		t.Fatalf("starting the browser %s: %v", path, err)
	}
	return ctx
}
