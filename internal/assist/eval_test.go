package assist_test

import (
	"context"
	"strings"
	"testing"

	"calldiag/internal/assist"
	"calldiag/internal/catalog"
)

// TestEvaluation asks the whole evaluation set — the knowledge-base
// questions and the call questions generated from a simulated corpus's
// labels — and fails below assist.PassScore, listing every failing
// question with its answer.
func TestEvaluation(t *testing.T) {
	ctx := context.Background()
	kbQs, err := assist.KBEvalSet()
	if err != nil {
		t.Fatal(err)
	}
	checkKBSet(t, kbQs)
	c := newCorpus(t)
	callQs, err := assist.CallEvalSet(ctx, c.calls, c.faults)
	if err != nil {
		t.Fatal(err)
	}
	if len(callQs) < 10 {
		t.Errorf("only %d call questions generated from %d injected causes, want at least 10", len(callQs), len(c.faults))
	}
	qs := append(kbQs, callQs...)
	if len(qs) < 40 {
		t.Errorf("evaluation set has %d questions, want at least 40", len(qs))
	}
	a := assist.New(assist.Config{Calls: c.calls})
	rep, err := assist.Evaluate(ctx, a, qs)
	if err != nil {
		t.Fatal(err)
	}
	passed, total := map[string]int{}, map[string]int{}
	for _, r := range rep.Results {
		total[r.Question.Topic]++
		if r.Pass {
			passed[r.Question.Topic]++
			continue
		}
		t.Logf("FAIL %s: %q (call %s)\n  missing %v, extra %v\n  cited %v\n  answer:\n%s",
			r.Question.ID, r.Question.Question, r.Question.CallID, r.Missing, r.Extra, citedIDs(r.Answer), indent(r.Answer.Answer))
	}
	for topic, n := range total {
		t.Logf("%-8s %d of %d pass", topic, passed[topic], n)
	}
	t.Logf("score %.3f: %d of %d questions pass", rep.Score, rep.Passed, rep.Total)
	if rep.Score < assist.PassScore {
		t.Errorf("score %.3f, want at least %.2f", rep.Score, assist.PassScore)
	}
}

// checkKBSet checks that the knowledge-base questions cover what the
// evaluation promises: codes, subcodes including one under several codes,
// UFDs, kinds, every guide, and at least ten true paraphrases.
func checkKBSet(t *testing.T, qs []assist.EvalQuestion) {
	t.Helper()
	topics := map[string]int{}
	required := map[string]bool{}
	paraphrases := 0
	multiCode := false
	for _, q := range qs {
		topics[q.Topic]++
		if len(q.Require) == 0 {
			t.Errorf("%s: requires nothing", q.ID)
		}
		for _, id := range q.Require {
			required[id] = true
			if _, ok := catalog.LookupKB(id); !ok {
				t.Errorf("%s: requires %s, which is not in the knowledge base", q.ID, id)
			}
		}
		if q.Topic == "subcode" && len(q.Require) > 1 {
			multiCode = true
		}
		if !q.Paraphrase {
			continue
		}
		paraphrases++
		for _, id := range q.Require {
			e, _ := catalog.LookupKB(id)
			if shared := assist.SharedTitleWords(q.Question, e.Title); len(shared) > 0 {
				t.Errorf("%s is marked a paraphrase but shares %v with the title %q of %s", q.ID, shared, e.Title, id)
			}
		}
	}
	if paraphrases < 10 {
		t.Errorf("%d paraphrased questions, want at least 10", paraphrases)
	}
	if !multiCode {
		t.Error("no question about a subcode that occurs under several codes")
	}
	for _, topic := range []string{"code", "subcode", "ufd", "kind", "guide"} {
		if topics[topic] == 0 {
			t.Errorf("no %s question", topic)
		}
	}
	for _, e := range catalog.KB() {
		if e.Type == catalog.EntryGuide && !required[e.ID] {
			t.Errorf("no question requires the guide %s", e.ID)
		}
	}
}

func citedIDs(a assist.Answer) []string {
	var out []string
	for _, c := range a.Citations {
		out = append(out, c.Type+":"+c.ID)
	}
	return out
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
