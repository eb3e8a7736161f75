package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
	"calldiag/internal/web"
)

// fixture is a store holding simulated calls, built once for the package.
type fixture struct {
	st     *sqlite.DB
	labels simulate.Labels
	// big is the call with the most participants, faulty one with issues.
	big, faulty string
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

func loadFixture(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() {
		ctx := context.Background()
		dir, err := tempDir()
		if err != nil {
			fixErr = err
			return
		}
		st, err := sqlite.Open(ctx, dir, nil)
		if err != nil {
			fixErr = err
			return
		}
		var buf bytes.Buffer
		cfg := simulate.Config{Calls: 24, Seed: 3, Start: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
		labels, err := simulate.Records(cfg, func(_ string, line []byte) error {
			buf.Write(line)
			buf.WriteByte('\n')
			return nil
		})
		if err != nil {
			fixErr = err
			return
		}
		p := pipeline.New(st, pipeline.Options{Detector: st})
		if _, err := p.Ingest(ctx, &buf, "sim"); err != nil {
			fixErr = err
			return
		}
		fix = fixture{st: st, labels: labels}
		page, err := st.SearchCalls(ctx, store.CallQuery{Sort: store.SortParticipants, Limit: 1})
		if err != nil || len(page.Calls) == 0 {
			fixErr = err
			return
		}
		fix.big = page.Calls[0].ID
		page, err = st.SearchCalls(ctx, store.CallQuery{MinSeverity: model.SeverityCritical, Limit: 1})
		if err != nil || len(page.Calls) == 0 {
			fixErr = err
			return
		}
		fix.faulty = page.Calls[0].ID
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

// tempDir is a directory for the package's shared store, removed by
// TestMain when the tests end.
func tempDir() (string, error) {
	d, err := os.MkdirTemp("", "calldiag-web-test-")
	fixDir = d
	return d, err
}

var fixDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if fix.st != nil {
		fix.st.Close()
	}
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Exit(code)
}

func server(t *testing.T, token string) *httptest.Server {
	t.Helper()
	f := loadFixture(t)
	h, err := web.New(web.Config{Store: f.st, Token: token, Now: func() time.Time { return time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	body   string
	header http.Header
}

func get(t *testing.T, srv *httptest.Server, path string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

var inlineStyle = regexp.MustCompile(`\sstyle=|<script>|<script [^>]*>[^<]`)

func TestPagesRender(t *testing.T) {
	f := loadFixture(t)
	srv := server(t, "")
	pages := []struct {
		path   string
		status int
		wants  []string
	}{
		{"/?since=all", 200, []string{"<table class=\"calls\"", "calls match", "/calls/" + f.big}},
		{"/?since=all&has-issues=true", 200, []string{"/calls/" + f.faulty}},
		{"/?since=all&sort=duration&order=asc", 200, []string{`aria-sort="ascending"`}},
		{"/?since=soon", 400, []string{"invalid since"}},
		{"/calls/" + f.big, 200, []string{"Participants", "Summary", "streams", `aria-current="page">Overview`}},
		{"/calls/" + f.faulty + "/issues", 200, []string{`class="issue sev-`, "What to do", "/timeline?"}},
		{"/calls/" + f.big + "/timeline", 200, []string{`class="timeline"`, "Media metrics", "Events in this window"}},
		{"/calls/no-such-call", 404, []string{"No call"}},
		{"/calls/no-such-call/timeline", 404, []string{"No call"}},
		{"/kb", 200, []string{"Error codes and subcodes", "/kb/kind-poor-stream"}},
		{"/kb?q=41048", 200, []string{"41048"}},
		{"/kb/kind-poor-stream", 200, []string{"Related"}},
		{"/kb/nothing-here", 404, []string{"no entry"}},
	}
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			r := get(t, srv, p.path)
			if r.status != p.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, p.status, r.body)
			}
			mustContain(t, p.path, r.body, p.wants...)
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
			if m := inlineStyle.FindString(r.body); m != "" {
				t.Errorf("inline style or script %q: the CSP would block it", m)
			}
		})
	}
}

func TestSearchJumpsToExactMatch(t *testing.T) {
	f := loadFixture(t)
	srv := server(t, "")
	r := get(t, srv, "/?q="+url.QueryEscape(f.big)+"&since=all")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/calls/"+f.big {
		t.Fatalf("status %d location %q, want 303 to the call", r.status, r.header.Get("Location"))
	}
	// With other filters the list is shown, not the call.
	r = get(t, srv, "/?q="+url.QueryEscape(f.big)+"&since=all&quality=Poor")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
}

func TestSearchFiltersStayInLinks(t *testing.T) {
	srv := server(t, "")
	r := get(t, srv, "/?since=all&has-issues=true&limit=2")
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	next := regexp.MustCompile(`href="(/\?[^"]*cursor=[^"]*)" class="button" rel="next"`).FindStringSubmatch(r.body)
	if next == nil {
		t.Fatal("no next-page link")
	}
	link := strings.ReplaceAll(next[1], "&amp;", "&")
	for _, want := range []string{"has-issues=true", "limit=2", "since=all"} {
		if !strings.Contains(link, want) {
			t.Errorf("next link %q drops %s", link, want)
		}
	}
	r2 := get(t, srv, link)
	if r2.status != 200 || !strings.Contains(r2.body, "First page") {
		t.Errorf("second page: status %d", r2.status)
	}
}

func TestTimelineFilters(t *testing.T) {
	f := loadFixture(t)
	srv := server(t, "")
	ctx := context.Background()
	call, err := f.st.Call(ctx, f.faulty)
	if err != nil {
		t.Fatal(err)
	}
	det, err := f.st.Detection(ctx, f.faulty)
	if err != nil || len(det.Issues) == 0 {
		t.Fatalf("detection %v, %d issues", err, len(det.Issues))
	}
	is := det.Issues[0]
	base := "/calls/" + f.faulty + "/timeline"
	q := url.Values{"participant": {is.ParticipantID}, "from": {is.Start.Add(-time.Minute).Format(time.RFC3339)},
		"to": {is.End.Add(time.Minute).Format(time.RFC3339)}, "issue": {is.ID}}
	r := get(t, srv, base+"?"+q.Encode())
	if r.status != 200 {
		t.Fatalf("status %d: %.300s", r.status, r.body)
	}
	mustContain(t, "issue timeline", r.body, `hl-issue sev-`+string(is.Severity), "(highlighted)", is.Kind)
	// One participant: one lane (its label links to itself).
	if n := strings.Count(r.body, `class="lane"`); n > 1 {
		t.Errorf("%d lanes for one participant", n)
	}
	// An event's details link to its raw record.
	m := regexp.MustCompile(`href="([^"]*event=[^"#]*)#details"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no event link")
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	if strings.HasPrefix(link, "?") {
		link = base + link
	}
	d := get(t, srv, link)
	if d.status != 200 {
		t.Fatalf("event details status %d", d.status)
	}
	mustContain(t, "event details", d.body, "Event details", "/api/v1/records/")
	for _, bad := range []string{"?from=yesterday", "?from=2026-05-04T10:00:00Z&to=2026-05-04T09:00:00Z", "?kind=nonsense", "?event=nope"} {
		if r := get(t, srv, base+bad); r.status != 400 && r.status != 404 {
			t.Errorf("%s: status %d, want 400 or 404", bad, r.status)
		}
	}
	if len(call.Participants) == 0 {
		t.Fatal("no participants")
	}
}

func TestLogin(t *testing.T) {
	srv := server(t, "s3cret")
	r := get(t, srv, "/?since=all")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?next=") {
		t.Fatalf("unauthenticated page: %d %q", r.status, r.header.Get("Location"))
	}
	post := func(form url.Values, hdr ...string) response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return do(t, req)
	}
	if r := post(url.Values{"token": {"wrong"}, "next": {"/kb"}}); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "not the one") {
		t.Errorf("wrong token: %d", r.status)
	}
	if r := post(url.Values{"token": {"s3cret"}}, "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", r.status)
	}
	r = post(url.Values{"token": {"s3cret"}, "next": {"https://evil.example/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("login: %d %q, want 303 to / (never off-site)", r.status, r.header.Get("Location"))
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{web.SessionCookie + "=", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "s3cret") {
		t.Error("the cookie holds the token itself")
	}
	r = get(t, srv, "/kb", "Cookie", strings.SplitN(cookie, ";", 2)[0])
	if r.status != 200 || !strings.Contains(r.body, "Sign out") {
		t.Errorf("signed in: %d", r.status)
	}
}

func TestStaticFiles(t *testing.T) {
	srv := server(t, "")
	r := get(t, srv, "/kb")
	m := regexp.MustCompile(`href="(/static/[0-9a-f]+/style\.css)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no stylesheet link")
	}
	css := get(t, srv, m[1])
	if css.status != 200 || !strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %q %q", css.status, css.header.Get("Cache-Control"), css.header.Get("Content-Type"))
	}
	if r := get(t, srv, "/static/000000000000/style.css"); r.status != 404 {
		t.Errorf("stale hash: %d, want 404", r.status)
	}
}

