package ingest

import (
	"bytes"
	"strings"
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
	o, err := v.Object()
	if err != nil {
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
		if pv.Type() == fastjson.TypeString {
			s, _ := pv.StringBytes()
			parsed, err := r.pp.ParseBytes(s)
			if err != nil {
				return Item{}, r.recordError(line, "invalid JSON in properties: "+err.Error())
			}
			pv = parsed
		}
		po, _ := pv.Object()
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
// whose content is a JSON object.
func (r *Reader) flattenable(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeObject:
		return true
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		s = bytes.TrimLeft(s, " \t\r\n")
		if len(s) == 0 || s[0] != '{' {
			return false
		}
		ok, _ := r.vs.validate(s)
		return ok
	}
	return false
}

// addValue appends one field. Value text is copied into the arena: strings
// unescaped, numbers as written, objects and arrays as compact JSON. The
// compact form comes from the parser's marshalling of a subtree nobody has
// inspected yet, which reproduces the input's escapes unchanged.
func (r *Reader) addValue(key string, v *fastjson.Value) {
	f := tmpField{key: key}
	switch v.Type() {
	case fastjson.TypeString:
		f.kind = KindString
		s, _ := v.StringBytes()
		f.a = len(r.arena)
		r.arena = append(r.arena, s...)
	case fastjson.TypeNumber:
		f.kind = KindNumber
		f.a = len(r.arena)
		r.arena = v.MarshalTo(r.arena)
	case fastjson.TypeTrue, fastjson.TypeFalse:
		f.kind = KindBool
		f.a = -1
		if v.Type() == fastjson.TypeTrue {
			f.a = -2
		}
	case fastjson.TypeObject, fastjson.TypeArray:
		f.kind = KindObject
		if v.Type() == fastjson.TypeArray {
			f.kind = KindArray
		}
		f.a = len(r.arena)
		r.arena = v.MarshalTo(r.arena)
	default:
		f.kind = KindNull
	}
	f.b = len(r.arena)
	r.tmp = append(r.tmp, f)
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
