package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// buildCalldiag builds the calldiag binary into a temporary folder.
func buildCalldiag(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not available to build calldiag: %v", err)
	}
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not inside the calldiag module")
	}
	bin := filepath.Join(t.TempDir(), "calldiag")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/calldiag")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// calldiagCmd is a command running the built binary with no store settings
// from the environment.
func calldiagCmd(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CALLDIAG_DB=", "CALLDIAG_STORE=", "CALLDIAG_LOG_LEVEL=")
	return cmd
}

// runCalldiag runs the binary to completion and returns its standard output.
func runCalldiag(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := calldiagCmd(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("calldiag %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestMCPCommand drives "calldiag mcp" as an MCP client would: the real
// binary as a subprocess, the SDK's client on its standard input and
// output.
func TestMCPCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds calldiag and runs it as a process")
	}
	bin := buildCalldiag(t)
	t.Run("session", func(t *testing.T) { mcpSession(t, bin) })
	t.Run("signal", func(t *testing.T) { mcpSignal(t, bin) })
}

// mcpSession ingests simulated calls with the binary, then lists the
// tools, calls get_call_issues and search_kb, reads a resource and closes.
func mcpSession(t *testing.T, bin string) {
	dir := t.TempDir()
	db, sim := filepath.Join(dir, "db"), filepath.Join(dir, "sim")
	runCalldiag(t, bin, "simulate", "--calls", "4", "--seed", "4", "--start", "2026-05-04T00:00:00Z", "--out", sim)
	runCalldiag(t, bin, "ingest", "--db", db, filepath.Join(sim, "logs"))
	var page struct {
		Calls []struct {
			ID string `json:"id"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(runCalldiag(t, bin, "calls", "--db", db, "--json", "--has-issues", "true", "--limit", "1"), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Calls) == 0 {
		t.Fatal("no simulated call has issues")
	}
	callID := page.Calls[0].ID
	wantIssues := runCalldiag(t, bin, "issues", "--db", db, "--json", callID)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server := calldiagCmd(bin, "mcp", "--db", db)
	var stderr bytes.Buffer
	server.Stderr = &stderr
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "calldiag-test", Version: "1"}, nil).
		Connect(ctx, &sdk.CommandTransport{Command: server}, nil)
	if err != nil {
		t.Fatalf("connect to calldiag mcp: %v\nstderr: %s", err, stderr.String())
	}
	closed := false
	defer func() {
		if !closed {
			cs.Close()
		}
	}()
	if info := cs.InitializeResult().ServerInfo; info.Name != "calldiag" {
		t.Errorf("server name %q, want calldiag", info.Name)
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"get_call", "get_call_issues", "get_timeline", "lookup_code", "search_calls", "search_kb"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}

	// get_call_issues answers what "calldiag issues --json" prints.
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "get_call_issues", Arguments: map[string]any{"callId": callID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := toolText(t, res); res.IsError {
		t.Fatalf("get_call_issues: tool error %s", got)
	} else {
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("get_call_issues: %v\n%s", err, got)
		}
		if err := json.Unmarshal(wantIssues, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("get_call_issues differs from calldiag issues --json:\n got %s\nwant %s", got, wantIssues)
		}
	}

	res, err = cs.CallTool(ctx, &sdk.CallToolParams{Name: "search_kb", Arguments: map[string]any{"query": "microphone permission", "limit": 5}})
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		ID, Title, URL string
	}
	if err := json.Unmarshal([]byte(toolText(t, res)), &entries); err != nil || res.IsError {
		t.Fatalf("search_kb: %v %s", err, toolText(t, res))
	}
	if len(entries) == 0 || len(entries) > 5 {
		t.Fatalf("search_kb answered %d entries, want 1 to 5", len(entries))
	}
	for _, e := range entries {
		if e.Title == "" || e.URL != "/kb/"+e.ID {
			t.Errorf("search_kb entry %+v lacks a title or its /kb/{id} url", e)
		}
	}

	rr, err := cs.ReadResource(ctx, &sdk.ReadResourceParams{URI: "calldiag://kb/" + entries[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || !strings.HasPrefix(rr.Contents[0].Text, "# "+entries[0].Title) {
		t.Errorf("resource %s: %+v, want markdown headed by its title", entries[0].ID, rr.Contents)
	}

	// Closing the client closes the server's standard input; the server
	// must then exit on its own, successfully.
	closed = true
	if err := cs.Close(); err != nil {
		t.Errorf("close: %v\nstderr: %s", err, stderr.String())
	}
	if server.ProcessState == nil || !server.ProcessState.Success() {
		t.Errorf("calldiag mcp did not exit cleanly: %v\nstderr: %s", server.ProcessState, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("calldiag mcp wrote to stderr at the default log level:\n%s", stderr.String())
	}
}

// mcpSignal checks that an interrupted server exits at once and
// successfully, although its standard input is still open.
func mcpSignal(t *testing.T, bin string) {
	server := calldiagCmd(bin, "mcp", "--db", t.TempDir())
	stdin, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	// The session is initialized once Connect returns, so the server is
	// serving (and handling signals) when the signal comes.
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "calldiag-test", Version: "1"}, nil).
		Connect(context.Background(), &sdk.IOTransport{Reader: stdout, Writer: stdin}, nil)
	if err != nil {
		server.Process.Kill()
		server.Wait()
		t.Fatalf("connect: %v\nstderr: %s", err, stderr.String())
	}
	defer cs.Close()
	go func() { done <- server.Wait() }()
	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("calldiag mcp exited with %v after SIGTERM\nstderr: %s", err, stderr.String())
		} else if stderr.Len() > 0 {
			t.Errorf("calldiag mcp reported a signal, a normal way to stop it, on stderr:\n%s", stderr.String())
		}
	case <-time.After(10 * time.Second):
		server.Process.Kill()
		<-done
		t.Fatalf("calldiag mcp still running 10s after SIGTERM\nstderr: %s", stderr.String())
	}
}

// toolText is the text of a tool result's first content.
func toolText(t *testing.T, res *sdk.CallToolResult) string {
	t.Helper()
	if len(res.Content) == 0 {
		t.Fatal("tool result has no content")
	}
	tc, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("tool result content is %T, want text", res.Content[0])
	}
	return tc.Text
}
