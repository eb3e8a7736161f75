package web

import (
	"testing"

	"calldiag/internal/store"
)

func TestMatchesText(t *testing.T) {
	for _, tc := range []struct {
		total  int
		capped bool
		want   string
	}{
		{0, false, "No calls match."},
		{1, false, "1 call matches."},
		{2, false, "2 calls match."},
		{999, false, "999 calls match."},
		{1000, false, "1,000 calls match."},
		{1234567, false, "1,234,567 calls match."},
		{10000, true, "10,000+ calls match."},
	} {
		if got := matchesText(store.CallPage{Total: tc.total, TotalCapped: tc.capped}); got != tc.want {
			t.Errorf("total %d capped %v: %q, want %q", tc.total, tc.capped, got, tc.want)
		}
	}
}
