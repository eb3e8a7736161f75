package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"calldiag/internal/detect"
)

func TestWatchRulesFollowsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rules")
	os.WriteFile(path, []byte("stream.jitter.avg_ms = 40\n"), 0o644)
	first, err := loadRules(path)
	if err != nil {
		t.Fatal(err)
	}
	set := detect.NewRuleSet(first)
	changed := make(chan detect.Rules, 4)
	failed := make(chan error, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		watchRules(ctx, path, set, 5*time.Millisecond, func(r detect.Rules) { changed <- r }, func(err error) { failed <- err })
		close(done)
	}()
	defer func() { cancel(); <-done }()

	wait := func() (detect.Rules, error) {
		t.Helper()
		select {
		case r := <-changed:
			return r, nil
		case err := <-failed:
			return detect.Rules{}, err
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher did not notice the change")
			return detect.Rules{}, nil
		}
	}

	os.WriteFile(path, []byte("stream.jitter.avg_ms = 55.5\n"), 0o644)
	r, err := wait()
	if err != nil || !strings.Contains(r.Format(), "stream.jitter.avg_ms = 55.5") || !strings.Contains(set.Load().Format(), "= 55.5") {
		t.Fatalf("after a good change: err %v, rules in force:\n%s", err, set.Load().Format())
	}

	os.WriteFile(path, []byte("stream.jitter.avg_ms = lots and lots\n"), 0o644)
	if _, err := wait(); err == nil || !strings.Contains(err.Error(), path+":1") {
		t.Fatalf("a bad file must be reported with its line, got %v", err)
	}
	if !strings.Contains(set.Load().Format(), "= 55.5") {
		t.Error("a bad file replaced the rules in force")
	}
}
