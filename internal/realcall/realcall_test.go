package realcall

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"calldiag/internal/browsertest"
)

const (
	// saveEnv names a directory to save the collector batches to.
	saveEnv = "CALLDIAG_SAVE_REALCALL"
	// scenarioEnv is set in the child process: the scenario it runs.
	scenarioEnv = "CALLDIAG_REALCALL_SCENARIO"
	// childLimit bounds one scenario's child process.
	childLimit = 120 * time.Second
)

// scenario is one call and what calldiag must make of it.
type scenario struct {
	name string
	// relay is what the relay does to alice → bob.
	relay impairment
	// nftLoss is the percentage of alice → bob datagrams an nftables rule
	// drops before they reach the relay.
	nftLoss int
}

func (s scenario) impaired() bool { return s.relay != impairment{} || s.nftLoss > 0 }

var scenarios = []scenario{
	{name: "clean"},
	{name: "relay", relay: impairment{Delay: 150 * time.Millisecond, Jitter: 60 * time.Millisecond, Loss: 0.08}},
	{name: "nftables", nftLoss: 15},
}

// TestRealCall runs a two-party WebRTC call between two headless Chromium
// pages carrying the collector, in a network namespace of its own, once
// per scenario, and checks the call calldiag made of what the collectors
// sent: clean, it is Good with media both ways and no network issue;
// impaired on alice → bob, the issues point at that direction and only
// that one.
func TestRealCall(t *testing.T) {
	if name := os.Getenv(scenarioEnv); name != "" {
		for _, sc := range scenarios {
			if sc.name == name {
				runScenario(t, sc)
				return
			}
		}
		t.Fatalf("%s=%q names no scenario", scenarioEnv, name)
	}
	if testing.Short() {
		t.Skip("runs three 30-second browser calls")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (for a network namespace and nftables)")
	}
	if _, err := browsertest.Lookup(); err != nil {
		missing = append(missing, err.Error())
	}
	if _, err := nftPath(); err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) > 0 {
		browsertest.SkipOrFail(t, "the real-call test needs %s", strings.Join(missing, ", "))
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runChild(t, sc) })
	}
}

// runChild runs scenario sc in this test binary again, in a new network
// namespace, and passes on its output; the child's failure is the
// scenario's.
func runChild(t *testing.T, sc scenario) {
	ctx, cancel := context.WithTimeout(context.Background(), childLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRealCall$", "-test.v", "-test.count=1",
		"-test.timeout="+(childLimit-5*time.Second).String())
	cmd.Env = append(os.Environ(), scenarioEnv+"="+sc.name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
			browsertest.SkipOrFail(t, "no network namespace could be made (%v): the test needs CAP_SYS_ADMIN", err)
		}
		t.Fatalf("starting the scenario in a network namespace: %v", err)
	}
	lines := bufio.NewScanner(out)
	lines.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines.Scan() {
		line := lines.Text()
		// The child's own framing (=== RUN, --- PASS, PASS) says
		// nothing the parent does not.
		if strings.HasPrefix(line, "=== ") || strings.HasPrefix(line, "--- ") || line == "PASS" || line == "FAIL" {
			continue
		}
		t.Log(strings.TrimPrefix(line, "    "))
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			t.Fatalf("the %s scenario ran past %s", sc.name, childLimit)
		}
		t.Fatalf("the %s scenario failed: %v", sc.name, err)
	}
}
