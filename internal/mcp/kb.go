package mcp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"calldiag/internal/catalog"
)

// kbURIPrefix starts the URI of every knowledge-base resource.
const kbURIPrefix = "calldiag://kb/"

// Bounds of search_kb's limit.
const (
	defaultKBLimit = 10
	maxKBLimit     = 50
)

// kbEntry is a knowledge-base entry as the tools return it. URL is the
// entry's page in the web UI.
type kbEntry struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Text    string   `json:"text"`
	Related []string `json:"related"`
	Source  string   `json:"source"`
	URL     string   `json:"url"`
}

func toKBEntries(es []catalog.Entry) []kbEntry {
	out := make([]kbEntry, 0, len(es))
	for _, e := range es {
		rel := e.Related
		if rel == nil {
			rel = []string{}
		}
		out = append(out, kbEntry{ID: e.ID, Title: e.Title, Text: e.Text, Related: rel, Source: e.Source, URL: "/kb/" + e.ID})
	}
	return out
}

// listResult answers a JSON list as text content only. Structured content
// is left out: clients of the protocol versions that came before arrays
// were allowed there (SEP-2106) accept only an object.
func listResult(entries []kbEntry) (*sdk.CallToolResult, any, error) {
	b, err := json.Marshal(entries)
	if err != nil {
		return nil, nil, fmt.Errorf("encode entries: %w", err)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(b)}}}, nil, nil
}

// lookupCodeArgs is a code, a subcode or both, as call logs and SDK errors
// report them.
type lookupCodeArgs struct {
	Code    *int `json:"code,omitempty" jsonschema:"the response code, e.g. 410 or 487"`
	Subcode *int `json:"subcode,omitempty" jsonschema:"the subcode, e.g. 3112 or 41048"`
}

// searchKBArgs is a free-text knowledge-base query.
type searchKBArgs struct {
	Query string `json:"query" jsonschema:"what to look for, in plain words (a symptom, a diagnostic name, a code)"`
	Limit *int   `json:"limit,omitempty" jsonschema:"at most this many entries: 1 to 50, default 10"`
}

func (s *Server) addKBTools() {
	sdk.AddTool(s.srv, &sdk.Tool{
		Name: "lookup_code",
		Description: "Explain a call-end or error code and subcode: the knowledge-base entries for the pair and for the code alone " +
			"(meaning, result category, likely cause, what to do). With only a subcode, the entries of every code it occurs under. " +
			"Returns a JSON list of {id, title, text, related, source, url}.",
		Annotations: readOnly("Look up a code"),
	}, s.lookupCode)
	sdk.AddTool(s.srv, &sdk.Tool{
		Name: "search_kb",
		Description: "Search the knowledge base (error codes, user-facing diagnostics, issue kinds and troubleshooting guides), " +
			"best match first. Returns a JSON list of {id, title, text, related, source, url}; every entry is also the resource calldiag://kb/{id}.",
		Annotations: readOnly("Search the knowledge base"),
	}, s.searchKB)
}

func (s *Server) lookupCode(_ context.Context, _ *sdk.CallToolRequest, args lookupCodeArgs) (*sdk.CallToolResult, any, error) {
	if args.Code == nil && args.Subcode == nil {
		return nil, nil, errors.New("give a code, a subcode or both")
	}
	if args.Code != nil && *args.Code < 0 {
		return nil, nil, fmt.Errorf("invalid code: %d is negative", *args.Code)
	}
	if args.Subcode != nil && *args.Subcode < 0 {
		return nil, nil, fmt.Errorf("invalid subcode: %d is negative", *args.Subcode)
	}
	return listResult(toKBEntries(lookupCode(args.Code, args.Subcode)))
}

