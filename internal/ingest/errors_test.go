package ingest

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// rec is a small valid record whose "n" field tells records apart.
func rec(n string) string {
	return `{"time":"2026-03-02T09:15:04Z","category":"CallSummary","properties":{"n":` + n + `}}`
}

func ns(t *testing.T, items []Item) []string {
	t.Helper()
	out := make([]string, len(items))
	for i, it := range items {
		v, _ := it.Get("n")
		out[i] = v.Str
	}
	return out
}

// TestBadInputRecovery feeds broken input in every shape and checks which
// records survive, which errors are reported and at which lines.
func TestBadInputRecovery(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantN     string // the "n" of every record yielded, space separated
		wantLines []int  // lines of the records
		errLines  []int  // lines of the record errors
		errHas    []string
	}{
		{
			name:      "non-JSON line between good lines",
			input:     rec("1") + "\nthis is not json\n" + rec("2") + "\n",
			wantN:     "1 2",
			wantLines: []int{1, 3},
			errLines:  []int{2},
			errHas:    []string{"invalid JSON: invalid character 'h' in literal"},
		},
		{
			name:      "truncated line between good lines",
			input:     rec("1") + "\n" + `{"time":"2026-03-02T09:15:04Z","categ` + "\n" + rec("2") + "\n",
			wantN:     "1 2",
			wantLines: []int{1, 3},
			errLines:  []int{2},
			errHas:    []string{"newline inside a string"},
		},
		{
			name:      "line cut after a comma, next line starts a record",
			input:     rec("1") + "\n" + `{"time":"2026-03-02T09:15:04Z",` + "\n" + rec("2") + "\n",
			wantN:     "1 2",
			wantLines: []int{1, 3},
			errLines:  []int{2},
			errHas:    []string{"where an object key was expected (line 3)"},
		},
		{
			name:      "truncated last line",
			input:     rec("1") + "\n" + rec("2") + "\n" + `{"time":"2026-03-02T0`,
			wantN:     "1 2",
			wantLines: []int{1, 2},
			errLines:  []int{3},
			errHas:    []string{"unexpected end of input (truncated record)"},
		},
		{
			name:      "bad literal and bad number",
			input:     `{"a":tru}` + "\n" + `{"n":01}` + "\n" + `{"n":1.}` + "\n" + rec("3"),
			wantN:     "3",
			wantLines: []int{4},
			errLines:  []int{1, 2, 3},
			errHas:    []string{"invalid character '}' in literal", "unexpected '1' after object value", "after decimal point"},
		},
		{
			name:      "stray closing bracket line",
			input:     rec("1") + "\n]\n}\n" + rec("2") + "\n@\n",
			wantN:     "1 2",
			wantLines: []int{1, 4},
			errLines:  []int{2, 5},
			errHas:    []string{"unexpected ']' where a value was expected", "unexpected '@' where a value was expected"},
		},
		{
			name:      "commas between top-level values are tolerated",
			input:     rec("1") + ",\n" + rec("2") + ",\n,\n" + rec("3"),
			wantN:     "1 2 3",
			wantLines: []int{1, 2, 4},
		},
		{
			name:      "records that are not objects",
			input:     "{\"n\":1}\n42\n\"text\"\ntrue\nnull\n[1, {\"n\":2}, [3]]\n",
			wantN:     "1 2",
			wantLines: []int{1, 6},
			errLines:  []int{2, 3, 4, 5, 6, 6},
			errHas:    []string{"record is a number, not an object", "record is a string", "record is a boolean", "record is null", "record is a number", "record is an array"},
		},
		{
			name:      "event hub line with a bad element, next line fine",
			input:     `{"records":[` + rec("1") + `,{"x":}]}` + "\n" + `{"records":[` + rec("2") + "]}\n",
			wantN:     "1 2",
			wantLines: []int{1, 2},
			errLines:  []int{1},
		},
		{
			name:      "pretty array with a bad element resynchronises",
			input:     "[\n  " + rec("1") + ",\n  {\n    \"n\": 2,\n    \"bad\": nope\n  },\n  " + rec("3") + ",\n  {\n    \"n\": 4\n  }\n]\n",
			wantN:     "1 3 4",
			wantLines: []int{2, 7, 8},
			errLines:  []int{3},
			errHas:    []string{"(line 5)"},
		},
		{
			name:      "pretty array with a missing comma",
			input:     "[\n  {\"n\": 1}\n  {\"n\": 2},\n  {\"n\": 3}\n]",
			wantN:     "1 2 3",
			wantLines: []int{2, 3, 4},
			errLines:  []int{3},
			errHas:    []string{"after array element, expected ',' or ']'"},
		},
		{
			name:      "pretty array with a truncated element followed by the next",
			input:     "[\n  {\"n\": 1, \"s\": \"abc\n  {\"n\": 2}\n]",
			wantN:     "2",
			wantLines: []int{3},
			errLines:  []int{2},
		},
		{
			name:      "compact array with a bad element stops once",
			input:     `[` + rec("1") + `,{"n":2,}, ` + rec("3") + `]`,
			wantN:     "1",
			wantLines: []int{1},
			errLines:  []int{1},
		},
		{
			name:      "truncated pretty array",
			input:     "[\n  {\"n\": 1},\n  {\"n\": 2},\n  {\"n\":",
			wantN:     "1 2",
			wantLines: []int{2, 3},
			errLines:  []int{4},
			errHas:    []string{"truncated record"},
		},
		{
			name:      "array cut between elements",
			input:     "[\n  {\"n\": 1},\n  {\"n\": 2},\n",
			wantN:     "1 2",
			wantLines: []int{2, 3},
			errLines:  []int{1},
			errHas:    []string{"the array is not closed"},
		},
		{
			name:      "records document cut between elements",
			input:     "{\"records\": [\n  {\"n\": 1},\n",
			wantN:     "1",
			wantLines: []int{2},
			errLines:  []int{1},
			errHas:    []string{"the records document is not closed"},
		},
		{
			name:      "records document with a broken tail",
			input:     "{\"records\": [{\"n\": 1}], \"x\": }\n" + rec("2"),
			wantN:     "1 2",
			wantLines: []int{1, 2},
			errLines:  []int{1},
		},
		{
			name:      "records document with extra members",
			input:     "{\"records\": [{\"n\": 1}], \"other\": {\"records\": [{\"n\": 9}]}}\n" + rec("2"),
			wantN:     "1 2",
			wantLines: []int{1, 2},
		},
		{
			name:      "records not first is a plain record",
			input:     `{"n": 1, "records": [{"n": 9}]}`,
			wantN:     "1",
			wantLines: []int{1},
		},
		{
			name:      "records that is not an array is a plain record",
			input:     `{"records": {"n": 9}, "n": 1}`,
			wantN:     "1",
			wantLines: []int{1},
		},
		{
			name:      "pretty record broken, nested objects not taken for records",
			input:     "{\n  \"n\": 1,\n  \"x\": [\n    {\"a\": 1},\n    {\"a\": 2}\n  ],\n  \"y\": ,\n  \"z\": [\n    {\"a\": 3}\n  ]\n}\n" + rec("2"),
			wantN:     "2",
			wantLines: []int{12},
			errLines:  []int{1},
		},
		{
			name:      "control character in a string",
			input:     "{\"n\":\"a\x01b\"}\n" + rec("2"),
			wantN:     "2",
			wantLines: []int{2},
			errLines:  []int{1},
			errHas:    []string{"control character byte 0x01 inside a string"},
		},
		{
			name:      "bad escape",
			input:     `{"n":"a\qb"}` + "\n" + `{"n":"\u12G4"}` + "\n" + rec("3"),
			wantN:     "3",
			wantLines: []int{3},
			errLines:  []int{1, 2},
			errHas:    []string{`invalid escape 'q'`, `invalid character 'G' in \u escape`},
		},
		{
			name:      "too deep",
			input:     "{\"n\":" + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "}\n" + rec("2"),
			wantN:     "2",
			wantLines: []int{2},
			errLines:  []int{1},
			errHas:    []string{"nesting deeper than 256 levels"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, []byte(tt.input), Options{})
			if res.fatal != nil {
				t.Fatalf("fatal error: %v", res.fatal)
			}
			got := strings.Join(ns(t, res.items), " ")
			if got != tt.wantN || !sameInts(lines(res.items), tt.wantLines) {
				t.Errorf("records %q at lines %v, want %q at %v; errors:%s", got, lines(res.items), tt.wantN, tt.wantLines, fmtErrs(res.errs))
			}
			if !sameInts(errLines(res.errs), tt.errLines) {
				t.Errorf("error lines %v, want %v; errors:%s", errLines(res.errs), tt.errLines, fmtErrs(res.errs))
			}
			for i, want := range tt.errHas {
				if i >= len(res.errs) || !strings.Contains(res.errs[i].Reason, want) {
					t.Errorf("error %d should contain %q; errors:%s", i, want, fmtErrs(res.errs))
				}
			}
			for _, e := range res.errs {
				if e.Source != "test.json" || e.Line < 1 {
					t.Errorf("error without source or line: %+v", e)
				}
			}
		})
	}
}

