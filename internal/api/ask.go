package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"calldiag/internal/assist"
)

// Asker answers troubleshooting questions.
type Asker interface {
	Ask(ctx context.Context, q assist.Question) (assist.Answer, error)
}

// maxQuestionBytes bounds an ask request body.
const maxQuestionBytes = 64 << 10

// postAsk answers {question, callId?, participantId?} with the assistant's
// answer: its text, citations, what it does not know, and whether a
// language model wrote it.
func (h *Handler) postAsk(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Assistant == nil {
		return &Error{Status: http.StatusServiceUnavailable, Kind: KindUnavailable, Message: "the assistant is not configured on this server"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxQuestionBytes+1))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "read request body", Err: err}
	}
	if len(body) > maxQuestionBytes {
		return tooLarge(maxQuestionBytes)
	}
	var q assist.Question
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest,
			Message: "the body must be a JSON object {\"question\", \"callId\"?, \"participantId\"?}: " + err.Error()}
	}
	q.Question, q.CallID, q.ParticipantID = strings.TrimSpace(q.Question), strings.TrimSpace(q.CallID), strings.TrimSpace(q.ParticipantID)
	if q.Question == "" {
		return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "question is empty",
			Details: map[string]string{"parameter": "question"}}
	}
	ans, err := h.cfg.Assistant.Ask(r.Context(), q)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: err.Error()}
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}
