package ingest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCSVExportFixture(t *testing.T) {
	res := readAll(t, fixture(t, "csv/export.csv"), Options{})
	if res.fatal != nil || len(res.errs) > 0 || len(res.items) != 3 {
		t.Fatalf("fatal %v, %d items, errors:%s", res.fatal, len(res.items), fmtErrs(res.errs))
	}
	sum, ops := res.items[0], res.items[2]

	if v := get(t, sum, "timegenerated"); v != (Value{KindString, "2026-03-02T09:15:04.512Z"}) {
		t.Errorf("decorated column: %+v", v)
	}
	if v := get(t, sum, "diagnosticoptions"); v.Str != `{"appName":"contoso-care","appVersion":"4.2.0","tags":["clinic"]}` {
		t.Errorf("quoted JSON cell with doubled quotes: %q", v.Str)
	}
	if v := get(t, sum, "callduration"); v != (Value{KindString, "834"}) {
		t.Errorf("every cell is a string: %+v", v)
	}
	if v := get(t, sum, "teamsthreadid"); v != (Value{}) {
		t.Errorf("empty cell should be null: %+v", v)
	}
	want := "{\n  \"DiagnosticChanged\": \"networkReceiveQuality\",\n  \"DiagnosticQuality\": \"Poor\"\n}"
	if v := get(t, ops, "operationpayload"); v.Str != want {
		t.Errorf("cell with embedded newlines: %q", v.Str)
	}
	if v := get(t, ops, "useragent"); !strings.Contains(v.Str, `#clientTag:"care"`) {
		t.Errorf("doubled quotes inside a cell: %q", v.Str)
	}
	if last := ops.Fields[len(ops.Fields)-1]; last.Key != "operationpayload" {
		t.Errorf("the CRLF before the next row must not stay in the last cell: %+v", last)
	}

	// Raw is a JSON object of the header names (as written) and cells.
	var raw map[string]string
	if err := json.Unmarshal(ops.Raw, &raw); err != nil {
		t.Fatalf("raw is not a JSON object of strings: %v\n%s", err, ops.Raw)
	}
	if raw["CallClientTimeStamp [UTC]"] != "2026-03-02T09:01:59.870Z" || raw["OperationPayload"] != want || raw["TeamsThreadId"] != "" {
		t.Errorf("raw = %s", ops.Raw)
	}
	if len(raw) != len(ops.Fields) {
		t.Errorf("raw has %d members, item has %d fields", len(raw), len(ops.Fields))
	}
}

