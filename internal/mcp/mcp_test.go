package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"calldiag/internal/callview"
	"calldiag/internal/catalog"
	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

// fixture is a store of simulated calls shared by the tests (they only
// read it) and a call with issues in it.
type fixture struct {
	st     *sqlite.DB
	callID string
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

// fixDir holds the fixture's store; TestMain removes it.
var fixDir string

func tempDir() (string, error) {
	d, err := os.MkdirTemp("", "calldiag-mcp-test-")
	fixDir = d
	return d, err
}

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

func loadFixture(t *testing.T) fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = buildFixture() })
	if fixErr != nil {
		t.Fatalf("build fixture: %v", fixErr)
	}
	return fix
}

func buildFixture() (fixture, error) {
	ctx := context.Background()
	dir, err := tempDir()
	if err != nil {
		return fixture{}, err
	}
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		return fixture{}, err
	}
	var buf bytes.Buffer
	cfg := simulate.Config{Calls: 4, Seed: 4, Start: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}); err != nil {
		return fixture{}, err
	}
	if _, err := pipeline.New(st, pipeline.Options{Detector: st}).Ingest(ctx, &buf, "sim"); err != nil {
		return fixture{}, err
	}
	page, err := st.SearchCalls(ctx, store.CallQuery{HasIssues: true, Limit: 1})
	if err != nil {
		return fixture{}, err
	}
	if len(page.Calls) == 0 {
		return fixture{}, io.ErrUnexpectedEOF
	}
	return fixture{st: st, callID: page.Calls[0].ID}, nil
}

// connect serves cfg on an in-memory transport and returns a client
// session. Cleanup closes the client and checks that the server then
// ends without error.
func connect(t *testing.T, cfg Config) *sdk.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	serverT, clientT := sdk.NewInMemoryTransports()
	done := make(chan error, 1)
	go func() { done <- New(cfg).Run(ctx, serverT) }()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, clientT, nil)
	if err != nil {
		cancel()
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() {
		defer cancel()
		cs.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server ended with %v after the client closed", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("server still running 10s after the client closed")
		}
	})
	return cs
}

func callTool(t *testing.T, cs *sdk.ClientSession, name string, args any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: protocol error %v", name, args, err)
	}
	return res
}

// resultText is the text of a tool result's single text content.
func resultText(t *testing.T, res *sdk.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("result has %d contents, want 1", len(res.Content))
	}
	tc, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("result content is %T, want text", res.Content[0])
	}
	return tc.Text
}

// sameJSON compares two JSON documents by value.
func sameJSON(t *testing.T, what string, got []byte, want any) {
	t.Helper()
	wantB, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: result is not JSON: %v\n%s", what, err, got)
	}
	if err := json.Unmarshal(wantB, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, got, wantB)
	}
}

func TestListTools(t *testing.T) {
	cs := connect(t, Config{Store: loadFixture(t).st})
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	params := map[string][]string{}
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			t.Errorf("tool %s is not marked read-only", tool.Name)
		}
		var schema struct {
			Properties map[string]any `json:"properties"`
		}
		b, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(b, &schema); err != nil {
			t.Fatalf("%s: input schema: %v", tool.Name, err)
		}
		for p := range schema.Properties {
			params[tool.Name] = append(params[tool.Name], p)
		}
		slices.Sort(params[tool.Name])
	}
	slices.Sort(names)
	want := []string{"get_call", "get_call_issues", "get_timeline", "lookup_code", "search_calls", "search_kb"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	// The arguments carry the API's parameter names.
	wantParams := map[string][]string{
		"search_calls": {"call-type", "cursor", "endpoint-type", "has-issues", "issue", "limit", "order", "os", "q",
			"quality", "rating", "resource", "sdk", "severity", "since", "sort", "until"},
		"get_call":        {"callId"},
		"get_call_issues": {"callId"},
		"get_timeline":    {"callId", "cursor", "from", "kind", "limit", "participant", "to"},
		"lookup_code":     {"code", "subcode"},
		"search_kb":       {"limit", "query"},
	}
	for name, ps := range wantParams {
		if !slices.Equal(params[name], ps) {
			t.Errorf("%s arguments %v, want %v", name, params[name], ps)
		}
	}
}

