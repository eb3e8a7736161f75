package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"calldiag/internal/pipeline"
)

// postIngest accepts a body in any shape ingest reads (gzip allowed, either
// as gzip bytes or with Content-Encoding: gzip), WebRTC dumps included,
// whose call and participant ?callId= and ?participant= may name. The body is read whole
// (bounded by MaxBodyBytes) before anything is stored, so an upload that is
// too large stores nothing. The answer comes after the records are
// committed: 200 when all were stored, 422 when some were rejected and the
// good ones stored, 400 when nothing could be read, 413 over the size
// bound, 429 with Retry-After when the ingest queue is full.
func (h *Handler) postIngest(w http.ResponseWriter, r *http.Request) error {
	release, err := h.enterQueue(w)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	source := r.URL.Query().Get("source")
	if source == "" {
		source = "upload"
	}
	// Content-Encoding: gzip bodies are gzip bytes, which ingest detects
	// itself. A WebRTC dump's call and participant may be named.
	q := r.URL.Query()
	res, err := h.cfg.Pipeline.IngestDump(r.Context(), bytes.NewReader(body), source,
		pipeline.WebRTCOptions{CallID: q.Get("callId"), ParticipantID: q.Get("participant")})
	if err != nil {
		return err
	}
	h.metrics.observe(res, time.Since(start))
	switch {
	case res.Rejected == 0:
		writeJSON(w, http.StatusOK, res)
	case res.Rejected == res.Read:
		return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest,
			Message: "nothing in the upload could be read as a record", Details: res}
	default:
		writeJSON(w, http.StatusUnprocessableEntity, res)
	}
	return nil
}

// readBody reads a request's body whole, bounded by MaxBodyBytes.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	limit := h.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "read request body", Err: err}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

func tooLarge(limit int64) error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Kind: KindPayloadTooLarge,
		Message: "upload exceeds " + strconv.FormatInt(limit, 10) + " bytes; split it or compress it with gzip",
		Details: map[string]int64{"maxBytes": limit}}
}
