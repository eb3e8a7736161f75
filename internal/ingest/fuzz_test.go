package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// seedFiles adds every fixture under testdata, plain and gzip-compressed.
func seedFiles(f *testing.F, add func(b []byte)) {
	f.Helper()
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		add(b)
		add(gzipBytes(f, b))
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// drain reads r to the end, failing on anything that breaks the Reader's
// contract. limit bounds the number of Next calls.
func drain(t *testing.T, r *Reader, limit int, check func(Item)) {
	t.Helper()
	for range limit {
		it, err := r.Next()
		if err == nil {
			if len(it.Raw) == 0 || it.Line < 1 || it.Source != "fuzz" {
				t.Fatalf("bad item: line %d source %q raw %q", it.Line, it.Source, it.Raw)
			}
			for _, fl := range it.Fields {
				if fl.Key != strings.ToLower(fl.Key) {
					t.Fatalf("key %q is not lower-case", fl.Key)
				}
			}
			check(it)
			continue
		}
		if errors.Is(err, io.EOF) {
			return
		}
		var re *RecordError
		if !errors.As(err, &re) {
			return // a fatal error (corrupt gzip) ends the source
		}
		if re.Source != "fuzz" || re.Line < 1 || re.Reason == "" {
			t.Fatalf("record error without source, line or reason: %+v", re)
		}
	}
	t.Fatalf("no end after %d calls to Next", limit)
}

func FuzzReader(f *testing.F) {
	seedFiles(f, func(b []byte) { f.Add(b) })
	for _, s := range []string{
		"", "\xef\xbb\xbf", "{", "[", "[{}", `{"records":[{"a":1},`, `{"records":`, "{}\n{}",
		`{"properties":"{\"a\":1}","A [UTC]":2}`, "[\n  {\"a\": 1},\n  {\"a\": x},\n  {\"a\": 3}\n]",
		`{"a":"\ud800"}`, "a,b\n1,2\n", `[1,[2],{"records":[3]}]`, "{\"a\":1}\n\"x\n{\"b\":2}",
	} {
		f.Add([]byte(s))
	}
	f.Add(encodeUTF16("[{\"a\": \"\U0001F600\"}]", binary.LittleEndian, true))
	f.Add(encodeUTF16("a,b\n1,2", binary.BigEndian, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz", Options{MaxRecordBytes: 512})
		if err != nil {
			return
		}
		jsonInput := r.Format() != FormatCSV
		var vs scanner
		again, err := NewReader(bytes.NewReader(nil), "fuzz", Options{})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, r, 4*len(data)+1000, func(it Item) {
			if !json.Valid(it.Raw) {
				t.Fatalf("raw is not valid JSON: %q", it.Raw)
			}
			if !jsonInput {
				return
			}
			if len(it.Raw) > 512 {
				t.Fatalf("record of %d bytes passed a 512-byte limit", len(it.Raw))
			}
			// Round trip: the raw bytes validate and decode to the same fields.
			if ok, msg := vs.validate(it.Raw); !ok {
				t.Fatalf("raw %q does not validate: %s", it.Raw, msg)
			}
			it2, err := again.item(it.Raw, it.Line, it.Format)
			if err != nil {
				t.Fatalf("raw %q does not decode: %v", it.Raw, err)
			}
			if !reflect.DeepEqual(it.Fields, it2.Fields) {
				t.Fatalf("round trip of %q:\n got %q\nwant %q", it.Raw, it2.Fields, it.Fields)
			}
			compareWithStdlib(t, it)
		})
	})
}

