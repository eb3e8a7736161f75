package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// run runs the CLI in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Env: func(k string) string { return env[k] },
	})
	return out.String(), errb.String(), ExitCode(err)
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := run(t, nil, args...)
	if code != 0 {
		t.Fatalf("calldiag %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func ingestJSON(t *testing.T, db string, paths ...string) (pipeline.Result, int) {
	t.Helper()
	args := append([]string{"ingest", "--db", db, "--json"}, paths...)
	out, errs, code := run(t, nil, args...)
	var res pipeline.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("ingest --json output is not JSON (exit %d): %v\n%s\n%s", code, err, out, errs)
	}
	if res.Read != res.Stored+res.Duplicates+res.UnknownCategory+res.Rejected {
		t.Errorf("read %d != stored %d + duplicates %d + unknown %d + rejected %d",
			res.Read, res.Stored, res.Duplicates, res.UnknownCategory, res.Rejected)
	}
	return res, code
}

const p2pCall = "c0ffee00-1111-4222-8333-444455556666"

func TestIngestThenInspect(t *testing.T) {
	db := t.TempDir()
	res, code := ingestJSON(t, db, "testdata/p2p-call.jsonl")
	if code != 0 || res.Stored != 10 || res.Rejected != 0 {
		t.Fatalf("first ingest: exit %d, %+v", code, res)
	}
	if len(res.Calls) != 1 || res.Calls[0] != p2pCall {
		t.Errorf("calls touched = %v, want [%s]", res.Calls, p2pCall)
	}

	// Re-ingesting stores nothing new and says so.
	res, code = ingestJSON(t, db, "testdata/p2p-call.jsonl")
	if code != 0 || res.Stored != 0 || res.Duplicates != 10 {
		t.Fatalf("second ingest: exit %d, %+v", code, res)
	}

	var page store.CallPage
	if err := json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json")), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || len(page.Calls) != 1 {
		t.Fatalf("calls: %+v", page)
	}
	c := page.Calls[0]
	if c.ID != p2pCall || c.CallType != model.CallTypeP2P || c.ParticipantCount != 2 || c.DurationSeconds != 300 {
		t.Errorf("call summary = %+v", c)
	}
	if len(c.ResourceIDs) != 1 || c.ResourceIDs[0] != "/subscriptions/11111111-2222-3333-4444-555555555555/resourcegroups/contoso-rg/providers/microsoft.communication/communicationservices/contoso-acs" {
		t.Errorf("resource ids = %v", c.ResourceIDs)
	}

	// Flags may come after the positional argument.
	var call model.Call
	if err := json.Unmarshal([]byte(mustRun(t, "call", p2pCall, "--db", db, "--json")), &call); err != nil {
		t.Fatal(err)
	}
	if len(call.Participants) != 2 {
		t.Fatalf("participants = %d, want 2", len(call.Participants))
	}
	// Ordered by join time: endpoint 2 joined at 10:00:00.000, endpoint 1 at 10:00:01.500.
	p2, p1 := call.Participants[0], call.Participants[1]
	if p2.ID != "e2e2e2e2-0000-4000-8000-000000000002" || p1.ID != "e1e1e1e1-0000-4000-8000-000000000001" {
		t.Fatalf("participant order = %s, %s", p2.ID, p1.ID)
	}
	if p2.EndReason == nil || *p2.EndReason != 410 || p2.EndSubCode == nil || *p2.EndSubCode != 3112 {
		t.Errorf("participant 2 end = %v/%v, want 410/3112", p2.EndReason, p2.EndSubCode)
	}
	if len(p1.Streams) != 1 || len(p2.Streams) != 1 {
		t.Fatalf("streams: p1 %d, p2 %d", len(p1.Streams), len(p2.Streams))
	}
	a := p1.Streams[0]
	if a.MediaType != model.MediaAudio || a.Direction != model.DirOutbound || a.JitterAvgMs == nil || *a.JitterAvgMs != 12 ||
		a.PacketLossRateMax == nil || *a.PacketLossRateMax != 0.031 || a.HealedDataRatioAvg != nil || a.RoundTripTimeAvgMs == nil || *a.RoundTripTimeAvgMs != 82 {
		t.Errorf("audio stream = %+v", a)
	}
	v := p2.Streams[0]
	if v.MediaType != model.MediaVideo || v.TransportType != "TCP" || v.VideoFrameRateAvg == nil || *v.VideoFrameRateAvg != 5.5 {
		t.Errorf("video stream = %+v", v)
	}
	if call.Quality != "Poor" || call.Rating != "Poor" || call.RatingScore == nil || *call.RatingScore != 2 ||
		call.Completeness == nil || len(call.Issues) == 0 || call.Issues[0].Kind != "dropped-ungracefully" {
		t.Errorf("overview detection: quality %q rating %q score %v completeness %v issues %d",
			call.Quality, call.Rating, call.RatingScore, call.Completeness, len(call.Issues))
	}
	if a.MOS == nil || *a.MOS < 1 || *a.MOS > 4.5 || v.MOS != nil {
		t.Errorf("MOS: audio %v (want 1–4.5), video %v (want none)", a.MOS, v.MOS)
	}
	if len(call.Surveys) != 1 || call.Surveys[0].Overall.Score == nil || *call.Surveys[0].Overall.Score != 2 {
		t.Errorf("surveys = %+v", call.Surveys)
	}

	// The timeline holds the pre-call CallAgentInit (linked through its
	// client instance), the join, the UFD, joins/leaves and the samples.
	var tl model.Timeline
	if err := json.Unmarshal([]byte(mustRun(t, "timeline", "--db", db, p2pCall, "--json")), &tl); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range tl.Events {
		names[e.Kind+":"+e.Name] = true
	}
	for _, want := range []string{"operation:CallAgentInit", "operation:Join", "ufd:networkReceiveQuality", "join:", "leave:"} {
		found := false
		for n := range names {
			if strings.HasPrefix(n, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("timeline lacks %s; has %v", want, names)
		}
	}
	if len(tl.Series) != 1 || len(tl.Series[0].Points) != 2 || tl.Series[0].Points[1].Value != 35 {
		t.Errorf("series = %+v", tl.Series)
	}
	// P2P client rows carry no ParticipantId: they belong to the leg of
	// their endpoint, the pre-call CallAgentInit included.
	for _, e := range tl.Events {
		if e.Kind == model.KindOperation || e.Kind == model.KindUFD {
			if e.ParticipantID != "e1e1e1e1-0000-4000-8000-000000000001" {
				t.Errorf("%s %s is attributed to %q, want endpoint 1's leg", e.Kind, e.Name, e.ParticipantID)
			}
		}
	}
	if len(tl.Series) == 1 && (tl.Series[0].ParticipantID != "e1e1e1e1-0000-4000-8000-000000000001" || !strings.Contains(tl.Series[0].StreamID, "e2e2e2e2")) {
		t.Errorf("series belongs to %s / %s, want endpoint 1 receiving from endpoint 2", tl.Series[0].ParticipantID, tl.Series[0].StreamID)
	}
	for i := 1; i < len(tl.Events); i++ {
		if tl.Events[i].Time.Before(tl.Events[i-1].Time) {
			t.Errorf("timeline out of order at %d", i)
		}
	}

	// Every event's record can be shown raw, exactly as it arrived.
	var opRecord string
	for _, e := range tl.Events {
		if e.Name == "Join" {
			opRecord = e.RecordID
		}
	}
	raw := mustRun(t, "record", opRecord, "--db", db)
	lines := strings.Split(readFile(t, "testdata/p2p-call.jsonl"), "\n")
	if strings.TrimSpace(raw) != lines[4] {
		t.Errorf("record %s =\n%s\nwant\n%s", opRecord, raw, lines[4])
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestJSONOutputIsDeterministic(t *testing.T) {
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	for _, args := range [][]string{
		{"calls", "--db", db, "--json"},
		{"call", "--db", db, "--json", p2pCall},
		{"timeline", "--db", db, "--json", p2pCall},
	} {
		a, b := mustRun(t, args...), mustRun(t, args...)
		if a != b {
			t.Errorf("%v printed different bytes on two runs", args)
		}
	}
}

// toShapes rewrites Storage-archive JSON lines as an Event Hub payload, a
// Log Analytics JSON result (PascalCase top-level columns, az CLI's
// all-string cells) and a CSV export — the other shapes users hold.
func toShapes(t *testing.T, jsonl string) (eventHub, laJSON, csvText string) {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	eh, _ := json.MarshalIndent(map[string]any{"records": recs}, "", "  ")

	tables := map[string]string{}
	var rows []map[string]string
	cols := map[string]bool{}
	for _, r := range recs {
		row := map[string]string{"TenantId": "00000000-aaaa-bbbb-cccc-dddddddddddd", "SourceSystem": "Azure"}
		put := func(k string, v any) {
			k = strings.ToUpper(k[:1]) + k[1:]
			switch x := v.(type) {
			case nil:
				row[k] = "None"
			case string:
				row[k] = x
			case bool:
				if x {
					row[k] = "True"
				} else {
					row[k] = "False"
				}
			case float64:
				b, _ := json.Marshal(x)
				row[k] = string(b)
			default:
				b, _ := json.Marshal(x)
				row[k] = string(b)
			}
		}
		for k, v := range r {
			switch strings.ToLower(k) {
			case "properties":
				for pk, pv := range v.(map[string]any) {
					put(pk, pv)
				}
			case "time":
				row["TimeGenerated"] = v.(string)
			case "resourceid":
				row["_ResourceId"] = "/" + strings.TrimPrefix(strings.ToLower(v.(string)), "/")
			case "category":
				row["Type"] = "ACS" + v.(string)
				tables[row["Type"]] = v.(string)
			case "level", "operationversion":
			default:
				put(k, v)
			}
		}
		rows = append(rows, row)
		for k := range row {
			cols[k] = true
		}
	}
	la, _ := json.MarshalIndent(rows, "", "  ")

	var names []string
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(names)
	for _, r := range rows {
		cells := make([]string, len(names))
		for i, n := range names {
			if v := r[n]; v != "None" {
				cells[i] = v
			}
		}
		w.Write(cells)
	}
	w.Flush()
	return string(eh), string(la), b.String()
}

func TestSameRecordsInEveryShapeAreStoredOnce(t *testing.T) {
	src := readFile(t, "testdata/p2p-call.jsonl")
	eh, la, csvText := toShapes(t, src)
	dir := t.TempDir()
	files := map[string]string{"eventhub.json": eh, "la.json": la, "export.csv": csvText}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, first := range []string{"testdata/p2p-call.jsonl", filepath.Join(dir, "eventhub.json"), filepath.Join(dir, "la.json"), filepath.Join(dir, "export.csv")} {
		t.Run(filepath.Base(first)+" first", func(t *testing.T) {
			db := t.TempDir()
			res, code := ingestJSON(t, db, first)
			if code != 0 || res.Stored != 10 {
				t.Fatalf("ingest %s: exit %d, %+v", first, code, res)
			}
			all := []string{"testdata/p2p-call.jsonl", filepath.Join(dir, "eventhub.json"), filepath.Join(dir, "la.json"), filepath.Join(dir, "export.csv")}
			res, code = ingestJSON(t, db, all...)
			if code != 0 || res.Stored != 0 || res.Duplicates != 40 {
				t.Errorf("re-ingest in all shapes: exit %d, stored %d, duplicates %d, errors %v", code, res.Stored, res.Duplicates, res.Errors)
			}
		})
	}
}

func TestBadInputKeepsGoodRecords(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(readFile(t, "testdata/p2p-call.jsonl")), "\n")
	bad := []string{
		lines[0],
		`{"time":"2026-03-02T10:00:00Z","category":"CallSummary"`, // line 2: not JSON
		lines[1],
		strings.Replace(lines[2], `"jitterAvg":"12"`, `"jitterAvg":"high"`, 1),                      // line 4: bad value
		strings.Replace(lines[3], `"correlationId":"c0ffee00-1111-4222-8333-444455556666",`, "", 1), // line 5: no call id
		strings.Replace(lines[6], `"Average":"18"`, `"Average":{"v":18}`, 1),                        // line 6: object for a number
		lines[7],
		`{"time":"2026-03-02T10:00:00Z","category":"SomethingNew","properties":{"x":1}}`, // unknown category: kept, counted
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "PT1H.json")
	os.WriteFile(path, []byte(strings.Join(bad, "\n")+"\n"), 0o644)
	db := t.TempDir()
	res, code := ingestJSON(t, db, path)
	if code != ExitRejected {
		t.Errorf("exit code = %d, want %d", code, ExitRejected)
	}
	if res.Stored != 3 || res.Rejected != 4 || res.UnknownCategory != 1 {
		t.Errorf("counts = %+v", res)
	}
	want := map[int]string{2: "", 4: "jitteravg", 5: "correlationid", 6: "average"}
	for _, e := range res.Errors {
		field, ok := want[e.Line]
		if !ok {
			t.Errorf("unexpected error %+v", e)
			continue
		}
		if e.Source != path || !strings.EqualFold(e.Field, field) || e.Reason == "" {
			t.Errorf("error for line %d = %+v, want field %q", e.Line, e, field)
		}
		delete(want, e.Line)
	}
	if len(want) > 0 {
		t.Errorf("no error reported for lines %v", want)
	}
	// The text summary names file and line too.
	out, _, code := run(t, nil, "ingest", "--db", t.TempDir(), path)
	if code != ExitRejected || !strings.Contains(out, path+":4: field jitterAvg") && !strings.Contains(out, path+":4: field jitteravg") {
		t.Errorf("text summary (exit %d) does not name the bad field:\n%s", code, out)
	}
}

func TestGrownBlobStoresOnlyNewLines(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(readFile(t, "testdata/p2p-call.jsonl")), "\n")
	dir := t.TempDir()
	blob := filepath.Join(dir, "PT1H.json")
	os.WriteFile(blob, []byte(strings.Join(lines[:4], "\n")+"\n"), 0o644)
	db := t.TempDir()
	if res, _ := ingestJSON(t, db, dir); res.Stored != 4 {
		t.Fatalf("first: %+v", res)
	}
	os.WriteFile(blob, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	res, _ := ingestJSON(t, db, dir)
	if res.Stored != 6 || res.Duplicates != 4 {
		t.Errorf("after growth: stored %d duplicates %d, want 6 and 4", res.Stored, res.Duplicates)
	}
}

func TestEmptyInputsAndStores(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	os.WriteFile(empty, nil, 0o644)
	db := filepath.Join(t.TempDir(), "new")
	if res, code := ingestJSON(t, db, empty); code != 0 || res.Read != 0 {
		t.Errorf("empty file: exit %d, %+v", code, res)
	}
	out := mustRun(t, "calls", "--db", filepath.Join(t.TempDir(), "never-created"))
	if !strings.Contains(out, "no calls") {
		t.Errorf("calls on a new store printed %q", out)
	}
	var page store.CallPage
	json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json")), &page)
	if page.Total != 0 || page.Calls == nil {
		t.Errorf("calls --json on an empty store = %+v (calls must be [] not null)", page)
	}
}

func TestExitCodes(t *testing.T) {
	db := t.TempDir()
	env := map[string]string{"CALLDIAG_DB": db}
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"calls", "--nope"}, ExitUsage},
		{"missing argument", []string{"call"}, ExitUsage},
		{"bad sort", []string{"calls", "--sort", "size"}, ExitUsage},
		{"bad since", []string{"calls", "--since", "yesterday"}, ExitUsage},
		{"db and store", []string{"calls", "--db", db, "--store", "sqlite:" + db}, ExitUsage},
		{"ingest without paths", []string{"ingest"}, ExitUsage},
		{"unknown call", []string{"call", "no-such-call"}, ExitError},
		{"unknown record", []string{"record", "0123"}, ExitError},
		{"unknown call timeline", []string{"timeline", "no-such-call"}, ExitError},
		{"missing file", []string{"ingest", "/no/such/file.json"}, ExitError},
		{"help", []string{"--help"}, ExitOK},
		{"list", []string{"calls"}, ExitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := run(t, env, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %s", code, c.code, errs)
			}
			if c.code == ExitUsage && !strings.Contains(errs, "Try: calldiag") {
				t.Errorf("usage error without a hint: %s", errs)
			}
		})
	}
}

func TestCallSearchFromCLI(t *testing.T) {
	db := t.TempDir()
	ingestJSON(t, db, "testdata/p2p-call.jsonl")
	for _, q := range []string{p2pCall, strings.ToUpper(p2pCall), "e2e2e2e2-0000-4000-8000-000000000002", "acs:9d1a7c3e-0003-4066-97bc-6aaf143bbb84_0000001a-aaaa-bbbb-cccc-000000000001", "c0ffee00"} {
		var page store.CallPage
		json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json", "--q", q)), &page)
		if page.Total != 1 {
			t.Errorf("--q %s found %d calls, want 1", q, page.Total)
		}
	}
	for _, q := range []string{"c0ffee0", "zzzzzzzzzz"} {
		var page store.CallPage
		json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json", "--q", q)), &page)
		if page.Total != 0 {
			t.Errorf("--q %s found %d calls, want 0", q, page.Total)
		}
	}
	var page store.CallPage
	json.Unmarshal([]byte(mustRun(t, "calls", "--db", db, "--json", "--since", "2026-03-02T10:00:01Z")), &page)
	if page.Total != 0 {
		t.Errorf("--since after the start found %d calls", page.Total)
	}
}
