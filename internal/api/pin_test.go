package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"calldiag/internal/store"
)

// fakePinner knows a fixed set of calls and remembers which are pinned.
type fakePinner struct {
	pinned map[string]bool
	err    error
}

func (p *fakePinner) SetPinned(_ context.Context, id string, pinned bool) error {
	if p.err != nil {
		return p.err
	}
	if _, ok := p.pinned[id]; !ok {
		return fmt.Errorf("pin call %s: %w", id, store.ErrNotFound)
	}
	p.pinned[id] = pinned
	return nil
}

func TestPin(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		pinner     *fakePinner
		status     int
		wantPinned map[string]bool
		kind       string
	}{
		{"pin", http.MethodPut, "/api/v1/calls/c-1/pin", &fakePinner{pinned: map[string]bool{"c-1": false}},
			http.StatusNoContent, map[string]bool{"c-1": true}, ""},
		{"pin twice", http.MethodPut, "/api/v1/calls/c-1/pin", &fakePinner{pinned: map[string]bool{"c-1": true}},
			http.StatusNoContent, map[string]bool{"c-1": true}, ""},
		{"unpin", http.MethodDelete, "/api/v1/calls/c-1/pin", &fakePinner{pinned: map[string]bool{"c-1": true}},
			http.StatusNoContent, map[string]bool{"c-1": false}, ""},
		{"unknown call", http.MethodPut, "/api/v1/calls/nope/pin", &fakePinner{pinned: map[string]bool{"c-1": false}},
			http.StatusNotFound, map[string]bool{"c-1": false}, KindNotFound},
		{"unpin unknown call", http.MethodDelete, "/api/v1/calls/nope/pin", &fakePinner{pinned: map[string]bool{}},
			http.StatusNotFound, map[string]bool{}, KindNotFound},
		{"store error", http.MethodPut, "/api/v1/calls/c-1/pin", &fakePinner{err: errors.New("disk on fire")},
			http.StatusInternalServerError, nil, KindInternal},
		{"no pinner", http.MethodPut, "/api/v1/calls/c-1/pin", nil, http.StatusServiceUnavailable, nil, KindUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			if tc.pinner != nil {
				cfg.Pinner = tc.pinner
			}
			mux := http.NewServeMux()
			New(cfg).Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("%s %s: status %d, body %s; want %d", tc.method, tc.path, rec.Code, rec.Body, tc.status)
			}
			if tc.status == http.StatusNoContent && rec.Body.Len() != 0 {
				t.Errorf("204 with a body: %q", rec.Body)
			}
			if tc.kind != "" {
				var env struct {
					Error struct{ Kind string } `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Kind != tc.kind {
					t.Errorf("body %s: want an error envelope of kind %s", rec.Body, tc.kind)
				}
				if strings.Contains(rec.Body.String(), "disk on fire") {
					t.Errorf("the internal error reached the client: %s", rec.Body)
				}
			}
			if tc.pinner != nil && tc.wantPinned != nil {
				for id, want := range tc.wantPinned {
					if got := tc.pinner.pinned[id]; got != want {
						t.Errorf("after %s %s: %s pinned = %v, want %v", tc.method, tc.path, id, got, want)
					}
				}
			}
		})
	}
}
