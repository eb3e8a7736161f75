package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"calldiag/internal/assist"
)

type echoAsker struct{}

func (echoAsker) Ask(_ context.Context, q assist.Question) (assist.Answer, error) {
	return assist.Answer{Answer: "about " + q.Question + " in " + q.CallID,
		Citations: []assist.Citation{{Type: "kb", ID: "code-410-3112", URL: "/kb/code-410-3112"}}, Unknowns: []string{}}, nil
}

func TestPostAsk(t *testing.T) {
	tests := []struct {
		name      string
		assistant Asker
		body      string
		status    int
		contains  string
	}{
		{"answer", echoAsker{}, `{"question":" why? ","callId":"c1"}`, 200, `"answer":"about why? in c1"`},
		{"citations", echoAsker{}, `{"question":"q"}`, 200, `"citations":[{"type":"kb","id":"code-410-3112","url":"/kb/code-410-3112"}]`},
		{"empty question", echoAsker{}, `{"question":"  "}`, 400, `"parameter":"question"`},
		{"not JSON", echoAsker{}, `question=why`, 400, "JSON object"},
		{"unknown field", echoAsker{}, `{"question":"q","call":"c1"}`, 400, "unknown field"},
		{"too large", echoAsker{}, `{"question":"` + strings.Repeat("x", maxQuestionBytes) + `"}`, 413, "payload_too_large"},
		{"no assistant", nil, `{"question":"q"}`, 503, "not configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := New(Config{Assistant: tc.assistant})
			mux := http.NewServeMux()
			h.Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/ask", strings.NewReader(tc.body)))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("status %d body %s; want %d with %q", rec.Code, rec.Body.String(), tc.status, tc.contains)
			}
			if rec.Code == 200 {
				var a assist.Answer
				if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
					t.Errorf("answer does not decode: %v", err)
				}
			}
		})
	}
}
