package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"calldiag/internal/assist"
)

// TestAskKBWithoutStore answers a knowledge-base question without a store
// and checks that none is created for it.
func TestAskKBWithoutStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never-created")
	out := mustRun(t, "ask", "--db", db, "How do I fix subcode 41048?")
	for _, want := range []string{"410/41048", "Sources:", "code-410-41048", "/kb/code-410-41048"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("ask created the store folder %s (stat: %v)", db, err)
	}
}

func TestAskJSON(t *testing.T) {
	out := mustRun(t, "ask", "--db", filepath.Join(t.TempDir(), "none"), "--json", "What", "does", "subcode", "4521", "mean?")
	var ans assist.Answer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("--json output is not an answer: %v\n%s", err, out)
	}
	var ids []string
	for _, c := range ans.Citations {
		ids = append(ids, c.ID)
	}
	for _, want := range []string{"code-0-4521", "code-200-4521"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("citations %v lack %s", ids, want)
		}
	}
	if ans.Unknowns == nil || ans.Model != "" || ans.Fallback {
		t.Errorf("unknowns %v model %q fallback %v", ans.Unknowns, ans.Model, ans.Fallback)
	}
}

// TestAskAboutCall asks about an ingested call: the answer comes from its
// issues and cites them.
func TestAskAboutCall(t *testing.T) {
	db := t.TempDir()
	if _, code := ingestJSON(t, db, "testdata/p2p-call.jsonl"); code != 0 {
		t.Fatalf("ingest: exit %d", code)
	}
	out := mustRun(t, "ask", "--db", db, "--call", p2pCall, "--json", "Why did participant e2e2e2e2 drop?")
	var ans assist.Answer
	if err := json.Unmarshal([]byte(out), &ans); err != nil {
		t.Fatalf("--json output is not an answer: %v\n%s", err, out)
	}
	if !strings.Contains(ans.Answer, "410/3112") {
		t.Errorf("answer does not give the end code 410/3112:\n%s", ans.Answer)
	}
	kinds := map[string]bool{}
	for _, c := range ans.Citations {
		kinds[c.Type] = true
		if c.Type == assist.CiteIssue && !strings.HasPrefix(c.URL, "/calls/"+p2pCall+"/issues#issue-") {
			t.Errorf("issue citation URL %q", c.URL)
		}
	}
	if !kinds[assist.CiteIssue] || !kinds[assist.CiteKB] {
		t.Errorf("citations %+v lack an issue or a KB entry", ans.Citations)
	}

	out = mustRun(t, "ask", "--db", db, "--call", "no-such-call", "Summarize what went wrong in this call")
	if !strings.Contains(out, "Not known:") || !strings.Contains(out, "no-such-call was not found") {
		t.Errorf("unknown call: output does not say it was not found:\n%s", out)
	}
}

func TestAskUsage(t *testing.T) {
	if _, errs, code := run(t, nil, "ask", "--db", t.TempDir()); code != ExitUsage || !strings.Contains(errs, "QUESTION") {
		t.Errorf("ask without a question: exit %d, stderr %q", code, errs)
	}
}

// TestAskModelFallsBack points the assistant at a model endpoint that is
// down: the command still answers, with a note.
func TestAskModelFallsBack(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	env := map[string]string{"CALLDIAG_LLM_URL": url + "/v1", "CALLDIAG_LLM_MODEL": "gone"}
	out, errs, code := run(t, env, "ask", "--db", filepath.Join(t.TempDir(), "none"), "what is 410/3112?")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "code-410-3112") || !strings.Contains(out, "Note:") {
		t.Errorf("output is not the deterministic answer with a note:\n%s", out)
	}
}

func TestEvalAsk(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and ingests 30 calls")
	}
	out := mustRun(t, "eval-ask", "--json")
	var rep assist.EvalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v", err)
	}
	if rep.Total < 40 || rep.Score < assist.PassScore {
		t.Errorf("eval-ask: %d questions, score %.3f", rep.Total, rep.Score)
	}
	calls := 0
	for _, r := range rep.Results {
		if r.Question.Topic == "call" {
			calls++
		}
	}
	if calls == 0 {
		t.Error("eval-ask asked no call questions")
	}
}
