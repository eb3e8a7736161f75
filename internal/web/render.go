package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/model"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

// parsePages parses the layout with each page template on its own, so
// that every page can define the same blocks.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// staticFiles are the embedded assets, served under a path that changes
// with their content so that they can be cached for good.
type staticFiles struct {
	hash  string
	files map[string][]byte
}

func loadStatic() (*staticFiles, error) {
	st := &staticFiles{files: map[string][]byte{}}
	h := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		st.files[name] = b
		h.Write([]byte(name))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	st.hash = hex.EncodeToString(h.Sum(nil)[:6])
	return st, nil
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	b, ok := h.static.files[r.PathValue("file")]
	if !ok || r.PathValue("hash") != h.static.hash {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(r.PathValue("file")) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(b)
}

// Layout is what every page's frame shows.
type Layout struct {
	Title string
	// Section is the active top-level section: "search" or "kb".
	Section string
	Static  string
	// APILink is the JSON API URL with the data of this view.
	APILink string
	// Calls and Records count what the store holds; LastRecord is when the
	// newest record arrived (zero when unknown).
	Calls, Records int
	LastAppend     time.Time
	LoggedIn       bool
	Query          string
}

func (h *Handler) layout(r *http.Request, title string) Layout {
	l := Layout{Title: title, Static: "/static/" + h.static.hash, LoggedIn: h.cfg.Token != "" && h.authorized(r)}
	if st, err := h.cfg.Store.Stats(r.Context()); err == nil {
		l.Calls, l.Records, l.LastAppend = st.Calls, st.Records, st.LastAppend
	}
	return l
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"time":      fmtTime,
		"clock":     fmtClock,
		"dur":       fmtDur,
		"durSecs":   func(s float64) string { return fmtDur(time.Duration(s * float64(time.Second))) },
		"ago":       func(t time.Time) string { return fmtAgo(h.cfg.Now().Sub(t)) },
		"num":       fmtNum,
		"bytes":     fmtBytes,
		"count":     fmtCount,
		"pct":       fmtPct,
		"deref":     deref,
		"sevIcon":   sevIcon,
		"qs":        func(v url.Values) template.URL { return template.URL(v.Encode()) },
		"lower":     strings.ToLower,
		"join":      strings.Join,
		"shortID":   shortID,
		"add":       func(a, b int) int { return a + b },
		"pathEsc":   url.PathEscape,
		"queryEsc":  url.QueryEscape,
		"category":  func(c model.Category) string { return string(c) },
		"isoTime":   func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") },
		"hasPrefix": strings.HasPrefix,
		"list":      func(s ...string) []string { return s },
		"sentence":  sentence,
	}
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// fmtTime shows a time in UTC to the second, the way logs are read.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// fmtClock shows the time of day only.
func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("15:04:05")
}

// fmtDur shows a duration the way people say it: 45s, 3m 20s, 1h 05m.
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case d < time.Second && d > 0:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh %02dm", s/3600, (s%3600)/60)
}

func fmtAgo(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// fmtNum shows a number with at most three significant decimals.
func fmtNum(v any) string {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case *float64:
		if x == nil {
			return "–"
		}
		f = *x
	case int:
		return fmt.Sprint(x)
	case *int:
		if x == nil {
			return "–"
		}
		return fmt.Sprint(*x)
	default:
		return fmt.Sprint(v)
	}
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "–"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 100:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}

// fmtCount shows a whole number (int or int64) with its digits grouped by
// threes.
func fmtCount(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// fmtBytes shows a byte count in B, KB, MB or GB (powers of 1000).
func fmtBytes(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "KB", "MB", "GB"} {
		if math.Abs(f) < 1000 || u == "GB" {
			if u == "B" {
				return fmt.Sprintf("%d B", n)
			}
			return fmt.Sprintf("%.1f %s", f, u)
		}
		f /= 1000
	}
	return ""
}

// fmtPct shows a fraction as a percentage.
func fmtPct(v *float64) string {
	if v == nil {
		return "–"
	}
	p := *v * 100
	if p >= 10 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

func deref(v any) any {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return nil
		}
		return *x
	case *int:
		if x == nil {
			return nil
		}
		return *x
	case *time.Time:
		if x == nil {
			return time.Time{}
		}
		return *x
	}
	return v
}

// sevIcon is the text mark shown beside a severity's colour, so that
// colour is never the only signal.
func sevIcon(v any) string {
	switch model.Severity(fmt.Sprint(v)) {
	case model.SeverityCritical:
		return "✖"
	case model.SeverityWarning:
		return "▲"
	case model.SeverityInfo:
		return "ℹ"
	}
	return "•"
}

// shortID keeps the first block of a GUID-like id for tight places; the
// full id stays in the title attribute.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i >= 8 {
		return id[:i]
	}
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// sentence starts a summary with a capital letter.
func sentence(s string) string {
	for i, r := range s {
		if i == 0 && r >= 'a' && r <= 'z' {
			return string(r-'a'+'A') + s[1:]
		}
		break
	}
	return s
}
