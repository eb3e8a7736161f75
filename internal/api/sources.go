package api

import (
	"net/http"

	"calldiag/internal/source"
)

// getSources lists the continuous sources the server follows with their
// state: records read, stored and rejected, lag and the last error.
func (h *Handler) getSources(w http.ResponseWriter, _ *http.Request) error {
	list := []source.Snapshot{}
	if h.cfg.Sources != nil {
		list = append(list, h.cfg.Sources()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": list})
	return nil
}