func TestServerReportsNameAndVersion(t *testing.T) {
	cs := connect(t, Config{Store: loadFixture(t).st, Version: "v1.2.3"})
	info := cs.InitializeResult().ServerInfo
	if info.Name != "calldiag" || info.Version != "v1.2.3" {
		t.Errorf("server info %s %s, want calldiag v1.2.3", info.Name, info.Version)
	}
}

// TestToolsAnswerWithTheAPIViews checks that each call tool returns what
// the API returns for the same parameters: the callview results and the
// store's pages.
func TestToolsAnswerWithTheAPIViews(t *testing.T) {
	f := loadFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
	rules := detect.DefaultRules()
	cs := connect(t, Config{Store: f.st, Now: func() time.Time { return now }})

	overview, err := callview.Overview(ctx, f.st, f.callID, rules)
	if err != nil {
		t.Fatal(err)
	}
	issues, err := callview.Issues(ctx, f.st, f.callID, rules)
	if err != nil {
		t.Fatal(err)
	}
	if len(issues.Issues) == 0 {
		t.Fatalf("fixture call %s has no issues", f.callID)
	}
	params := func(m map[string]string) callview.Params { return func(n string) string { return m[n] } }
	tq, err := callview.ParseTimelineQuery(f.callID, params(map[string]string{"kind": "operation,ufd", "limit": "7"}), now)
	if err != nil {
		t.Fatal(err)
	}
	timeline, err := f.st.Timeline(ctx, tq)
	if err != nil {
		t.Fatal(err)
	}
	cq, err := callview.ParseCallQuery(params(map[string]string{"has-issues": "true", "since": "3d", "limit": "2", "sort": "duration"}), now)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := f.st.SearchCalls(ctx, cq)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls.Calls) == 0 {
		t.Fatal("the search finds no calls: the comparison would prove nothing")
	}

	tests := []struct {
		tool string
		args map[string]any
		want any
	}{
		{"get_call", map[string]any{"callId": f.callID}, overview},
		{"get_call_issues", map[string]any{"callId": f.callID}, issues},
		{"get_timeline", map[string]any{"callId": f.callID, "kind": "operation,ufd", "limit": 7}, timeline},
		{"search_calls", map[string]any{"has-issues": true, "since": "3d", "limit": 2, "sort": "duration"}, calls},
	}
	for _, tc := range tests {
		t.Run(tc.tool, func(t *testing.T) {
			res := callTool(t, cs, tc.tool, tc.args)
			if res.IsError {
				t.Fatalf("tool error: %s", resultText(t, res))
			}
			sameJSON(t, "text content", []byte(resultText(t, res)), tc.want)
			structured, err := json.Marshal(res.StructuredContent)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "structured content", structured, tc.want)
		})
	}
}

