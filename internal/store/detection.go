package store

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"

	"calldiag/internal/model"
)

// UnknownLabel is the quality and rating of a call never detected.
const UnknownLabel = "Unknown"

// detectionLabels are the quality and rating values the stores know.
var detectionLabels = [...]string{"Good", "Average", "Poor", UnknownLabel}

// CanonicalLabel spells a quality or rating as the stores keep it: known
// values in their canonical case, empty as Unknown, anything else as given.
func CanonicalLabel(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return UnknownLabel
	}
	for _, l := range detectionLabels {
		if strings.EqualFold(s, l) {
			return l
		}
	}
	return s
}

// SortIssues orders issues most severe first, then by start, then by id,
// as Detection.Issues are kept.
func SortIssues(issues []model.Issue) {
	slices.SortStableFunc(issues, func(a, b model.Issue) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// IssueFacts are the numbers call search needs from a detection.
type IssueFacts struct {
	// Count counts the issues of severity warning or worse; Kinds lists
	// their kinds, most severe first, then by name.
	Count int
	Kinds []string
	// MaxSev is the highest severity rank of any issue (0: none).
	MaxSev int
	// ByKind maps every kind to its highest severity rank.
	ByKind map[string]int
}

// FactsOf sums up a detection's issues for search.
func FactsOf(issues []model.Issue) IssueFacts {
	f := IssueFacts{ByKind: make(map[string]int), Kinds: []string{}}
	counted := make(map[string]int)
	for _, is := range issues {
		r := is.Severity.Rank()
		f.MaxSev = max(f.MaxSev, r)
		if old, ok := f.ByKind[is.Kind]; !ok || r > old {
			f.ByKind[is.Kind] = r
		}
		if r >= model.SeverityWarning.Rank() {
			f.Count++
			counted[is.Kind] = max(counted[is.Kind], r)
		}
	}
	for k := range counted {
		f.Kinds = append(f.Kinds, k)
	}
	slices.SortFunc(f.Kinds, func(a, b string) int {
		if c := cmp.Compare(counted[b], counted[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return f
}

// AllKinds lists every kind of issue, sorted.
func (f IssueFacts) AllKinds() []string {
	out := make([]string, 0, len(f.ByKind))
	for k := range f.ByKind {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FilterKinds returns the non-empty kinds of an issue-kind filter, each
// once, in the order given.
func FilterKinds(in []string) []string {
	var out []string
	for _, k := range in {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// PageLimit is the page size asked for, def when none is, at most most.
func PageLimit(n, def, most int) int {
	switch {
	case n <= 0:
		return def
	case n > most:
		return most
	}
	return n
}

// CallCursor is the position after the last call of a search page: the
// order it belongs to, the sort value of that call (as the store wrote it)
// and its id.
type CallCursor struct {
	Sort  string
	Asc   bool
	Value string
	ID    string
}

// Encode makes the opaque cursor.
func (c CallCursor) Encode() string {
	dir := "d"
	if c.Asc {
		dir = "a"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c.Sort + "|" + dir + "|" + c.Value + "|" + c.ID))
}

// ParseCallCursor decodes a cursor of a search sorted by sort in the
// order asc, or returns ErrBadCursor; the store parses Value.
func ParseCallCursor(s, sort string, asc bool) (CallCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return CallCursor{}, ErrBadCursor
	}
	parts := strings.SplitN(string(b), "|", 4)
	if len(parts) != 4 || parts[0] != sort || (parts[1] != "a" && parts[1] != "d") || (parts[1] == "a") != asc {
		return CallCursor{}, ErrBadCursor
	}
	return CallCursor{Sort: parts[0], Asc: asc, Value: parts[2], ID: parts[3]}, nil
}
