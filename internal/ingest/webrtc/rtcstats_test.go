package webrtc

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, input string) (*Dump, []LineError) {
	t.Helper()
	d, errs, err := Parse(strings.NewReader(input), "test")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d, errs
}

func ms(n int64) time.Time { return time.UnixMilli(n).UTC() }

// TestRTCStatsDeltaDecoding follows one peer connection through the
// delta-compression rules: absent reports and fields are unchanged, a
// report timestamp of 0 is the snapshot's time, new reports are added, and
// a value without the top-level timestamp is a full snapshot.
func TestRTCStatsDeltaDecoding(t *testing.T) {
	input := `["create","PC_0",{"iceServers":[]},1000]
["getstats","PC_0",{"in":{"timestamp":0,"type":"inbound-rtp","packetsReceived":10,"kind":"audio"},"cp":{"timestamp":0,"type":"candidate-pair","selected":true},"timestamp":2000},2005]
["getstats","PC_0",{"in":{"timestamp":0,"packetsReceived":25},"timestamp":3000},3004]
["getstats","PC_0",{"rio":{"timestamp":2900,"type":"remote-inbound-rtp","roundTripTime":0.05},"timestamp":4000},4002]
["getstats","PC_0",{"in":{"packetsLost":1},"timestamp":5000},5001]
["getstats","PC_0",{"only":{"timestamp":6000,"type":"transport","bytesSent":7}},6001]
`
	d, errs := parseString(t, input)
	if len(errs) > 0 {
		t.Fatalf("line errors: %v", errs)
	}
	snaps := d.PeerConnections[0].Snapshots
	if len(snaps) != 5 {
		t.Fatalf("%d snapshots, want 5", len(snaps))
	}
	type want struct {
		snap      int
		report    string
		typ       string
		time      int64
		num       map[string]float64
		str       map[string]string
		snapTime  int64
		nReports  int
		wantAbsnt bool
	}
	tests := []want{
		{snap: 0, report: "in", typ: "inbound-rtp", time: 2000, num: map[string]float64{"packetsReceived": 10}, str: map[string]string{"kind": "audio"}, snapTime: 2000, nReports: 2},
		{snap: 0, report: "cp", typ: "candidate-pair", time: 2000, str: map[string]string{"selected": "true"}, snapTime: 2000, nReports: 2},
		// a changed field; the other fields and the type stay
		{snap: 1, report: "in", typ: "inbound-rtp", time: 3000, num: map[string]float64{"packetsReceived": 25}, str: map[string]string{"kind": "audio"}, snapTime: 3000, nReports: 2},
		// a report the delta does not mention is unchanged, time included
		{snap: 1, report: "cp", typ: "candidate-pair", time: 2000, str: map[string]string{"selected": "true"}, snapTime: 3000, nReports: 2},
		// a new report with its own absolute timestamp
		{snap: 2, report: "rio", typ: "remote-inbound-rtp", time: 2900, num: map[string]float64{"roundTripTime": 0.05}, snapTime: 4000, nReports: 3},
		// a report without a timestamp keeps its previous one
		{snap: 3, report: "in", typ: "inbound-rtp", time: 3000, num: map[string]float64{"packetsReceived": 25, "packetsLost": 1}, str: map[string]string{"kind": "audio"}, snapTime: 5000, nReports: 3},
		// no top-level timestamp: a full snapshot replaces the reports
		{snap: 4, report: "only", typ: "transport", time: 6000, num: map[string]float64{"bytesSent": 7}, snapTime: 6001, nReports: 1},
		{snap: 4, report: "in", wantAbsnt: true, snapTime: 6001, nReports: 1},
	}
	for _, w := range tests {
		s := snaps[w.snap]
		if s.Time.UnixMilli() != w.snapTime || len(s.Reports) != w.nReports {
			t.Errorf("snapshot %d: time %d with %d reports, want %d with %d", w.snap, s.Time.UnixMilli(), len(s.Reports), w.snapTime, w.nReports)
		}
		r, ok := s.Reports[w.report]
		if w.wantAbsnt {
			if ok {
				t.Errorf("snapshot %d: %s should be gone: %+v", w.snap, w.report, r)
			}
			continue
		}
		if !ok {
			t.Errorf("snapshot %d: no report %s", w.snap, w.report)
			continue
		}
		if r.Type != w.typ || r.Time.UnixMilli() != w.time || !sameNums(r.Num, w.num) || !sameStrs(r.Str, w.str) {
			t.Errorf("snapshot %d %s = %+v (time %d), want type %s time %d num %v str %v", w.snap, w.report, r, r.Time.UnixMilli(), w.typ, w.time, w.num, w.str)
		}
	}
	// Earlier snapshots are not changed by later deltas.
	if v := snaps[0].Reports["in"].Num["packetsReceived"]; v != 10 {
		t.Errorf("the first snapshot changed afterwards: packetsReceived = %v", v)
	}
}

