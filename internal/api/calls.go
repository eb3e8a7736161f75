package api

import (
	"net/http"

	"calldiag/internal/callview"
)

func (h *Handler) listCalls(w http.ResponseWriter, r *http.Request) error {
	q, err := callview.ParseCallQuery(r.URL.Query().Get, h.cfg.Now())
	if err != nil {
		return err
	}
	page, err := h.cfg.Store.SearchCalls(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (h *Handler) getCall(w http.ResponseWriter, r *http.Request) error {
	c, err := callview.Overview(r.Context(), h.cfg.Store, r.PathValue("id"), h.cfg.Rules.Load())
	if err != nil {
		return notFound(err, "call", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *Handler) getTimeline(w http.ResponseWriter, r *http.Request) error {
	q, err := callview.ParseTimelineQuery(r.PathValue("id"), r.URL.Query().Get, h.cfg.Now())
	if err != nil {
		return err
	}
	tl, err := h.cfg.Store.Timeline(r.Context(), q)
	if err != nil {
		return notFound(err, "call", q.CallID)
	}
	writeJSON(w, http.StatusOK, tl)
	return nil
}

func (h *Handler) getRecord(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.cfg.Store.Record(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFound(err, "record", r.PathValue("id"))
	}
	w.Header().Set("Content-Type", RecordContentType(rec.Raw))
	w.Header().Set("X-Calldiag-Category", string(rec.Category))
	w.WriteHeader(http.StatusOK)
	w.Write(rec.Raw)
	return nil
}
