package ingest

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// tmpField is a field under construction: its value text lives in
// Reader.arena between a and b until the record's one string is made.
type tmpField struct {
	key  string
	kind Kind
	a, b int
}

// item turns the bytes of one validated JSON object into an Item.
//
// All value strings of a record are copied into one arena and converted to a
// single string, so an item costs three allocations (fields, raw bytes, value
// text) whatever its field count; keys come from a per-reader intern cache.
func (r *Reader) item(b []byte, line int, format Format) (Item, error) {
	v, err := r.p.ParseBytes(b)
	if err != nil {
		// Unreachable for input the scanner accepted; reported, not panicked on.
		return Item{}, r.recordError(line, "invalid JSON: "+err.Error())
	}
	o := v.GetObject()
	if o == nil {
		return Item{}, r.recordError(line, "record is not an object")
	}
	r.tmp = r.tmp[:0]
	r.arena = r.arena[:0]
	r.props = r.props[:0]

	// Envelope fields first, in document order; a "properties" object (or a
	// string holding one) is set aside and flattened after them, so that on
	// a name clash Get finds the envelope field.
	o.Visit(func(k []byte, v *fastjson.Value) {
		key := r.key(k)
		if key == "properties" && r.flattenable(v) {
			r.props = append(r.props, v)
			return
		}
		r.addValue(key, v)
	})
	for _, pv := range r.props {
		po := pv.GetObject()
		if po == nil {
			// A string holding an object, already validated.
			text, _ := r.stringText(pv)
			parsed, err := r.pp.ParseBytes(text)
			if err != nil {
				return Item{}, r.recordError(line, "invalid JSON in properties: "+err.Error())
			}
			po = parsed.GetObject()
		}
		po.Visit(func(k []byte, v *fastjson.Value) {
			r.addValue(r.key(k), v)
		})
	}

	it := Item{
		Source: r.source,
		Line:   line,
		Format: format,
		Fields: r.fields(),
		Raw:    bytes.Clone(b),
	}
	return it, nil
}

// flattenable reports whether a "properties" value is an object, or a string
// whose content is a JSON object. It must not call v.Type (which v.Object
// does too): on a string that makes the parser unescape it in place and
// later re-quote it in Go syntax.
func (r *Reader) flattenable(v *fastjson.Value) bool {
	if v.GetObject() != nil {
		return true
	}
	s, ok := r.stringText(v)
	if !ok {
		return false
	}
	s = bytes.TrimLeft(s, " \t\r\n")
	if len(s) == 0 || s[0] != '{' {
		return false
	}
	ok, _ = r.vs.validate(s)
	return ok
}

// stringText returns the unescaped content of a string value, in a scratch
// buffer valid until the next call, or false if v is not a string.
func (r *Reader) stringText(v *fastjson.Value) ([]byte, bool) {
	r.scratch = v.MarshalTo(r.scratch[:0])
	if r.scratch[0] != '"' {
		return nil, false
	}
	r.scratch = r.unquote(r.scratch, 0)
	return r.scratch, true
}

// addValue appends one field. Its text comes from the parser's marshalling
// of a value nobody has inspected yet, which reproduces the input's bytes
// minus whitespace: numbers as written, objects and arrays as compact JSON.
// Strings are then unescaped here rather than by the parser, so that an
// unpaired surrogate escape becomes U+FFFD as in encoding/json.
func (r *Reader) addValue(key string, v *fastjson.Value) {
	a := len(r.arena)
	r.arena = v.MarshalTo(r.arena)
	f := tmpField{key: key, a: a}
	switch r.arena[a] {
	case '"':
		f.kind = KindString
		r.arena = r.unquote(r.arena, a)
	case '{':
		f.kind = KindObject
	case '[':
		f.kind = KindArray
	case 't':
		f.kind, f.a = KindBool, -2
		r.arena = r.arena[:a]
	case 'f':
		f.kind, f.a = KindBool, -1
		r.arena = r.arena[:a]
	case 'n':
		f.kind = KindNull
		r.arena = r.arena[:a]
	default:
		f.kind = KindNumber
	}
	f.b = len(r.arena)
	r.tmp = append(r.tmp, f)
}

// unquote replaces the JSON string literal that runs from buf[a] to the end
// of buf with its unescaped content.
func (r *Reader) unquote(buf []byte, a int) []byte {
	content := buf[a+1 : len(buf)-1]
	if bytes.IndexByte(content, '\\') < 0 {
		n := copy(buf[a:], content)
		return buf[:a+n]
	}
	r.unesc = appendUnescaped(r.unesc[:0], content)
	return append(buf[:a], r.unesc...)
}

// appendUnescaped appends the content of a JSON string with its escapes
// decoded. Unpaired surrogates become U+FFFD; a malformed escape (which the
// scanner never lets through) is copied as it is.
func appendUnescaped(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		c := s[i+1]
		rest := s[i+2:]
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case '"', '\\', '/':
			dst = append(dst, c)
		case 'u':
			u, ok := hex4(rest)
			if !ok {
				dst = append(dst, s[i:i+2]...)
				break
			}
			rest = rest[4:]
			if utf16.IsSurrogate(u) {
				lo, ok := rune(0), false
				if len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' {
					lo, ok = hex4(rest[2:])
				}
				if d := utf16.DecodeRune(u, lo); ok && d != utf8.RuneError {
					u = d
					rest = rest[6:]
				} else {
					u = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, u)
		default:
			dst = append(dst, s[i:i+2]...)
		}
		s = rest
	}
}

// hex4 decodes four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// fields materialises the fields under construction with one string for all
// of their text.
func (r *Reader) fields() []Field {
	text := string(r.arena)
	out := make([]Field, len(r.tmp))
	for i, f := range r.tmp {
		out[i].Key = f.key
		out[i].Value.Kind = f.kind
		switch {
		case f.kind == KindBool && f.a == -2:
			out[i].Value.Str = "true"
		case f.kind == KindBool:
			out[i].Value.Str = "false"
		case f.kind != KindNull:
			out[i].Value.Str = text[f.a:f.b]
		}
	}
	return out
}

// key returns the normalized form of a field name, through a bounded cache
// so that the names repeated in every record are normalized and allocated
// once.
func (r *Reader) key(k []byte) string {
	if s, ok := r.keys[string(k)]; ok {
		return s
	}
	s := normalizeKey(string(k))
	if len(r.keys) < maxInternedKeys {
		r.keys[string(k)] = s
	}
	return s
}

// normalizeKey lower-cases a field name after removing a trailing column
// decoration such as " [UTC]" or " [Local Time]" (a bracketed suffix after
// a space) and surrounding spaces.
func normalizeKey(k string) string {
	k = strings.TrimSpace(k)
	if n := len(k); n > 0 && k[n-1] == ']' {
		if i := strings.LastIndexByte(k[:n-1], '['); i > 0 && k[i-1] == ' ' && !strings.ContainsRune(k[i+1:n-1], ']') {
			k = k[:i-1]
		}
	}
	k = strings.TrimSpace(k)
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.ToLower(k)
		}
	}
	return k
}

// appendJSONString appends s to dst as a JSON string literal. Bytes that are
// not valid UTF-8 are kept as they are.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