func sameNums(a, b map[string]float64) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}
func sameStrs(a, b map[string]string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// TestRTCStatsUnchangedReportsShareMaps checks what keeps long dumps small:
// a report a delta does not change is the same maps in both snapshots.
func TestRTCStatsUnchangedReportsShareMaps(t *testing.T) {
	d, _ := parseFile(t, "testdata/rtcstats/jitsi-google-standard-stats-sfu.rtcstats")
	snaps := d.PeerConnections[0].Snapshots
	a, b := snaps[len(snaps)-2].Reports, snaps[len(snaps)-1].Reports
	shared := 0
	for id, r := range b {
		if prev, ok := a[id]; ok && len(r.Str) > 0 && reflect.ValueOf(r.Str).Pointer() == reflect.ValueOf(prev.Str).Pointer() {
			shared++
		}
	}
	if shared < len(b)/2 {
		t.Errorf("only %d of %d reports share their text fields with the previous snapshot", shared, len(b))
	}
}

// TestRTCStatsBadLines checks that a bad line is reported with its number
// and skipped while every other line is kept.
func TestRTCStatsBadLines(t *testing.T) {
	input := strings.Join([]string{
		`["create","PC_0",{"iceServers":[]},1000]`,
		`["createOffer","PC_0",`, // 2: cut off
		`{"not":"an array"}`,     // 3
		``,                       // blank lines are not errors
		`[42,"PC_0",null,1000]`,  // 5: the method is not a string
		`["getstats","PC_0",{"a":{"timestamp":0,"type":"transport"},"timestamp":2000},2000]`,
		`["getstats","PC_0",[1,2],2100]`,                         // 7: a report is not an object
		`["getstats","PC_0","nonsense",2200]`,                    // 8
		`["oniceconnectionstatechange","PC_0","connected",1]`,    // fine (an odd time, but a time)
		`["onsignalingstatechange","PC_0","stable","yesterday"]`, // 10: the time is not a time
		`["close",{"pc":0},null,3000]`,                           // 11: a bad pc id
		`["close","PC_0",null,3000]`,
	}, "\n")
	d, errs := parseString(t, input)
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
		if e.Reason == "" || !strings.Contains(e.Error(), "line ") {
			t.Errorf("error without a reason or line: %#v", e)
		}
	}
	if want := []int{2, 3, 5, 7, 8, 10, 11}; !reflect.DeepEqual(lines, want) {
		t.Errorf("bad lines %v, want %v: %v", lines, want, errs)
	}
	pc := d.PeerConnections[0]
	var names []string
	for _, e := range pc.Events {
		names = append(names, e.Name)
	}
	if want := []string{"create", "oniceconnectionstatechange", "close"}; !reflect.DeepEqual(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
	if len(pc.Snapshots) != 1 {
		t.Errorf("%d snapshots, want the 1 good one", len(pc.Snapshots))
	}
}

// TestRTCStatsNothingUsable checks the cases that make Parse fail.
func TestRTCStatsNothingUsable(t *testing.T) {
	tests := []struct {
		name, input string
		wantLines   int
		unknown     bool
	}{
		{"empty", "", 0, true},
		{"whitespace", "\n  \n", 0, true},
		{"no good line", "[\"a\"]\n[\"b\"\n", 2, false},
		{"another format", "time,category\n1,2\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, errs, err := Parse(strings.NewReader(tt.input), "x")
			if err == nil || d != nil {
				t.Fatalf("want an error, got a dump %+v", d)
			}
			if errors.Is(err, ErrUnknownFormat) != tt.unknown || len(errs) != tt.wantLines {
				t.Errorf("err %v (unknown format %v) with %d line errors, want %v and %d", err, errors.Is(err, ErrUnknownFormat), len(errs), tt.unknown, tt.wantLines)
			}
		})
	}
}