// TestSearchFilters checks that each filter reaches the store (the rows
// all match it) and stays in the page's links and its JSON API link.
func TestSearchFilters(t *testing.T) {
	f := loadFixture(t)
	srv := server(t, "")
	ctx := context.Background()
	facets, err := f.st.Facets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := func(vs []store.FacetValue) string {
		if len(vs) == 0 {
			t.Fatal("the fixture has no facet values")
		}
		return vs[0].Value
	}
	cases := []struct {
		param, value string
		query        store.CallQuery
	}{
		{"call-type", "P2P", store.CallQuery{CallType: "P2P"}},
		{"endpoint-type", first(facets.EndpointTypes), store.CallQuery{EndpointType: first(facets.EndpointTypes)}},
		{"sdk", first(facets.SDKs), store.CallQuery{SDK: first(facets.SDKs)}},
		{"os", first(facets.OSes), store.CallQuery{OS: first(facets.OSes)}},
		{"resource", first(facets.Resources), store.CallQuery{Resource: first(facets.Resources)}},
		{"issue", "call-setup-failed", store.CallQuery{IssueKinds: []string{"call-setup-failed"}}},
		{"severity", "critical", store.CallQuery{MinSeverity: model.SeverityCritical}},
		{"quality", "Poor", store.CallQuery{Quality: "Poor"}},
		{"rating", "Good", store.CallQuery{Rating: "Good"}},
		{"has-issues", "true", store.CallQuery{HasIssues: true}},
	}
	for _, tc := range cases {
		t.Run(tc.param, func(t *testing.T) {
			want, err := f.st.SearchCalls(ctx, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			r := get(t, srv, "/?since=all&"+url.Values{tc.param: {tc.value}}.Encode())
			if r.status != 200 {
				t.Fatalf("status %d: %.300s", r.status, r.body)
			}
			rows := strings.Count(r.body, `" class="id" title="`)
			if rows != len(want.Calls) {
				t.Errorf("%d rows, want the store's %d", rows, len(want.Calls))
			}
			for _, c := range want.Calls {
				mustContain(t, tc.param, r.body, `href="/calls/`+c.ID+`"`)
			}
			enc := url.Values{tc.param: {tc.value}}.Encode()
			api := regexp.MustCompile(`class="api" href="([^"]*)"`).FindStringSubmatch(r.body)
			if api == nil || !strings.Contains(strings.ReplaceAll(api[1], "&amp;", "&"), enc) {
				t.Errorf("JSON link %v lacks %s", api, enc)
			}
			if !strings.Contains(r.body, `value="`+tc.value+`" selected`) && tc.param != "has-issues" {
				t.Errorf("the %s drop-down does not show %q as chosen", tc.param, tc.value)
			}
		})
	}
}

// TestTimelineFilterParams checks the timeline's own filters: event kinds
// (as the form's checkboxes send them), text, issue category and severity.
func TestTimelineFilterParams(t *testing.T) {
	f := loadFixture(t)
	srv := server(t, "")
	base := "/calls/" + f.faulty + "/timeline"
	count := func(body, kind string) int {
		return strings.Count(body, "<td>"+kind+"</td>")
	}
	all := get(t, srv, base)
	if all.status != 200 || count(all.body, "operation") == 0 || count(all.body, "join") == 0 {
		t.Fatalf("unfiltered timeline: status %d, %d operations, %d joins", all.status, count(all.body, "operation"), count(all.body, "join"))
	}
	// The form's checkboxes: only joins ticked.
	joins := get(t, srv, base+"?kf=1&k=join")
	if count(joins.body, "operation") != 0 || count(joins.body, "join") != count(all.body, "join") {
		t.Errorf("kind filter: %d operations, %d joins", count(joins.body, "operation"), count(joins.body, "join"))
	}
	if !strings.Contains(joins.body, `value="join" checked`) || strings.Contains(joins.body, `value="operation" checked`) {
		t.Error("the checkboxes do not show the kinds chosen")
	}
	// Text matches names, results and details.
	text := get(t, srv, base+"?text=Hangup")
	if n := strings.Count(text.body, "<td>Hangup</td>"); n == 0 || count(text.body, "join") != 0 {
		t.Errorf("text filter: %d hang-ups, %d joins", n, count(text.body, "join"))
	}
	// Issue filters drop the issue bars of other categories and severities.
	bars := func(body string) int { return strings.Count(body, "bar-issue sev-") }
	if bars(all.body) == 0 {
		t.Fatal("no issue bars on the faulty call")
	}
	if n := bars(get(t, srv, base+"?category=feedback&severity=critical").body); n >= bars(all.body) {
		t.Errorf("category and severity filters kept %d of %d issue bars", n, bars(all.body))
	}
	if r := get(t, srv, base+"?severity=extreme"); r.status != 400 {
		t.Errorf("unknown severity: status %d, want 400", r.status)
	}
}
