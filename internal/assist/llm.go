package assist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

// maxToolRounds bounds the model's tool calls per answer.
const maxToolRounds = 6

// Bounds on what goes to and comes from the model.
const (
	maxReplyBytes      = 4 << 20
	maxToolResultBytes = 64 << 10
	maxTimelineEvents  = 400
)

// systemPrompt tells the model how to answer.
const systemPrompt = `You are the troubleshooting assistant of calldiag, a tool that diagnoses Azure Communication Services voice and video calls from their logs.

Rules:
- Answer only from the knowledge-base entries and tool results you are given. Do not rely on outside knowledge about ACS; if the material does not settle the question, say what is not known instead of guessing.
- When a call is in context, read it with the tools (get_call_issues first, get_timeline for a window around an event) before answering questions about it.
- Cite what you rely on by id in square brackets: knowledge-base ids such as [kind-poor-stream] or [code-410-3112], issue ids such as [issue 6f1c0a9e52d4b7a3c810], record ids such as [record 3e5a...].
- Be specific and short: a few sentences or a short "- " list in plain text, naming participants by the first block of their id. No headings, no greetings.`

// chatMessage is one message of the chat-completions protocol.
type chatMessage struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type toolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type chatTool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

type chatRequest struct {
	Model    string        `json:"model"`
	Messages []chatMessage `json:"messages"`
	Tools    []chatTool    `json:"tools,omitempty"`
}

type chatResponse struct {
	Choices []struct {
		Message      chatMessage `json:"message"`
		FinishReason string      `json:"finish_reason"`
	} `json:"choices"`
}

// tools are the function tools the model may call; their arguments are
// named like the HTTP API's parameters and their results are the API's
// JSON.
var tools = []chatTool{
	tool("search_calls", "Find calls by call id, participant id, endpoint id or user identifier (exact, or a prefix of at least 8 characters), newest first.",
		`{"type":"object","properties":{"q":{"type":"string","description":"id or identifier to look for"},"limit":{"type":"integer","description":"most calls to return (default 10)"}},"required":["q"]}`),
	tool("get_call", "Read a call's overview: participants with their end codes, streams with their averages and MOS, quality, rating and telemetry completeness.",
		`{"type":"object","properties":{"callId":{"type":"string"}},"required":["callId"]}`),
	tool("get_call_issues", "Read a call's detected issues, most severe first, each with evidence, culprit, recommendation and related issues.",
		`{"type":"object","properties":{"callId":{"type":"string"}},"required":["callId"]}`),
	tool("get_timeline", "Read a call's timeline events (client operations, user-facing diagnostics, joins, leaves, surveys) in a time window, optionally of one participant.",
		`{"type":"object","properties":{"callId":{"type":"string"},"participant":{"type":"string","description":"participant id (optional)"},"from":{"type":"string","description":"RFC 3339 start (optional)"},"to":{"type":"string","description":"RFC 3339 end (optional)"}},"required":["callId"]}`),
	tool("lookup_code", "Look up the knowledge-base entry of an ACS code and subcode; a subcode without a code returns every code it occurs under.",
		`{"type":"object","properties":{"code":{"type":"integer"},"subcode":{"type":"integer"}}}`),
	tool("search_kb", "Full-text search of the knowledge base (codes, user-facing diagnostics, issue kinds, troubleshooting guides).",
		`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","description":"most entries to return (default 5)"}},"required":["query"]}`),
}

func tool(name, desc, params string) chatTool {
	return chatTool{Type: "function", Function: toolFunction{Name: name, Description: desc, Parameters: json.RawMessage(params)}}
}

// modelError is a failure of the model path, worded for the user.
type modelError struct {
	msg string
	err error
}

func (e *modelError) Error() string { return e.msg }
func (e *modelError) Unwrap() error { return e.err }

// known collects the ids an answer may cite: issue ids with their calls,
// and record ids, as the model saw them.
type known struct {
	issueCall map[string]string
	records   map[string]bool
}

func (k *known) addCall(c model.Call) {
	for _, is := range c.Issues {
		k.issueCall[is.ID] = c.ID
		for _, e := range is.Evidence {
			for _, r := range e.RecordIDs {
				k.records[r] = true
			}
		}
	}
	for _, p := range c.Participants {
		for _, s := range p.Streams {
			if s.RecordID != "" {
				k.records[s.RecordID] = true
			}
		}
	}
	for _, s := range c.Surveys {
		if s.RecordID != "" {
			k.records[s.RecordID] = true
		}
	}
}