// lazyReader produces a prefix, n filler bytes and a suffix without ever
// holding the filler in memory.
type lazyReader struct {
	prefix, suffix []byte
	fill           byte
	n              int
	stage          int
}

func (l *lazyReader) Read(p []byte) (int, error) {
	switch {
	case len(l.prefix) > 0:
		n := copy(p, l.prefix)
		l.prefix = l.prefix[n:]
		return n, nil
	case l.n > 0:
		n := min(len(p), l.n)
		for i := range n {
			p[i] = l.fill
		}
		l.n -= n
		return n, nil
	case len(l.suffix) > 0:
		n := copy(p, l.suffix)
		l.suffix = l.suffix[n:]
		return n, nil
	}
	return 0, io.EOF
}

// TestOversizeBounded streams 50 MB records through the reader and checks
// that they are rejected, that reading goes on after them, and that the
// reader allocated far less than the record's size.
func TestOversizeBounded(t *testing.T) {
	const big = 50 << 20
	tests := []struct {
		name           string
		prefix, suffix string
		fill           byte
		wantN          string
		wantLines      []int
		errHas         string
		errLine        int
	}{
		{
			name:   "line of a's",
			prefix: rec("1") + "\n", fill: 'a', suffix: "\n" + rec("3") + "\n",
			wantN: "1 3", wantLines: []int{1, 3}, errLine: 2, errHas: "invalid JSON",
		},
		{
			name:   "valid oversize JSON line",
			prefix: rec("1") + "\n" + `{"n":2,"s":"`, fill: 'a', suffix: "\"}\n" + rec("3") + "\n",
			wantN: "1 3", wantLines: []int{1, 3}, errLine: 2, errHas: "record exceeds 1048576 bytes",
		},
		{
			name:   "oversize element in a pretty array",
			prefix: "[\n  " + rec("1") + ",\n  {\"n\": 2, \"s\": \"", fill: 'b', suffix: "\"},\n  " + rec("3") + "\n]\n",
			wantN: "1 3", wantLines: []int{2, 4}, errLine: 3, errHas: "record exceeds 1048576 bytes",
		},
		{
			name:   "oversize element in a one-line records document",
			prefix: `{"records":[` + rec("1") + `,{"n":2,"s":[`, fill: ' ', suffix: `]},` + rec("3") + "]}",
			wantN: "1 3", wantLines: []int{1, 1}, errLine: 1, errHas: "record exceeds",
		},
		{
			name:   "oversize CSV row",
			prefix: "n,s\n1,x\n2,\"", fill: 'c', suffix: "\"\n3,y\n",
			wantN: "1 3", wantLines: []int{2, 4}, errLine: 3, errHas: "record exceeds 1048576 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := readFrom(t, &lazyReader{prefix: []byte(tt.prefix), suffix: []byte(tt.suffix), fill: tt.fill, n: big}, 100, Options{})
			runtime.ReadMemStats(&after)
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			if got := strings.Join(ns(t, res.items), " "); got != tt.wantN || !sameInts(lines(res.items), tt.wantLines) {
				t.Errorf("records %q at lines %v, want %q at %v", got, lines(res.items), tt.wantN, tt.wantLines)
			}
			if len(res.errs) != 1 || res.errs[0].Line != tt.errLine || !strings.Contains(res.errs[0].Reason, tt.errHas) {
				t.Errorf("errors:%s\nwant one at line %d containing %q", fmtErrs(res.errs), tt.errLine, tt.errHas)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("reading a %d-byte record allocated %d bytes; it must not be held in memory", big, alloc)
			}
		})
	}
}

