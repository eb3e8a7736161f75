package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"calldiag/internal/source"
	"calldiag/internal/store/sqlite"
)

func TestParseBlobSource(t *testing.T) {
	for _, tc := range []struct {
		in, wantErr string
		wantRaw     string
		poll        time.Duration
		list        time.Duration
		settle      time.Duration
	}{
		{in: "blob://acsdiag", wantRaw: "blob://acsdiag?prefix=insights-logs-"},
		{in: "blob://acsdiag/?poll=30s", wantRaw: "blob://acsdiag?prefix=insights-logs-", poll: 30 * time.Second},
		{in: "blob://acsdiag?prefix=", wantRaw: "blob://acsdiag?prefix="},
		{in: "blob://acsdiag/insights-logs-callsummary", wantRaw: "blob://acsdiag/insights-logs-callsummary"},
		{in: "blob://acsdiag/logs?prefix=insights-logs-&poll=5s&settle=1m&list=2m",
			wantRaw: "blob://acsdiag/logs?prefix=insights-logs-", poll: 5 * time.Second, list: 2 * time.Minute, settle: time.Minute},
		{in: "blob://acsdiag/logs?prefix=", wantRaw: "blob://acsdiag/logs"},
		{in: "blob://", wantErr: "want blob://ACCOUNT"},
		{in: "blob://ACSDiag/logs", wantErr: "storage account's name"},
		{in: "blob://acsdiag/Logs", wantErr: "no container name"},
		{in: "blob://acsdiag/logs/resourceId=x", wantErr: "use ?prefix="},
		{in: "blob://acsdiag/logs?poll=0s", wantErr: "poll=0s is not a positive duration"},
		{in: "blob://acsdiag/logs?list=-1s", wantErr: "list=-1s is not a positive duration"},
		{in: "blob://acsdiag/logs?key=abc", wantErr: "unknown parameter key"},
	} {
		got, err := parseSource(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseSource(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
		case err != nil || got.raw != tc.wantRaw || got.kind != "blob" || got.poll != tc.poll || got.list != tc.list || got.settle != tc.settle || got.build == nil:
			t.Errorf("parseSource(%q) = %+v, %v; want %s polled every %v, listed every %v, settle %v", tc.in, got, err, tc.wantRaw, tc.poll, tc.list, tc.settle)
		}
	}
}

// TestBlobSourceCredentials builds a blob source from the environment: a
// missing or malformed credential stops the start and names the variable.
func TestBlobSourceCredentials(t *testing.T) {
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const azurite = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
		"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
		"BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
	for _, tc := range []struct {
		name, url, conn, key string
		wantErr              []string
	}{
		{name: "none", url: "blob://acsdiag", wantErr: []string{source.EnvConnectionString, source.EnvStorageKey, "acsdiag"}},
		{name: "key not base64", url: "blob://acsdiag", key: "not a key!", wantErr: []string{source.EnvStorageKey}},
		{name: "connection string of another account", url: "blob://acsdiag", conn: azurite,
			wantErr: []string{source.EnvConnectionString, "devstoreaccount1"}},
		{name: "account key", url: "blob://acsdiag/logs", key: "a2V5"},
		{name: "connection string", url: "blob://devstoreaccount1/logs", conn: azurite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{source.EnvConnectionString: tc.conn, source.EnvStorageKey: tc.key}
			sp, err := parseSource(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			f, err := sp.build(sourceDeps{store: st, status: source.NewStatus(sp.raw, sp.kind), env: func(k string) string { return env[k] }})
			if len(tc.wantErr) == 0 {
				if _, ok := f.(*source.Blob); err != nil || !ok {
					t.Fatalf("build = %T, %v; want a blob follower", f, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("build succeeded; want an error naming %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("build = %v; want it to name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Eby8vdM02") || (tc.key != "" && strings.Contains(err.Error(), tc.key)) {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}
