package acs

import (
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting canonicalJSON accepts; deeper text is
// treated as an opaque string. ACS payloads are one or two levels deep.
const maxJSONDepth = 64

// member is one member of a JSON object: the spans of its key (without the
// quotes, still escaped) and of its value in the source text.
type member struct {
	ks, ke int
	vs, ve int
}

// jsonCanon canonicalizes JSON text: object members sorted by key, no
// insignificant white space, strings re-escaped one way, numbers in the
// canonical form of appendCanonNumber. It keeps scratch space between calls
// and is not safe for concurrent use.
type jsonCanon struct {
	members []member
	ka, kb  []byte // decoded keys being compared
}

// appendJSON appends the canonical form of the JSON text s and reports
// whether s was valid JSON; on false dst is returned unchanged.
func (c *jsonCanon) appendJSON(dst []byte, s string) ([]byte, bool) {
	i := skipWS(s, 0)
	end, ok := scanValue(s, i, 0)
	if !ok || skipWS(s, end) != len(s) {
		return dst, false
	}
	n := len(dst)
	dst, ok = c.appendValue(dst, s, i, end)
	if !ok {
		return dst[:n], false
	}
	return dst, true
}

func (c *jsonCanon) appendValue(dst []byte, s string, i, end int) ([]byte, bool) {
	switch s[i] {
	case '{':
		return c.appendObject(dst, s, i)
	case '[':
		dst = append(dst, '[')
		j := skipWS(s, i+1)
		for n := 0; s[j] != ']'; n++ {
			ve, _ := scanValue(s, j, 0)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = c.appendValue(dst, s, j, ve); !ok {
				return dst, false
			}
			j = skipWS(s, ve)
			if s[j] == ',' {
				j = skipWS(s, j+1)
			}
		}
		return append(dst, ']'), true
	case '"':
		return appendJSONString(dst, s[i+1:end-1]), true
	case 't', 'f', 'n':
		return append(dst, s[i:end]...), true
	}
	return appendCanonNumber(dst, s[i:end])
}

func (c *jsonCanon) appendObject(dst []byte, s string, i int) ([]byte, bool) {
	start := len(c.members)
	defer func() { c.members = c.members[:start] }()
	j := skipWS(s, i+1)
	for s[j] != '}' {
		if s[j] == ',' {
			j = skipWS(s, j+1)
		}
		ke, _ := scanString(s, j)
		vs := skipWS(s, skipWS(s, ke)+1) // past ':'
		ve, _ := scanValue(s, vs, 0)
		c.members = append(c.members, member{ks: j + 1, ke: ke - 1, vs: vs, ve: ve})
		j = skipWS(s, ve)
	}
	slices.SortStableFunc(c.members[start:], func(a, b member) int {
		return c.compareKeys(s[a.ks:a.ke], s[b.ks:b.ke])
	})
	dst = append(dst, '{')
	for k := start; k < len(c.members); k++ {
		m := c.members[k]
		if k > start {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s[m.ks:m.ke])
		dst = append(dst, ':')
		var ok bool
		if dst, ok = c.appendValue(dst, s, m.vs, m.ve); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// compareKeys orders two escaped keys by their decoded text.
func (c *jsonCanon) compareKeys(a, b string) int {
	if strings.IndexByte(a, '\\') < 0 && strings.IndexByte(b, '\\') < 0 {
		return strings.Compare(a, b)
	}
	c.ka = appendUnescaped(c.ka[:0], a)
	c.kb = appendUnescaped(c.kb[:0], b)
	return strings.Compare(string(c.ka), string(c.kb))
}

// objectMembers returns the members of the JSON object s (top level only),
// or nil when s is not an object. The result is valid until the next call.
func (c *jsonCanon) objectMembers(s string) []member {
	c.members = c.members[:0]
	i := skipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return nil
	}
	if end, ok := scanValue(s, i, 0); !ok || skipWS(s, end) != len(s) {
		return nil
	}
	j := skipWS(s, i+1)
	for s[j] != '}' {
		if s[j] == ',' {
			j = skipWS(s, j+1)
		}
		ke, _ := scanString(s, j)
		vs := skipWS(s, skipWS(s, ke)+1)
		ve, _ := scanValue(s, vs, 0)
		c.members = append(c.members, member{ks: j + 1, ke: ke - 1, vs: vs, ve: ve})
		j = skipWS(s, ve)
	}
	return c.members
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanValue validates the JSON value starting at s[i] and returns the index
// just after it.
func scanValue(s string, i, depth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch s[i] {
	case '{':
		if depth >= maxJSONDepth {
			return i, false
		}
		j := skipWS(s, i+1)
		if j < len(s) && s[j] == '}' {
			return j + 1, true
		}
		for {
			if j >= len(s) || s[j] != '"' {
				return j, false
			}
			var ok bool
			if j, ok = scanString(s, j); !ok {
				return j, false
			}
			j = skipWS(s, j)
			if j >= len(s) || s[j] != ':' {
				return j, false
			}
			if j, ok = scanValue(s, skipWS(s, j+1), depth+1); !ok {
				return j, false
			}
			j = skipWS(s, j)
			if j >= len(s) {
				return j, false
			}
			if s[j] == '}' {
				return j + 1, true
			}
			if s[j] != ',' {
				return j, false
			}
			j = skipWS(s, j+1)
		}
	case '[':
		if depth >= maxJSONDepth {
			return i, false
		}
		j := skipWS(s, i+1)
		if j < len(s) && s[j] == ']' {
			return j + 1, true
		}
		for {
			var ok bool
			if j, ok = scanValue(s, j, depth+1); !ok {
				return j, false
			}
			j = skipWS(s, j)
			if j >= len(s) {
				return j, false
			}
			if s[j] == ']' {
				return j + 1, true
			}
			if s[j] != ',' {
				return j, false
			}
			j = skipWS(s, j+1)
		}
	case '"':
		return scanString(s, i)
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	case 'n':
		return literal(s, i, "null")
	}
	j := i
	for j < len(s) {
		c := s[j]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			j++
			continue
		}
		break
	}
	return j, j > i && isDecimal(s[i:j])
}

func literal(s string, i int, lit string) (int, bool) {
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit), true
	}
	return i, false
}

// scanString validates the JSON string starting at the quote s[i] and
// returns the index just after its closing quote.
func scanString(s string, i int) (int, bool) {
	j := i + 1
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			return j + 1, true
		case c == '\\':
			if j+1 >= len(s) {
				return j, false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(s, j+2); !ok {
					return j, false
				}
				j += 6
			default:
				return j, false
			}
		case c < 0x20:
			return j, false
		default:
			j++
		}
	}
	return j, false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// appendUnescaped appends the decoded content of a validated JSON string
// body (the text between its quotes).
func appendUnescaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
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
		case 'u':
			r, _ := hex4(s, i+2)
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2, ok := hex4(s, i+2); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							dst = utf8.AppendRune(dst, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// appendJSONString appends a JSON string holding the decoded content of
// the validated string body s, escaped canonically: only the quote, the
// backslash and control characters are escaped, invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if strings.IndexByte(s, '\\') < 0 {
		dst = appendEscaped(dst, s)
	} else {
		var tmp [128]byte
		dst = appendEscaped(dst, appendUnescaped(tmp[:0], s))
	}
	return append(dst, '"')
}

// appendEscaped appends decoded text s escaped for a JSON string body.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	const hexDigits = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		// At most 4 bytes are converted, which needs no allocation.
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\ufffd"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