// TestRTCStatsPage checks the page-level records: identity, user agent,
// URL, media requests and their answers, and records without a time.
func TestRTCStatsPage(t *testing.T) {
	input := `["connectionInfo",null,"{\"url\":\"https://meet.example.com/room\",\"userAgent\":\"UA/1.0\"}",900]
["identity",null,{"confName":"room","displayName":"Ana","userId":null,"endpointId":"ep1","hosts":{"domain":"x"}},950]
["identity",null,{"sessionId":12345},950]
["navigator.mediaDevices.getUserMedia",null,{"audio":true,"video":false},1000]
["navigator.mediaDevices.getDisplayMedia",null,{"video":{"cursor":"always"}},1100]
["navigator.mediaDevices.getUserMediaOnSuccess",null,{"id":"s1","tracks":[{"id":"t1","kind":"audio","label":"Mic"}]},1200]
["navigator.mediaDevices.getDisplayMediaOnFailure",null,"NotAllowedError: Permission denied",1300]
["navigator.mediaDevices.getUserMedia",null,{"video":true}]
["navigator.mediaDevices.getUserMediaOnFailure",null,{"name":"NotReadableError","message":"Could not start video source"}]
["dominantSpeaker",null,{"dominantSpeakerEndpoint":"ep2"},1400]
["create","PC_0",{"iceServers":[{"urls":"turn:t.example.com","username":"u","credential":"secret"}]}]
["constraints","PC_0",{"optional":[{"rtcStatsSFUP2P":true},{"rtcStatsConferenceId":"conf-9"}]}]
["setLocalDescription","PC_0",{"type":"offer","sdp":"` + strings.Repeat(`a=candidate:1 1 udp 1 192.0.2.1 9 typ host\r\n`, 300) + `"}]
`
	d, errs := parseString(t, input)
	if len(errs) > 0 {
		t.Fatalf("line errors: %v", errs)
	}
	if d.URL != "https://meet.example.com/room" || d.UserAgent != "UA/1.0" {
		t.Errorf("URL %q, user agent %q", d.URL, d.UserAgent)
	}
	if d.ConferenceID != "room" || d.DisplayName != "Ana" || d.ClientID != "ep1" || d.SessionID != "12345" || d.UserID != "" {
		t.Errorf("identity: conference %q name %q client %q session %q user %q", d.ConferenceID, d.DisplayName, d.ClientID, d.SessionID, d.UserID)
	}
	if d.Identity["rtcStatsConferenceId"] != "conf-9" {
		t.Errorf("constraint identifiers not kept: %v", d.Identity)
	}
	// Records after the last timed one carry its time; the identity and
	// connection records do not count towards Start.
	if d.Start != ms(1000) || d.End != ms(1400) {
		t.Errorf("dump spans %s…%s", d.Start, d.End)
	}
	want := []MediaRequest{
		{Time: ms(1000), Audio: true, Constraints: `{"audio":true,"video":false}`, Outcome: MediaSuccess, ResultTime: ms(1200),
			Tracks: []MediaTrack{{ID: "t1", Kind: "audio", Label: "Mic"}}},
		{Time: ms(1100), Display: true, Video: true, Constraints: `{"video":{"cursor":"always"}}`, Outcome: MediaFailure, ResultTime: ms(1300),
			Error: "NotAllowedError", ErrorMessage: "Permission denied"},
		{Time: ms(1300), Video: true, Constraints: `{"video":true}`, Outcome: MediaFailure, ResultTime: ms(1300),
			Error: "NotReadableError", ErrorMessage: "Could not start video source"},
	}
	if !reflect.DeepEqual(d.Media, want) {
		t.Errorf("media\n got %+v\nwant %+v", d.Media, want)
	}
	if len(d.Events) != 1 || d.Events[0].Name != "dominantSpeaker" {
		t.Errorf("page events %+v", d.Events)
	}
	pc := d.PeerConnections[0]
	if strings.Contains(pc.Config, "secret") || strings.Contains(pc.Config, `"u"`) || !strings.Contains(pc.Config, "turn:t.example.com") {
		t.Errorf("config %s: want the URL without the credentials", pc.Config)
	}
	if sdp := pc.Events[len(pc.Events)-1].Value; len(sdp) > 8<<10 || !strings.HasSuffix(sdp, "…") || !strings.HasPrefix(sdp, `{"type":"offer"`) {
		t.Errorf("a long description is cut at 8 KiB and marked: %d bytes, ends %q", len(sdp), sdp[len(sdp)-10:])
	}
	if f := pc.Features(); f.P2P == nil || !*f.P2P {
		t.Errorf("P2P = %v, want true", f.P2P)
	}
}

