package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"calldiag/internal/store"
)

func notFound(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Kind: KindNotFound, Message: what + " " + id + " not found",
			Details: map[string]string{what: id}}
	}
	return err
}

// RecordContentType is application/json for a record that is valid JSON
// (every stored record is, unless it arrived as something else).
func RecordContentType(raw []byte) string {
	if json.Valid(raw) {
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}