func TestMaxRecordBytesOption(t *testing.T) {
	input := rec("1") + "\n" + `{"n":2,"pad":"` + strings.Repeat("x", 200) + `"}` + "\n" + rec("3")
	res := readAll(t, []byte(input), Options{MaxRecordBytes: 100})
	if got := strings.Join(ns(t, res.items), " "); got != "1 3" {
		t.Errorf("records %q, want \"1 3\"", got)
	}
	if len(res.errs) != 1 || res.errs[0].Reason != "record exceeds 100 bytes" || res.errs[0].Line != 2 {
		t.Errorf("errors:%s", fmtErrs(res.errs))
	}
	// A record of exactly the limit is accepted.
	exact := `{"n":1,"p":"` + strings.Repeat("y", 100-len(`{"n":1,"p":""}`)) + `"}`
	if res := readAll(t, []byte(exact), Options{MaxRecordBytes: 100}); len(res.items) != 1 {
		t.Errorf("a record of exactly MaxRecordBytes was rejected: %s", fmtErrs(res.errs))
	}
}

// failingReader returns data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestFatalErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	good := rec("1") + "\n" + rec("2") + "\n"

	t.Run("read error after records", func(t *testing.T) {
		res := readFrom(t, &failingReader{data: []byte(good + `{"n":`), err: boom}, 100, Options{})
		if !errors.Is(res.fatal, boom) {
			t.Fatalf("fatal = %v, want %v", res.fatal, boom)
		}
		var re *RecordError
		if errors.As(res.fatal, &re) {
			t.Errorf("a read error must not be a RecordError")
		}
		if got := strings.Join(ns(t, res.items), " "); got != "1 2" {
			t.Errorf("records before the error: %q", got)
		}
	})

	t.Run("corrupt gzip body", func(t *testing.T) {
		z := gzipBytes(t, []byte(strings.Repeat(good, 2000)))
		for i := len(z) / 2; i < len(z)/2+64; i++ {
			z[i] ^= 0x55
		}
		res := readFrom(t, bytes.NewReader(z), 1<<20, Options{})
		if res.fatal == nil {
			t.Fatalf("no fatal error for corrupt gzip; %d items, errors:%s", len(res.items), fmtErrs(res.errs))
		}
		for _, it := range res.items {
			if v, _ := it.Get("n"); v.Str != "1" && v.Str != "2" {
				t.Errorf("item before the corruption has n=%q", v.Str)
			}
		}
	})

	t.Run("truncated gzip", func(t *testing.T) {
		z := gzipBytes(t, []byte(strings.Repeat(good, 50)))
		res := readFrom(t, bytes.NewReader(z[:len(z)-10]), 1<<20, Options{})
		if res.fatal == nil || !errors.Is(res.fatal, io.ErrUnexpectedEOF) {
			t.Fatalf("fatal = %v, want unexpected EOF", res.fatal)
		}
	})

	t.Run("bad gzip header", func(t *testing.T) {
		_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0, 0}), "x.gz", Options{})
		if err == nil || !strings.Contains(err.Error(), "x.gz") {
			t.Errorf("NewReader error = %v, want one naming the source", err)
		}
	})

	t.Run("read error while sniffing", func(t *testing.T) {
		_, err := NewReader(&failingReader{err: boom}, "x", Options{})
		if !errors.Is(err, boom) {
			t.Errorf("NewReader error = %v, want %v", err, boom)
		}
	})
}