// askModel answers with the language model; det is the deterministic
// answer and what it retrieved.
func (a *Assistant) askModel(ctx context.Context, q Question, det facts) (Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, a.llm.Timeout)
	defer cancel()
	kn := &known{issueCall: map[string]string{}, records: map[string]bool{}}
	if det.call != nil {
		kn.addCall(*det.call)
	}
	for _, c := range det.answer.Citations {
		if c.Type == CiteRecord {
			kn.records[c.ID] = true
		}
	}
	msgs := []chatMessage{
		{Role: "system", Content: systemPrompt},
		{Role: "user", Content: userPrompt(q, det)},
	}
	for range maxToolRounds + 1 {
		resp, err := a.chat(ctx, msgs)
		if err != nil {
			return Answer{}, err
		}
		msg := resp.Choices[0].Message
		if len(msg.ToolCalls) > 0 {
			msg.Role = "assistant"
			msgs = append(msgs, msg)
			for _, tc := range msg.ToolCalls {
				out := a.runTool(ctx, tc.Function.Name, tc.Function.Arguments, kn)
				msgs = append(msgs, chatMessage{Role: "tool", ToolCallID: tc.ID, Content: out})
			}
			continue
		}
		text := strings.TrimSpace(msg.Content)
		if text == "" {
			return Answer{}, &modelError{msg: "the model returned an empty answer"}
		}
		return Answer{
			Answer:    text,
			Citations: modelCitations(text, det, kn),
			Unknowns:  det.answer.Unknowns,
			Model:     a.llm.Model,
		}, nil
	}
	return Answer{}, &modelError{msg: fmt.Sprintf("the model kept calling tools for %d rounds without answering", maxToolRounds)}
}

// chat sends one chat-completions request.
func (a *Assistant) chat(ctx context.Context, msgs []chatMessage) (chatResponse, error) {
	body, err := json.Marshal(chatRequest{Model: a.llm.Model, Messages: msgs, Tools: tools})
	if err != nil {
		return chatResponse{}, &modelError{msg: "the request could not be encoded", err: err}
	}
	endpoint := strings.TrimRight(a.llm.URL, "/") + "/chat/completions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return chatResponse{}, &modelError{msg: "the model URL is not valid", err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if a.llm.Key != "" {
		req.Header.Set("Authorization", "Bearer "+a.llm.Key)
	}
	res, err := a.llm.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return chatResponse{}, &modelError{msg: fmt.Sprintf("the model did not answer within %s", a.llm.Timeout), err: err}
		}
		return chatResponse{}, &modelError{msg: "the model endpoint could not be reached", err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxReplyBytes))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return chatResponse{}, &modelError{msg: fmt.Sprintf("the model did not answer within %s", a.llm.Timeout), err: err}
		}
		return chatResponse{}, &modelError{msg: "the model's reply could not be read", err: err}
	}
	if res.StatusCode != http.StatusOK {
		return chatResponse{}, &modelError{msg: fmt.Sprintf("the model endpoint answered HTTP %d", res.StatusCode),
			err: fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(data[:min(len(data), 300)]))}
	}
	var out chatResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return chatResponse{}, &modelError{msg: "the model's reply was not valid chat-completions JSON", err: err}
	}
	if len(out.Choices) == 0 {
		return chatResponse{}, &modelError{msg: "the model's reply had no choices"}
	}
	return out, nil
}

// userPrompt gives the model the question, the call in context, the
// retrieved entries and calldiag's own answer.
func userPrompt(q Question, det facts) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Question: %s\n", q.Question)
	if det.call != nil {
		fmt.Fprintf(&s, "\nCall in context: %s", det.call.ID)
		if len(det.rec.Participants) > 0 {
			fmt.Fprintf(&s, " (about participant %s)", strings.Join(det.rec.Participants, ", "))
		}
		s.WriteString("\n")
	} else if q.CallID != "" {
		fmt.Fprintf(&s, "\nCall in context: %s (it could not be read)\n", q.CallID)
	}
	if len(det.entries) > 0 {
		s.WriteString("\nKnowledge-base entries retrieved for the question:\n")
		for _, e := range det.entries[:min(len(det.entries), 6)] {
			fmt.Fprintf(&s, "\n[%s] %s\n%s\n", e.ID, e.Title, e.Text)
		}
	}
	s.WriteString("\ncalldiag's own analysis of the same data (use it, check it with the tools, and keep its citations):\n")
	s.WriteString(det.answer.Answer)
	s.WriteString("\n")
	if len(det.answer.Citations) > 0 {
		var ids []string
		for _, c := range det.answer.Citations {
			ids = append(ids, c.ID)
		}
		fmt.Fprintf(&s, "Cited: %s\n", strings.Join(ids, ", "))
	}
	if len(det.answer.Unknowns) > 0 {
		fmt.Fprintf(&s, "Not known: %s\n", strings.Join(det.answer.Unknowns, "; "))
	}
	return s.String()
}

