package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"calldiag/internal/assist"
	"calldiag/internal/web"
)

// fakeAsker answers with what it was asked, and fails on "boom".
type fakeAsker struct{ got assist.Question }

func (f *fakeAsker) Ask(_ context.Context, q assist.Question) (assist.Answer, error) {
	f.got = q
	if q.Question == "boom" {
		return assist.Answer{}, errors.New("the question cannot be answered")
	}
	return assist.Answer{
		Answer:    "First paragraph about " + q.Question + ".\n\n- one step\n- another <step>",
		Citations: []assist.Citation{{Type: "kb", ID: "kind-poor-stream", URL: "/kb/kind-poor-stream"}, {Type: "record", ID: "r1", URL: "/api/v1/records/r1"}},
		Unknowns:  []string{"participant p2 sent no media stats"},
		Fallback:  true, Note: "the model timed out",
	}, nil
}

func TestAskPage(t *testing.T) {
	f := loadFixture(t)
	asker := &fakeAsker{}
	h, err := web.New(web.Config{Store: f.st, Assistant: asker})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	r := get(t, srv, "/ask")
	if r.status != 200 || !strings.Contains(r.body, "How do I fix subcode 41048?") {
		t.Fatalf("empty ask page: %d", r.status)
	}
	r = get(t, srv, "/ask?q=why+bad&call="+f.faulty+"&participant=p1")
	if r.status != 200 {
		t.Fatalf("status %d: %.300s", r.status, r.body)
	}
	if asker.got.Question != "why bad" || asker.got.CallID != f.faulty || asker.got.ParticipantID != "p1" {
		t.Errorf("asked %+v", asker.got)
	}
	mustContain(t, "answer", r.body, "<p>First paragraph about why bad.</p>", "<li>another &lt;step&gt;</li>",
		`href="/kb/kind-poor-stream"`, `href="/api/v1/records/r1"`, "sent no media stats", "the model timed out",
		`href="/calls/`+f.faulty+`"`)
	if r := get(t, srv, "/ask?q=boom"); r.status != 400 || !strings.Contains(r.body, "cannot be answered") {
		t.Errorf("failing question: %d", r.status)
	}
	// The call pages offer to diagnose the call.
	r = get(t, srv, "/calls/"+f.faulty)
	mustContain(t, "overview", r.body, `href="/ask?call=`+f.faulty+`&amp;q=Summarize`, `class="askpanel"`)
}

func TestAskWithoutAssistant(t *testing.T) {
	srv := server(t, "")
	if r := get(t, srv, "/ask?q=hello"); r.status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", r.status)
	}
}
