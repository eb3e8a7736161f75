package webrtc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkParseRTCStats parses the largest rtcstats sample.
func BenchmarkParseRTCStats(b *testing.B) {
	data, err := os.ReadFile("testdata/rtcstats/jitsi-safari-standard-stats.rtcstats")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Parse(bytes.NewReader(data), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseInternals parses a made-up webrtc-internals dump of about
// 10 MB: one peer connection polled 1,000 times (a 17-minute call) with 40
// reports of 25 numeric fields each, in the shape recent Chrome saves.
func BenchmarkParseInternals(b *testing.B) {
	data := synthInternals(1, 1000, 40, 25)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d, _, err := Parse(bytes.NewReader(data), "bench")
		if err != nil {
			b.Fatal(err)
		}
		if len(d.PeerConnections[0].Snapshots) != 1000 {
			b.Fatalf("%d snapshots", len(d.PeerConnections[0].Snapshots))
		}
	}
}

// synthInternals writes a webrtc-internals dump of pcs peer connections,
// each polled polls times, with reports of fields counters each (plus
// their timestamp and type series).
func synthInternals(pcs, polls, reports, fields int) []byte {
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	iso := func(i int) string {
		return start.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
	}
	var buf strings.Builder
	buf.WriteString(`{"getUserMedia":[],"PeerConnections":{`)
	series := func(first bool, key, typ, values string) {
		if !first {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `%q:{"startTime":%q,"endTime":%q,"statsType":%q,"values":%q}`, key, iso(0), iso(polls-1), typ, values)
	}
	var vals []byte
	for p := range pcs {
		if p > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `"1-%d":{"rtcConfiguration":"{}","updateLog":[],"url":"https://example.com","stats":{`, p+1)
		for r := range reports {
			id := "IT" + strconv.Itoa(r)
			vals = append(vals[:0], '[')
			for i := range polls {
				if i > 0 {
					vals = append(vals, ',')
				}
				vals = strconv.AppendFloat(vals, float64(start.Add(time.Duration(i)*time.Second).UnixMilli())+0.123, 'f', 3, 64)
			}
			series(r == 0, id+"-timestamp", "inbound-rtp", string(append(vals, ']')))
			series(false, id+"-type", "inbound-rtp", "["+strings.Repeat(`"inbound-rtp",`, polls-1)+`"inbound-rtp"]`)
			for f := range fields {
				vals = append(vals[:0], '[')
				for i := range polls {
					if i > 0 {
						vals = append(vals, ',')
					}
					vals = strconv.AppendInt(vals, int64(i*(f+1)*37+r), 10)
				}
				series(false, id+"-field"+strconv.Itoa(f), "inbound-rtp", string(append(vals, ']')))
			}
		}
		buf.WriteString(`}}`)
	}
	buf.WriteString(`},"UserAgent":"bench"}`)
	return []byte(buf.String())
}
