package simulate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// readTree returns the files under dir by slash path relative to dir.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeCorpus(t *testing.T, cfg Config) (string, Labels) {
	t.Helper()
	dir := t.TempDir()
	labels, err := Write(context.Background(), cfg, dir)
	if err != nil {
		t.Fatalf("Write(%+v): %v", cfg, err)
	}
	return dir, labels
}

func TestWriteDeterministic(t *testing.T) {
	cfg := Config{Calls: 10, Seed: 99, Start: testStart}
	dirA, labelsA := writeCorpus(t, cfg)
	dirB, labelsB := writeCorpus(t, cfg)
	a, b := readTree(t, dirA), readTree(t, dirB)
	if len(a) < 10 {
		t.Fatalf("only %d files written", len(a))
	}
	if len(a) != len(b) {
		t.Fatalf("runs wrote %d and %d files", len(a), len(b))
	}
	for p, da := range a {
		if db, ok := b[p]; !ok || !bytes.Equal(da, db) {
			t.Fatalf("file %s differs between identical runs", p)
		}
	}
	ja, _ := json.Marshal(labelsA)
	jb, _ := json.Marshal(labelsB)
	if !bytes.Equal(ja, jb) {
		t.Fatal("returned labels differ between identical runs")
	}
	var onDisk Labels
	if err := json.Unmarshal(a["labels.json"], &onDisk); err != nil {
		t.Fatalf("labels.json: %v", err)
	}
	if jd, _ := json.Marshal(onDisk); !bytes.Equal(jd, ja) {
		t.Error("labels.json differs from the returned labels")
	}

	cfg.Seed = 100
	dirC, labelsC := writeCorpus(t, cfg)
	c := readTree(t, dirC)
	if jc, _ := json.Marshal(labelsC); bytes.Equal(jc, ja) {
		t.Error("a different seed gave the same labels")
	}
	same := 0
	for p, dc := range c {
		if bytes.Equal(a[p], dc) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d files identical across different seeds", same)
	}
}

