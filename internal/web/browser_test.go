package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"calldiag/internal/model"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"calldiag/internal/browsertest"
)

// Browser tests drive a real headless Chromium through the pages the way a
// support engineer does: type, click, press keys, and read what the page
// shows and where the browser went. They skip when no browser is installed,
// unless CALLDIAG_REQUIRE_BROWSER=1 makes that a failure (as CI does).

const (
	// screenshotsEnv names the directory the screenshots are written to.
	screenshotsEnv = "CALLDIAG_SCREENSHOTS"
	// browserTimeout bounds the browser's start and each scenario, so that
	// a stuck browser fails the test instead of hanging it.
	browserTimeout = 60 * time.Second
)

// browser is one headless Chromium shared by the scenarios of a test; each
// scenario opens its own tab.
type browser struct {
	ctx   context.Context
	base  string // the test server's URL
	shots string // the screenshot directory
}

// startBrowser starts the browser at path headless, with a fresh profile
// and a 1280×800 window, and closes it when the test ends.
func startBrowser(t *testing.T, path, base string) *browser {
	t.Helper()
	ctx := browsertest.Start(t, path, chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "en-US"))
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = filepath.Join(t.TempDir(), "screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatalf("screenshot directory: %v", err)
	}
	return &browser{ctx: ctx, base: base, shots: shots}
}

// tab is one browser tab of one scenario.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	b    *browser

	mu       sync.Mutex
	problems []string // script errors, CSP violations and failed loads the pages reported
}

// newTab opens a tab whose every action must finish within
// browserTimeout; when the scenario ends it fails on any script error,
// blocked inline code or failed resource load the pages reported.
func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	tctx, cancelTimeout := context.WithTimeout(b.ctx, browserTimeout)
	ctx, cancel := chromedp.NewContext(tctx)
	tb := &tab{t: t, ctx: ctx, base: b.base, b: b}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelTimeout()
		t.Fatalf("opening a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleException && m.Type != chromedp.ConsoleError {
				continue
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue // the pages declare no icon; the browser asks anyway
			}
			p := m.String()
			if m.URL != "" {
				p += " (" + m.URL + ")"
			}
			tb.mu.Lock()
			tb.problems = append(tb.problems, p)
			tb.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		cancel()
		cancelTimeout()
		wg.Wait()
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			t.Errorf("the page reported: %s", p)
		}
	})
	return tb
}

// run runs one action in the tab and fails the test on error.
func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			tb.t.Fatalf("%s: the scenario ran past its %s limit: %v", what, browserTimeout, err)
		}
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	run(tb, what, chromedp.Steps(steps...))
}

// load runs steps that make the browser load a page (a click on a link, a
// submitted form, a key the page's script binds), waits for the page and
// fails unless it loaded with a successful status.
func (tb *tab) load(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	res, err := chromedp.RunResponse(tb.ctx, steps...)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	if res == nil || res.Status >= 400 {
		status := int64(0)
		if res != nil {
			status = res.Status
		}
		body := run(tb, what+": error page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		tb.t.Fatalf("%s: status %d: %.300s", what, status, body)
	}
}

// open navigates to a path of the test server.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.load("open "+path, chromedp.Navigate(tb.base+path))
}

// location is the page's URL, relative to the test server.
func (tb *tab) location() *url.URL {
	tb.t.Helper()
	s := run(tb, "location", chromedp.Location())
	u, err := url.Parse(s)
	if err != nil {
		tb.t.Fatalf("location %q: %v", s, err)
	}
	if !strings.HasPrefix(s, tb.base+"/") {
		tb.t.Fatalf("the browser left the server: %s", s)
	}
	return u
}

// eval evaluates a script expression and decodes its value.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	return run(tb, expr, chromedp.Evaluate[T](expr))
}

// text is the visible text of the first element that matches sel.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// count is how many elements match sel.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// screenshot saves a full-page PNG screenshot under name.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	buf := run(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	if _, err := png.DecodeConfig(bytes.NewReader(buf)); err != nil {
		tb.t.Fatalf("screenshot %s is not a PNG image: %v", name, err)
	}
	path := filepath.Join(tb.b.shots, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.t.Fatalf("writing the screenshot: %v", err)
	}
	tb.t.Logf("screenshot: %s", path)
}

