package ingest

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

func encodeUTF16(s string, order binary.AppendByteOrder, bom bool) []byte {
	var b []byte
	if bom {
		b = order.AppendUint16(b, 0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

func TestUTF16Input(t *testing.T) {
	const text = "[\n  {\"Name\": \"Zoë 😀\", \"n\": 1},\n  {\"Name\": \"b\", \"n\": 2}\n]\n"
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, compressed := range []bool{false, true} {
			data := encodeUTF16(text, order, true)
			name := order.String()
			if compressed {
				data = gzipBytes(t, data)
				name += " gzip"
			}
			t.Run(name, func(t *testing.T) {
				res := readAll(t, data, Options{})
				if res.fatal != nil || len(res.errs) > 0 || len(res.items) != 2 {
					t.Fatalf("fatal %v, %d items, errors:%s", res.fatal, len(res.items), fmtErrs(res.errs))
				}
				if res.format != FormatLogAnalytics || !sameInts(lines(res.items), []int{2, 3}) {
					t.Errorf("format %q lines %v", res.format, lines(res.items))
				}
				if v := get(t, res.items[0], "name"); v.Str != "Zoë 😀" {
					t.Errorf("name = %q", v.Str)
				}
			})
		}
	}
}

func TestUTF16Reader(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"plain", encodeUTF16("abc", le, false), "abc"},
		{"pair", encodeUTF16("x😀y", le, false), "x😀y"},
		{"lone high", le.AppendUint16(le.AppendUint16(nil, 0xd83d), 'a'), "\ufffda"},
		{"lone low", le.AppendUint16(le.AppendUint16(nil, 0xde00), 'a'), "\ufffda"},
		{"high at end", le.AppendUint16(le.AppendUint16(nil, 'a'), 0xd83d), "a\ufffd"},
		{"odd byte at end", append(encodeUTF16("ab", le, false), 'c'), "ab\ufffd"},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(string(tt.in))
			if oneByte {
				src = iotest.OneByteReader(src)
			}
			got, err := io.ReadAll(newUTF16Reader(src, le))
			if err != nil || string(got) != tt.want {
				t.Errorf("%s (one byte reads %v): got %q, %v; want %q", tt.name, oneByte, got, err, tt.want)
			}
		}
	}
}
