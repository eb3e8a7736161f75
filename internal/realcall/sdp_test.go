package realcall

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// throughRelay rewrites the ICE candidates of a session description so
// that the peer receiving it sends to the relay's port instead of to the
// peer that made it: it keeps the host UDP candidates on 127.0.0.1, with
// their port replaced by port, and drops every other candidate (TCP,
// IPv6, other addresses). It fails when no candidate is left.
func throughRelay(sdp string, port int) (string, error) {
	eol := "\r\n"
	if !strings.Contains(sdp, eol) {
		eol = "\n"
	}
	lines := strings.Split(strings.TrimRight(sdp, "\r\n"), eol)
	out := lines[:0]
	kept := 0
	for _, l := range lines {
		f, ok := strings.CutPrefix(l, "a=candidate:")
		if !ok {
			out = append(out, l)
			continue
		}
		// foundation component transport priority address port "typ" type …
		fields := strings.Fields(f)
		if len(fields) < 8 || fields[6] != "typ" {
			return "", fmt.Errorf("a candidate line of an unknown shape: %q", l)
		}
		if !strings.EqualFold(fields[2], "udp") || fields[4] != "127.0.0.1" || fields[7] != "host" {
			continue
		}
		fields[5] = strconv.Itoa(port)
		out = append(out, "a=candidate:"+strings.Join(fields, " "))
		kept++
	}
	if kept == 0 {
		return "", fmt.Errorf("no host UDP candidate on 127.0.0.1 in the session description")
	}
	return strings.Join(out, eol) + eol, nil
}

func TestThroughRelay(t *testing.T) {
	in := strings.Join([]string{
		"v=0",
		"m=audio 9 UDP/TLS/RTP/SAVPF 111",
		"c=IN IP4 0.0.0.0",
		"a=candidate:1 1 udp 2122260223 127.0.0.1 40001 typ host generation 0 network-id 1",
		"a=candidate:2 1 udp 2122262783 ::1 40002 typ host generation 0 network-id 2",
		"a=candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
		"a=candidate:4 1 udp 1686052607 203.0.113.7 40003 typ srflx raddr 127.0.0.1 rport 40001",
		"a=candidate:5 1 udp 2122260223 10.0.0.5 40004 typ host generation 0",
		"a=ice-ufrag:abcd",
	}, "\r\n") + "\r\n"
	got, err := throughRelay(in, 50000)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"v=0",
		"m=audio 9 UDP/TLS/RTP/SAVPF 111",
		"c=IN IP4 0.0.0.0",
		"a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 network-id 1",
		"a=ice-ufrag:abcd",
	}, "\r\n") + "\r\n"
	if got != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	if _, err := throughRelay("v=0\r\na=candidate:2 1 udp 1 ::1 4 typ host\r\n", 1); err == nil {
		t.Error("a description without a usable candidate was accepted")
	}
}
