package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"calldiag/internal/source"
	"calldiag/internal/web"
)

// TestSourcesPage shows the empty state with how to add a source, and a
// followed source and a failing one with their figures and error.
func TestSourcesPage(t *testing.T) {
	f := loadFixture(t)
	now := time.Date(2026, 5, 5, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		list  func() []source.Snapshot
		wants []string
		not   []string
	}{
		"none": {nil, []string{"follows no source", "calldiag serve --source dir://", "CALLDIAG_SOURCE"}, []string{"<table"}},
		"two": {func() []source.Snapshot {
			return []source.Snapshot{
				{Name: "dir:///var/lib/acs-logs", Kind: "dir", State: "following", Streams: 24, Records: 1200345,
					Stored: 1200000, Duplicates: 300, Rejected: 45, LagBytes: 2_500_000, LagSeconds: 3, LastRead: now.Add(-2 * time.Second)},
				{Name: "dir:///mnt/missing", Kind: "dir", State: "retrying", Errors: 3,
					LastError: errors.New("folder /mnt/missing: no such file or directory").Error(), LastErrorAt: now.Add(-time.Minute)},
			}
		}, []string{"2 sources followed", "dir:///var/lib/acs-logs", "following", "1,200,345", "2.5 MB", "2s ago",
			"dir:///mnt/missing", "retrying", "no such file or directory", "3 failures", "nothing yet", "caught up",
			`href="/api/v1/sources"`, `aria-current="page">Sources`}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := web.New(web.Config{Store: f.st, Sources: tc.list, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			h.Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()
			res := get(t, srv, "/sources")
			if res.status != http.StatusOK {
				t.Fatalf("GET /sources = %d", res.status)
			}
			mustContain(t, "sources page", res.body, tc.wants...)
			for _, n := range tc.not {
				if strings.Contains(res.body, n) {
					t.Errorf("sources page has %q", n)
				}
			}
		})
	}
}
