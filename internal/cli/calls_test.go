package cli

import (
	"strings"
	"testing"
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
