package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"calldiag/internal/catalog"
)

type kbIndexPage struct {
	Layout
	Q       string
	Groups  []kbGroup
	Matches int
}

type kbGroup struct {
	Type, Title string
	Entries     []catalog.Entry
}

type kbEntryPage struct {
	Layout
	Entry      catalog.Entry
	TypeTitle  string
	Paragraphs []string
	Related    []kbLink
}

var kbTypeTitles = map[string]string{
	catalog.EntryGuide: "Troubleshooting guides",
	catalog.EntryKind:  "Issue kinds",
	catalog.EntryUFD:   "User-facing diagnostics",
	catalog.EntryCode:  "Error codes and subcodes",
}

var kbTypeOrder = []string{catalog.EntryGuide, catalog.EntryKind, catalog.EntryUFD, catalog.EntryCode}

func (h *Handler) kbIndex(w http.ResponseWriter, r *http.Request) (string, any, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	v := kbIndexPage{Layout: h.layout(r, "Knowledge base"), Q: q}
	v.Section = "kb"
	words := strings.Fields(strings.ToLower(q))
	groups := map[string]*kbGroup{}
	for _, e := range catalog.KB() {
		if !kbMatches(e, words) {
			continue
		}
		v.Matches++
		g := groups[e.Type]
		if g == nil {
			g = &kbGroup{Type: e.Type, Title: kbTypeTitles[e.Type]}
			groups[e.Type] = g
		}
		g.Entries = append(g.Entries, e)
	}
	for _, t := range kbTypeOrder {
		if g := groups[t]; g != nil {
			if t != catalog.EntryCode {
				sort.SliceStable(g.Entries, func(i, j int) bool { return g.Entries[i].Title < g.Entries[j].Title })
			}
			v.Groups = append(v.Groups, *g)
		}
	}
	return "kb_index", v, nil
}

// kbMatches reports whether every word occurs in the entry's id, title or
// text.
func kbMatches(e catalog.Entry, words []string) bool {
	if len(words) == 0 {
		return true
	}
	hay := strings.ToLower(e.ID + " " + e.Title + " " + e.Text)
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func (h *Handler) kbEntry(w http.ResponseWriter, r *http.Request) (string, any, error) {
	id := r.PathValue("id")
	e, ok := catalog.LookupKB(id)
	if !ok {
		return "", nil, &HTTPError{Status: http.StatusNotFound,
			Message: "The knowledge base has no entry " + id + "; search it at /kb?q=" + url.QueryEscape(id)}
	}
	v := kbEntryPage{Layout: h.layout(r, e.Title), Entry: e, TypeTitle: kbTypeTitles[e.Type]}
	v.Section = "kb"
	for _, p := range strings.Split(strings.ReplaceAll(e.Text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			v.Paragraphs = append(v.Paragraphs, strings.Join(strings.Fields(p), " "))
		}
	}
	for _, rel := range e.Related {
		v.Related = append(v.Related, kbLink{rel, kbTitle(rel)})
	}
	return "kb", v, nil
}