func TestBadArgumentsAreToolErrors(t *testing.T) {
	f := loadFixture(t)
	cs := connect(t, Config{Store: f.st})
	tests := []struct {
		name string
		tool string
		args map[string]any
		want string // substring of the error text
	}{
		{"limit out of range", "search_calls", map[string]any{"limit": 0}, "invalid limit"},
		{"unknown severity", "search_calls", map[string]any{"severity": "dire"}, "invalid severity"},
		{"unknown issue kind", "search_calls", map[string]any{"issue": "poor-stream,gremlins"}, `"gremlins" is not an issue kind`},
		{"bad time", "search_calls", map[string]any{"since": "last tuesday"}, "invalid since"},
		{"wrong type", "search_calls", map[string]any{"has-issues": "yes"}, "has-issues"},
		{"unknown argument", "search_calls", map[string]any{"colour": "red"}, "colour"},
		{"unknown call", "get_call", map[string]any{"callId": "no-such-call"}, "call no-such-call not found"},
		{"no call id", "get_call_issues", map[string]any{}, "callId"},
		{"blank call id", "get_call_issues", map[string]any{"callId": " "}, "callId is required"},
		{"unknown call's issues", "get_call_issues", map[string]any{"callId": "no-such-call"}, "call no-such-call not found"},
		{"timeline kind", "get_timeline", map[string]any{"callId": f.callID, "kind": "gossip"}, "invalid kind"},
		{"timeline cursor", "get_timeline", map[string]any{"callId": f.callID, "cursor": "not-a-cursor"}, "invalid cursor"},
		{"unknown call's timeline", "get_timeline", map[string]any{"callId": "no-such-call"}, "call no-such-call not found"},
		{"no code", "lookup_code", map[string]any{}, "give a code, a subcode or both"},
		{"negative code", "lookup_code", map[string]any{"code": -4}, "invalid code"},
		{"empty query", "search_kb", map[string]any{"query": "  "}, "query is required"},
		{"kb limit", "search_kb", map[string]any{"query": "echo", "limit": 500}, "invalid limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := callTool(t, cs, tc.tool, tc.args)
			if !res.IsError {
				t.Fatalf("%s %v: no tool error; result %s", tc.tool, tc.args, resultText(t, res))
			}
			if got := resultText(t, res); !strings.Contains(got, tc.want) {
				t.Errorf("%s %v: error %q does not contain %q", tc.tool, tc.args, got, tc.want)
			}
		})
	}
}

