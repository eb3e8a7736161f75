package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"calldiag/internal/assist"
	"calldiag/internal/catalog"
)

// Asker answers troubleshooting questions.
type Asker interface {
	Ask(ctx context.Context, q assist.Question) (assist.Answer, error)
}

type askPage struct {
	Layout
	Q           assist.Question
	Asked       bool
	Answer      assist.Answer
	Blocks      []answerBlock
	Sources     []sourceLink
	Suggestions []string
	CallURL     string
}

// answerBlock is a paragraph or a list of the answer's plain text.
type answerBlock struct {
	Text  string
	Items []string
}

type sourceLink struct {
	assist.Citation
	Title string
}

// askSuggestions are example questions for an empty form.
var askSuggestions = []string{
	"How do I fix subcode 41048?",
	"What are common causes of poor media streams?",
	"How can I optimize calls for poor network conditions?",
	"Others can't hear me: what should I check?",
}

var callSuggestions = []string{
	"Summarize what went wrong in this call",
	"Why did the participant drop?",
	"Why was the audio bad?",
}

// ask answers a question (GET /ask?q=…&call=…&participant=…): asking
// changes nothing, so a plain link or form can ask, with or without
// script.
func (h *Handler) ask(w http.ResponseWriter, r *http.Request) (string, any, error) {
	qv := r.URL.Query()
	v := askPage{Layout: h.layout(r, "Ask"), Q: assist.Question{Question: strings.TrimSpace(qv.Get("q")),
		CallID: strings.TrimSpace(qv.Get("call")), ParticipantID: strings.TrimSpace(qv.Get("participant"))}}
	v.Section = "ask"
	v.Suggestions = askSuggestions
	if v.Q.CallID != "" {
		v.Suggestions = callSuggestions
		v.CallURL = "/calls/" + url.PathEscape(v.Q.CallID)
	}
	if v.Q.Question == "" {
		return "ask", v, nil
	}
	if h.cfg.Assistant == nil {
		return "", nil, &HTTPError{Status: http.StatusServiceUnavailable, Message: "The assistant is not configured on this server."}
	}
	ans, err := h.cfg.Assistant.Ask(r.Context(), v.Q)
	if err != nil {
		return "", nil, badRequest(err)
	}
	v.Asked, v.Answer = true, ans
	v.Blocks = answerBlocks(ans.Answer)
	issueTitles := map[string]string{}
	if v.Q.CallID != "" {
		if det, err := h.cfg.Store.Detection(r.Context(), v.Q.CallID); err == nil {
			for _, is := range det.Issues {
				issueTitles[is.ID] = is.Kind + ": " + sentence(is.Summary)
			}
		}
	}
	for _, c := range ans.Citations {
		s := sourceLink{Citation: c, Title: c.ID}
		switch c.Type {
		case "kb":
			if e, ok := catalog.LookupKB(c.ID); ok {
				s.Title = e.Title
			}
		case "issue":
			s.Title = "issue " + c.ID
			if t, ok := issueTitles[c.ID]; ok {
				s.Title = t
			}
		case "record":
			s.Title = "record " + shortID(c.ID)
		}
		v.Sources = append(v.Sources, s)
	}
	return "ask", v, nil
}

// answerBlocks splits plain text into paragraphs and "- " lists.
func answerBlocks(text string) []answerBlock {
	var out []answerBlock
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, answerBlock{Text: strings.Join(para, " ")})
			para = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* "):
			flush()
			item := strings.TrimSpace(line[2:])
			if n := len(out); n > 0 && out[n-1].Items != nil {
				out[n-1].Items = append(out[n-1].Items, item)
			} else {
				out = append(out, answerBlock{Items: []string{item}})
			}
		default:
			para = append(para, line)
		}
	}
	flush()
	return out
}
