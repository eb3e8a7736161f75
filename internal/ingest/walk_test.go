package ingest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) string {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, rel := range []string{
		"logs/y=2026/m=03/d=02/h=10/m=00/PT1H.json",
		"logs/y=2026/m=03/d=02/h=09/m=00/PT1H.json",
		"logs/b.csv",
		"logs/A.json.gz",
		"logs/.hidden.json",
		"logs/.git/config",
		"logs/sub/.cache/x.json",
	} {
		mk(rel)
	}
	single := mk(".explicit.json")
	if err := os.Symlink(filepath.Join(dir, "logs", "b.csv"), filepath.Join(dir, "logs", "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "logs", "dangling.csv")); err != nil {
		t.Fatal(err)
	}
	logs := filepath.Join(dir, "logs")
	j := func(rel string) string { return filepath.Join(logs, filepath.FromSlash(rel)) }

	got, err := Files([]string{"-", logs, single})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-",
		j("A.json.gz"),
		j("b.csv"),
		j("link.csv"),
		j("y=2026/m=03/d=02/h=09/m=00/PT1H.json"),
		j("y=2026/m=03/d=02/h=10/m=00/PT1H.json"),
		single,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Files =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	missing := filepath.Join(dir, "no-such-dir")
	if _, err := Files([]string{logs, missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing path: error %v should name %s", err, missing)
	}

	if got, err := Files(nil); err != nil || len(got) != 0 {
		t.Errorf("Files(nil) = %v, %v", got, err)
	}
}
