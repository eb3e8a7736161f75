package acs

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"calldiag/internal/ingest"
)

// fuzzSeeds returns one JSON object per record in testdata: the shape
// fixtures and the repaired published samples.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	files, _ := filepath.Glob(filepath.Join("testdata", "shapes", "*", "*"))
	for _, f := range files {
		if filepath.Ext(f) == ".csv" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range itemsFromFile(t, f, src) {
			seeds = append(seeds, it.Raw)
		}
	}
	for _, c := range publishedCases {
		var frags []string
		if c.envelope != "" {
			frags = append(frags, c.envelope)
		}
		for _, p := range c.parts {
			b, err := os.ReadFile(filepath.Join("testdata", "published", p+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			frags = append(frags, string(b))
		}
		for _, obj := range repairPublished(frags...) {
			var line bytes.Buffer
			if json.Compact(&line, []byte(obj)) == nil {
				seeds = append(seeds, line.Bytes())
			}
		}
	}
	return seeds
}

// asCSV turns an item into the item a CSV export of the same record gives:
// every value a string, JSON null an empty cell.
func asCSV(it ingest.Item) ingest.Item {
	out := it
	out.Format = ingest.FormatCSV
	out.Fields = make([]ingest.Field, len(it.Fields))
	for i, f := range it.Fields {
		v := ingest.Value{Kind: ingest.KindString, Str: f.Value.Str}
		if f.Value.Kind == ingest.KindNull {
			v = ingest.Value{Kind: ingest.KindNull}
		}
		out.Fields[i] = ingest.Field{Key: f.Key, Value: v}
	}
	return out
}

// withOddKinds gives every field a kind chosen from its value's first
// byte, so values arrive with kinds the reader would never pair with them
// (an object kind over non-JSON text, a number kind over a word).
func withOddKinds(it ingest.Item) ingest.Item {
	out := it
	out.Fields = make([]ingest.Field, len(it.Fields))
	for i, f := range it.Fields {
		k := ingest.Kind(len(f.Value.Str) % 6)
		if f.Value.Str != "" {
			k = ingest.Kind(f.Value.Str[0] % 6)
		}
		out.Fields[i] = ingest.Field{Key: f.Key, Value: ingest.Value{Kind: k, Str: f.Value.Str}}
	}
	return out
}

func checkNormalize(t *testing.T, it ingest.Item) (string, bool) {
	t.Helper()
	r, err := Normalize(it)
	if err != nil {
		var re *ingest.RecordError
		if !errors.As(err, &re) || re.Reason == "" {
			t.Fatalf("error %v (%T) is not a *ingest.RecordError with a reason", err, err)
		}
		if re.Source != it.Source || re.Line != it.Line {
			t.Fatalf("error names %s:%d, item is %s:%d", re.Source, re.Line, it.Source, it.Line)
		}
		return "", false
	}
	if !hexID.MatchString(r.ID) {
		t.Fatalf("ID %q is not 32 hex digits", r.ID)
	}
	again, err := Normalize(it)
	if err != nil || again.ID != r.ID || recordJSON(again) != recordJSON(r) {
		t.Fatalf("Normalize is not deterministic: %v\n%s\n%s", err, recordJSON(r), recordJSON(again))
	}
	return r.ID, true
}

func FuzzNormalize(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := itemFromJSON(data, "fuzz.jsonl", 7, ingest.FormatJSONLines)
		if err != nil {
			return
		}
		id, ok := checkNormalize(t, it)
		// The same record as a CSV row has the same identity.
		if csvID, csvOK := checkNormalize(t, asCSV(it)); ok && csvOK && csvID != id {
			t.Fatalf("JSON item ID %s, same record as CSV %s", id, csvID)
		}
		checkNormalize(t, withOddKinds(it))
	})
}