// A call's content depends on its seed and index only, not on how many
// calls are generated.
func TestCallIndependentOfCount(t *testing.T) {
	collect := func(n int) map[string][][]byte {
		out := map[string][][]byte{}
		_, err := Records(Config{Calls: n, Seed: 4, Start: testStart}, func(cat string, line []byte) error {
			var e struct {
				Corr  string `json:"correlationId"`
				Props struct {
					CallID string `json:"CallId"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(line, &e); err != nil {
				return err
			}
			id := e.Corr
			if e.Props.CallID != "" {
				id = e.Props.CallID
			}
			out[id] = append(out[id], slices.Clone(line))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	small, large := collect(3), collect(8)
	n := 0
	for id, lines := range small {
		if id == "" {
			continue // pre-call operations carry no call id
		}
		n++
		if !slices.EqualFunc(lines, large[id], bytes.Equal) {
			t.Errorf("call %s differs when more calls are generated", id)
		}
	}
	if n != 3 {
		t.Errorf("found %d calls, want 3", n)
	}
}

var blobPathRE = regexp.MustCompile(`^logs/insights-logs-([a-z]+)/resourceId=/SUBSCRIPTIONS/([^/]+)/RESOURCEGROUPS/([^/]+)/PROVIDERS/MICROSOFT\.COMMUNICATION/COMMUNICATIONSERVICES/([^/]+)/y=(\d{4})/m=(\d{2})/d=(\d{2})/h=(\d{2})/m=00/PT1H\.json$`)

func TestWriteLayout(t *testing.T) {
	cfg := Config{Calls: 12, Seed: 21, Start: testStart}
	dir, labels := writeCorpus(t, cfg)
	files := readTree(t, dir)
	lines := map[[32]byte]int{}
	cats := map[string]bool{}
	total := 0
	for p, data := range files {
		if p == "labels.json" {
			continue
		}
		m := blobPathRE.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("unexpected file %s", p)
		}
		hour, err := time.Parse("2006-01-02T15", m[5]+"-"+m[6]+"-"+m[7]+"T"+m[8])
		if err != nil {
			t.Fatal(err)
		}
		wantRes := "SUBSCRIPTIONS/" + m[2] + "/RESOURCEGROUPS/" + m[3] + "/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/" + m[4]
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Fatalf("%s: empty or not newline-terminated", p)
		}
		var prev time.Time
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Bytes()
			total++
			lines[sha256.Sum256(line)]++
			var env map[string]json.RawMessage
			if err := json.Unmarshal(line, &env); err != nil {
				t.Fatalf("%s:%d: invalid JSON: %v", p, n, err)
			}
			for _, k := range []string{"time", "resourceId", "category", "operationName", "operationVersion", "correlationId", "level", "properties"} {
				if _, ok := env[k]; !ok {
					t.Fatalf("%s:%d: envelope key %s missing", p, n, k)
				}
			}
			var e record
			if err := json.Unmarshal(line, &e); err != nil || e.Props == nil {
				t.Fatalf("%s:%d: properties is not an object: %v", p, n, err)
			}
			if strings.ToLower(e.Category) != m[1] {
				t.Fatalf("%s:%d: category %s in blob of %s", p, n, e.Category, m[1])
			}
			cats[e.Category] = true
			if e.ResourceID != wantRes {
				t.Fatalf("%s:%d: resourceId %s, want %s", p, n, e.ResourceID, wantRes)
			}
			tm, err := time.Parse(time.RFC3339Nano, e.Time)
			if err != nil {
				t.Fatalf("%s:%d: time: %v", p, n, err)
			}
			if h := tm.Truncate(time.Hour); !h.Equal(hour) && !h.Add(time.Hour).Equal(hour) {
				t.Fatalf("%s:%d: record time %s in the blob of hour %s", p, n, tm, hour)
			}
			if tm.Before(prev) {
				t.Fatalf("%s:%d: records not sorted by time", p, n)
			}
			prev = tm
		}
	}
	for _, c := range []string{catSummary, catSummaryUpdates, catDiagnostics, catDiagnosticsUpdates, catClientOps, catMediaStats} {
		if !cats[c] {
			t.Errorf("no %s records", c)
		}
	}
	dups := 0
	for _, n := range lines {
		if n > 1 {
			dups++
		}
	}
	if dups == 0 {
		t.Error("no record was duplicated into a neighbouring blob")
	}
	if dups > total/100 {
		t.Errorf("%d of %d records duplicated", dups, total)
	}
	if len(labels.Calls) != cfg.Calls {
		t.Errorf("labels for %d calls, want %d", len(labels.Calls), cfg.Calls)
	}

	// Records yields exactly the lines Write wrote.
	fromRecords := map[[32]byte]int{}
	if _, err := Records(cfg, func(_ string, line []byte) error {
		fromRecords[sha256.Sum256(line)]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(fromRecords) != len(lines) {
		t.Fatalf("Records yielded %d distinct lines, Write wrote %d", len(fromRecords), len(lines))
	}
	for h, n := range lines {
		if fromRecords[h] != n {
			t.Fatalf("a line occurs %d times in the blobs and %d times from Records", n, fromRecords[h])
		}
	}
}

func TestLabelsNameRealParticipants(t *testing.T) {
	g := testGenerator(t, 13)
	kinds, culprits := map[string]bool{}, map[string]bool{}
	for _, k := range Kinds() {
		kinds[k] = true
	}
	for _, c := range Culprits() {
		culprits[c] = true
	}
	faults := 0
	for i := 0; i < 40; i++ {
		if len(planned(g, i).legs) > 8 {
			continue
		}
		_, cl, recs := generated(t, g, i)
		legs := map[string]bool{}
		for j := range recs {
			if r := &recs[j]; r.Category == catSummary || r.Category == catSummaryUpdates {
				legs[r.legKey()] = true
				if r.CorrelationID != cl.CallID {
					t.Fatalf("summary row of call %s has correlationId %s", cl.CallID, r.CorrelationID)
				}
			}
		}
		if cl.Faults == nil {
			t.Fatal("Faults is nil; healthy calls must carry an empty list")
		}
		for _, f := range cl.Faults {
			faults++
			if !legs[f.ParticipantID] {
				t.Errorf("call %s: fault %s names participant %s absent from the summary", cl.CallID, f.Kind, f.ParticipantID)
			}
			if !kinds[f.Kind] || !culprits[f.Culprit] {
				t.Errorf("fault outside the vocabulary: %+v", f)
			}
			if f.Direction != "" && f.Direction != DirectionInbound && f.Direction != DirectionOutbound {
				t.Errorf("direction %q", f.Direction)
			}
			if f.End.Before(f.Start) || f.Start.Location() != time.UTC {
				t.Errorf("fault window %s–%s", f.Start, f.End)
			}
		}
	}
	if faults == 0 {
		t.Fatal("no faults in 40 calls")
	}
}

// TestCorpus checks rates and messiness over 500 calls of a fixed seed.
// Bounds are loose; they hold for this seed and catch gross regressions.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 500 calls")
	}
	const n = 500
	type summary struct {
		typ      string
		duration float64
		legs     map[string]bool
		res      map[string]bool
		types    map[string]bool
	}
	calls := map[string]*summary{}
	patterns := map[string][]string{
		"string number":       {`"participantDuration":"`},
		"plain number":        {`"callDuration":1`, `"callDuration":2`, `"callDuration":3`, `"callDuration":4`, `"callDuration":5`, `"callDuration":6`, `"callDuration":7`, `"callDuration":8`, `"callDuration":9`},
		"null string":         {`:"null"`},
		"json null":           {`:null`},
		"lower subcode key":   {`"participantEndSubCode":`},
		"upper subcode key":   {`"ParticipantEndSubCode":`},
		"lower version key":   {`"callupdatesversion":`},
		"upper version key":   {`"CallUpdatesVersion":`},
		"leading space id":    {`"participantId":" `},
		"redacted":            {`"sdkVersion":"Redacted"`},
		"teams thread":        {`"teamsThreadId":"19:meeting_`},
		"lower ufd key":       {`diagnosticChanged`},
		"VOIP spelling":       {`"endpointType":"VOIP"`},
		"pre-call operation":  {`"CallId":"","ParticipantId":""`},
		"tcp":                 {`"transportType":"TCP"`},
		"survey":              {`"OverallRatingScore":`},
		"recording":           {`"RecordingSummary"`},
		"call automation":     {`"operationName":"AnswerCall"`},
		"failed operation":    {`"ResultType":"Failed"`},
		"expected error":      {`"ResultType":"ExpectedError"`},
		"early null duration": {`"callDuration":null`, `"callDuration":"null"`},
	}
	seen := map[string]bool{}
	var prev []byte
	dups := 0
	labels, err := Records(Config{Calls: n, Seed: 42, Start: testStart}, func(cat string, line []byte) error {
		if bytes.Equal(line, prev) {
			dups++
		}
		prev = append(prev[:0], line...)
		if cat == catMediaStats {
			return nil
		}
		for name, pats := range patterns {
			if seen[name] {
				continue
			}
			for _, p := range pats {
				if bytes.Contains(line, []byte(p)) {
					seen[name] = true
				}
			}
		}
		if cat != catSummary {
			return nil
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		s := calls[r.CorrelationID]
		if s == nil {
			s = &summary{legs: map[string]bool{}, res: map[string]bool{}, types: map[string]bool{}}
			calls[r.CorrelationID] = s
		}
		s.typ = r.str("callType")
		s.duration, _ = r.num("callDuration")
		s.legs[r.legKey()] = true
		s.res[r.ResourceID] = true
		s.types[strings.ToUpper(r.str("endpointType"))] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range patterns {
		if !seen[name] {
			t.Errorf("no record shows %s", name)
		}
	}
	if dups == 0 {
		t.Error("no duplicated record")
	}
	if len(calls) < n*95/100 {
		t.Fatalf("final summaries for %d calls, want nearly %d", len(calls), n)
	}
	var p2p, multiRes, big, maxLegs int
	var durations []float64
	types := map[string]bool{}
	for _, s := range calls {
		if s.typ == "P2P" {
			p2p++
		}
		if len(s.res) > 1 {
			multiRes++
		}
		if len(s.legs) >= 50 {
			big++
		}
		maxLegs = max(maxLegs, len(s.legs))
		durations = append(durations, s.duration)
		for k := range s.types {
			types[k] = true
		}
	}
	sort.Float64s(durations)
	median := durations[len(durations)/2]
	healthy := 0
	kinds := map[string]int{}
	for _, c := range labels.Calls {
		if len(c.Faults) == 0 {
			healthy++
		}
		for _, f := range c.Faults {
			kinds[f.Kind]++
		}
	}
	checks := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"P2P share", float64(p2p) / float64(len(calls)), 0.22, 0.38},
		{"healthy share", float64(healthy) / n, 0.62, 0.78},
		{"median duration (s)", median, 420, 900},
		{"calls on two resources", float64(multiRes) / float64(len(calls)), 0.005, 0.12},
		{"calls of 50+ legs", float64(big), 1, 20},
		{"largest call", float64(maxLegs), 20, 260},
		{"poor-uplink faults", float64(kinds[KindPoorUplink]), 15, 80},
		{"poor-downlink faults", float64(kinds[KindPoorDownlink]), 10, 70},
	}
	for _, c := range checks {
		t.Logf("%s = %.3f", c.name, c.got)
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f, want %.3f–%.3f", c.name, c.got, c.min, c.max)
		}
	}
	t.Logf("fault kinds: %v", kinds)
	for _, k := range Kinds() {
		if kinds[k] == 0 {
			t.Errorf("no %s fault in %d calls", k, n)
		}
	}
	for _, want := range []string{"VOIP", "PSTN", "BOT"} {
		if !types[want] {
			t.Errorf("no %s participant; have %v", want, types)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no start", Config{Calls: 1}, "start time is not set"},
		{"negative calls", Config{Calls: -1, Start: testStart}, "negative"},
		{"not acs", Config{Calls: 1, Start: testStart, Resource: "subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app"}, "not an ACS resource"},
		{"ancient start", Config{Calls: 1, Start: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Records(tt.cfg, func(string, []byte) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Records(%+v) error = %v, want it to contain %q", tt.cfg, err, tt.want)
			}
			dir := t.TempDir()
			if _, err := Write(context.Background(), tt.cfg, dir); err == nil {
				t.Errorf("Write(%+v) succeeded", tt.cfg)
			}
		})
	}
}

func TestCustomResource(t *testing.T) {
	cfg := Config{Calls: 2, Seed: 1, Start: testStart,
		Resource: "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/acs-test-rg/providers/Microsoft.Communication/communicationServices/my-acs"}
	dir, _ := writeCorpus(t, cfg)
	for p := range readTree(t, dir) {
		if p != "labels.json" && !strings.Contains(p, "/SUBSCRIPTIONS/00000000-1111-2222-3333-444444444444/RESOURCEGROUPS/ACS-TEST-RG/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/MY-ACS") {
			t.Errorf("blob outside the configured resource: %s", p)
		}
	}
}

func TestWriteStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := Write(ctx, Config{Calls: 3, Start: testStart}, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("labels.json written by a canceled run")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".spool") {
			t.Errorf("spool %s left behind", e.Name())
		}
	}
}

func TestRecordsStopsOnError(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	_, err := Records(Config{Calls: 5, Start: testStart}, func(string, []byte) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 100 {
		t.Fatalf("Records = %v after %d records, want the callback's error after 100", err, n)
	}
}

func FuzzParseResource(f *testing.F) {
	seeds, err := os.ReadFile("testdata/resources.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range strings.Split(strings.TrimSpace(string(seeds)), "\n") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseResource(s)
		if err != nil {
			if !strings.Contains(err.Error(), "not an ACS resource id") {
				t.Errorf("error %q does not say what is wrong", err)
			}
			return
		}
		if r.id != strings.ToUpper(r.id) || strings.HasPrefix(r.id, "/") || strings.Count(r.id, "/") != 7 {
			t.Errorf("parseResource(%q) id = %q, want upper case without a leading slash", s, r.id)
		}
		again, err := parseResource(r.id)
		if err != nil || again != r {
			t.Errorf("parseResource is not stable on its own output %q: %v", r.id, err)
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	cfg := Config{Calls: 20, Seed: 1, Start: testStart}
	var records, size int64
	if _, err := Records(cfg, func(_ string, line []byte) error {
		records++
		size += int64(len(line)) + 1
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	root := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(root, strings.Repeat("x", 1)+string(rune('a'+i%26))+time.Duration(i).String())
		if _, err := Write(context.Background(), cfg, dir); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkRecords(b *testing.B) {
	cfg := Config{Calls: 20, Seed: 1, Start: testStart}
	var records, size int64
	b.ReportAllocs()
	for b.Loop() {
		records, size = 0, 0
		if _, err := Records(cfg, func(_ string, line []byte) error {
			records++
			size += int64(len(line)) + 1
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(size)
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func TestWriteReportsDiskErrors(t *testing.T) {
	dir := t.TempDir()
	// A file where the logs directory should be makes every blob write fail.
	if err := os.WriteFile(filepath.Join(dir, "logs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Write(context.Background(), Config{Calls: 30, Seed: 2, Start: testStart}, dir)
	if err == nil || !strings.Contains(err.Error(), "blob") {
		t.Fatalf("Write into a broken directory = %v, want a blob error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("labels.json written by a failed run")
	}
}

func TestGroupSize(t *testing.T) {
	cfg := Config{Calls: 3, Seed: 9, Start: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), GroupSize: 40}
	g, err := newGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < cfg.Calls; i++ {
		c := &call{g: g, r: callRand(cfg.Seed, i), idx: i}
		c.plan()
		if c.p2p {
			t.Fatalf("call %d is P2P", i)
		}
		n := 0
		for _, l := range c.legs {
			if !l.rejoin {
				n++
			}
		}
		if n != 40 {
			t.Errorf("call %d has %d participants, want 40", i, n)
		}
	}
	for _, bad := range []int{-1, 1, 1001} {
		cfg.GroupSize = bad
		if _, err := newGenerator(cfg); err == nil {
			t.Errorf("group size %d accepted", bad)
		}
	}
}
