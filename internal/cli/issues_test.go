package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
)

func TestIssuesOfACall(t *testing.T) {
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	var res callview.CallIssues
	if err := json.Unmarshal([]byte(mustRun(t, "issues", p2pCall, "--db", db, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	// Endpoint 2 ended with 410/3112, sent video at 5.5 fps with 14 % loss,
	// 45 ms jitter and 640 ms round trip over TCP; endpoint 1 rated the call 2/5.
	want := map[string]string{
		"dropped-ungracefully": "e2e2e2e2-0000-4000-8000-000000000002",
		"poor-stream":          "e2e2e2e2-0000-4000-8000-000000000002",
		"media-over-tcp":       "e2e2e2e2-0000-4000-8000-000000000002",
		"poor-video":           "e2e2e2e2-0000-4000-8000-000000000002",
		"poor-rating":          "e1e1e1e1-0000-4000-8000-000000000001",
	}
	counted := 0
	for i, is := range res.Issues {
		if p, ok := want[is.Kind]; ok {
			if is.ParticipantID != p {
				t.Errorf("%s blames %s, want %s", is.Kind, is.ParticipantID, p)
			}
			delete(want, is.Kind)
		}
		if i > 0 && is.Severity.Rank() > res.Issues[i-1].Severity.Rank() {
			t.Errorf("issue %d (%s) is more severe than the one before it", i, is.Severity)
		}
		if is.ID == "" || is.Summary == "" || is.Rule == "" || len(is.Recommendation.KB) == 0 {
			t.Errorf("issue %s lacks id, summary, rule or knowledge-base reference: %+v", is.Kind, is)
		}
		if is.Severity.Rank() >= model.SeverityWarning.Rank() {
			counted++
		}
	}
	for kind := range want {
		t.Errorf("no %s issue detected", kind)
	}
	if res.Issues[0].Kind != "dropped-ungracefully" || res.Issues[0].Severity != model.SeverityCritical {
		t.Errorf("first issue = %s %s, want the critical drop", res.Issues[0].Severity, res.Issues[0].Kind)
	}
	if res.IssueCount != counted || res.Quality != "Poor" || res.Rating != "Poor" {
		t.Errorf("issueCount %d (want %d), quality %s, rating %s", res.IssueCount, counted, res.Quality, res.Rating)
	}
	text := mustRun(t, "issues", "--db", db, p2pCall)
	for _, s := range []string{"CRITICAL dropped-ungracefully", "poor-video", "culprit", "evidence", "see"} {
		if !strings.Contains(text, s) {
			t.Errorf("text output lacks %q:\n%s", s, text)
		}
	}
}

func TestRulesFile(t *testing.T) {
	out := mustRun(t, "rules")
	if _, err := detect.ParseRules("printed", []byte(out)); err != nil {
		t.Fatalf("printed rules do not parse back: %v", err)
	}
	dir := t.TempDir()
	// Raising the jitter threshold above 45 ms stops endpoint 2's stream
	// from breaking the jitter rule.
	good := filepath.Join(dir, "good.rules")
	os.WriteFile(good, []byte("stream.jitter.avg_ms = 60\n"), 0o644)
	if !strings.Contains(mustRun(t, "rules", "--rules", good), "stream.jitter.avg_ms = 60") {
		t.Error("rules --rules does not show the override")
	}
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	var res callview.CallIssues
	json.Unmarshal([]byte(mustRun(t, "issues", p2pCall, "--db", db, "--json", "--rules", good)), &res)
	for _, is := range res.Issues {
		if is.Kind == "poor-stream" && strings.Contains(is.Rule, "stream.jitter") {
			t.Errorf("jitter rule fired at 45 ms with a 60 ms threshold: %s", is.Rule)
		}
	}
	bad := filepath.Join(dir, "bad.rules")
	os.WriteFile(bad, []byte("# ok\nstream.jitter.avg_ms = lots\nno.such.rule = 1\n"), 0o644)
	_, errs, code := run(t, nil, "rules", "--rules", bad)
	if code != ExitError || !strings.Contains(errs, bad+":2") || !strings.Contains(errs, bad+":3") {
		t.Errorf("bad rules file: exit %d, stderr %s", code, errs)
	}
}
