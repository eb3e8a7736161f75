package api

import (
	"context"
	"net/http"
)

// Pinner pins and unpins calls: a pinned call is kept beyond the retention
// window. It returns store.ErrNotFound for an unknown call.
type Pinner interface {
	SetPinned(ctx context.Context, callID string, pinned bool) error
}

// putPin pins a call (PUT /api/v1/calls/{id}/pin): 204, or 404 for an
// unknown call. Pinning a pinned call is not an error.
func (h *Handler) putPin(w http.ResponseWriter, r *http.Request) error {
	return h.setPinned(w, r, true)
}

// deletePin unpins a call (DELETE /api/v1/calls/{id}/pin): 204, or 404 for
// an unknown call.
func (h *Handler) deletePin(w http.ResponseWriter, r *http.Request) error {
	return h.setPinned(w, r, false)
}

func (h *Handler) setPinned(w http.ResponseWriter, r *http.Request, pinned bool) error {
	if h.cfg.Pinner == nil {
		return &Error{Status: http.StatusServiceUnavailable, Kind: KindUnavailable, Message: "pinning calls is not available"}
	}
	if err := h.cfg.Pinner.SetPinned(r.Context(), r.PathValue("id"), pinned); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