// kbIDs calls a knowledge-base tool and returns the ids it answered,
// checking the shape of every entry.
func kbIDs(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) []string {
	t.Helper()
	res := callTool(t, cs, tool, args)
	if res.IsError {
		t.Fatalf("%s %v: tool error %s", tool, args, resultText(t, res))
	}
	if res.StructuredContent != nil {
		t.Errorf("%s %v: a list in structured content, which older clients reject", tool, args)
	}
	var entries []kbEntry
	if err := json.Unmarshal([]byte(resultText(t, res)), &entries); err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	ids := []string{}
	for _, e := range entries {
		want, ok := catalog.LookupKB(e.ID)
		if !ok {
			t.Errorf("%s answered unknown entry %s", tool, e.ID)
			continue
		}
		if e.Title != want.Title || e.Text != want.Text || e.Source != want.Source || e.URL != "/kb/"+e.ID || e.Related == nil {
			t.Errorf("%s entry %s = %+v, want the catalog's entry with url /kb/%s", tool, e.ID, e, e.ID)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

func TestLookupCode(t *testing.T) {
	cs := connect(t, Config{Store: loadFixture(t).st})
	tests := []struct {
		name string
		args map[string]any
		want []string
	}{
		{"pair then code", map[string]any{"code": 410, "subcode": 3112}, []string{"code-410-3112", "code-410"}},
		{"code alone", map[string]any{"code": 487}, []string{"code-487"}},
		{"subcode under several codes", map[string]any{"subcode": 8522}, []string{"code-404-8522", "code-405-8522"}},
		{"unknown pair falls back to the code", map[string]any{"code": 410, "subcode": 999999}, []string{"code-410"}},
		{"unknown code", map[string]any{"code": 999}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kbIDs(t, cs, "lookup_code", tc.args); !slices.Equal(got, tc.want) {
				t.Errorf("lookup_code %v = %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}

func TestSearchKB(t *testing.T) {
	st := loadFixture(t).st
	t.Run("matches every word without a ranker", func(t *testing.T) {
		cs := connect(t, Config{Store: st})
		ids := kbIDs(t, cs, "search_kb", map[string]any{"query": "Microphone PERMISSION?"})
		if len(ids) == 0 {
			t.Fatal("no entries for microphone permission")
		}
		if !strings.Contains(ids[0], "microphone-permission") {
			t.Errorf("first entry %s, want one about microphone permission (all: %v)", ids[0], ids)
		}
		for _, id := range ids {
			e, _ := catalog.LookupKB(id)
			all := strings.ToLower(e.ID + e.Title + e.Text)
			if !strings.Contains(all, "microphone") || !strings.Contains(all, "permission") {
				t.Errorf("%s does not mention both words", id)
			}
		}
		if got := kbIDs(t, cs, "search_kb", map[string]any{"query": "microphone", "limit": 2}); len(got) != 2 {
			t.Errorf("limit 2 answered %d entries", len(got))
		}
		if got := kbIDs(t, cs, "search_kb", map[string]any{"query": "zebra xylophone"}); len(got) != 0 {
			t.Errorf("nonsense query answered %v", got)
		}
	})
	t.Run("uses the configured ranker", func(t *testing.T) {
		var gotQuery string
		var gotLimit int
		ranker := func(q string, limit int) []catalog.Entry {
			gotQuery, gotLimit = q, limit
			a, _ := catalog.LookupKB("code-410-3112")
			b, _ := catalog.LookupKB("guide-call-dropped")
			return []catalog.Entry{a, b}
		}
		cs := connect(t, Config{Store: st, SearchKB: ranker})
		ids := kbIDs(t, cs, "search_kb", map[string]any{"query": " why did my call drop ", "limit": 3})
		if gotQuery != "why did my call drop" || gotLimit != 3 {
			t.Errorf("ranker got (%q, %d), want the trimmed query and limit 3", gotQuery, gotLimit)
		}
		if !slices.Equal(ids, []string{"code-410-3112", "guide-call-dropped"}) {
			t.Errorf("ids %v, want the ranker's order", ids)
		}
	})
}

func TestKBResources(t *testing.T) {
	ctx := context.Background()
	cs := connect(t, Config{Store: loadFixture(t).st})
	var uris []string
	for r, err := range cs.Resources(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if r.MIMEType != "text/markdown" {
			t.Errorf("%s has MIME type %q", r.URI, r.MIMEType)
		}
		uris = append(uris, r.URI)
	}
	kb := catalog.KB()
	if len(uris) != len(kb) {
		t.Errorf("%d resources, want one per knowledge-base entry (%d)", len(uris), len(kb))
	}
	if !slices.Contains(uris, "calldiag://kb/kind-poor-stream") {
		t.Errorf("resources lack calldiag://kb/kind-poor-stream")
	}
	var templates []string
	for rt, err := range cs.ResourceTemplates(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, rt.URITemplate)
	}
	if !slices.Equal(templates, []string{"calldiag://kb/{id}"}) {
		t.Errorf("templates %v, want calldiag://kb/{id}", templates)
	}

	e, _ := catalog.LookupKB("code-410-3112")
	res, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "calldiag://kb/code-410-3112"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 1 {
		t.Fatalf("%d contents, want 1", len(res.Contents))
	}
	md := res.Contents[0].Text
	for _, want := range []string{"# " + e.Title, e.Text, "Source: " + e.Source} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	for _, rel := range e.Related {
		if !strings.Contains(md, "(calldiag://kb/"+rel+")") {
			t.Errorf("markdown does not link related entry %s:\n%s", rel, md)
		}
	}
	if _, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "calldiag://kb/no-such-entry"}); err == nil {
		t.Error("reading an unknown entry succeeded")
	}
}

// TestServeStdioEndsWhenInputCloses runs a session over pipes, as the
// mcp command does over its standard streams.
func TestServeStdioEndsWhenInputCloses(t *testing.T) {
	ctx := context.Background()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- New(Config{Store: loadFixture(t).st}).ServeStdio(ctx, inR, outW)
		outW.Close()
	}()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil).
		Connect(ctx, &sdk.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ids := kbIDs(t, cs, "lookup_code", map[string]any{"code": 487}); !slices.Equal(ids, []string{"code-487"}) {
		t.Errorf("lookup_code 487 = %v", ids)
	}
	cs.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio = %v after input closed, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeStdio still running 10s after its input closed")
	}
}
