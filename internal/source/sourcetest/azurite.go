// Package sourcetest starts the outside services the source tests follow:
// Azurite, Microsoft's Azure Storage emulator.
package sourcetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Azurite's well-known development account.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// StartAzurite starts Azurite's blob service on a free loopback port with
// a temporary folder, stops it when the test ends, and returns a
// connection string to it. Without azurite-blob the test is skipped, or
// fails when CALLDIAG_REQUIRE_AZURITE=1.
func StartAzurite(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("azurite-blob")
	if err != nil {
		msg := "azurite-blob not found: install it with `npm install -g azurite` to run the Storage blob tests"
		if os.Getenv("CALLDIAG_REQUIRE_AZURITE") == "1" {
			t.Fatal(msg + " (CALLDIAG_REQUIRE_AZURITE=1)")
		}
		t.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port), "--location", t.TempDir(),
		"--skipApiVersionCheck", "--silent", "--disableTelemetry")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start azurite-blob: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	cs := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%d/%s;",
		AzuriteAccount, AzuriteKey, port, AzuriteAccount)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return cs
		}
		select {
		case <-exited:
			t.Fatalf("azurite-blob exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("azurite-blob did not listen on port %d within a minute: %s", port, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
