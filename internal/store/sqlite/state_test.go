package sqlite

import (
	"database/sql"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store/callfold"
)

func TestRankBeats(t *testing.T) {
	v := func(n int) *int { return &n }
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		a, b rank
		want bool
	}{
		{"final beats any update", rankOf(nil, t0, "a"), rankOf(v(99), t0.Add(time.Hour), "z"), true},
		{"update loses to final", rankOf(v(99), t0.Add(time.Hour), "z"), rankOf(nil, t0, "a"), false},
		{"higher version", rankOf(v(3), t0, "a"), rankOf(v(2), t0.Add(time.Hour), "z"), true},
		{"same version, later time", rankOf(v(2), t0.Add(time.Second), "a"), rankOf(v(2), t0, "z"), true},
		{"same version and time, greater id", rankOf(v(2), t0, "b"), rankOf(v(2), t0, "a"), true},
		{"two finals, later time", rankOf(nil, t0.Add(time.Second), "a"), rankOf(nil, t0, "b"), true},
		{"identical", rankOf(nil, t0, "a"), rankOf(nil, t0, "a"), false},
	}
	for _, tc := range tests {
		if got := tc.a.beats(tc.b); got != tc.want {
			t.Errorf("%s: %+v beats %+v = %v, want %v", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
}

func TestChooseCall(t *testing.T) {
	cands := []mappedCall{{id: "b", first: 100}, {id: "a", first: 300}, {id: "c", first: 300}, {id: "d", first: 50}}
	tests := []struct {
		t    int64
		want string
	}{
		{0, "d"},    // earliest first record at or after 0
		{50, "d"},   // at counts as after
		{60, "b"},   // earliest at or after 60
		{200, "a"},  // a and c tie at 300: smaller id
		{300, "a"},  //
		{1000, "a"}, // none after: latest before, tie to smaller id
		{-100, "d"}, //
		{101, "a"},  //
		{99, "b"},   //
		{301, "a"},  //
		{1 << 40, "a"},
	}
	for _, tc := range tests {
		i := chooseCall(tc.t, cands)
		if i < 0 || cands[i].id != tc.want {
			t.Errorf("chooseCall(%d) = %d, want %s", tc.t, i, tc.want)
		}
	}
	if chooseCall(5, nil) != -1 {
		t.Error("chooseCall without candidates must return -1")
	}
}

func TestSummarize(t *testing.T) {
	sec := int64(time.Second)
	nullNS := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	sum := func(callType, etype string, callStart, start, end int64) *summaryRow {
		s := &summaryRow{callType: callType, etype: etype, callStart: callStart, start: start, end: nullNS(end)}
		return s
	}
	tests := []struct {
		name         string
		c            callState
		wantStart    int64
		wantEnd      int64
		wantType     string
		wantParts    int
		wantClientTy string
	}{
		{
			name: "summary rows decide span and type",
			c: callState{first: nullNS(5 * sec), last: nullNS(900 * sec), parts: []*partState{
				{pid: "a", sum: sum("Group", "VoIP", 10*sec, 10*sec, 70*sec)},
				{pid: "b", sum: sum("P2P", "PSTN", 12*sec, 20*sec, 100*sec)},
				{pid: "c", client: true},
			}},
			wantStart: 10 * sec, wantEnd: 100 * sec, wantType: "Group", wantParts: 3,
			wantClientTy: `{"PSTN":1,"VoIP":2}`,
		},
		{
			name: "no summary: record times and a group leg",
			c: callState{first: nullNS(5 * sec), last: nullNS(900 * sec), parts: []*partState{
				{pid: "a", client: true, grp: true},
				{pid: "b", diag: true, dEtype: "PSTN"},
				{pid: "s", diag: true}, // known only from server rows serving it
			}},
			wantStart: 5 * sec, wantEnd: 900 * sec, wantType: "Group", wantParts: 3,
			wantClientTy: `{"PSTN":1,"Unknown":1,"VoIP":1}`,
		},
		{
			name: "no summary, no participant id: type unknown",
			c: callState{first: nullNS(5 * sec), last: nullNS(6 * sec), parts: []*partState{
				{pid: "ep", diag: true, dEtype: "VoIP"},
			}},
			wantStart: 5 * sec, wantEnd: 6 * sec, wantType: "", wantParts: 1, wantClientTy: `{"VoIP":1}`,
		},
		{
			name: "summary without durations ends at the last record",
			c: callState{first: nullNS(5 * sec), last: nullNS(50 * sec), parts: []*partState{
				{pid: "a", sum: &summaryRow{callType: "P2P", callStart: 10 * sec, start: 10 * sec}},
			}},
			wantStart: 10 * sec, wantEnd: 50 * sec, wantType: "P2P", wantParts: 1, wantClientTy: `{"Unknown":1}`,
		},
		{
			name:      "empty call",
			c:         callState{},
			wantStart: 0, wantEnd: 0, wantType: "", wantParts: 0, wantClientTy: `{}`,
		},
	}
	for _, tc := range tests {
		row, err := summarize(&tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if row.start != tc.wantStart || row.end != tc.wantEnd || row.callType != tc.wantType ||
			row.participants != tc.wantParts || row.clientTypes != tc.wantClientTy ||
			row.duration != float64(tc.wantEnd-tc.wantStart)/1e9 {
			t.Errorf("%s: got %+v, want start %d end %d type %q parts %d types %s", tc.name, row,
				tc.wantStart, tc.wantEnd, tc.wantType, tc.wantParts, tc.wantClientTy)
		}
	}
}

func TestEventTime(t *testing.T) {
	env := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	client := env.Add(-time.Minute)
	tests := []struct {
		name string
		r    model.Record
		want time.Time
	}{
		{"operation uses the client clock", model.Record{Time: env, Operation: &model.Operation{ClientTime: client}}, client},
		{"operation without client time", model.Record{Time: env, Operation: &model.Operation{}}, env},
		{"sample uses the client clock", model.Record{Time: env, Sample: &model.Sample{ClientTime: client}}, client},
		{"service event uses its start", model.Record{Time: env, Event: &model.ServiceEvent{StartTime: client}}, client},
		{"summary uses the envelope", model.Record{Time: env, Participant: &model.ParticipantRow{StartTime: client}}, env},
	}
	for _, tc := range tests {
		if got := callfold.EventTime(&tc.r); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
