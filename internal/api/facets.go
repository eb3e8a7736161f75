package api

import "net/http"

// getFacets lists the values the call search filters call-type,
// endpoint-type, sdk, os and resource can take, with how many calls have
// each, so that a search form can offer them.
func (h *Handler) getFacets(w http.ResponseWriter, r *http.Request) error {
	f, err := h.cfg.Store.Facets(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
