package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
)

// TestMain lets the test binary act as the calldiag binary, so the tests
// below can signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("CALLDIAG_TEST_EXEC") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := Run(ctx, os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Getenv})
		stop()
		os.Exit(ExitCode(err))
	}
	os.Exit(m.Run())
}

func calldiagProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CALLDIAG_TEST_EXEC=1", "CALLDIAG_TOKEN=", "CALLDIAG_DB=")
	return cmd
}

// opsBody is an upload of n client operations of one call.
func opsBody(callID string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"time":"2026-03-02T10:00:%02d.000Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/acs","category":"CallClientOperations","properties":{"CallClientTimeStamp":"2026-03-02T10:00:%02d.%03dZ","OperationName":"StartVideo","CallId":"%s","ParticipantId":"p-%s","OperationType":"client-api-request","OperationId":"op-%s-%d","DurationMs":"120","ResultType":"Succeeded","ResultSignature":"200","ClientInstanceId":"ci-%s"}}`+"\n",
			i%60, i%60, i, callID, callID, callID, i, callID)
	}
	return b.Bytes()
}

func TestSIGTERMLosesNoAcknowledgedUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	db := t.TempDir()
	cmd := calldiagProcess(t, "serve", "--db", db, "--addr", "127.0.0.1:0", "--ingest-queue", "16")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server printed no address: %v; stderr %s", err, stderr.String())
	}
	base := strings.Fields(line[strings.Index(line, "http://"):])[0]

	const perUpload = 40
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second}
	termSent := make(chan struct{})
	var once sync.Once
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				callID := fmt.Sprintf("term-%d-%d", w, i)
				resp, err := client.Post(base+"/api/v1/ingest", "application/x-ndjson", bytes.NewReader(opsBody(callID, perUpload)))
				if err != nil {
					return // the server has stopped listening
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, callID)
					n := len(acked)
					mu.Unlock()
					if n == 30 {
						once.Do(func() {
							cmd.Process.Signal(syscall.SIGTERM)
							close(termSent)
						})
					}
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-termSent:
	default:
		cmd.Process.Signal(syscall.SIGTERM)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
	}

	st, err := sqlite.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if len(acked) < 30 {
		t.Fatalf("only %d uploads acknowledged", len(acked))
	}
	for _, id := range acked {
		c, err := st.Call(context.Background(), id)
		if err != nil {
			t.Errorf("acknowledged call %s: %v", id, err)
			continue
		}
		if n := c.RecordCounts["CallClientOperations"]; n != perUpload {
			t.Errorf("acknowledged call %s has %d records, want %d", id, n, perUpload)
		}
	}
}

func TestSIGKILLDuringIngestLeavesAConsistentStore(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and ingests a corpus several times")
	}
	corpus := t.TempDir()
	if _, err := simulate.Write(context.Background(), simulate.Config{Calls: 25, Seed: 7, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, corpus); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(corpus, "logs")

	clean := t.TempDir()
	cleanRes, code := ingestJSON(t, clean, logs)
	if code != 0 {
		t.Fatalf("clean ingest exit %d: %v", code, cleanRes.Errors)
	}

	killed := t.TempDir()
	cmd := calldiagProcess(t, "ingest", "--db", killed, "--log-level", "info", logs)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	files := 0
	for sc.Scan() {
		if strings.Contains(sc.Text(), "msg=\"read source\"") {
			files++
			if files == 3 { // some batches are committed, most are not
				break
			}
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if files < 3 {
		t.Fatalf("the ingest ended before it could be killed (saw %d files)", files)
	}

	rerun, code := ingestJSON(t, killed, logs)
	if code != 0 {
		t.Fatalf("re-run after SIGKILL: exit %d: %v", code, rerun.Errors)
	}
	if rerun.Read != cleanRes.Read || rerun.Stored+rerun.Duplicates != cleanRes.Stored+cleanRes.Duplicates || rerun.Stored == 0 {
		t.Errorf("re-run counts %+v do not add up to the clean run %+v", rerun, cleanRes)
	}
	want := mustRun(t, "calls", "--db", clean, "--json", "--limit", "1000")
	got := mustRun(t, "calls", "--db", killed, "--json", "--limit", "1000")
	if got != want {
		t.Errorf("calls after kill and re-run differ from a clean run")
	}
	for _, id := range cleanRes.Calls[:5] {
		if a, b := mustRun(t, "call", "--db", clean, "--json", id), mustRun(t, "call", "--db", killed, "--json", id); a != b {
			t.Errorf("call %s differs after kill and re-run", id)
		}
	}
}