// TestItemsDoNotAlias reads many records through a small buffer cycle and
// checks them only at the end: if any Item shared memory with the reader's
// buffers, later records would have overwritten it.
func TestItemsDoNotAlias(t *testing.T) {
	var b strings.Builder
	const n = 3000
	for i := range n {
		b.WriteString(`{"time":"t` + itoa(i) + `","properties":{"n":"` + itoa(i) + `","obj":{"k":` + itoa(i) + `}}}` + "\n")
	}
	for _, data := range [][]byte{[]byte(b.String()), gzipBytes(t, []byte(b.String()))} {
		res := readAll(t, data, Options{})
		if len(res.items) != n {
			t.Fatalf("got %d items, want %d", len(res.items), n)
		}
		for i, it := range res.items {
			want := itoa(i)
			if v, _ := it.Get("n"); v.Str != want {
				t.Fatalf("item %d: n = %q", i, v.Str)
			}
			if v, _ := it.Get("obj"); v.Str != `{"k":`+want+`}` {
				t.Fatalf("item %d: obj = %q", i, v.Str)
			}
			if !bytes.Contains(it.Raw, []byte(`"t`+want+`"`)) {
				t.Fatalf("item %d: raw = %q", i, it.Raw)
			}
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// TestLargeDocumentIsStreamed: an Event Hub document far larger than the
// record limit is fine as long as each of its records is within it.
func TestLargeDocumentIsStreamed(t *testing.T) {
	const n = 30000
	var b strings.Builder
	b.WriteString(`{"records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(rec(itoa(i)))
	}
	b.WriteString("]}\n" + rec(`"last"`))
	if b.Len() < 2*DefaultMaxRecordBytes {
		t.Fatalf("document of %d bytes is too small for this test", b.Len())
	}
	res := readAll(t, []byte(b.String()), Options{})
	if res.fatal != nil || len(res.errs) > 0 || len(res.items) != n+1 {
		t.Fatalf("%d items, fatal %v, errors:%s", len(res.items), res.fatal, fmtErrs(res.errs))
	}
	if v, _ := res.items[n-1].Get("n"); v.Str != itoa(n-1) || res.items[n-1].Format != FormatEventHub || res.items[n].Line != 2 {
		t.Errorf("last record of the document: n=%q format %q; next line %d", v.Str, res.items[n-1].Format, res.items[n].Line)
	}
}
