package acs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/model"
)

// shapeFiles are the four shapes of one record in testdata/shapes/<case>/,
// written by hand: a Storage archive line, an Event Hub document, a Log
// Analytics JSON row and a CSV export row.
var shapeFiles = []string{"storage.jsonl", "eventhub.json", "la.json", "export.csv"}

var shapeCases = []struct {
	dir string
	cat model.Category
}{
	{"callsummary", model.CatCallSummary},
	{"calldiagnostics", model.CatCallDiagnostics},
	{"clientoperation", model.CatCallClientOperations},
	{"mediastats", model.CatCallClientMediaStatsTimeSeries},
}

// readerItems reads src through the ingest reader.
func readerItems(t testing.TB, name string, src []byte) []ingest.Item {
	t.Helper()
	rd, err := ingest.NewReader(bytes.NewReader(src), name, ingest.Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var items []ingest.Item
	for {
		it, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return items
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		items = append(items, it)
	}
}

func shapeItem(t *testing.T, dir, file string, viaReader bool) ingest.Item {
	t.Helper()
	name := filepath.Join("testdata", "shapes", dir, file)
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var items []ingest.Item
	if viaReader {
		items = readerItems(t, name, src)
	} else {
		items = itemsFromFile(t, name, src)
	}
	if len(items) != 1 {
		t.Fatalf("%s: %d records, want 1", name, len(items))
	}
	return items[0]
}

// TestIdentityAcrossShapes: one record gets one ID, and one normalized
// form, whichever shape it arrived in.
func TestIdentityAcrossShapes(t *testing.T) {
	for _, c := range shapeCases {
		for _, via := range []string{"helper", "reader"} {
			t.Run(c.dir+"/"+via, func(t *testing.T) {
				var firstID, firstRec string
				for _, f := range shapeFiles {
					it := shapeItem(t, c.dir, f, via == "reader")
					got, err := Normalize(it)
					if err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					if got.Category != c.cat || !got.Known {
						t.Fatalf("%s: category %q known %v, want %q", f, got.Category, got.Known, c.cat)
					}
					got.RawCategory = "" // a table name in some shapes, the category in others
					rec := recordJSON(comparable(got))
					if firstID == "" {
						firstID, firstRec = got.ID, rec
						continue
					}
					if got.ID != firstID {
						t.Errorf("%s: ID %s, %s gave %s", f, got.ID, shapeFiles[0], firstID)
					}
					if rec != firstRec {
						t.Errorf("%s normalizes differently from %s:\ngot  %s\nwant %s", f, shapeFiles[0], rec, firstRec)
					}
				}
			})
		}
	}
}

// mutate returns a different value of the same kind: a number plus one, a
// flipped boolean, a time one millisecond later, JSON with one more
// member, or a string with a suffix.
func mutate(v ingest.Value) ingest.Value {
	s := strings.TrimSpace(v.Str)
	if b, ok := parseBool(s); ok {
		return ingest.Value{Kind: v.Kind, Str: strconv.FormatBool(!b)}
	}
	if f, ok := parseDecimal(s); ok {
		return ingest.Value{Kind: v.Kind, Str: strconv.FormatFloat(f+1, 'g', -1, 64)}
	}
	if tm, ok := parseTime(s); ok {
		return ingest.Value{Kind: v.Kind, Str: tm.Add(time.Millisecond).Format(time.RFC3339Nano)}
	}
	if strings.HasPrefix(s, "{") {
		return ingest.Value{Kind: v.Kind, Str: `{"added":1,` + s[1:]}
	}
	if strings.HasPrefix(s, "[") {
		return ingest.Value{Kind: v.Kind, Str: `["added",` + s[1:]}
	}
	return ingest.Value{Kind: v.Kind, Str: s + "-changed"}
}

// TestIdentityDiffersByOneValue: changing any one field that is part of
// the identity changes the ID; changing a field the identity leaves out
// (workspace columns, level, operationVersion) does not.
func TestIdentityDiffersByOneValue(t *testing.T) {
	for _, c := range shapeCases {
		for _, f := range shapeFiles {
			t.Run(c.dir+"/"+f, func(t *testing.T) {
				it := shapeItem(t, c.dir, f, false)
				base, err := Normalize(it)
				if err != nil {
					t.Fatal(err)
				}
				for i, fld := range it.Fields {
					// A record names its category twice in some shapes
					// (category and the table name in type), so changing one
					// alone need not change it; TestIdentityEnvelope covers
					// the category.
					if isNull(fld.Value) || fld.Key == "category" || fld.Key == "type" {
						continue
					}
					changed := it
					changed.Fields = append([]ingest.Field(nil), it.Fields...)
					changed.Fields[i].Value = mutate(fld.Value)
					got, err := Normalize(changed)
					if err != nil {
						t.Errorf("%s %q -> %q: %v", fld.Key, fld.Value.Str, changed.Fields[i].Value.Str, err)
						continue
					}
					excluded := excludedKey(fld.Key) && !isEnvelopeKey(fld.Key)
					if excluded && got.ID != base.ID {
						t.Errorf("changing %s (left out of the identity) changed the ID", fld.Key)
					}
					if !excluded && got.ID == base.ID {
						t.Errorf("changing %s from %q to %q kept the ID", fld.Key, fld.Value.Str, changed.Fields[i].Value.Str)
					}
				}
			})
		}
	}
}

// isEnvelopeKey reports keys that are left out of the field list because
// they are hashed on their own (time, resource, category).
func isEnvelopeKey(k string) bool {
	switch k {
	case "time", "timegenerated", "resourceid", "_resourceid", "category", "type":
		return true
	}
	return false
}

// Spellings of one value that must not change the ID, and a near miss
// that must.
func TestIdentityValueSpellings(t *testing.T) {
	const env = `"time":"2024-03-05T10:16:02.5Z","resourceId":"/subscriptions/s/resourcegroups/r/providers/microsoft.communication/communicationservices/a","category":"CallDiagnostics","correlationId":"c1","participantId":"p1","mediaType":"Audio","streamId":"7"`
	id := func(t *testing.T, extra string) string {
		t.Helper()
		r, err := Normalize(mustItem(t, `{`+env+extra+`}`))
		if err != nil {
			t.Fatalf("%s: %v", extra, err)
		}
		return r.ID
	}
	groups := [][]string{
		{`,"jitterAvg":5`, `,"jitterAvg":"5"`, `,"jitterAvg":5.0`, `,"JitterAvg":" 5 "`, `,"properties":{"jitterAvg":"5e0"}`},
		{`,"packetLossRateAvg":3.1E-05`, `,"packetLossRateAvg":"0.000031"`, `,"packetLossRateAvg":"3.10e-5"`},
		{``, `,"codecName":null`, `,"codecName":"null"`, `,"codecName":"NULL"`, `,"codecName":""`, `,"codecName":"None"`},
		{`,"TPE":true`, `,"TPE":"True"`, `,"tpe":"TRUE"`},
		{`,"x":{"b":1,"a":[1,2]}`, `,"x":"{\"a\":[1,2.0],\"b\":1}"`, `,"X":" { \"a\" : [ 1 , 2 ] , \"b\" : 1 } "`},
		{`,"callStartTime":"2024-01-09T17:06:50.3Z"`, `,"callStartTime":"2024-01-09 17:06:50.3000000"`, `,"callStartTime":"1/9/2024, 5:06:50.300 PM"`, `,"callStartTime":"2024-01-09T18:06:50.3+01:00"`},
		{`,"level":"Informational","operationVersion":"1.0","TenantId":"w","_BilledSize":12`, ``},
	}
	seen := map[string]int{}
	for g, spellings := range groups {
		want := id(t, spellings[0])
		for _, s := range spellings[1:] {
			if got := id(t, s); got != want {
				t.Errorf("%s: ID %s, %s gave %s", s, got, spellings[0], want)
			}
		}
		if prev, ok := seen[want]; ok && g != len(groups)-1 && prev != len(groups)-1 {
			t.Errorf("groups %d and %d share an ID", prev, g)
		}
		seen[want] = g
	}
	// Values that look alike but are not the same.
	distinct := []string{`,"jitterAvg":5`, `,"jitterAvg":6`, `,"x":"5x"`, `,"x":"5"`, `,"x":"NaN"`, `,"codecName":"5"`,
		`,"x":"12345678901234567890"`, `,"x":"12345678901234567891"`, `,"x":"{\"a\":1}"`, `,"x":"{\"a\":\"1\"}"`}
	ids := map[string]string{}
	for _, s := range distinct {
		got := id(t, s)
		if prev, ok := ids[got]; ok {
			t.Errorf("%s and %s share ID %s", s, prev, got)
		}
		ids[got] = s
	}
}

// The record's envelope is part of its identity.
func TestIdentityEnvelope(t *testing.T) {
	base := `"correlationId":"c1","participantId":"p1","mediaType":"Audio","streamId":"7"`
	variants := []string{
		`{"time":"2024-03-05T10:16:02.5Z","resourceId":"/x/a","category":"CallDiagnostics",` + base + `}`,
		`{"time":"2024-03-05T10:16:02.6Z","resourceId":"/x/a","category":"CallDiagnostics",` + base + `}`,
		`{"time":"2024-03-05T10:16:02.5Z","resourceId":"/x/b","category":"CallDiagnostics",` + base + `}`,
		`{"time":"2024-03-05T10:16:02.5Z","resourceId":"/x/a","category":"CallDiagnosticsUpdates",` + base + `}`,
		`{"time":"2024-03-05T10:16:02.5Z","resourceId":"/x/a","category":"CallSummary",` + base + `}`,
	}
	ids := map[string]int{}
	for i, v := range variants {
		r, err := Normalize(mustItem(t, v))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if j, ok := ids[r.ID]; ok {
			t.Errorf("variants %d and %d share ID %s", j, i, r.ID)
		}
		ids[r.ID] = i
	}
}