// TestRTCStatsSamplesDecode checks every sample against what its first and
// last lines say, so the whole of each file is read.
func TestRTCStatsSamplesDecode(t *testing.T) {
	tests := []struct {
		file      string
		pcs       int
		snapshots int // of the first peer connection
		media     int
		ua        string
	}{
		{"jitsi-chrome-standard-multiple-p2p", 7, 32, 2, "Chrome/99.0.4844.51"},
		{"jitsi-firefox-standard-stats-sfu", 1, 79, 2, "Firefox/118.0"},
		{"jitsi-google-legacy-stats-p2p", 2, 78, 2, ""},
		{"jitsi-google-standard-stats-p2p", 2, 29, 2, "Chrome/99.0.4844.51"},
		{"jitsi-google-standard-stats-sfu", 1, 34, 2, "Chrome/99.0.4844.51"},
		{"jitsi-safari-standard-stats", 1, 82, 2, "Version/17.0 Safari"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, errs := parseFile(t, "testdata/rtcstats/"+tt.file+".rtcstats")
			if len(errs) > 0 {
				t.Errorf("line errors: %v", errs)
			}
			if len(d.PeerConnections) != tt.pcs || len(d.PeerConnections[0].Snapshots) != tt.snapshots || len(d.Media) != tt.media {
				t.Errorf("%d pcs, %d snapshots, %d media requests; want %d, %d, %d",
					len(d.PeerConnections), len(d.PeerConnections[0].Snapshots), len(d.Media), tt.pcs, tt.snapshots, tt.media)
			}
			if !strings.Contains(d.UserAgent, tt.ua) {
				t.Errorf("user agent %q, want it to contain %q", d.UserAgent, tt.ua)
			}
			for _, pc := range d.PeerConnections {
				for i := 1; i < len(pc.Snapshots); i++ {
					if pc.Snapshots[i].Time.Before(pc.Snapshots[i-1].Time) {
						t.Errorf("%s snapshots out of time order at %d", pc.ID, i)
					}
				}
				if strings.Contains(pc.Config, `"credential"`) || strings.Contains(pc.Config, `"username"`) {
					t.Errorf("%s config keeps credentials: %s", pc.ID, pc.Config)
				}
			}
		})
	}
}

// TestReadLine checks line reading where lines outgrow the read buffer and
// the limit.
func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 100)
	input := "short\r\n" + long + "\n" + strings.Repeat("y", 300) + "\n\nlast"
	r := bufio.NewReaderSize(strings.NewReader(input), 16)
	type line struct {
		text    string
		tooLong bool
	}
	var got []line
	var buf []byte
	for {
		l, tooLong, err := readLine(r, &buf, 200)
		got = append(got, line{string(l), tooLong})
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	want := []line{{"short", false}, {long, false}, {"", true}, {"", false}, {"last", false}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
}
