// Package assist is calldiag's troubleshooting assistant. It answers
// questions about Azure Communication Services calls from two sources:
// the knowledge base in package catalog (codes, user-facing diagnostics,
// issue kinds, guides) and, when a call is in context, that call's own
// detected issues, evidence and timeline. Every answer cites the entries,
// issues and records it rests on and says what the data cannot tell.
//
// By default answers are deterministic: recognisers pick codes, names,
// metrics, participants and the question's intent out of the text, a
// ranked full-text search finds the knowledge-base entries, and the answer
// is composed from those facts. When an OpenAI-compatible chat-completions
// endpoint is configured, a language model writes the answer from the
// same entries and from tool calls that read the call; any failure of the
// model falls back to the deterministic answer.
//
// The package also holds the assistant's evaluation set and scoring
// (Evaluate), so that the tests and "calldiag eval-ask" measure the same
// thing.
//
// It may import only model, catalog and detect (for its kind names); it
// reads calls through the Calls interface it declares and must not import
// store, pipeline, callview, api or web.
package assist

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"calldiag/internal/model"
)

// Question is what a user asks, optionally about one call and participant.
type Question struct {
	Question      string `json:"question"`
	CallID        string `json:"callId,omitempty"`
	ParticipantID string `json:"participantId,omitempty"`
}

// Citation types (Citation.Type values).
const (
	CiteKB     = "kb"
	CiteIssue  = "issue"
	CiteRecord = "record"
)

// Citation points at what an answer is grounded in.
type Citation struct {
	// Type is CiteKB, CiteIssue or CiteRecord.
	Type string `json:"type"`
	// ID is the KB entry id, issue id or record id.
	ID string `json:"id"`
	// URL is where the UI shows it: /kb/{id},
	// /calls/{callId}/issues#issue-{id} or /api/v1/records/{id}.
	URL string `json:"url"`
}

// Answer is the assistant's reply.
type Answer struct {
	// Answer is plain text; it may contain short paragraphs (separated by
	// a blank line) and "- " lists.
	Answer string `json:"answer"`
	// Citations are what the answer rests on, never nil.
	Citations []Citation `json:"citations"`
	// Unknowns are what the data cannot tell, never nil.
	Unknowns []string `json:"unknowns"`
	// Model is "" for the deterministic answer, else the model's name.
	Model string `json:"model"`
	// Fallback is true when a model was configured but the deterministic
	// answer was given.
	Fallback bool `json:"fallback"`
	// Note says, for the user, why the answer fell back.
	Note string `json:"note,omitempty"`
}

// Calls is how the assistant reads calls; the CLI and the API wire it to
// the store (through package callview).
type Calls interface {
	// Overview returns a call with participants, streams (MOS filled),
	// Quality, Rating, Completeness and Issues; an error wrapping
	// store.ErrNotFound (tested with IsNotFound) for an unknown call.
	Overview(ctx context.Context, callID string) (model.Call, error)
	// Events returns a call's timeline events (not metric samples) between
	// from and to (zero = unbounded), optionally of one participant.
	Events(ctx context.Context, callID, participantID string, from, to time.Time) ([]model.TimelineEvent, error)
	// Search finds calls by call/participant/endpoint id or identifier
	// (q), newest first, at most limit.
	Search(ctx context.Context, q string, limit int) ([]model.CallSummary, error)
}

// LLM configures the optional OpenAI-compatible chat-completions endpoint.
type LLM struct {
	// URL is the API's base URL; "/chat/completions" is appended.
	URL   string
	Model string
	// Key is sent as "Authorization: Bearer"; "" sends none (local servers).
	Key string
	// Timeout is the whole-answer budget (default 30 s).
	Timeout time.Duration
	// Client is the HTTP client; nil means a default client.
	Client *http.Client
}

// DefaultLLMTimeout is the answer budget of an LLM without a Timeout.
const DefaultLLMTimeout = 30 * time.Second

