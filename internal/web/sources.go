package web

import (
	"net/http"

	"calldiag/internal/source"
)

type sourcesPage struct {
	Layout
	Sources []source.Snapshot
}

// sources shows the continuous sources the server follows: their state,
// what they read, stored and rejected, how far behind they are and why
// one is failing.
func (h *Handler) sources(_ http.ResponseWriter, r *http.Request) (string, any, error) {
	v := sourcesPage{Layout: h.layout(r, "Sources")}
	v.Section = "sources"
	v.APILink = "/api/v1/sources"
	if h.cfg.Sources != nil {
		v.Sources = h.cfg.Sources()
	}
	return "sources", v, nil
}
