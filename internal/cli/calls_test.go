package cli

import (
	"strings"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

func TestCallsFacetFlags(t *testing.T) {
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	const resource = "/SUBSCRIPTIONS/11111111-2222-3333-4444-555555555555/RESOURCEGROUPS/CONTOSO-RG/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/CONTOSO-ACS"
	for _, f := range []struct {
		args []string
		want int
	}{
		{[]string{"--call-type", "p2p"}, 1},
		{[]string{"--call-type", "Group"}, 0},
		{[]string{"--endpoint-type", "voip"}, 1},
		{[]string{"--endpoint-type", "PSTN"}, 0},
		{[]string{"--sdk", "1.19.2.2_BETA"}, 1},
		{[]string{"--sdk", "9.9.9"}, 0},
		{[]string{"--os", "windows"}, 1},
		{[]string{"--os", "Android"}, 1},
		{[]string{"--os", "iOS"}, 0},
		{[]string{"--resource", resource}, 1},
		{[]string{"--resource", strings.ToLower(resource)}, 1},
		{[]string{"--resource", resource + "-other"}, 0},
		{[]string{"--call-type", "P2P", "--endpoint-type", "VoIP", "--sdk", "1.32.1.0_stable", "--os", "Android", "--resource", resource}, 1},
		{[]string{"--call-type", "P2P", "--os", "macOS"}, 0},
		{[]string{"--os", "Windows", "--quality", "Poor"}, 1},
	} {
		if got := searchJSON(t, append([]string{"--db", db}, f.args...)...).Total; got != f.want {
			t.Errorf("calls %v: %d calls, want %d", f.args, got, f.want)
		}
	}
	for _, bad := range [][]string{{"--call-type", "conference"}, {"--os", "Darwin"}} {
		_, errs, code := run(t, nil, append([]string{"calls", "--db", db}, bad...)...)
		if code != ExitUsage || !strings.Contains(errs, bad[0][2:]) {
			t.Errorf("calls %v: exit %d, stderr %q; want a usage error naming %s", bad, code, errs, bad[0])
		}
	}
	// The text output takes the same filters.
	if out := mustRun(t, "calls", "--db", db, "--os", "Linux"); !strings.Contains(out, "no calls") {
		t.Errorf("calls --os Linux printed %q, want no calls", out)
	}
}

func TestPrintCallsTotal(t *testing.T) {
	one := []model.CallSummary{{ID: "c1", StartTime: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}}
	for _, tc := range []struct {
		page store.CallPage
		want string
	}{
		{store.CallPage{Calls: one, Total: 1}, "1 of 1 calls"},
		{store.CallPage{Calls: one, Total: 1234}, "1 of 1,234 calls"},
		{store.CallPage{Calls: one, Total: 10000, TotalCapped: true}, "1 of 10,000+ calls"},
		{store.CallPage{Calls: one, Total: 999999}, "1 of 999,999 calls"},
	} {
		var b strings.Builder
		printCalls(&b, tc.page)
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("total %d capped %v printed %q, want %q", tc.page.Total, tc.page.TotalCapped, b.String(), tc.want)
		}
	}
}