func TestCSVRows(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		want      [][]Field
		wantLines []int
		errLines  []int
		errHas    []string
	}{
		{
			name:      "plain rows, LF",
			input:     "A,B\n1,2\n3,\n",
			want:      [][]Field{{f("a", KindString, "1"), f("b", KindString, "2")}, {f("a", KindString, "3"), f("b", KindNull, "")}},
			wantLines: []int{2, 3},
		},
		{
			name:      "CRLF and no final line end",
			input:     "A,B\r\n1,2\r\n3,4",
			want:      [][]Field{{f("a", KindString, "1"), f("b", KindString, "2")}, {f("a", KindString, "3"), f("b", KindString, "4")}},
			wantLines: []int{2, 3},
		},
		{
			name:      "quoted cells across lines",
			input:     "A,B\n\"x\ny\",\"say \"\"hi\"\"\"\r\n\"\",z\n",
			want:      [][]Field{{f("a", KindString, "x\ny"), f("b", KindString, `say "hi"`)}, {f("a", KindNull, ""), f("b", KindString, "z")}},
			wantLines: []int{2, 4},
		},
		{
			name:      "blank lines skipped",
			input:     "A\n\n1\r\n\r\n2\n",
			want:      [][]Field{{f("a", KindString, "1")}, {f("a", KindString, "2")}},
			wantLines: []int{3, 5},
		},
		{
			name:      "wrong cell counts",
			input:     "A,B\n1\n2,3\n4,5,6\n7,8\n",
			want:      [][]Field{{f("a", KindString, "2"), f("b", KindString, "3")}, {f("a", KindString, "7"), f("b", KindString, "8")}},
			wantLines: []int{3, 5},
			errLines:  []int{2, 4},
			errHas:    []string{"row has 1 cells, the header has 2", "row has 3 cells, the header has 2"},
		},
		{
			name:      "bare quote and junk after a closing quote",
			input:     "A,B\n1,x\"y\n\"a\"b,2\n3,4\n",
			want:      [][]Field{{f("a", KindString, "3"), f("b", KindString, "4")}},
			wantLines: []int{4},
			errLines:  []int{2, 3},
			errHas:    []string{`bare '"' in an unquoted cell`, `unexpected 'b' after a closing quote`},
		},
		{
			name:      "unterminated quote at the end",
			input:     "A,B\n1,2\n3,\"never closed\n4,5\n",
			want:      [][]Field{{f("a", KindString, "1"), f("b", KindString, "2")}},
			wantLines: []int{2},
			errLines:  []int{3},
			errHas:    []string{"unexpected end of input inside a quoted cell"},
		},
		{
			name:      "header decorations and spaces",
			input:     " TimeGenerated [UTC] ,CallId\nt,c\n",
			want:      [][]Field{{f("timegenerated", KindString, "t"), f("callid", KindString, "c")}},
			wantLines: []int{2},
		},
		{
			name:      "properties column is not flattened",
			input:     "properties\n\"{\"\"a\"\":1}\"\n",
			want:      [][]Field{{f("properties", KindString, `{"a":1}`)}},
			wantLines: []int{2},
		},
		{
			name:  "header only",
			input: "A,B\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, []byte(tt.input), Options{})
			if res.fatal != nil {
				t.Fatal(res.fatal)
			}
			if res.format != FormatCSV {
				t.Errorf("format %q", res.format)
			}
			var got [][]Field
			for _, it := range res.items {
				got = append(got, it.Fields)
				if it.Format != FormatCSV {
					t.Errorf("item format %q", it.Format)
				}
			}
			if !reflect.DeepEqual(got, tt.want) || !sameInts(lines(res.items), tt.wantLines) {
				t.Errorf("rows %q at lines %v\nwant %q at %v\nerrors:%s", got, lines(res.items), tt.want, tt.wantLines, fmtErrs(res.errs))
			}
			if !sameInts(errLines(res.errs), tt.errLines) {
				t.Errorf("error lines %v, want %v; errors:%s", errLines(res.errs), tt.errLines, fmtErrs(res.errs))
			}
			for i, want := range tt.errHas {
				if i >= len(res.errs) || !strings.Contains(res.errs[i].Reason, want) {
					t.Errorf("error %d should contain %q; errors:%s", i, want, fmtErrs(res.errs))
				}
			}
		})
	}
}

func TestCSVBadHeaderStops(t *testing.T) {
	res := readAll(t, []byte("A,\"B\nx,y\n"), Options{})
	if len(res.items) != 0 || len(res.errs) != 1 || !strings.HasPrefix(res.errs[0].Reason, "header row:") {
		t.Errorf("items %d, errors:%s", len(res.items), fmtErrs(res.errs))
	}
}

func TestCSVRowLimit(t *testing.T) {
	input := "a,b\n01234,678\n01234,6789\n\"0\",\"1\"\r\n"
	res := readAll(t, []byte(input), Options{MaxRecordBytes: 9})
	var got []string
	for _, it := range res.items {
		got = append(got, it.Fields[0].Value.Str+","+it.Fields[1].Value.Str)
	}
	if strings.Join(got, " ") != "01234,678 0,1" {
		t.Errorf("rows %q; a 9-byte row and a quoted one must pass a 9-byte limit", got)
	}
	if len(res.errs) != 1 || res.errs[0].Line != 3 || res.errs[0].Reason != "record exceeds 9 bytes" {
		t.Errorf("errors:%s\nwant the 10-byte row on line 3 rejected", fmtErrs(res.errs))
	}
}

func TestCSVHeaderMustNameAKnownColumn(t *testing.T) {
	opts := Options{CSVColumns: []string{"timegenerated", "callid"}}
	res := readAll(t, []byte("not json\nnor this\n"), opts)
	if len(res.items) != 0 || len(res.errs) != 1 || res.errs[0].Line != 1 || !strings.Contains(res.errs[0].Reason, "not a recognised input") {
		t.Errorf("items %d, errors:%s", len(res.items), fmtErrs(res.errs))
	}
	res = readAll(t, []byte("TimeGenerated,CallId\n2026-01-01T00:00:00Z,c1\n"), opts)
	if len(res.items) != 1 || len(res.errs) != 0 {
		t.Errorf("a header naming known columns: items %d, errors:%s", len(res.items), fmtErrs(res.errs))
	}
}
