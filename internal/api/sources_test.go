package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"calldiag/internal/source"
)

func TestGetSources(t *testing.T) {
	follow := source.NewStatus("dir:///logs", "dir")
	for name, tc := range map[string]struct {
		list func() []source.Snapshot
		want []string
	}{
		"none configured": {nil, []string{}},
		"one folder":      {func() []source.Snapshot { return []source.Snapshot{follow.Snapshot()} }, []string{"dir:///logs"}},
	} {
		t.Run(name, func(t *testing.T) {
			mux := http.NewServeMux()
			New(Config{Sources: tc.list}).Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/sources", nil))
			var body struct {
				Sources []source.Snapshot `json:"sources"`
			}
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Sources == nil {
				t.Fatalf("GET /api/v1/sources = %d %s; want 200 and a list", rec.Code, rec.Body)
			}
			var names []string
			for _, s := range body.Sources {
				names = append(names, s.Name)
				if s.Kind != "dir" || s.State != "starting" {
					t.Errorf("source %+v", s)
				}
			}
			if len(names) != len(tc.want) || len(names) > 0 && names[0] != tc.want[0] {
				t.Errorf("sources %v, want %v", names, tc.want)
			}
		})
	}
}