// LLMFromEnv reads CALLDIAG_LLM_URL, CALLDIAG_LLM_MODEL and
// CALLDIAG_LLM_KEY. It returns nil when the URL or the model is unset, so
// that the assistant stays deterministic unless both are given.
func LLMFromEnv(getenv func(string) string) *LLM {
	u := strings.TrimSpace(getenv("CALLDIAG_LLM_URL"))
	m := strings.TrimSpace(getenv("CALLDIAG_LLM_MODEL"))
	if u == "" || m == "" {
		return nil
	}
	return &LLM{URL: u, Model: m, Key: strings.TrimSpace(getenv("CALLDIAG_LLM_KEY"))}
}

// Config configures an Assistant.
type Config struct {
	// Calls reads calls; nil makes questions about a call get an answer
	// saying no store is available.
	Calls Calls
	// LLM, when set, lets a language model write the answers.
	LLM *LLM
	// Logger receives one line per model failure; nil discards.
	Logger *slog.Logger
}

// Assistant answers troubleshooting questions. It is safe for concurrent
// use.
type Assistant struct {
	calls Calls
	llm   *LLM
	log   *slog.Logger
}

// New returns an Assistant.
func New(cfg Config) *Assistant {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var llm *LLM
	if cfg.LLM != nil {
		c := *cfg.LLM
		if c.Timeout <= 0 {
			c.Timeout = DefaultLLMTimeout
		}
		if c.Client == nil {
			c.Client = &http.Client{}
		}
		llm = &c
	}
	return &Assistant{calls: cfg.Calls, llm: llm, log: log.With("component", "assist")}
}

// ErrEmptyQuestion is returned by Ask for a question with no text.
var ErrEmptyQuestion = errors.New("the question is empty")

// Ask answers a question. It returns an error only for an empty question
// or when ctx ends; everything else the assistant cannot do (an unknown
// call, a store error, a failing model) is said in the answer.
func (a *Assistant) Ask(ctx context.Context, q Question) (Answer, error) {
	q.Question = strings.TrimSpace(q.Question)
	q.CallID = strings.TrimSpace(q.CallID)
	q.ParticipantID = strings.TrimSpace(q.ParticipantID)
	if q.Question == "" {
		return Answer{}, ErrEmptyQuestion
	}
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	det := a.deterministic(ctx, q)
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	if a.llm == nil {
		return det.answer, nil
	}
	ans, err := a.askModel(ctx, q, det)
	if err == nil {
		return ans, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return Answer{}, ctxErr
	}
	a.log.Warn("model answer failed", "model", a.llm.Model, "err", err)
	fb := det.answer
	fb.Fallback = true
	fb.Note = "The language model could not answer (" + err.Error() + "), so this is calldiag's own answer from the knowledge base and the call data."
	return fb, nil
}

// IsNotFound reports whether err says a call does not exist. Calls
// implementations wrap store.ErrNotFound, whose message is "not found";
// assist cannot import store, so it checks the chain for that sentinel's
// text (or a NotFound() bool method).
func IsNotFound(err error) bool {
	if err == nil {
		return false
	}
	if nf, ok := err.(interface{ NotFound() bool }); ok && nf.NotFound() {
		return true
	}
	if err.Error() == "not found" {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return IsNotFound(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if IsNotFound(e) {
				return true
			}
		}
	}
	return false
}

// KBCitation cites a knowledge-base entry.
func KBCitation(id string) Citation {
	return Citation{Type: CiteKB, ID: id, URL: "/kb/" + url.PathEscape(id)}
}

// IssueCitation cites an issue of a call.
func IssueCitation(callID, issueID string) Citation {
	return Citation{Type: CiteIssue, ID: issueID, URL: "/calls/" + url.PathEscape(callID) + "/issues#issue-" + url.PathEscape(issueID)}
}

// RecordCitation cites a stored record.
func RecordCitation(id string) Citation {
	return Citation{Type: CiteRecord, ID: id, URL: "/api/v1/records/" + url.PathEscape(id)}
}