// idTokenRE finds what may be a cited id in a model's answer.
var idTokenRE = regexp.MustCompile(`\b(?:(?:code|ufd|kind|guide)-[A-Za-z0-9-]+|[0-9a-f]{16,64})\b`)

// modelCitations keeps the citations a model's answer should carry: the
// deterministic answer's headline citations, which the facts rest on
// whatever the model wrote, and every id the model mentions that exists.
func modelCitations(text string, det facts, kn *known) []Citation {
	b := &builder{}
	for _, c := range det.answer.Citations {
		b.cite(c)
	}
	for _, tok := range idTokenRE.FindAllString(text, -1) {
		if id, ok := kbID(tok); ok {
			b.cite(KBCitation(id))
			continue
		}
		if callID, ok := kn.issueCall[tok]; ok {
			b.cite(IssueCitation(callID, tok))
			continue
		}
		if kn.records[tok] {
			b.cite(RecordCitation(tok))
		}
	}
	return b.citations()
}

// kbID finds the KB id a token names, trimming words run on after a
// hyphen ("kind-poor-stream-related" names kind-poor-stream).
func kbID(tok string) (string, bool) {
	for t := strings.TrimRight(tok, "-"); strings.Contains(t, "-"); t = t[:strings.LastIndex(t, "-")] {
		if _, ok := catalog.LookupKB(t); ok {
			return t, true
		}
	}
	return "", false
}

// runTool executes one tool call and returns its JSON result (an
// {"error": …} object when it fails, so the model can recover).
func (a *Assistant) runTool(ctx context.Context, name, args string, kn *known) string {
	out, err := a.tool(ctx, name, args, kn)
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return string(b)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return `{"error":"the result could not be encoded"}`
	}
	if len(b) > maxToolResultBytes {
		return `{"error":"the result is too large; ask for less (a narrower timeline window, get_call_issues instead of get_call)"}`
	}
	return string(b)
}

// toolArgs are the arguments of every tool.
type toolArgs struct {
	Q           string `json:"q"`
	Limit       int    `json:"limit"`
	CallID      string `json:"callId"`
	Participant string `json:"participant"`
	From        string `json:"from"`
	To          string `json:"to"`
	Code        *int   `json:"code"`
	Subcode     *int   `json:"subcode"`
	Query       string `json:"query"`
}

// kbEntryJSON is a KB entry as the tools return it.
type kbEntryJSON struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Text    string   `json:"text"`
	Related []string `json:"related"`
	Source  string   `json:"source"`
	URL     string   `json:"url"`
}

func entryJSON(es []catalog.Entry) []kbEntryJSON {
	out := []kbEntryJSON{}
	for _, e := range es {
		rel := e.Related
		if rel == nil {
			rel = []string{}
		}
		out = append(out, kbEntryJSON{e.ID, e.Type, e.Title, e.Text, rel, e.Source, KBCitation(e.ID).URL})
	}
	return out
}

// issuesJSON is a call's issues as the API's issues view shows them.
type issuesJSON struct {
	CallID       string              `json:"callId"`
	Quality      string              `json:"quality"`
	Rating       string              `json:"rating"`
	RatingScore  *float64            `json:"ratingScore"`
	MOS          []streamMOS         `json:"mos"`
	Completeness *model.Completeness `json:"completeness"`
	IssueCount   int                 `json:"issueCount"`
	Issues       []model.Issue       `json:"issues"`
}

// streamMOS is the estimated MOS of one audio stream.
type streamMOS struct {
	ParticipantID string  `json:"participantId"`
	StreamID      string  `json:"streamId"`
	MOS           float64 `json:"mos"`
}

