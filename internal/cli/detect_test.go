package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"calldiag/internal/store"
)

func searchJSON(t *testing.T, args ...string) store.CallPage {
	t.Helper()
	var page store.CallPage
	if err := json.Unmarshal([]byte(mustRun(t, append([]string{"calls", "--json"}, args...)...)), &page); err != nil {
		t.Fatal(err)
	}
	return page
}

func TestIngestDetectsAndSearchFilters(t *testing.T) {
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	page := searchJSON(t, "--db", db)
	c := page.Calls[0]
	if c.Quality != "Poor" || c.Rating != "Poor" || c.IssueCount == 0 || len(c.IssueKinds) == 0 || c.IssueKinds[0] != "dropped-ungracefully" {
		t.Fatalf("summary after ingest: quality %s rating %s issues %d %v", c.Quality, c.Rating, c.IssueCount, c.IssueKinds)
	}
	for _, f := range []struct {
		args []string
		want int
	}{
		{[]string{"--has-issues", "true"}, 1},
		{[]string{"--issue", "dropped-ungracefully"}, 1},
		{[]string{"--issue", "camera-freeze,poor-video"}, 1},
		{[]string{"--issue", "camera-freeze"}, 0},
		{[]string{"--severity", "critical"}, 1},
		{[]string{"--quality", "poor"}, 1},
		{[]string{"--quality", "Good"}, 0},
		{[]string{"--rating", "Poor"}, 1},
		{[]string{"--rating", "Good", "--issue", "poor-video"}, 0},
	} {
		if got := searchJSON(t, append([]string{"--db", db}, f.args...)...).Total; got != f.want {
			t.Errorf("calls %v: %d calls, want %d", f.args, got, f.want)
		}
	}
	for _, bad := range [][]string{{"--issue", "bogus"}, {"--severity", "major"}, {"--quality", "Fine"}, {"--has-issues", "maybe"}} {
		if _, _, code := run(t, nil, append([]string{"calls", "--db", db}, bad...)...); code != ExitUsage {
			t.Errorf("calls %v: exit %d, want %d", bad, code, ExitUsage)
		}
	}

	// detect recomputes with other rules and the summary follows.
	rules := filepath.Join(t.TempDir(), "r.rules")
	os.WriteFile(rules, []byte("disable = dropped-ungracefully\n"), 0o644)
	mustRun(t, "detect", "--db", db, "--call", p2pCall, "--rules", rules)
	c = searchJSON(t, "--db", db).Calls[0]
	if slices.Contains(c.IssueKinds, "dropped-ungracefully") {
		t.Errorf("issue kinds after detect with the drop rule disabled: %v", c.IssueKinds)
	}
	if n := searchJSON(t, "--db", db, "--severity", "critical").Total; n != 0 {
		t.Errorf("%d critical calls after disabling the only critical rule", n)
	}
	mustRun(t, "detect", "--db", db, "--since", "2026-01-01T00:00:00Z")
	if c = searchJSON(t, "--db", db).Calls[0]; !slices.Contains(c.IssueKinds, "dropped-ungracefully") {
		t.Errorf("detect --since with the default rules did not restore the drop: %v", c.IssueKinds)
	}
	if _, _, code := run(t, nil, "detect", "--db", db); code != ExitUsage {
		t.Errorf("detect without --call or --since: exit %d", code)
	}
	if _, _, code := run(t, nil, "detect", "--db", db, "--call", "nope"); code != ExitError {
		t.Errorf("detect of an unknown call: exit %d", code)
	}
}
