package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"calldiag/internal/source"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

func TestParseSource(t *testing.T) {
	abs, _ := filepath.Abs("logs")
	for _, tc := range []struct {
		in, wantErr string
		want        sourceSpec
	}{
		{in: "dir:///var/log/acs", want: sourceSpec{raw: "dir:///var/log/acs", kind: "dir", path: "/var/log/acs"}},
		{in: "dir://logs?poll=250ms&settle=1m", want: sourceSpec{raw: "dir://" + abs, kind: "dir", path: abs, poll: 250 * time.Millisecond, settle: time.Minute}},
		{in: "dir://", wantErr: "no folder"},
		{in: "dir:///x?poll=soon", wantErr: "poll=soon is not a positive duration"},
		{in: "dir:///x?every=1s", wantErr: "unknown parameter every"},
		{in: "/var/log/acs", wantErr: "want a URL"},
		{in: "ftp://host/logs", wantErr: `unknown kind "ftp"`},
	} {
		got, err := parseSource(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSource(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got.raw != tc.want.raw || got.kind != tc.want.kind || got.path != tc.want.path ||
			got.poll != tc.want.poll || got.settle != tc.want.settle || got.build == nil:
			t.Errorf("parseSource(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestIngestFollow follows a folder, sees a blob grow, stops on interrupt
// and prints what it did; a second run goes on from the checkpoints.
func TestIngestFollow(t *testing.T) {
	db, dir := t.TempDir(), t.TempDir()
	blob := filepath.Join(dir, "insights-logs-callclientoperations", "PT1H.json")
	os.MkdirAll(filepath.Dir(blob), 0o755)
	line := func(i int) string {
		return `{"time":"2026-03-02T10:00:00Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/a","category":"CallClientOperations","properties":{"CallClientTimeStamp":"2026-03-02T10:00:0` +
			string(rune('0'+i)) + `Z","OperationName":"Join","CallId":"call-follow","OperationId":"op-` + string(rune('0'+i)) + `","ResultType":"Succeeded"}}` + "\n"
	}
	if err := os.WriteFile(blob, []byte(line(0)+line(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	followFor := func(until func() bool) (string, string) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb bytes.Buffer
		done := make(chan error)
		go func() {
			done <- Run(ctx, []string{"ingest", "--db", db, "--follow", "--poll", "20ms", "--json", dir},
				IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Env: func(string) string { return "" }})
		}()
		deadline := time.Now().Add(20 * time.Second)
		for !until() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("ingest --follow: %v\n%s", err, errb.String())
		}
		return out.String(), errb.String()
	}
	stored := func(n int) func() bool {
		return func() bool {
			st, err := sqlite.Open(context.Background(), db, nil)
			if err != nil {
				return false
			}
			defer st.Close()
			c, err := st.Call(context.Background(), "call-follow")
			return err == nil && c.RecordCounts["CallClientOperations"] >= n
		}
	}
	grown := false
	out, _ := followFor(func() bool {
		if !grown && stored(2)() {
			f, _ := os.OpenFile(blob, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(line(2))
			f.Close()
			grown = true
		}
		if grown && stored(3)() {
			// Let detection and the checkpoint follow the commit.
			time.Sleep(300 * time.Millisecond)
			return true
		}
		return false
	})
	var snaps []source.Snapshot
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 1 {
		t.Fatalf("ingest --follow --json printed %q (%v)", out, err)
	}
	if s := snaps[0]; s.Name != "dir://"+dir || s.Stored != 3 || s.State != "stopped" || s.Streams != 1 {
		t.Errorf("status %+v; want 3 records stored from 1 file, stopped", s)
	}
	// calldiag sources reads the progress from the store.
	out = mustRun(t, "sources", "--db", db, "--json")
	var prog []store.SourceProgress
	if err := json.Unmarshal([]byte(out), &prog); err != nil || len(prog) != 1 {
		t.Fatalf("sources --json printed %q (%v)", out, err)
	}
	fi, _ := os.Stat(blob)
	if p := prog[0]; p.Source != "dir://"+dir || p.Streams != 1 || p.Lines != 3 || p.Bytes != fi.Size() {
		t.Errorf("sources: %+v; want 1 stream read to its end, 3 lines", p)
	}
	if out := mustRun(t, "sources", "--db", db); !strings.Contains(out, "dir://"+dir) || !strings.Contains(out, "STREAMS") {
		t.Errorf("sources printed %q", out)
	}
	// Once more, for a few passes: nothing is read again.
	start := time.Now()
	out, _ = followFor(func() bool { return time.Since(start) > 300*time.Millisecond })
	snaps = nil
	if err := json.Unmarshal([]byte(out), &snaps); err != nil || len(snaps) != 1 || snaps[0].Records != 0 {
		t.Errorf("second follow read %+v (%v); want nothing", snaps, err)
	}
}

func TestIngestFollowErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(file, []byte("{}\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--follow", "-"}, "not standard input"},
		{[]string{"ingest", "--follow", file}, "not a folder"},
		{[]string{"ingest", "--follow", "--poll", "0s", t.TempDir()}, "must be positive"},
	} {
		_, errs, code := run(t, nil, append(tc.args[:1:1], append([]string{"--db", t.TempDir()}, tc.args[1:]...)...)...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("calldiag %v: exit %d, %q; want a usage error with %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestServeFollowsSource runs the server with a folder source from
// CALLDIAG_SOURCE: a blob dropped into the folder becomes a searchable
// call, and /metrics reports the source.
func TestServeFollowsSource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	db, dir := t.TempDir(), t.TempDir()
	cmd := calldiagProcess(t, "serve", "--db", db, "--addr", "127.0.0.1:0")
	// Two sources from the environment, separated by a comma.
	cmd.Env = append(cmd.Env, "CALLDIAG_SOURCE=dir://"+dir+"?poll=50ms,dir://"+t.TempDir())
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server printed no address: %v; stderr %s", err, stderr.String())
	}
	base := strings.Fields(line[strings.Index(line, "http://"):])[0]
	blob := filepath.Join(dir, "insights-logs-callclientoperations", "h=10", "PT1H.json")
	os.MkdirAll(filepath.Dir(blob), 0o755)
	if err := os.WriteFile(blob, opsBody("call-from-folder", 5), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	found := false
	for !found && time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/calls?q=call-from-folder")
		if err == nil {
			var page struct {
				Calls []struct{ ID string } `json:"calls"`
			}
			json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			found = len(page.Calls) == 1 && page.Calls[0].ID == "call-from-folder"
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !found {
		t.Fatalf("the call of the blob never became searchable; stderr %s", stderr.String())
	}
	resp, err := http.Get(base + "/api/v1/sources")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Sources []source.Snapshot `json:"sources"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Sources) != 2 || list.Sources[0].Name != "dir://"+dir {
		t.Errorf("GET /api/v1/sources = %+v; want both sources of CALLDIAG_SOURCE", list.Sources)
	}
	// calldiag sources --server asks the running server.
	out, errs, code := run(t, nil, "sources", "--server", base, "--json")
	var live []source.Snapshot
	if code != 0 || json.Unmarshal([]byte(out), &live) != nil || len(live) != 2 || live[0].Stored != 5 {
		t.Errorf("sources --server: exit %d, %q %s; want both sources, 5 records stored by the first", code, out, errs)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`calldiag_source_up{kind="dir",source="dir://` + dir + `"} 1`,
		`calldiag_source_stored_total{kind="dir",source="dir://` + dir + `"} 5`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestSourcesErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sources", "--server", "127.0.0.1:8080"}, 2, "want a URL"},
		{[]string{"sources", "--server", "http://127.0.0.1:1"}, 1, "ask http://127.0.0.1:1/api/v1/sources"},
		{[]string{"sources", "extra"}, 2, "no arguments"},
	} {
		_, errs, code := run(t, nil, append(tc.args, "--db", t.TempDir())...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("calldiag %v: exit %d, %q; want exit %d with %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
	out := mustRun(t, "sources", "--db", t.TempDir())
	if !strings.Contains(out, "no source has read anything") {
		t.Errorf("sources on an empty store printed %q", out)
	}
}
