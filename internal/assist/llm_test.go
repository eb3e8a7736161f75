package assist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"calldiag/internal/assist"
)

// chatServer is an in-test chat-completions endpoint. reply answers the
// n-th request (from 0) of a conversation.
type chatServer struct {
	t     *testing.T
	reply func(n int, req chatRequest, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []chatRequest
	hdrs []http.Header
}

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string `json:"role"`
		Content    string `json:"content"`
		ToolCallID string `json:"tool_call_id"`
		ToolCalls  []struct {
			ID string `json:"id"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		s.t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.t.Errorf("request body is not chat-completions JSON: %v", err)
	}
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, req)
	s.hdrs = append(s.hdrs, r.Header.Clone())
	s.mu.Unlock()
	s.reply(n, req, w, r)
}

func writeContent(w http.ResponseWriter, content string) {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{
		"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func writeToolCall(w http.ResponseWriter, id, name, args string) {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{
		"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "content": nil,
			"tool_calls": []any{map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}}}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func writeToolCalls(w http.ResponseWriter, calls [][3]string) {
	var tcs []any
	for _, c := range calls {
		tcs = append(tcs, map[string]any{"id": c[0], "type": "function", "function": map[string]any{"name": c[1], "arguments": c[2]}})
	}
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{
		"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "tool_calls": tcs}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func newChat(t *testing.T, reply func(n int, req chatRequest, w http.ResponseWriter, r *http.Request)) (*chatServer, *httptest.Server) {
	cs := &chatServer{t: t, reply: reply}
	srv := httptest.NewServer(cs)
	t.Cleanup(srv.Close)
	return cs, srv
}

func TestLLMAnswer(t *testing.T) {
	cs, srv := newChat(t, func(_ int, _ chatRequest, w http.ResponseWriter, _ *http.Request) {
		writeContent(w, "The camera failed while the call was starting [code-410-41048]. Walk the user through "+
			"guide-others-cant-see-me and [kind-camera-start-failed]; ignore kind-made-up and [issue 0123456789abcdef0123].")
	})
	a := assist.New(assist.Config{LLM: &assist.LLM{URL: srv.URL + "/v1/", Model: "test-model", Key: "sekret"}})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "How do I fix subcode 41048?"})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Model != "test-model" || ans.Fallback || ans.Note != "" {
		t.Errorf("model %q fallback %v note %q, want the model's answer", ans.Model, ans.Fallback, ans.Note)
	}
	if !strings.HasPrefix(ans.Answer, "The camera failed") {
		t.Errorf("answer is not the model's: %q", ans.Answer)
	}
	for _, id := range []string{"code-410-41048", "guide-others-cant-see-me", "kind-camera-start-failed"} {
		if !cites(ans, id) {
			t.Errorf("answer does not cite %s: %v", id, citedIDs(ans))
		}
	}
	for _, id := range []string{"kind-made-up", "0123456789abcdef0123"} {
		if cites(ans, id) {
			t.Errorf("answer cites %s, which does not exist", id)
		}
	}
	if len(cs.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(cs.reqs))
	}
	req, hdr := cs.reqs[0], cs.hdrs[0]
	if got := hdr.Get("Authorization"); got != "Bearer sekret" {
		t.Errorf("Authorization = %q, want Bearer sekret", got)
	}
	if req.Model != "test-model" {
		t.Errorf("model = %q", req.Model)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" {
		t.Fatalf("messages %+v, want system and user", req.Messages)
	}
	if !strings.Contains(req.Messages[1].Content, "[code-410-41048]") {
		t.Errorf("user message lacks the retrieved entry:\n%s", req.Messages[1].Content)
	}
	var names []string
	for _, tl := range req.Tools {
		names = append(names, tl.Function.Name)
		var schema map[string]any
		if tl.Type != "function" || json.Unmarshal(tl.Function.Parameters, &schema) != nil || schema["type"] != "object" {
			t.Errorf("tool %s: type %q, parameters %s", tl.Function.Name, tl.Type, tl.Function.Parameters)
		}
	}
	slices.Sort(names)
	want := []string{"get_call", "get_call_issues", "get_timeline", "lookup_code", "search_calls", "search_kb"}
	if !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
}

func TestLLMNoKeySendsNoAuthorization(t *testing.T) {
	cs, srv := newChat(t, func(_ int, _ chatRequest, w http.ResponseWriter, _ *http.Request) { writeContent(w, "ok") })
	a := assist.New(assist.Config{LLM: &assist.LLM{URL: srv.URL + "/v1", Model: "local"}})
	if _, err := a.Ask(context.Background(), assist.Question{Question: "what is 487"}); err != nil {
		t.Fatal(err)
	}
	if got := cs.hdrs[0].Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

// TestLLMToolRoundTrip has the model ask for the call's issues, checks
// that it gets them as JSON, and that its answer keeps the citations.
func TestLLMToolRoundTrip(t *testing.T) {
	cs, srv := newChat(t, func(n int, req chatRequest, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 0:
			writeToolCall(w, "call_1", "get_call_issues", fmt.Sprintf(`{"callId":%q}`, fakeCallID))
		case 1:
			last := req.Messages[len(req.Messages)-1]
			if last.Role != "tool" || last.ToolCallID != "call_1" {
				t.Errorf("last message %+v, want the tool result for call_1", last)
			}
			var res struct {
				CallID string `json:"callId"`
				Issues []struct {
					ID   string `json:"id"`
					Kind string `json:"kind"`
				} `json:"issues"`
			}
			if err := json.Unmarshal([]byte(last.Content), &res); err != nil || res.CallID != fakeCallID || len(res.Issues) == 0 {
				t.Errorf("tool result %s: %v", last.Content, err)
			}
			prev := req.Messages[len(req.Messages)-2]
			if prev.Role != "assistant" || len(prev.ToolCalls) != 1 {
				t.Errorf("the model's tool call was not sent back: %+v", prev)
			}
			writeContent(w, fmt.Sprintf("Participant a1b2c3d4 reconnected [issue %s] and then dropped [%s] with 410/301005 [code-410-301005]; the reconnect shows in record %s.",
				reconnID, dropID, ufdRecord))
		default:
			t.Errorf("unexpected request %d", n)
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	a := assist.New(assist.Config{Calls: newFakeCalls(), LLM: &assist.LLM{URL: srv.URL + "/v1", Model: "m"}})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "Why did participant a1b2c3d4 drop?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Fallback || ans.Model != "m" {
		t.Fatalf("fallback %v (%s), want the model's answer", ans.Fallback, ans.Note)
	}
	if len(cs.reqs) != 2 {
		t.Errorf("%d requests, want 2", len(cs.reqs))
	}
	for _, c := range []assist.Citation{
		assist.IssueCitation(fakeCallID, dropID),
		assist.IssueCitation(fakeCallID, reconnID),
		assist.KBCitation("code-410-301005"),
		assist.KBCitation("kind-dropped-ungracefully"), // required by the deterministic answer
		assist.RecordCitation(ufdRecord),
	} {
		if !slices.Contains(ans.Citations, c) {
			t.Errorf("answer lacks citation %+v; has %+v", c, ans.Citations)
		}
	}
}

// TestLLMFallback checks that every failure of the model gives the
// deterministic answer, marked as a fallback with a note, and no error.
func TestLLMFallback(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	tests := []struct {
		name    string
		reply   func(n int, req chatRequest, w http.ResponseWriter, r *http.Request)
		closed  bool          // the endpoint is not listening
		budget  time.Duration // the answer budget; 0 means ample
		noteHas string
	}{
		{name: "http 500", noteHas: "HTTP 500", reply: func(_ int, _ chatRequest, w http.ResponseWriter, _ *http.Request) {
			http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusInternalServerError)
		}},
		{name: "timeout", budget: 200 * time.Millisecond, noteHas: "did not answer within", reply: func(_ int, _ chatRequest, w http.ResponseWriter, r *http.Request) {
			// Hold the reply past the budget; the client gives up first.
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}},
		{name: "garbage", noteHas: "not valid", reply: func(_ int, _ chatRequest, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"choices": [{"message": {"content": "half`)
		}},
		{name: "no choices", noteHas: "no choices", reply: func(_ int, _ chatRequest, w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"choices": []}`)
		}},
		{name: "endless tools", noteHas: "kept calling tools", reply: func(n int, _ chatRequest, w http.ResponseWriter, _ *http.Request) {
			writeToolCall(w, fmt.Sprintf("c%d", n), "search_kb", `{"query":"jitter"}`)
		}},
		{name: "unreachable", closed: true, noteHas: "could not be reached"},
	}
	want, err := assist.New(assist.Config{}).Ask(context.Background(), assist.Question{Question: "How do I fix subcode 41048?"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := tt.reply
			if reply == nil {
				reply = func(int, chatRequest, http.ResponseWriter, *http.Request) {}
			}
			_, srv := newChat(t, reply)
			if tt.closed {
				srv.Close()
			}
			budget := tt.budget
			if budget == 0 {
				budget = time.Minute
			}
			a := assist.New(assist.Config{LLM: &assist.LLM{URL: srv.URL + "/v1", Model: "m", Timeout: budget}})
			ans, err := a.Ask(context.Background(), assist.Question{Question: "How do I fix subcode 41048?"})
			if err != nil {
				t.Fatalf("Ask: %v, want the fallback answer", err)
			}
			if !ans.Fallback || ans.Model != "" {
				t.Errorf("fallback %v model %q, want fallback with no model", ans.Fallback, ans.Model)
			}
			if !strings.Contains(ans.Note, tt.noteHas) {
				t.Errorf("note %q does not contain %q", ans.Note, tt.noteHas)
			}
			if ans.Answer != want.Answer || !slices.Equal(ans.Citations, want.Citations) {
				t.Errorf("fallback answer differs from the deterministic one:\n%s\nwant\n%s", ans.Answer, want.Answer)
			}
		})
	}
}

// TestLLMCallerCancels checks that a caller's cancelled context is an
// error, not a fallback.
func TestLLMCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, srv := newChat(t, func(_ int, _ chatRequest, _ http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	a := assist.New(assist.Config{LLM: &assist.LLM{URL: srv.URL + "/v1", Model: "m"}})
	if _, err := a.Ask(ctx, assist.Question{Question: "what is 487"}); err == nil {
		t.Error("Ask with a cancelled context returned no error")
	}
}

// TestLLMTools has the model call every tool once and checks each
// result, as the model receives it.
func TestLLMTools(t *testing.T) {
	calls := [][3]string{
		{"t1", "search_calls", `{"q":"` + dropperID + `","limit":5}`},
		{"t2", "get_call", `{"callId":"` + fakeCallID + `"}`},
		{"t3", "get_timeline", `{"callId":"` + fakeCallID + `","participant":"` + dropperID + `","from":"2026-09-14T10:04:50Z","to":"2026-09-14T10:05:00Z"}`},
		{"t4", "lookup_code", `{"subcode":4521}`},
		{"t5", "search_kb", `{"query":"echo","limit":2}`},
		{"t6", "get_call", `{"callId":"nope"}`},
		{"t7", "no_such_tool", `{}`},
	}
	want := map[string]string{ // tool call id → text its result must contain
		"t1": `"id":"` + fakeCallID + `"`,
		"t2": `"participants":[`,
		"t3": `"name":"networkReceiveQuality"`,
		"t4": `"id":"code-200-4521"`,
		"t5": `"id":"guide-echo-or-robotic-audio"`,
		"t6": `"error":"call nope not found"`,
		"t7": `"error":"unknown tool`,
	}
	_, srv := newChat(t, func(n int, req chatRequest, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			writeToolCalls(w, calls)
			return
		}
		got := map[string]string{}
		for _, m := range req.Messages {
			if m.Role == "tool" {
				got[m.ToolCallID] = m.Content
			}
		}
		for id, frag := range want {
			if !strings.Contains(got[id], frag) {
				t.Errorf("result of %s lacks %s:\n%.400s", id, frag, got[id])
			}
		}
		if strings.Contains(got["t3"], "networkReconnect\"") {
			t.Errorf("timeline window leaked an event before it: %s", got["t3"])
		}
		writeContent(w, "done")
	})
	a := assist.New(assist.Config{Calls: newFakeCalls(), LLM: &assist.LLM{URL: srv.URL + "/v1", Model: "m"}})
	ans, err := a.Ask(context.Background(), assist.Question{Question: "what happened?", CallID: fakeCallID})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Fallback {
		t.Errorf("fell back: %s", ans.Note)
	}
}
