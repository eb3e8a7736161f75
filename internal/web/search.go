package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// searchParams are the query parameters the search page keeps in its URL;
// they are the API's and the CLI's filter names.
var searchParams = []string{"q", "since", "until", "has-issues", "issue", "severity", "quality", "rating",
	"call-type", "endpoint-type", "sdk", "os", "resource", "sort", "order", "limit"}

type searchPage struct {
	Layout
	Form     url.Values
	Page     store.CallPage
	Rows     []callRow
	Presets  []option
	Kinds    []option
	Sorts    map[string]sortLink
	Next     string
	First    string
	Filtered bool
	Facets   facetOptions
	// Matches says how many calls match: "No calls match.", "1 call
	// matches.", "1,234 calls match." or "10,000+ calls match." when the
	// store stopped counting.
	Matches string
	// Upload shows the upload form.
	Upload bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type sortLink struct {
	URL   string
	Arrow string // "▼", "▲" or "" when not sorted by this column
	Aria  string // "descending", "ascending" or "none"
}

type callRow struct {
	model.CallSummary
	Clients string
	Kinds   []kindChip
	More    int
}

type kindChip struct {
	Kind string
	Info string
}

// facetOptions fill the drop-downs whose values depend on the data.
type facetOptions struct {
	CallTypes, EndpointTypes, SDKs, OSes, Resources []option
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) (string, any, error) {
	form := url.Values{}
	for _, k := range searchParams {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			form.Set(k, v)
		}
	}
	if r.URL.Query().Get("since") == "" && !r.URL.Query().Has("since") {
		form.Set("since", "7d")
	}
	if form.Get("since") == "all" {
		form.Del("since")
		form.Set("since", "all")
	}
	get := func(k string) string {
		if k == "since" && form.Get(k) == "all" {
			return ""
		}
		return form.Get(k)
	}
	cursor := r.URL.Query().Get("cursor")
	q, err := callview.ParseCallQuery(func(k string) string {
		if k == "cursor" {
			return cursor
		}
		return get(k)
	}, h.cfg.Now())
	if err != nil {
		return "", nil, err
	}
	page, err := h.cfg.Store.SearchCalls(r.Context(), q)
	if err != nil {
		return "", nil, err
	}
	// A search box hit on exactly one call opens it.
	if q.Q != "" && page.Total == 1 && !page.TotalCapped && len(page.Calls) == 1 && cursor == "" && onlyQuery(form) {
		http.Redirect(w, r, "/calls/"+url.PathEscape(page.Calls[0].ID), http.StatusSeeOther)
		return "", nil, nil
	}
	v := searchPage{Layout: h.layout(r, "Calls"), Form: form, Page: page, Matches: matchesText(page), Upload: h.cfg.Upload != nil}
	v.Section = "search"
	v.Query = q.Q
	api := url.Values{}
	for k := range form {
		if g := get(k); g != "" {
			api.Set(k, g)
		}
	}
	if cursor != "" {
		api.Set("cursor", cursor)
	}
	v.APILink = "/api/v1/calls?" + api.Encode()
	for _, c := range page.Calls {
		v.Rows = append(v.Rows, newCallRow(c))
	}
	for _, p := range []struct{ v, l string }{{"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"all", "All time"}} {
		v.Presets = append(v.Presets, option{p.v, p.l, form.Get("since") == p.v})
	}
	if s := form.Get("since"); s != "" && !slices.ContainsFunc(v.Presets, func(o option) bool { return o.Value == s }) {
		v.Presets = append(v.Presets, option{s, "Since " + s, true})
	}
	kinds := detect.Kinds()
	sort.Strings(kinds)
	for _, k := range kinds {
		v.Kinds = append(v.Kinds, option{k, k, form.Get("issue") == k})
	}
	v.Sorts = map[string]sortLink{}
	for _, col := range []string{store.SortStart, store.SortDuration, store.SortParticipants} {
		v.Sorts[col] = sortURL(form, col)
	}
	if page.NextCursor != "" {
		next := cloneValues(form)
		next.Set("cursor", page.NextCursor)
		v.Next = "/?" + next.Encode()
	}
	if cursor != "" {
		v.First = "/?" + form.Encode()
	}
	for k := range form {
		if k != "since" && k != "sort" && k != "order" && k != "limit" {
			v.Filtered = true
		}
	}
	v.Facets = h.facetOptions(r, form)
	return "search", v, nil
}

// matchesText says how many calls a search found, honestly when the
// store only counted up to a limit.
func matchesText(page store.CallPage) string {
	switch {
	case page.Total == 0:
		return "No calls match."
	case page.Total == 1 && !page.TotalCapped:
		return "1 call matches."
	}
	n := fmtCount(int64(page.Total))
	if page.TotalCapped {
		n += "+"
	}
	return n + " calls match."
}

// onlyQuery reports whether the form holds nothing but the search box and
// the default time range.
func onlyQuery(form url.Values) bool {
	for k := range form {
		if k != "q" && k != "since" {
			return false
		}
	}
	return true
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// sortURL links a column header to sorting by it: descending first, and
// ascending when it is already sorted descending by it.
func sortURL(form url.Values, col string) sortLink {
	cur := form.Get("sort")
	if cur == "" {
		cur = store.SortStart
	}
	asc := form.Get("order") == "asc"
	next := cloneValues(form)
	next.Del("cursor")
	next.Set("sort", col)
	l := sortLink{Aria: "none"}
	switch {
	case cur == col && !asc:
		next.Set("order", "asc")
		l.Arrow, l.Aria = "▼", "descending"
	case cur == col:
		next.Del("order")
		l.Arrow, l.Aria = "▲", "ascending"
	default:
		next.Del("order")
	}
	l.URL = "/?" + next.Encode()
	return l
}

func newCallRow(c model.CallSummary) callRow {
	row := callRow{CallSummary: c, Clients: clientTypes(c.ClientTypes)}
	for i, k := range c.IssueKinds {
		if i == 3 {
			row.More = len(c.IssueKinds) - 3
			break
		}
		row.Kinds = append(row.Kinds, kindChip{Kind: k, Info: kindInfo(k)})
	}
	return row
}

// clientTypes writes endpoint counts the way people say them.
func clientTypes(m map[model.EndpointType]int) string { return model.DescribeClientTypes(m) }

// facetOptions lists the values the data holds for the filters that
// depend on it, keeping a value the URL asks for even when none exists.
func (h *Handler) facetOptions(r *http.Request, form url.Values) facetOptions {
	var out facetOptions
	fr, ok := h.cfg.Store.(facetReader)
	var f store.Facets
	if ok {
		var err error
		if f, err = fr.Facets(r.Context()); err != nil {
			h.log.Warn("read facets", "err", err)
		}
	}
	build := func(param string, vals []store.FacetValue, fixed ...string) []option {
		var opts []option
		seen := map[string]bool{}
		for _, x := range fixed {
			opts = append(opts, option{x, x, strings.EqualFold(form.Get(param), x)})
			seen[strings.ToLower(x)] = true
		}
		for _, x := range vals {
			if seen[strings.ToLower(x.Value)] || x.Value == "" {
				continue
			}
			seen[strings.ToLower(x.Value)] = true
			opts = append(opts, option{x.Value, fmt.Sprintf("%s (%d)", x.Value, x.Calls), strings.EqualFold(form.Get(param), x.Value)})
		}
		if cur := form.Get(param); cur != "" && !seen[strings.ToLower(cur)] {
			opts = append(opts, option{cur, cur, true})
		}
		return opts
	}
	out.CallTypes = build("call-type", f.CallTypes, "P2P", "Group")
	out.EndpointTypes = build("endpoint-type", f.EndpointTypes)
	out.SDKs = build("sdk", f.SDKs)
	out.OSes = build("os", f.OSes)
	out.Resources = build("resource", f.Resources)
	for i := range out.Resources {
		out.Resources[i].Label = resourceName(out.Resources[i].Value) + strings.TrimPrefix(out.Resources[i].Label, out.Resources[i].Value)
	}
	return out
}

// resourceName is the last segment of an ARM resource id, which is what
// people call the resource.
func resourceName(id string) string {
	if i := strings.LastIndexByte(strings.TrimRight(id, "/"), '/'); i >= 0 {
		return strings.TrimRight(id, "/")[i+1:]
	}
	return id
}

// facetReader is implemented by stores that can list the values of the
// search filters; without it the drop-downs offer only fixed values.
type facetReader interface {
	Facets(ctx context.Context) (store.Facets, error)
}
