package ingest

import (
	"reflect"
	"testing"
)

func f(key string, kind Kind, s string) Field {
	return Field{Key: key, Value: Value{Kind: kind, Str: s}}
}

// TestFields checks how a record object becomes Fields: key casing, the
// flattening of "properties", decorations, collisions and value kinds.
func TestFields(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []Field
	}{
		{
			name:  "envelope and properties flattened",
			input: `{"time":"2026-03-02T09:15:04Z","correlationId":"c1","properties":{"participantId":"p1","callDuration":834}}`,
			want: []Field{
				f("time", KindString, "2026-03-02T09:15:04Z"),
				f("correlationid", KindString, "c1"),
				f("participantid", KindString, "p1"),
				f("callduration", KindNumber, "834"),
			},
		},
		{
			name:  "properties in any case, before other keys",
			input: `{"Properties":{"A":1},"Time":"t"}`,
			want:  []Field{f("time", KindString, "t"), f("a", KindNumber, "1")},
		},
		{
			name:  "collision keeps the envelope field first",
			input: `{"properties":{"Category":"inner","x":1},"category":"outer"}`,
			want: []Field{
				f("category", KindString, "outer"),
				f("category", KindString, "inner"),
				f("x", KindNumber, "1"),
			},
		},
		{
			name:  "properties as a string holding an object",
			input: `{"category":"c","properties":"{\"a\":\"x\\\"y\",\"b\":[1, 2]}"}`,
			want:  []Field{f("category", KindString, "c"), f("a", KindString, `x"y`), f("b", KindArray, "[1,2]")},
		},
		{
			name:  "properties string with escapes the parser would re-quote",
			input: `{"properties":"{\"a\":\"x\u007fy\\u0001\\ud800z\"}","s":"\u007f\u0001"}`,
			want:  []Field{f("s", KindString, "\x7f\x01"), f("a", KindString, "x\x7fy\x01\ufffdz")},
		},
		{
			name:  "properties string that is not an object stays a field",
			input: `{"properties":"plain text","p2":1}`,
			want:  []Field{f("properties", KindString, "plain text"), f("p2", KindNumber, "1")},
		},
		{
			name:  "properties string with invalid JSON stays a field",
			input: `{"properties":"{\"a\":}"}`,
			want:  []Field{f("properties", KindString, `{"a":}`)},
		},
		{
			name:  "properties that is not an object stays a field",
			input: `{"properties":[1],"q":null}`,
			want:  []Field{f("properties", KindArray, "[1]"), f("q", KindNull, "")},
		},
		{
			name:  "nested properties are not flattened",
			input: `{"properties":{"properties":{"a":1}}}`,
			want:  []Field{f("properties", KindObject, `{"a":1}`)},
		},
		{
			name:  "column decorations removed",
			input: `{"TimeGenerated [UTC]":"t","CallClientTimeStamp [Local Time]":"l","Odd[x]":1,"Two [a] [b]":2," Spaced ":3,"[UTC]":4}`,
			want: []Field{
				f("timegenerated", KindString, "t"),
				f("callclienttimestamp", KindString, "l"),
				f("odd[x]", KindNumber, "1"),
				f("two [a]", KindNumber, "2"),
				f("spaced", KindNumber, "3"),
				f("[utc]", KindNumber, "4"),
			},
		},
		{
			name:  "non-ASCII keys lower-cased",
			input: `{"ÉTAT":"x","Straße":"y"}`,
			want:  []Field{f("état", KindString, "x"), f("straße", KindString, "y")},
		},
		{
			name:  "escaped keys are unescaped",
			input: `{"Call\u0049d":"c","a\"b":1}`,
			want:  []Field{f("callid", KindString, "c"), f(`a"b`, KindNumber, "1")},
		},
		{
			name:  "value kinds",
			input: `{"s":"a\nb\u00e9\ud83d\ude00","n1":1.50,"n2":-0,"n3":1E+3,"n4":3.146336E-05,"t":true,"f":false,"z":null,"o":{ "k" : [ 1 , "x\"y" ] },"a":[ ],"e":""}`,
			want: []Field{
				f("s", KindString, "a\nbé😀"),
				f("n1", KindNumber, "1.50"),
				f("n2", KindNumber, "-0"),
				f("n3", KindNumber, "1E+3"),
				f("n4", KindNumber, "3.146336E-05"),
				f("t", KindBool, "true"),
				f("f", KindBool, "false"),
				f("z", KindNull, ""),
				f("o", KindObject, `{"k":[1,"x\"y"]}`),
				f("a", KindArray, "[]"),
				f("e", KindString, ""),
			},
		},
		{
			name:  "unpaired surrogates become U+FFFD",
			input: `{"a":"x\ud800y","b":"\udc00","c":"\ud83d\u0041","d":"\\ud800"}`,
			want: []Field{
				f("a", KindString, "x\ufffdy"),
				f("b", KindString, "\ufffd"),
				f("c", KindString, "\ufffdA"),
				f("d", KindString, `\ud800`),
			},
		},
		{
			name:  "duplicate keys kept in order",
			input: `{"a":1,"A":2}`,
			want:  []Field{f("a", KindNumber, "1"), f("a", KindNumber, "2")},
		},
		{
			name:  "empty object",
			input: `{}`,
			want:  []Field{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, []byte(tt.input), Options{})
			if len(res.items) != 1 {
				t.Fatalf("got %d items, errors:%s", len(res.items), fmtErrs(res.errs))
			}
			it := res.items[0]
			if !reflect.DeepEqual(it.Fields, tt.want) {
				t.Errorf("input %s\n got %q\nwant %q", tt.input, it.Fields, tt.want)
			}
			if string(it.Raw) != tt.input {
				t.Errorf("raw = %s, want the input", it.Raw)
			}
		})
	}
}

// TestGetFindsEnvelopeFirst is the rule the field mapping relies on.
func TestGetFindsEnvelopeFirst(t *testing.T) {
	res := readAll(t, []byte(`{"properties":{"correlationId":"inner"},"correlationId":"outer"}`), Options{})
	if len(res.items) != 1 {
		t.Fatalf("errors:%s", fmtErrs(res.errs))
	}
	if v, _ := res.items[0].Get("correlationid"); v.Str != "outer" {
		t.Errorf("Get(correlationid) = %q, want the envelope's \"outer\"", v.Str)
	}
}

func TestNormalizeKey(t *testing.T) {
	check := func(in, want string) {
		t.Helper()
		if got := normalizeKey(in); got != want {
			t.Errorf("normalizeKey(%q) = %q, want %q", in, got, want)
		}
	}
	check("TimeGenerated [UTC]", "timegenerated")
	check("TimeGenerated  [UTC] ", "timegenerated")
	check("Name [Local Time]", "name")
	check("a [b]c]", "a [b]c]")
	check("x []", "x")
	check(" [UTC]", "[utc]")
	check("plain", "plain")
	check("", "")
	check("ParticipantId", "participantid")
}
