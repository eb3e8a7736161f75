package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// result is everything a Reader produced for one input.
type result struct {
	format Format
	items  []Item
	errs   []*RecordError
	fatal  error
}

// readAll drains a Reader over data. It fails the test if reading does not
// end within a generous number of calls, which would mean a loop.
func readAll(t testing.TB, data []byte, opts Options) result {
	t.Helper()
	return readFrom(t, bytes.NewReader(data), len(data), opts)
}

func readFrom(t testing.TB, in io.Reader, size int, opts Options) result {
	t.Helper()
	r, err := NewReader(in, "test.json", opts)
	if err != nil {
		return result{fatal: err}
	}
	var res result
	for range 2*size + 100 {
		it, err := r.Next()
		switch {
		case err == nil:
			res.items = append(res.items, it)
			continue
		case errors.Is(err, io.EOF):
			res.format = r.Format()
			return res
		}
		var re *RecordError
		if !errors.As(err, &re) {
			res.fatal = err
			res.format = r.Format()
			// A fatal error must be sticky.
			if _, again := r.Next(); again == nil || errors.As(again, &re) {
				t.Errorf("Next after fatal error %v returned %v, want the fatal error again", err, again)
			}
			return res
		}
		res.errs = append(res.errs, re)
	}
	t.Fatalf("reader did not reach the end after %d calls", 2*size+100)
	return res
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func get(t testing.TB, it Item, key string) Value {
	t.Helper()
	v, ok := it.Get(key)
	if !ok {
		t.Fatalf("item at line %d has no field %q; fields: %v", it.Line, key, keysOf(it))
	}
	return v
}

func keysOf(it Item) []string {
	ks := make([]string, len(it.Fields))
	for i, f := range it.Fields {
		ks[i] = f.Key
	}
	return ks
}

func lines(items []Item) []int {
	ls := make([]int, len(items))
	for i, it := range items {
		ls[i] = it.Line
	}
	return ls
}

func errLines(errs []*RecordError) []int {
	ls := make([]int, len(errs))
	for i, e := range errs {
		ls[i] = e.Line
	}
	return ls
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReaderShapes reads every fixture shape, plain and gzip-compressed, and
// checks the detected format, each record's start line and a few fields.
func TestReaderShapes(t *testing.T) {
	const call = "5d2f1c3a-8e4b-4f7a-9c6d-1b2a3e4f5a6b"
	tests := []struct {
		file       string
		format     Format
		itemFormat Format
		lines      []int
		operations []string // operationname of each item
	}{
		{"jsonl/PT1H.json", FormatJSONLines, FormatJSONLines, []int{1, 2, 5, 6},
			[]string{"CallSummary", "CallDiagnostics", "CallClientOperations", "CallClientMediaStatsTimeSeries"}},
		{"eventhub/capture.json", FormatEventHub, FormatEventHub, []int{1, 1, 2, 2},
			[]string{"CallSummary", "CallDiagnostics", "CallClientOperations", "CallClientMediaStatsTimeSeries"}},
		{"eventhub/pretty.json", FormatEventHub, FormatEventHub, []int{3, 32, 60, 86},
			[]string{"CallSummary", "CallDiagnostics", "CallClientOperations", "CallClientMediaStatsTimeSeries"}},
		{"eventhub/concatenated.json", FormatEventHub, FormatEventHub, []int{3, 32, 63, 89},
			[]string{"CallSummary", "CallDiagnostics", "CallClientOperations", "CallClientMediaStatsTimeSeries"}},
		{"la/query.json", FormatLogAnalytics, FormatLogAnalytics, []int{2, 31, 59},
			[]string{"CallSummary", "CallDiagnostics", "UserFacingDiagnostics"}},
		{"csv/export.csv", FormatCSV, FormatCSV, []int{2, 3, 4},
			[]string{"CallSummary", "CallDiagnostics", "UserFacingDiagnostics"}},
	}
	for _, tt := range tests {
		for _, compressed := range []bool{false, true} {
			name := tt.file
			data := fixture(t, tt.file)
			if compressed {
				name += ".gz"
				data = gzipBytes(t, data)
			}
			t.Run(name, func(t *testing.T) {
				res := readAll(t, data, Options{})
				if res.fatal != nil || len(res.errs) > 0 {
					t.Fatalf("fatal %v, record errors %v", res.fatal, res.errs)
				}
				if res.format != tt.format {
					t.Errorf("Format() = %q, want %q", res.format, tt.format)
				}
				if got := lines(res.items); !sameInts(got, tt.lines) {
					t.Errorf("lines = %v, want %v", got, tt.lines)
				}
				if len(res.items) != len(tt.operations) {
					t.Fatalf("got %d items, want %d", len(res.items), len(tt.operations))
				}
				for i, it := range res.items {
					if it.Format != tt.itemFormat || it.Source != "test.json" {
						t.Errorf("item %d: format %q source %q", i, it.Format, it.Source)
					}
					if v := get(t, it, "operationname"); v.Str != tt.operations[i] {
						t.Errorf("item %d: operationname = %q, want %q", i, v.Str, tt.operations[i])
					}
					if v := get(t, it, "correlationid"); v != (Value{KindString, call}) {
						t.Errorf("item %d: correlationid = %+v", i, v)
					}
					if len(it.Raw) == 0 || it.Raw[0] != '{' || it.Raw[len(it.Raw)-1] != '}' {
						t.Errorf("item %d: raw %q is not an object's bytes", i, it.Raw)
					}
				}
			})
		}
	}
}

// TestRawIsTheInputBytes checks that Raw is exactly the record's bytes as
// they appear in the input.
func TestRawIsTheInputBytes(t *testing.T) {
	for _, file := range []string{"jsonl/PT1H.json", "eventhub/pretty.json", "la/query.json"} {
		t.Run(file, func(t *testing.T) {
			data := fixture(t, file)
			res := readAll(t, data, Options{})
			if len(res.items) == 0 {
				t.Fatal("no items")
			}
			rest := data
			for i, it := range res.items {
				at := bytes.Index(rest, it.Raw)
				if at < 0 {
					t.Fatalf("item %d: raw bytes not found in the input after the previous item:\n%s", i, it.Raw)
				}
				if line := 1 + bytes.Count(data[:len(data)-len(rest)+at], []byte{'\n'}); line != it.Line {
					t.Errorf("item %d: raw found at line %d, item says %d", i, line, it.Line)
				}
				rest = rest[at+len(it.Raw):]
			}
		})
	}
}

func TestEmptyAndBOM(t *testing.T) {
	line := `{"time":"2026-01-01T00:00:00Z","category":"CallSummary"}`
	tests := []struct {
		name   string
		input  string
		format Format
		items  int
		lines  []int
	}{
		{"empty", "", "", 0, nil},
		{"whitespace only", " \n\t\r\n  \n", "", 0, nil},
		{"bom only", "\xef\xbb\xbf", "", 0, nil},
		{"bom json lines", "\xef\xbb\xbf" + line + "\n" + line, FormatJSONLines, 2, []int{1, 2}},
		{"bom array", "\xef\xbb\xbf[" + line + "]", FormatLogAnalytics, 1, []int{1}},
		{"bom csv", "\xef\xbb\xbfTimeGenerated [UTC],Category\n2026-01-01,CallSummary\n", FormatCSV, 1, []int{2}},
		{"leading blank lines", "\n\n" + line, FormatJSONLines, 1, []int{3}},
		{"blank lines between", line + "\n\n\r\n   \n" + line + "\n\n", FormatJSONLines, 2, []int{1, 5}},
		{"no final newline", line + "\n" + line, FormatJSONLines, 2, []int{1, 2}},
		{"crlf", line + "\r\n" + line + "\r\n", FormatJSONLines, 2, []int{1, 2}},
		{"two objects on one line", line + " " + line, FormatJSONLines, 2, []int{1, 1}},
		{"empty array", "[ ]", FormatLogAnalytics, 0, nil},
		{"empty records", `{"records": []}`, FormatEventHub, 0, nil},
	}
	for _, tt := range tests {
		for _, compressed := range []bool{false, true} {
			data := []byte(tt.input)
			name := tt.name
			if compressed {
				data = gzipBytes(t, data)
				name += " gzip"
			}
			t.Run(name, func(t *testing.T) {
				res := readAll(t, data, Options{})
				if res.fatal != nil || len(res.errs) > 0 {
					t.Fatalf("fatal %v, record errors %v", res.fatal, res.errs)
				}
				if res.format != tt.format {
					t.Errorf("format = %q, want %q", res.format, tt.format)
				}
				if len(res.items) != tt.items || !sameInts(lines(res.items), tt.lines) {
					t.Errorf("got %d items at lines %v, want %d at %v", len(res.items), lines(res.items), tt.items, tt.lines)
				}
			})
		}
	}
}

func TestFormatBeforeNext(t *testing.T) {
	r, err := NewReader(strings.NewReader(" \n[{}]"), "x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Format(); got != FormatLogAnalytics {
		t.Errorf("Format() before Next = %q, want %q", got, FormatLogAnalytics)
	}
	r, err = NewReader(strings.NewReader(`{"records":[{"a":1}]}`), "x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if got := r.Format(); got != FormatEventHub {
		t.Errorf("Format() after Next = %q, want %q", got, FormatEventHub)
	}
}

func fmtErrs(errs []*RecordError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %v", e)
	}
	return b.String()
}

// TestFirstLine numbers the lines of input that continues a stream from
// the line given.
func TestFirstLine(t *testing.T) {
	rd, err := NewReader(strings.NewReader("{bad\n{\"a\":1}\n"), "PT1H.json", Options{FirstLine: 41})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.Next()
	var re *RecordError
	if !errors.As(err, &re) || re.Line != 41 {
		t.Fatalf("first Next = %v, want a record error on line 41", err)
	}
	it, err := rd.Next()
	if err != nil || it.Line != 42 {
		t.Fatalf("second Next = line %d, %v; want the record of line 42", it.Line, err)
	}
}
