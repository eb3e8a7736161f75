package webrtc

import "testing"

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		want   Format
		wantOK bool
	}{
		{"rtcstats line", `["connectionInfo",null,{"url":"https://x"},1]`, FormatRTCStats, true},
		{"rtcstats after a byte order mark and blanks", "\xef\xbb\xbf\n  [ \"getstats\",\"PC_0\",{}]", FormatRTCStats, true},
		{"rtcstats cut short", `["create","PC_0",{"iceSer`, FormatRTCStats, true},
		{"webrtc-internals, recent", "{\n \"deviceMemory\": 8,\n \"getUserMedia\": [", FormatInternals, true},
		{"webrtc-internals, old", `{"PeerConnections":{"1-1":{`, FormatInternals, true},
		{"webrtc-internals without getUserMedia first", `{"UserAgent":"Mozilla/5.0", "PeerConnections" : {`, FormatInternals, true},
		{"an ACS client operation with a user agent", `{"time":"2026-03-02T09:15:04Z","category":"CallClientOperations",` +
			`"properties":{"UserAgent":"Mozilla/5.0","OperationName":"getUserMedia","PeerConnections":2}}`, "", false},
		{"an ACS log record", `{"time":"2026-03-02T09:15:04Z","category":"CallSummary"}`, "", false},
		{"a JSON array of records", `[{"time":"2026-03-02T09:15:04Z"}]`, "", false},
		{"an array of numbers", `[1,2,3]`, "", false},
		{"CSV", "time,category\n", "", false},
		{"empty", "", "", false},
		{"blanks", " \n\t", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Detect([]byte(tt.head))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Detect(%q) = %q, %v; want %q, %v", tt.head, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
