package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"calldiag/internal/store"
)

// facetReader answers Facets; the API must not call anything else here.
type facetReader struct {
	Reader
	facets store.Facets
	err    error
}

func (r facetReader) Facets(context.Context) (store.Facets, error) { return r.facets, r.err }

func TestGetFacets(t *testing.T) {
	facets := store.Facets{
		CallTypes:     []store.FacetValue{{Value: "Group", Calls: 3}, {Value: "P2P", Calls: 1}},
		EndpointTypes: []store.FacetValue{{Value: "VoIP", Calls: 4}},
		SDKs:          []store.FacetValue{},
		OSes:          []store.FacetValue{{Value: "Windows", Calls: 2}},
		Resources:     []store.FacetValue{{Value: "/subscriptions/s/acs", Calls: 4}},
	}
	tests := []struct {
		name     string
		reader   facetReader
		status   int
		contains []string
	}{
		{"facets", facetReader{facets: facets}, http.StatusOK, []string{
			`"callTypes":[{"value":"Group","calls":3},{"value":"P2P","calls":1}]`,
			`"endpointTypes":[{"value":"VoIP","calls":4}]`, `"sdks":[]`,
			`"oses":[{"value":"Windows","calls":2}]`, `"resources":[{"value":"/subscriptions/s/acs","calls":4}]`,
		}},
		{"store error", facetReader{err: errors.New("disk on fire")}, http.StatusInternalServerError, []string{`"kind":"internal"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			New(Config{Store: tc.reader}).Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/facets", nil))
			body := rec.Body.String()
			if rec.Code != tc.status || !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("status %d, body %s; want %d and JSON", rec.Code, body, tc.status)
			}
			for _, want := range tc.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body %s lacks %s", body, want)
				}
			}
			if strings.Contains(body, "disk on fire") {
				t.Errorf("the internal error reached the client: %s", body)
			}
		})
	}
}
