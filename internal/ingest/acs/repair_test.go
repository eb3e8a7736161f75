package acs

import (
	"regexp"
	"strings"
)

// The published samples are fragments with typos: envelope, operation and
// properties parts printed separately, missing and trailing commas, a
// "properties" label without a colon, an unescaped JSON payload inside a
// string, an unclosed object and two objects printed back to back. The
// product never repairs input; these tests do, with the explicit steps
// below, to turn each published sample into the record it stands for.

var (
	// A payload printed as "{"a":"b"}" instead of "{\"a\":\"b\"}".
	unescapedPayload = regexp.MustCompile(`(?m)^(\s*"OperationPayload"\s*:\s*)"(\{.*\})"(\s*,?\s*)$`)
	// A "properties" label followed by its object without a colon.
	labelWithoutColon = regexp.MustCompile(`"properties"(\s*)\{`)
	// A value ending a line, then a key on a following line, no comma.
	missingComma = regexp.MustCompile(`("|\d|true|false|null|\})([ \t]*\r?\n\s*)(")`)
	// A comma right before a closing brace or bracket.
	trailingComma = regexp.MustCompile(`,(\s*[}\]])`)
)

// repairPublished combines the published fragments of one record (shared
// envelope, operation/category part, properties part, in that order) and
// returns the JSON objects they stand for: usually one, two when the page
// printed two objects back to back.
func repairPublished(fragments ...string) []string {
	var members []string
	var extra []string
	for _, f := range fragments {
		f = unescapedPayload.ReplaceAllStringFunc(f, func(m string) string {
			g := unescapedPayload.FindStringSubmatch(m)
			return g[1] + `"` + strings.ReplaceAll(g[2], `"`, `\"`) + `"` + g[3]
		})
		f = strings.TrimSpace(f)
		// Survey samples are printed inside an array of one element.
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			f = strings.TrimSpace(f[1 : len(f)-1])
		}
		f = labelWithoutColon.ReplaceAllString(f, `"properties":$1{`)
		objs := splitObjects(f)
		if len(objs) == 0 {
			objs = []string{f} // a bare member list
		}
		for i, o := range objs {
			o = strings.TrimSpace(o)
			if strings.HasPrefix(o, "{") {
				o = closeBraces(o)
				o = strings.TrimSpace(o[1 : len(o)-1])
			}
			o = strings.TrimSuffix(strings.TrimSpace(o), ",")
			if i == 0 {
				members = append(members, o)
			} else {
				extra = append(extra, o)
			}
		}
	}
	out := []string{fixCommas(closeBraces("{" + strings.Join(members, ",\n")))}
	for _, e := range extra {
		out = append(out, fixCommas("{"+e+"}"))
	}
	return out
}

func fixCommas(s string) string {
	s = missingComma.ReplaceAllString(s, "$1,$2$3")
	return trailingComma.ReplaceAllString(s, "$1")
}

// splitObjects splits text that starts with "{" into its top-level
// objects; the last one may be unclosed. It returns nil for text that does
// not start with "{".
func splitObjects(s string) []string {
	if !strings.HasPrefix(s, "{") {
		return nil
	}
	var out []string
	depth, start, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			if depth == 0 {
				start = i
			}
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				out = append(out, s[start:i+1])
				start = i + 1
			}
		}
	}
	if depth > 0 {
		out = append(out, s[start:])
	}
	return out
}

// closeBraces appends the closing braces an unclosed object lacks.
func closeBraces(s string) string {
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
		}
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), ",")
	return s + strings.Repeat("}", depth)
}