// currentTab is the label of the call page's current tab.
func (tb *tab) currentTab() string {
	tb.t.Helper()
	return tb.text(`nav.tabs a[aria-current="page"]`)
}

func TestBrowser(t *testing.T) {
	path := browsertest.Find(t) // before the fixture, so that a skip is quick
	f := loadFixture(t)
	srv := server(t, "")
	b := startBrowser(t, path, srv.URL)

	t.Run("search by call id", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/")
		tb.do("type the call id", chromedp.SendKeys(chromedp.ID("jump-q"), f.big))
		tb.load("submit the header search", chromedp.KeyEvent(kb.Enter))
		if got, want := tb.location().Path, "/calls/"+f.big; got != want {
			t.Fatalf("landed on %s, want %s", got, want)
		}
		if got := tb.currentTab(); got != "Overview" {
			t.Errorf("current tab %q, want Overview", got)
		}
		if got := tb.text("#call-title code"); got != f.big {
			t.Errorf("the page shows call %q, want %q", got, f.big)
		}
		tb.screenshot("overview")
	})

	t.Run("filter to calls with issues", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/?since=all")
		tb.screenshot("search")
		all := tb.count("table.calls tbody tr")
		// Choose the option by its label, as a user does.
		picked := eval[bool](tb, `(() => {
			const s = document.querySelector('select[name="has-issues"]');
			const o = [...s.options].find(o => o.text.trim() === "With issues");
			if (!o) return false;
			s.value = o.value;
			s.dispatchEvent(new Event("change", {bubbles: true}));
			return true;
		})()`)
		if !picked {
			t.Fatal(`the has-issues select has no "With issues" option`)
		}
		apply := `form[aria-label="Filter calls"] button[type="submit"]`
		if got := tb.text(apply); got != "Apply" {
			t.Fatalf("the filter button says %q, want Apply", got)
		}
		tb.load("apply the filter", chromedp.Click(chromedp.CSS(apply)))
		if got := tb.location().Query().Get("has-issues"); got != "true" {
			t.Fatalf("URL has has-issues=%q, want true", got)
		}
		cells := eval[[]string](tb, `[...document.querySelectorAll("table.calls tbody tr")].map(r => r.cells[6].innerText.trim())`)
		if len(cells) == 0 {
			t.Fatal("no calls with issues listed")
		}
		if len(cells) > all {
			t.Errorf("%d calls with issues, more than the %d calls unfiltered", len(cells), all)
		}
		for i, c := range cells {
			if c == "" || strings.HasPrefix(c, "none") || !strings.ContainsAny(c[:1], "123456789") {
				t.Errorf("row %d shows issues %q, want a count", i+1, c)
			}
		}
		if got := tb.count(`table.calls a[href="/calls/` + f.faulty + `"]`); got == 0 {
			t.Errorf("the call with a critical issue %s is not listed", f.faulty)
		}
	})

	t.Run("open a call and switch tabs", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/calls/" + f.faulty)
		base := "/calls/" + f.faulty
		for _, tc := range []struct{ link, path, label string }{
			{"Issues", base + "/issues", "Issues"},
			{"Timeline", base + "/timeline", "Timeline"},
			{"Overview", base, "Overview"},
		} {
			sel := fmt.Sprintf(`nav.tabs a[href=%q]`, tc.path)
			tb.load("click the "+tc.link+" tab", chromedp.Click(chromedp.CSS(sel)))
			if got := tb.location().Path; got != tc.path {
				t.Errorf("%s tab: URL path %s, want %s", tc.link, got, tc.path)
			}
			if got := tb.currentTab(); !strings.HasPrefix(got, tc.label) {
				t.Errorf("%s tab: the current tab is %q", tc.link, got)
			}
			if n := tb.count(`nav.tabs a[aria-current="page"]`); n != 1 {
				t.Errorf("%s tab: %d tabs marked current, want 1", tc.link, n)
			}
			if tc.link == "Issues" {
				tb.screenshot("issues")
			}
		}
	})

	t.Run("click a participant", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/calls/" + f.big)
		first := `details.participant`
		pid := run(tb, "first participant's id", chromedp.AttributeValue(chromedp.CSS(first+` summary .pname code`), "title"))
		if !pid.Exists || pid.Value == "" {
			t.Fatal("the first participant shows no id")
		}
		call, err := f.st.Call(t.Context(), f.big)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(call.Participants, func(p model.Participant) bool { return p.ID == pid.Value }) {
			t.Fatalf("the page's first participant %q is not in call %s", pid.Value, f.big)
		}
		// A participant's details may be folded: unfold it first.
		if open := eval[bool](tb, `document.querySelector("details.participant").open`); !open {
			tb.do("unfold the first participant", chromedp.Click(chromedp.CSS(first+` > summary`)))
		}
		link := first + ` a[href*="/timeline?participant="]`
		if got := tb.text(link); got != "Timeline of this participant »" {
			t.Fatalf("participant link says %q", got)
		}
		tb.load("click the participant's timeline link", chromedp.Click(chromedp.CSS(link)))
		u := tb.location()
		if got, want := u.Path, "/calls/"+f.big+"/timeline"; got != want {
			t.Errorf("URL path %s, want %s", got, want)
		}
		if got := u.Query().Get("participant"); got != pid.Value {
			t.Errorf("URL has participant=%q, want %q", got, pid.Value)
		}
		if n := tb.count(`svg.timeline g.lane:not(.sub)`); n != 1 {
			t.Errorf("%d participant lanes on the timeline, want 1", n)
		}
		if got := eval[string](tb, `document.querySelector('form[aria-label="Filter the timeline"] select[name="participant"]').value`); got != pid.Value {
			t.Errorf("the participant filter is set to %q, want %q", got, pid.Value)
		}
	})

	t.Run("click an issue", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/calls/" + f.faulty + "/issues")
		first := `article.issue`
		issueID := strings.TrimPrefix(run(tb, "first issue's id", chromedp.AttributeValue(chromedp.CSS(first), "id")).Value, "issue-")
		if issueID == "" {
			t.Fatal("the first issue has no id")
		}
		link := first + ` > p > a.button`
		if got := tb.text(link); got != "Show on the timeline »" {
			t.Fatalf("the issue's button says %q", got)
		}
		tb.load("click Show on the timeline", chromedp.Click(chromedp.CSS(link)))
		u := tb.location()
		if got, want := u.Path, "/calls/"+f.faulty+"/timeline"; got != want {
			t.Errorf("URL path %s, want %s", got, want)
		}
		q := u.Query()
		if got := q.Get("issue"); got != issueID {
			t.Errorf("URL has issue=%q, want %q", got, issueID)
		}
		for _, k := range []string{"from", "to"} {
			if q.Get(k) == "" {
				t.Errorf("URL %s has no %s=", u, k)
			}
		}
		if n := tb.count(`svg.timeline .hl-issue`); n == 0 {
			t.Error("the timeline does not highlight the issue")
		}
		if note := tb.text(`.selissue`); !strings.Contains(note, "(highlighted)") {
			t.Errorf("the selected issue's note %q lacks (highlighted)", note)
		}
		tb.screenshot("timeline-issue")
	})

	t.Run("zoom the timeline", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/calls/" + f.faulty + "/timeline")
		window := func() (time.Time, time.Time) {
			t.Helper()
			w := eval[[]string](tb, `(() => { const w = document.querySelector(".tlwrap"); return [w.dataset.from, w.dataset.to]; })()`)
			from, err1 := time.Parse(time.RFC3339Nano, w[0])
			to, err2 := time.Parse(time.RFC3339Nano, w[1])
			if err := errors.Join(err1, err2); err != nil {
				t.Fatalf("the timeline's window %q: %v", w, err)
			}
			return from, to
		}
		// The page states its window to the second.
		near := func(a, b time.Time) bool { return a.Sub(b).Abs() < time.Second }
		from0, to0 := window()
		// The page's script binds "+"; the body has the focus.
		tb.load(`press "+"`, chromedp.KeyEvent("+"))
		q := tb.location().Query()
		from, err1 := time.Parse(time.RFC3339Nano, q.Get("from"))
		to, err2 := time.Parse(time.RFC3339Nano, q.Get("to"))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("after zooming in, the URL's window from=%q to=%q: %v", q.Get("from"), q.Get("to"), err)
		}
		span0, span := to0.Sub(from0), to.Sub(from)
		if d := span - span0/2; d < -time.Second || d > time.Second {
			t.Errorf("zoomed window spans %s, want about half of %s", span, span0)
		}
		if from.Before(from0) || to.After(to0) {
			t.Errorf("zoomed window %s–%s is not inside %s–%s", from, to, from0, to0)
		}
		if pf, pt := window(); !near(pf, from) || !near(pt, to) {
			t.Errorf("the page draws %s–%s, the URL asks for %s–%s", pf, pt, from, to)
		}
		tb.load("click Whole call", chromedp.Click(chromedp.CSS(`nav.zoom a[data-key="0"]`)))
		q = tb.location().Query()
		if q.Has("from") || q.Has("to") {
			t.Errorf("after Whole call the URL still has from=%q to=%q", q.Get("from"), q.Get("to"))
		}
		if pf, pt := window(); !near(pf, from0) || !near(pt, to0) {
			t.Errorf("Whole call shows %s–%s, want %s–%s", pf, pt, from0, to0)
		}
	})

	t.Run("knowledge base", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/kb?q=41048")
		if n := tb.count(`ul.kblist li a`); n == 0 {
			t.Fatal("no knowledge-base entries for 41048")
		}
		title := tb.text(`ul.kblist li a`)
		tb.load("open the first entry", chromedp.Click(chromedp.CSS(`ul.kblist li a`)))
		if p := tb.location().Path; !strings.HasPrefix(p, "/kb/") || len(p) == len("/kb/") {
			t.Errorf("landed on %s, want /kb/{id}", p)
		}
		if got := tb.text(`article.kbentry h1`); got != title {
			t.Errorf("the entry is titled %q, the link said %q", got, title)
		}
		tb.screenshot("kb-entry")
	})

	t.Run("keyboard", func(t *testing.T) {
		tb := b.newTab(t)
		tb.open("/")
		if n := tb.count(`a.skip[href="#main"]`); n != 1 {
			t.Fatalf("%d skip links to #main, want 1", n)
		}
		if n := tb.count(`main#main`); n != 1 {
			t.Fatalf("the skip link's target #main: %d elements", n)
		}
		var seen []string
		for i := 0; i < 10; i++ {
			tb.do("press Tab", chromedp.KeyEvent(kb.Tab))
			focus := eval[string](tb, `(() => { const e = document.activeElement; return e ? e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "") : ""; })()`)
			seen = append(seen, focus)
			if i == 0 && focus != "a.skip" {
				t.Errorf("the first Tab focuses %q, want the skip link", focus)
			}
			if focus == "input#jump-q" {
				return
			}
		}
		t.Errorf("ten Tabs from the top never reach the header search box; focus went %s", strings.Join(seen, " → "))
	})

	t.Run("narrow window", func(t *testing.T) {
		tb := b.newTab(t)
		tb.do("narrow the window", chromedp.EmulateViewport(420, 800))
		tb.open("/?since=all")
		if w := eval[int](tb, `window.innerWidth`); w != 420 {
			t.Fatalf("viewport %d px wide, want 420", w)
		}
		// The page may scroll sideways only inside its table wrappers.
		if w := eval[int](tb, `document.documentElement.scrollWidth`); w > 420 {
			t.Errorf("the search page is %d px wide in a 420 px window", w)
		}
		tb.screenshot("search-narrow")
	})

	t.Run("dark mode", func(t *testing.T) {
		tb := b.newTab(t)
		light := func() float64 {
			t.Helper()
			return eval[float64](tb, `(() => {
				const m = getComputedStyle(document.documentElement).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
				return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255;
			})()`)
		}
		tb.do("dark colour scheme", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}))
		tb.open("/calls/" + f.faulty + "/timeline")
		if l := light(); l > 0.3 {
			t.Errorf("in dark mode the page background has luminance %.2f, want a dark one", l)
		}
		tb.screenshot("timeline-dark")
	})
}