func (a *Assistant) tool(ctx context.Context, name, raw string, kn *known) (any, error) {
	var args toolArgs
	if strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			return nil, fmt.Errorf("arguments are not a JSON object: %w", err)
		}
	}
	needCalls := func() error {
		if a.calls == nil {
			return errors.New("no call store is available")
		}
		if name != "search_calls" && strings.TrimSpace(args.CallID) == "" {
			return errors.New("callId is required")
		}
		return nil
	}
	switch name {
	case "search_calls":
		if err := needCalls(); err != nil {
			return nil, err
		}
		if strings.TrimSpace(args.Q) == "" {
			return nil, errors.New("q is required")
		}
		limit := args.Limit
		if limit <= 0 || limit > 50 {
			limit = 10
		}
		calls, err := a.calls.Search(ctx, strings.TrimSpace(args.Q), limit)
		if err != nil {
			return nil, err
		}
		if calls == nil {
			calls = []model.CallSummary{}
		}
		return map[string]any{"calls": calls}, nil
	case "get_call", "get_call_issues":
		if err := needCalls(); err != nil {
			return nil, err
		}
		c, err := a.calls.Overview(ctx, strings.TrimSpace(args.CallID))
		if err != nil {
			if IsNotFound(err) {
				return nil, fmt.Errorf("call %s not found", args.CallID)
			}
			return nil, err
		}
		kn.addCall(c)
		if name == "get_call" {
			return c, nil
		}
		out := issuesJSON{CallID: c.ID, Quality: c.Quality, Rating: c.Rating, RatingScore: c.RatingScore,
			MOS: []streamMOS{}, Completeness: c.Completeness, Issues: c.Issues}
		for _, p := range c.Participants {
			for _, st := range p.Streams {
				if st.MOS != nil {
					out.MOS = append(out.MOS, streamMOS{p.ID, st.StreamID, *st.MOS})
				}
			}
		}
		for _, is := range c.Issues {
			if is.Severity.Rank() >= model.SeverityWarning.Rank() {
				out.IssueCount++
			}
		}
		return out, nil
	case "get_timeline":
		if err := needCalls(); err != nil {
			return nil, err
		}
		from, err := parseToolTime(args.From)
		if err != nil {
			return nil, fmt.Errorf("from: %w", err)
		}
		to, err := parseToolTime(args.To)
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		evs, err := a.calls.Events(ctx, strings.TrimSpace(args.CallID), strings.TrimSpace(args.Participant), from, to)
		if err != nil {
			if IsNotFound(err) {
				return nil, fmt.Errorf("call %s not found", args.CallID)
			}
			return nil, err
		}
		more := len(evs) > maxTimelineEvents
		evs = evs[:min(len(evs), maxTimelineEvents)]
		for _, ev := range evs {
			if ev.RecordID != "" {
				kn.records[ev.RecordID] = true
			}
		}
		if evs == nil {
			evs = []model.TimelineEvent{}
		}
		out := map[string]any{"events": evs}
		if more {
			out["truncated"] = "more events exist; ask for a narrower window"
		}
		return out, nil
	case "lookup_code":
		var es []catalog.Entry
		switch {
		case args.Code != nil && args.Subcode != nil:
			if e, ok := catalog.LookupKB(catalog.CodeEntryID(*args.Code, *args.Subcode)); ok {
				es = append(es, e)
			}
		case args.Code != nil:
			if e, ok := catalog.LookupKB(catalog.CodeEntryID(*args.Code, catalog.Absent)); ok {
				es = append(es, e)
			}
		case args.Subcode != nil:
			es = subcodeEntries(*args.Subcode)
		default:
			return nil, errors.New("give code, subcode or both")
		}
		if len(es) == 0 {
			return nil, errors.New("the knowledge base has no entry for that code")
		}
		return map[string]any{"entries": entryJSON(es)}, nil
	case "search_kb":
		if strings.TrimSpace(args.Query) == "" {
			return nil, errors.New("query is required")
		}
		limit := args.Limit
		if limit <= 0 || limit > 20 {
			limit = 5
		}
		return map[string]any{"entries": entryJSON(SearchKB(args.Query, limit))}, nil
	}
	return nil, fmt.Errorf("unknown tool %q", name)
}

// parseToolTime reads an optional RFC 3339 time (or Unix milliseconds).
func parseToolTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
}