// compareWithStdlib decodes an item's raw object with encoding/json and
// checks the envelope fields (those not flattened from "properties")
// against it, member by member and in order.
func compareWithStdlib(t *testing.T, it Item) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(it.Raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("raw %q: not an object for encoding/json", it.Raw)
	}
	i := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("raw %q: %v", it.Raw, err)
		}
		name := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("raw %q: %v", it.Raw, err)
		}
		key := normalizeKey(name)
		if key == "properties" && flattenedByStdlib(raw) {
			continue
		}
		if i >= len(it.Fields) {
			t.Fatalf("raw %q: member %q has no field", it.Raw, name)
		}
		fl := it.Fields[i]
		i++
		// Keys with escapes that encoding/json repairs differently are
		// left out; values are always compared.
		if !strings.ContainsAny(name, "\\\ufffd") && fl.Key != key {
			t.Fatalf("raw %q: member %d is %q, field key %q", it.Raw, i-1, key, fl.Key)
		}
		var want Value
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			want = Value{KindString, s}
			fl.Value.Str = string([]rune(fl.Value.Str))
		case '{', '[':
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				t.Fatal(err)
			}
			want = Value{KindObject, b.String()}
			if raw[0] == '[' {
				want.Kind = KindArray
			}
		case 't', 'f':
			want = Value{KindBool, string(raw)}
		case 'n':
			want = Value{KindNull, ""}
		default:
			want = Value{KindNumber, string(raw)}
		}
		if fl.Value != want {
			t.Fatalf("raw %q: member %q is %+v for encoding/json, field has %+v", it.Raw, name, want, fl.Value)
		}
	}
}

// flattenedByStdlib reports whether a "properties" member is flattened: an
// object, or a string whose content is a JSON object.
func flattenedByStdlib(raw json.RawMessage) bool {
	if raw[0] == '{' {
		return true
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return false
	}
	s = strings.TrimLeft(s, " \t\r\n")
	return strings.HasPrefix(s, "{") && json.Valid([]byte(s))
}

func FuzzCSV(f *testing.F) {
	f.Add("TimeGenerated [UTC],Category,Payload", []byte("2026-03-02,CallSummary,\"{\"\"a\"\":1}\"\n,,\n"))
	f.Add("a,b", []byte("1,\"x\ny\"\r\n2,\"\"\"\"\n3"))
	f.Add("a", []byte("\"unterminated\n"))
	f.Add("a,b", []byte("1,2,3\n\"a\"b,1\nx\"y,2\n"))
	seedFiles(f, func(b []byte) {
		if head, body, ok := bytes.Cut(b, []byte{'\n'}); ok && !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			f.Add(string(head), body)
		}
	})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		h := strings.TrimLeft(strings.TrimPrefix(header, "\xef\xbb\xbf"), " \t\r\n")
		if h == "" || h[0] == '{' || h[0] == '[' || strings.HasPrefix(header, "\x1f\x8b") {
			return
		}
		data := append([]byte(header+"\n"), body...)
		r, err := NewReader(bytes.NewReader(data), "fuzz", Options{MaxRecordBytes: 512})
		if err != nil {
			t.Fatal(err)
		}
		if r.Format() != FormatCSV {
			t.Fatalf("format %q for a CSV input", r.Format())
		}
		columns := -1
		drain(t, r, 4*len(data)+1000, func(it Item) {
			if columns < 0 {
				columns = len(it.Fields)
			}
			if len(it.Fields) != columns {
				t.Fatalf("row with %d fields after one with %d", len(it.Fields), columns)
			}
			// Raw is a JSON object of the header names and cells, in
			// column order: compare it member by member with the fields.
			dec := json.NewDecoder(bytes.NewReader(it.Raw))
			if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
				t.Fatalf("raw %q does not start an object", it.Raw)
			}
			n := 0
			for ; dec.More(); n++ {
				tok, err := dec.Token()
				if err != nil {
					t.Fatalf("raw %q: %v", it.Raw, err)
				}
				name, _ := tok.(string)
				var cell string
				if err := dec.Decode(&cell); err != nil {
					t.Fatalf("raw %q: %v", it.Raw, err)
				}
				if n >= len(it.Fields) {
					t.Fatalf("raw %q has more members than fields", it.Raw)
				}
				// encoding/json turns each invalid UTF-8 byte into U+FFFD;
				// so does converting to runes.
				fl := it.Fields[n]
				if fl.Key != normalizeKey(name) {
					t.Fatalf("raw member %d named %q, field key %q", n, name, fl.Key)
				}
				if cell == "" && fl.Value != (Value{}) || cell != "" && (fl.Value.Kind != KindString || string([]rune(fl.Value.Str)) != cell) {
					t.Fatalf("raw member %q = %q, field value %+v", name, cell, fl.Value)
				}
			}
			if n != len(it.Fields) {
				t.Fatalf("raw %q has %d members, item has %d fields", it.Raw, n, len(it.Fields))
			}
		})
	})
}
