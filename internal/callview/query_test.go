package callview

import (
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
