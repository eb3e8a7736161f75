package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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

func badParam(name string, err error) *Error {
	return &Error{Status: 400, Kind: KindBadRequest, Message: fmt.Sprintf("invalid %s: %v", name, err),
		Details: map[string]string{"parameter": name}}
}

// ParseCallQuery builds a call search from the filters since, until, q,
// sort, order, limit and cursor.
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
	return q, nil
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
