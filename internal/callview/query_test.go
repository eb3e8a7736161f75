package callview

import (
	"errors"
	"testing"
	"time"

	"calldiag/internal/store"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f := func(in string, want time.Time, ok bool) {
		t.Helper()
		got, err := ParseTime(in, now)
		if (err == nil) != ok || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, ok=%v", in, got, err, want, ok)
		}
	}
	f("", time.Time{}, true)
	f("24h", now.Add(-24*time.Hour), true)
	f("90m", now.Add(-90*time.Minute), true)
	f("7d", now.Add(-7*24*time.Hour), true)
	f("2026-03-01T10:00:00Z", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true)
	f("2026-03-01T12:00:00+02:00", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true)
	f("yesterday", time.Time{}, false)
	f("-5h", time.Time{}, false)
	f("3x", time.Time{}, false)
}

func TestParseCallQuery(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	params := func(m map[string]string) Params { return func(k string) string { return m[k] } }
	q, err := ParseCallQuery(params(map[string]string{"since": "1h", "q": "  abc  ", "sort": "duration", "order": "asc", "limit": "20", "cursor": "c"}), now)
	if err != nil {
		t.Fatal(err)
	}
	want := store.CallQuery{Since: now.Add(-time.Hour), Q: "abc", Sort: store.SortDuration, Asc: true, Limit: 20, Cursor: "c"}
	if q.Since != want.Since || q.Q != want.Q || q.Sort != want.Sort || q.Asc != want.Asc || q.Limit != want.Limit || q.Cursor != want.Cursor {
		t.Errorf("got %+v, want %+v", q, want)
	}
	for _, bad := range []map[string]string{
		{"sort": "size"}, {"order": "up"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"since": "soon"}, {"until": "later"},
	} {
		if _, err := ParseCallQuery(params(bad), now); err == nil {
			t.Errorf("%v accepted", bad)
		} else if e, ok := err.(*ParamError); !ok || e.Name == "" {
			t.Errorf("%v: error %v is not a ParamError naming the parameter", bad, err)
		}
	}
}

func TestParseTimelineQuery(t *testing.T) {
	now := time.Now()
	get := func(m map[string]string) Params { return func(k string) string { return m[k] } }
	q, err := ParseTimelineQuery("c1", get(map[string]string{"participant": "p1", "kind": "ufd, metric", "limit": "100"}), now)
	if err != nil || q.CallID != "c1" || q.ParticipantID != "p1" || len(q.Kinds) != 2 || q.Kinds[1] != "metric" || q.Limit != 100 {
		t.Errorf("got %+v, %v", q, err)
	}
	if _, err := ParseTimelineQuery("c1", get(map[string]string{"kind": "ufd,bogus"}), now); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := ParseTimelineQuery("c1", get(map[string]string{"limit": "50001"}), now); err == nil {
		t.Error("limit above the maximum accepted")
	}
}

func TestParseCallQueryFacets(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		params map[string]string
		want   store.CallQuery
		bad    string // the parameter the error must name; "" when valid
	}{
		{"none", map[string]string{}, store.CallQuery{}, ""},
		{"call type canonical", map[string]string{"call-type": "p2p"}, store.CallQuery{CallType: "P2P"}, ""},
		{"call type group", map[string]string{"call-type": " GROUP "}, store.CallQuery{CallType: "Group"}, ""},
		{"os canonical", map[string]string{"os": "MACOS"}, store.CallQuery{OS: "macOS"}, ""},
		{"os other", map[string]string{"os": "other"}, store.CallQuery{OS: "Other"}, ""},
		{"free text trimmed", map[string]string{"endpoint-type": " pstn ", "sdk": " 1.30.1 ", "resource": " /SUBSCRIPTIONS/x "},
			store.CallQuery{EndpointType: "pstn", SDK: "1.30.1", Resource: "/SUBSCRIPTIONS/x"}, ""},
		{"all together", map[string]string{"call-type": "Group", "endpoint-type": "VoIP", "sdk": "2.11.0.1", "os": "android", "resource": "/r", "quality": "poor"},
			store.CallQuery{CallType: "Group", EndpointType: "VoIP", SDK: "2.11.0.1", OS: "Android", Resource: "/r", Quality: "Poor"}, ""},
		{"unknown call type", map[string]string{"call-type": "conference"}, store.CallQuery{}, "call-type"},
		{"unknown os", map[string]string{"os": "Darwin"}, store.CallQuery{}, "os"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseCallQuery(func(k string) string { return tc.params[k] }, now)
			if tc.bad != "" {
				var pe *ParamError
				if !errors.As(err, &pe) || pe.Name != tc.bad {
					t.Fatalf("error %v, want a ParamError naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.CallType != tc.want.CallType || q.EndpointType != tc.want.EndpointType || q.SDK != tc.want.SDK ||
				q.OS != tc.want.OS || q.Resource != tc.want.Resource || q.Quality != tc.want.Quality {
				t.Errorf("got call-type %q endpoint-type %q sdk %q os %q resource %q quality %q, want %+v",
					q.CallType, q.EndpointType, q.SDK, q.OS, q.Resource, q.Quality, tc.want)
			}
		})
	}
}
