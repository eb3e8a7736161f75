package acs

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"calldiag/internal/ingest"
)

// The helpers below turn test input into ingest.Items by the same rules the
// ingest reader follows (lower-cased keys, "properties" flattened into the
// top level, " [UTC]"-style column decorations removed), so that this
// package's tests do not depend on the reader.

// decoration matches a Log Analytics column decoration such as " [UTC]".
var decoration = regexp.MustCompile(`\s*\[[^\]]*\]\s*$`)

func fieldKey(k string) string {
	return strings.ToLower(decoration.ReplaceAllString(k, ""))
}

// itemFromJSON builds an item from one JSON object.
func itemFromJSON(src []byte, source string, line int, format ingest.Format) (ingest.Item, error) {
	fields, err := decodeFields(src, true)
	if err != nil {
		return ingest.Item{}, err
	}
	return ingest.Item{Source: source, Line: line, Format: format, Fields: fields, Raw: src}, nil
}

// decodeFields decodes the members of a JSON object into fields in their
// order, flattening a "properties" object after the other members when
// flatten is set.
func decodeFields(src []byte, flatten bool) ([]ingest.Field, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var fields, props []ingest.Field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		if flatten && strings.EqualFold(key, "properties") && raw[0] == '{' {
			inner, err := decodeFields(raw, false)
			if err != nil {
				return nil, err
			}
			props = append(props, inner...)
			continue
		}
		v, err := jsonValue(raw)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		fields = append(fields, ingest.Field{Key: fieldKey(key), Value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("close object: %w", err)
	}
	// Envelope fields come first, so on a name clash the envelope's value
	// is the one found first.
	return append(fields, props...), nil
}

func jsonValue(raw json.RawMessage) (ingest.Value, error) {
	switch raw[0] {
	case 'n':
		return ingest.Value{Kind: ingest.KindNull}, nil
	case 't', 'f':
		return ingest.Value{Kind: ingest.KindBool, Str: string(raw)}, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return ingest.Value{}, err
		}
		return ingest.Value{Kind: ingest.KindString, Str: s}, nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return ingest.Value{}, err
		}
		k := ingest.KindObject
		if raw[0] == '[' {
			k = ingest.KindArray
		}
		return ingest.Value{Kind: k, Str: b.String()}, nil
	}
	return ingest.Value{Kind: ingest.KindNumber, Str: string(raw)}, nil
}

// itemsFromCSV builds one item per data row of a CSV export: every cell is
// a string, an empty cell is null, and Raw is a JSON object of the header
// names and cells.
func itemsFromCSV(src []byte, source string) ([]ingest.Item, error) {
	rd := csv.NewReader(bytes.NewReader(src))
	header, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	var items []ingest.Item
	for line := 2; ; line++ {
		row, err := rd.Read()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		var raw bytes.Buffer
		raw.WriteByte('{')
		fields := make([]ingest.Field, len(header))
		for i, h := range header {
			fields[i] = ingest.Field{Key: fieldKey(h), Value: ingest.Value{Kind: ingest.KindString, Str: row[i]}}
			if row[i] == "" {
				fields[i].Value = ingest.Value{Kind: ingest.KindNull}
			}
			if i > 0 {
				raw.WriteByte(',')
			}
			k, _ := json.Marshal(h)
			v, _ := json.Marshal(row[i])
			raw.Write(k)
			raw.WriteByte(':')
			raw.Write(v)
		}
		raw.WriteByte('}')
		items = append(items, ingest.Item{Source: source, Line: line, Format: ingest.FormatCSV, Fields: fields, Raw: raw.Bytes()})
	}
}

// itemsFromFile builds the items of a fixture by its extension: .jsonl
// (one object per line), .json (an Event Hub {"records":[…]} document or a
// Log Analytics array of rows) or .csv.
func itemsFromFile(t testing.TB, name string, src []byte) []ingest.Item {
	t.Helper()
	var items []ingest.Item
	switch {
	case strings.HasSuffix(name, ".jsonl"):
		for i, line := range bytes.Split(src, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			it, err := itemFromJSON(line, name, i+1, ingest.FormatJSONLines)
			if err != nil {
				t.Fatalf("%s:%d: %v", name, i+1, err)
			}
			items = append(items, it)
		}
	case strings.HasSuffix(name, ".json"):
		var doc struct {
			Records []json.RawMessage `json:"records"`
		}
		format := ingest.FormatEventHub
		var elems []json.RawMessage
		if bytes.HasPrefix(bytes.TrimSpace(src), []byte("[")) {
			format = ingest.FormatLogAnalytics
			if err := json.Unmarshal(src, &elems); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		} else {
			if err := json.Unmarshal(src, &doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			elems = doc.Records
		}
		for i, e := range elems {
			it, err := itemFromJSON(e, name, i+1, format)
			if err != nil {
				t.Fatalf("%s: element %d: %v", name, i, err)
			}
			items = append(items, it)
		}
	case strings.HasSuffix(name, ".csv"):
		var err error
		if items, err = itemsFromCSV(src, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	default:
		t.Fatalf("%s: unknown fixture type", name)
	}
	return items
}

// mustItem builds an item from a JSON object literal.
func mustItem(t testing.TB, src string) ingest.Item {
	t.Helper()
	it, err := itemFromJSON([]byte(src), "test.jsonl", 1, ingest.FormatJSONLines)
	if err != nil {
		t.Fatalf("bad test input %s: %v", src, err)
	}
	return it
}
