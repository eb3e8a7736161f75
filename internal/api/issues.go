package api

import (
	"net/http"

	"calldiag/internal/callview"
)

func (h *Handler) getIssues(w http.ResponseWriter, r *http.Request) error {
	res, err := callview.Issues(r.Context(), h.cfg.Store, r.PathValue("id"), h.cfg.Rules.Load())
	if err != nil {
		return notFound(err, "call", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
