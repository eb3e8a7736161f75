package callview

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Params gives the value of a named filter ("" when absent). The CLI passes
// its flag values and the API its query parameters, so both accept exactly
// the same filters with the same names.
type Params func(name string) string

// ParseTime parses an absolute RFC 3339 time or a duration back from now
// ("24h", "90m", "7d").
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 24h or 7d", s)
}

// ParamError is a filter parameter that cannot be what its name says.
type ParamError struct {
	Name string
	Err  error
}

func (e *ParamError) Error() string { return fmt.Sprintf("invalid %s: %v", e.Name, e.Err) }

func (e *ParamError) Unwrap() error { return e.Err }

func badParam(name string, err error) *ParamError {
	return &ParamError{Name: name, Err: err}
}

// ParseCallQuery builds a call search from the filters since, until, q,
// sort, order, limit, cursor, issue (comma-separated kinds), severity (that
// severity or worse), has-issues, quality, rating, call-type (P2P or
// Group), endpoint-type, sdk, os (an OS family, see model.OSFamilies) and
// resource. Enumerated values are accepted in any case and passed on in
// their canonical spelling; free text is trimmed.
func ParseCallQuery(get Params, now time.Time) (store.CallQuery, error) {
	var q store.CallQuery
	var err error
	if q.Since, err = ParseTime(get("since"), now); err != nil {
		return q, badParam("since", err)
	}
	if q.Until, err = ParseTime(get("until"), now); err != nil {
		return q, badParam("until", err)
	}
	q.Q = strings.TrimSpace(get("q"))
	switch s := get("sort"); s {
	case "", store.SortStart, store.SortDuration, store.SortParticipants:
		q.Sort = s
	default:
		return q, badParam("sort", fmt.Errorf("%q is not one of start, duration, participants", s))
	}
	switch o := get("order"); o {
	case "", "desc":
	case "asc":
		q.Asc = true
	default:
		return q, badParam("order", fmt.Errorf("%q is not asc or desc", o))
	}
	if q.Limit, err = parseLimit(get("limit"), store.MaxCallLimit); err != nil {
		return q, badParam("limit", err)
	}
	q.Cursor = get("cursor")
	if k := strings.TrimSpace(get("issue")); k != "" {
		known := detect.Kinds()
		for _, kind := range strings.Split(k, ",") {
			kind = strings.TrimSpace(kind)
			if !slices.Contains(known, kind) {
				return q, badParam("issue", fmt.Errorf("%q is not an issue kind (see calldiag rules or docs/CLI_JSON.md)", kind))
			}
			q.IssueKinds = append(q.IssueKinds, kind)
		}
	}
	switch s := model.Severity(strings.ToLower(get("severity"))); s {
	case "", model.SeverityCritical, model.SeverityWarning, model.SeverityInfo:
		q.MinSeverity = s
	default:
		return q, badParam("severity", fmt.Errorf("%q is not critical, warning or info", s))
	}
	switch v := strings.ToLower(get("has-issues")); v {
	case "", "false":
	case "true":
		q.HasIssues = true
	default:
		return q, badParam("has-issues", fmt.Errorf("%q is not true or false", v))
	}
	if q.Quality, err = oneOf("quality", get("quality"), "Good", "Poor", "Unknown"); err != nil {
		return q, err
	}
	if q.Rating, err = oneOf("rating", get("rating"), "Good", "Average", "Poor", "Unknown"); err != nil {
		return q, err
	}
	if q.CallType, err = oneOf("call-type", strings.TrimSpace(get("call-type")),
		string(model.CallTypeP2P), string(model.CallTypeGroup)); err != nil {
		return q, err
	}
	if q.OS, err = oneOf("os", strings.TrimSpace(get("os")), model.OSFamilies()...); err != nil {
		return q, err
	}
	q.EndpointType = strings.TrimSpace(get("endpoint-type"))
	q.SDK = strings.TrimSpace(get("sdk"))
	q.Resource = strings.TrimSpace(get("resource"))
	return q, nil
}

// oneOf returns the canonical spelling of v among values, compared
// case-insensitively; "" stays "".
func oneOf(name, v string, values ...string) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, c := range values {
		if strings.EqualFold(v, c) {
			return c, nil
		}
	}
	return "", badParam(name, fmt.Errorf("%q is not one of %s", v, strings.Join(values, ", ")))
}

// ParseTimelineQuery builds a timeline query from participant, from, to,
// kind (comma-separated), limit and cursor.
func ParseTimelineQuery(callID string, get Params, now time.Time) (store.TimelineQuery, error) {
	q := store.TimelineQuery{CallID: callID, ParticipantID: strings.TrimSpace(get("participant"))}
	var err error
	if q.From, err = ParseTime(get("from"), now); err != nil {
		return q, badParam("from", err)
	}
	if q.To, err = ParseTime(get("to"), now); err != nil {
		return q, badParam("to", err)
	}
	if k := strings.TrimSpace(get("kind")); k != "" {
		for _, kind := range strings.Split(k, ",") {
			kind = strings.TrimSpace(kind)
			if !validKind(kind) {
				return q, badParam("kind", fmt.Errorf("%q is not one of %s", kind, strings.Join(timelineKinds, ", ")))
			}
			q.Kinds = append(q.Kinds, kind)
		}
	}
	if q.Limit, err = parseLimit(get("limit"), store.MaxTimelineLimit); err != nil {
		return q, badParam("limit", err)
	}
	q.Cursor = get("cursor")
	return q, nil
}

var timelineKinds = []string{model.KindOperation, model.KindUFD, model.KindJoin, model.KindLeave,
	model.KindSurvey, model.KindService, model.KindMetric}

func validKind(k string) bool {
	for _, v := range timelineKinds {
		if v == k {
			return true
		}
	}
	return false
}

func parseLimit(s string, max int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%q is not a whole number from 1 to %d", s, max)
	}
	return n, nil
}