// lookupCode returns the entries explaining a code and subcode, most
// specific first: the pair's entry, then the code's own. A code alone that
// has no entry of its own answers with the entries of its pairs; a subcode
// alone answers with its entry under every code that lists it.
func lookupCode(code, sub *int) []catalog.Entry {
	var ids []string
	switch {
	case code != nil && sub != nil:
		ids = []string{catalog.CodeEntryID(*code, *sub), catalog.CodeEntryID(*code, catalog.Absent)}
	case code != nil:
		ids = []string{catalog.CodeEntryID(*code, catalog.Absent)}
		if _, ok := catalog.LookupKB(ids[0]); !ok {
			for _, c := range catalog.Codes() {
				if c.Code == *code && c.SubCode != catalog.Absent {
					ids = append(ids, catalog.CodeEntryID(c.Code, c.SubCode))
				}
			}
		}
	default:
		for _, c := range catalog.LookupSubCode(*sub) {
			if c.Code != catalog.Absent {
				ids = append(ids, catalog.CodeEntryID(c.Code, *sub))
			}
		}
	}
	var out []catalog.Entry
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if e, ok := catalog.LookupKB(id); ok {
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) searchKB(_ context.Context, _ *sdk.CallToolRequest, args searchKBArgs) (*sdk.CallToolResult, any, error) {
	q := strings.TrimSpace(args.Query)
	if q == "" {
		return nil, nil, errors.New("query is required")
	}
	limit := defaultKBLimit
	if args.Limit != nil {
		if *args.Limit < 1 || *args.Limit > maxKBLimit {
			return nil, nil, fmt.Errorf("invalid limit: %d is not a whole number from 1 to %d", *args.Limit, maxKBLimit)
		}
		limit = *args.Limit
	}
	found := s.cfg.SearchKB(q, limit)
	if len(found) > limit {
		found = found[:limit]
	}
	return listResult(toKBEntries(found))
}

// matchAllWords is the knowledge-base search used when no ranker is
// configured: the entries whose id, title or text contain every word of the
// query, ignoring case and punctuation around words, those with more of the
// words in their title first.
func matchAllWords(query string, limit int) []catalog.Entry {
	var words []string
	for _, w := range strings.Fields(strings.ToLower(query)) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return nil
	}
	type hit struct {
		e     catalog.Entry
		title int
	}
	var hits []hit
	for _, e := range catalog.KB() {
		title := strings.ToLower(e.ID + " " + e.Title)
		all := title + " " + strings.ToLower(e.Text)
		h := hit{e: e}
		ok := true
		for _, w := range words {
			if !strings.Contains(all, w) {
				ok = false
				break
			}
			if strings.Contains(title, w) {
				h.title++
			}
		}
		if ok {
			hits = append(hits, h)
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.title, a.title) })
	out := make([]catalog.Entry, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.e)
	}
	return out
}

// addKBResources offers every knowledge-base entry as a markdown resource,
// and a template for reading any entry by id.
func (s *Server) addKBResources() {
	for _, e := range catalog.KB() {
		s.srv.AddResource(&sdk.Resource{
			URI:         kbURIPrefix + e.ID,
			Name:        e.ID,
			Title:       e.Title,
			Description: "calldiag knowledge base: " + e.Title,
			MIMEType:    "text/markdown",
		}, s.readKB)
	}
	s.srv.AddResourceTemplate(&sdk.ResourceTemplate{
		URITemplate: kbURIPrefix + "{id}",
		Name:        "kb-entry",
		Title:       "Knowledge-base entry",
		Description: "A calldiag knowledge-base entry by id: code-{code}-{subcode}, code-{code}, ufd-{name}, kind-{kind} or guide-{slug}.",
		MIMEType:    "text/markdown",
	}, s.readKB)
}

func (s *Server) readKB(_ context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
	uri := req.Params.URI
	id, ok := strings.CutPrefix(uri, kbURIPrefix)
	if !ok {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	e, ok := catalog.LookupKB(id)
	if !ok {
		return nil, sdk.ResourceNotFoundError(uri)
	}
	return &sdk.ReadResourceResult{Contents: []*sdk.ResourceContents{{
		URI: uri, MIMEType: "text/markdown", Text: kbMarkdown(e),
	}}}, nil
}

// kbMarkdown renders an entry: its title, text, related entries (as
// resource links) and source.
func kbMarkdown(e catalog.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", e.Title, e.Text)
	if len(e.Related) > 0 {
		b.WriteString("\nRelated:")
		for i, r := range e.Related {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " [%s](%s%s)", r, kbURIPrefix, r)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\nSource: %s\n", e.Source)
	return b.String()
}
