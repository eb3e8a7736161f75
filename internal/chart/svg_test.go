package chart

import (
	"encoding/xml"
	"errors"
	"html"
	"io"
	"strings"
	"testing"
	"time"
)

// node is a parsed SVG element, enough for the tests to look at what a
// browser would see.
type node struct {
	name     string
	attrs    map[string]string
	text     string // the element's own character data
	children []*node
}

// title is the tooltip text of the element.
func (n *node) title() string {
	for _, c := range n.children {
		if c.name == "title" {
			return c.text
		}
	}
	return ""
}

// classes reports whether the class attribute holds every one of want.
func (n *node) hasClass(want ...string) bool {
	have := strings.Fields(n.attrs["class"])
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseSVG parses the drawing as XML, failing the test when it is not
// well-formed, carries a style attribute or sets colours inline.
func parseSVG(t *testing.T, s string) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var root *node
	var stack []*node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "style", "fill", "stroke", "color":
					t.Errorf("<%s> has a %s attribute; the page's CSS must style it", n.name, a.Name.Local)
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root == nil {
				root = n
			} else {
				t.Fatalf("more than one root element")
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatalf("no root element")
	}
	if strings.Contains(s, "style=") {
		t.Errorf("output contains style=")
	}
	return root
}

// all returns the elements below n (n included) that match.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if match(m) {
			out = append(out, m)
		}
		for _, c := range m.children {
			walk(c)
		}
	}
	walk(n)
	return out
}

func escaped(s string) string {
	var sb strings.Builder
	writeEscaped(&sb, s)
	return sb.String()
}

func TestEscapeMatchesHTMLEscape(t *testing.T) {
	for _, s := range []string{
		"", "plain", `<script>alert("x")</script>`, "a & b", "it's", "ünïcödé … ▸", "tab\tand\nnewline",
	} {
		if got, want := escaped(s), html.EscapeString(s); got != want {
			t.Errorf("writeEscaped(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestEscapeDropsWhatXMLCannotCarry(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a\x00b\x1bc", "abc"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"non\uFFFEchar", "nonchar"},
		{"mixed <\x01é\xc3>", "mixed &lt;é\uFFFD&gt;"},
	}
	for _, tc := range tests {
		if got := escaped(tc.in); got != tc.want {
			t.Errorf("writeEscaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSafeHref(t *testing.T) {
	tests := []struct {
		href string
		want bool
	}{
		{"?participant=a", true},
		{"#details", true},
		{"/calls/1", true},
		{"/", true},
		{"", false},
		{"javascript:alert(1)", false},
		{" javascript:alert(1)", false},
		{"https://example.com/", false},
		{"//example.com/", false},
		{`/\example.com`, false},
		{"/\t/example.com", false},
		{"data:text/html,x", false},
	}
	for _, tc := range tests {
		if got := safeHref(tc.href); got != tc.want {
			t.Errorf("safeHref(%q) = %v, want %v", tc.href, got, tc.want)
		}
	}
}

func TestAppendNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {-0.04, "0"}, {12, "12"}, {12.04, "12"}, {12.05, "12.1"}, {-3.25, "-3.3"}, {160.96, "161"},
	}
	for _, tc := range tests {
		if got := string(appendNum(nil, tc.in)); got != tc.want {
			t.Errorf("appendNum(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// at is 10:mm:ss on a fixed day, in UTC.
func at(mm, ss int) time.Time {
	return time.Date(2025, 3, 14, 10, mm, ss, 0, time.UTC)
}
