package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "calldiag/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("go command not available: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// allowed lists, per package, the calldiag packages it may import, and why
// the layering matters: model is the bottom; parsers, stores and the
// simulator build on it; pipeline joins parsers to stores; api and web
// present; cli alone wires concrete implementations together.
var allowed = map[string][]string{
	"calldiag/internal/model":             {},
	"calldiag/internal/catalog":           {"model"},
	"calldiag/internal/chart":             {"model"},
	"calldiag/internal/ingest":            {"model"},
	"calldiag/internal/ingest/acs":        {"ingest", "model", "catalog"},
	"calldiag/internal/ingest/webrtc":     {"model"},
	"calldiag/internal/ingest/webrtcmap":  {"ingest/webrtc", "model"},
	"calldiag/internal/store":             {"model"},
	"calldiag/internal/store/sqlite":      {"store", "store/callfold", "model"},
	"calldiag/internal/store/storetest":   {"store", "model"},
	"calldiag/internal/store/callfold":    {"model"},
	"calldiag/internal/store/clickhouse":  {"store", "store/callfold", "model"},
	"calldiag/internal/simulate":          {"model", "catalog"},
	"calldiag/internal/detect":            {"model", "catalog"},
	"calldiag/internal/pipeline":          {"ingest", "ingest/acs", "ingest/webrtc", "ingest/webrtcmap", "detect", "store", "model"},
	"calldiag/internal/callview":          {"pipeline", "detect", "store", "model"},
	"calldiag/internal/api":               {"store", "pipeline", "detect", "model", "ingest", "callview", "assist", "source"},
	"calldiag/internal/server":            {"api", "web", "calldiag/sdk/js"},
	"calldiag/internal/web":               {"callview", "chart", "detect", "catalog", "store", "model", "assist", "source"},
	"calldiag/internal/eval":              {"detect", "simulate", "catalog", "model"},
	"calldiag/internal/assist":            {"model", "catalog", "detect"},
	"calldiag/internal/mcp":               {"callview", "detect", "catalog", "store", "model"},
	"calldiag/internal/bench":             {"simulate", "pipeline", "callview", "detect", "store", "source"},
	"calldiag/internal/source":            {"ingest", "pipeline", "store", "model"},
	"calldiag/internal/source/sourcetest": {},
	"calldiag/internal/archtest":          {},
	"calldiag/internal/browsertest":       {},
	"calldiag/internal/realcall":          {}, // tests only: they drive the whole binary through cli
	// Packages outside internal/ are named by their whole import path.
	"calldiag/sdk/js": {},
}

var reasons = map[string]string{
	"calldiag/internal/model":    "model is the bottom of the graph: plain data, standard library only",
	"calldiag/internal/ingest":   "parsers must not know about storage or presentation",
	"calldiag/internal/store":    "the store seam sees only the model",
	"calldiag/internal/simulate": "the simulator writes raw logs; it must not shortcut through ingest or store",
	"calldiag/internal/detect":   "detection is a pure function over the model; it reads no store and knows no input format",
	"calldiag/internal/api":      "the API reads the store through its own interface and never builds a concrete store",
	"calldiag/internal/server":   "the server mounts handlers; wiring belongs to cli",
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.HasPrefix(p.ImportPath, "calldiag/cmd/") || p.ImportPath == "calldiag/internal/cli" {
			continue
		}
		rules, ok := allowed[p.ImportPath]
		if !ok {
			t.Errorf("package %s has no import rule: add it to allowed in arch_test.go", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			rel, internal := strings.CutPrefix(imp, "calldiag/internal/")
			if !internal {
				if !strings.HasPrefix(imp, "calldiag/") {
					continue
				}
				rel = imp
			}
			ok := false
			for _, a := range rules {
				if a == rel {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s must not import %s (%s)", p.ImportPath, imp, reasons[p.ImportPath])
			}
		}
		if p.ImportPath == "calldiag/internal/model" {
			for _, imp := range p.Imports {
				if strings.Contains(imp, ".") {
					t.Errorf("model imports %s: it may use the standard library only", imp)
				}
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no package doc comment", p.ImportPath)
		}
	}
}
