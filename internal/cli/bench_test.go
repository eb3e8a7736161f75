package cli

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestBenchQuickJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("bench --quick generates and ingests a corpus of about 150 MB; skipped with -short")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the corpus and stores go here and must be removed
	before := dirNames(t, ".")

	out, errs, code := run(t, nil, "bench", "--quick", "--json")
	if code != 0 {
		t.Fatalf("bench --quick --json: exit %d\nstderr: %s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if rep["store"] != "sqlite" {
		t.Errorf("store = %v, want sqlite", rep["store"])
	}
	for _, key := range []string{"calls", "records", "ingestRecordsPerSec", "decodeOnlyRecordsPerSec", "freshnessMs",
		"searchP95Ms", "callDetailMs", "timelineMs", "storeBytesPerCall", "idIndexBytesPerCall", "rawArchiveBytesPerCall", "sourceFreshnessP95Ms",
		"rawGzipBytesPerCall", "peakRSSBytes"} {
		v, ok := rep[key].(float64)
		switch {
		case !ok:
			t.Errorf("%s = %v, want a number", key, rep[key])
		case key == "rawArchiveBytesPerCall" && v < 0, key != "rawArchiveBytesPerCall" && v <= 0:
			t.Errorf("%s = %v, want a positive number", key, v)
		}
	}
	if calls, _ := rep["calls"].(float64); calls < 40 {
		t.Errorf("calls = %v, want the quick corpus of about 40 calls and the large one", calls)
	}
	if after := dirNames(t, "."); !slices.Equal(before, after) {
		t.Errorf("bench left files in the working directory: before %v, after %v", before, after)
	}
	if left := dirNames(t, tmp); len(left) > 0 {
		t.Errorf("bench left files in the temporary folder: %v", left)
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--runs", "0"},
		{"bench", "--calls", "-1"},
		{"bench", "--store", "ftp://x"},
		{"bench", "--db", "a", "--store", "sqlite:b"},
	} {
		if _, _, code := run(t, nil, args...); code != ExitUsage {
			t.Errorf("calldiag %v: exit %d, want %d", args, code, ExitUsage)
		}
	}
}
