package webrtc

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedLines returns the first lines of each rtcstats sample, so the fuzzer
// starts from every kind of record the samples hold without the cost of
// whole files.
func seedLines(f *testing.F, n int) {
	files, _ := filepath.Glob("testdata/rtcstats/*.rtcstats")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.SplitAfter(b, []byte("\n"))
		for i := 0; i+n <= len(lines) && i < 12*n; i += n {
			f.Add(bytes.Join(lines[i:i+n], nil))
		}
	}
	f.Add([]byte(`["getstats","PC_0",{"a":{"timestamp":0,"x":1},"timestamp":5},6]` + "\n" + `["getstats","PC_0",[{"id":"a","type":"t"}],7]`))
}

// checkParse runs Parse and checks the promises it makes whatever the
// input: no panic, a dump or an error, and errors that say where and why.
func checkParse(t *testing.T, data []byte) {
	d, errs, err := Parse(bytes.NewReader(data), "fuzz")
	if (d == nil) == (err == nil) {
		t.Fatalf("dump %v with error %v: want exactly one", d != nil, err)
	}
	for _, e := range errs {
		if e.Reason == "" || (e.Line <= 0 && e.Entry == "") {
			t.Fatalf("an error that does not say where or why: %#v", e)
		}
	}
	if d == nil {
		return
	}
	for _, pc := range d.PeerConnections {
		_ = pc.Features()
		for _, e := range pc.Events {
			if len(e.Value) > maxEventValue {
				t.Fatalf("event value of %d bytes", len(e.Value))
			}
		}
	}
}

func FuzzParseRTCStats(f *testing.F) {
	seedLines(f, 3)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data)
	})
}

func FuzzParseInternals(f *testing.F) {
	files, _ := filepath.Glob("testdata/internals/*.json")
	for _, path := range files {
		if strings.Contains(path, "chromium") {
			continue // large: the hand-written files cover its shape
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		// Compact: the fuzzer's minimizing of a new input costs in
		// proportion to its size.
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			f.Fatal(err)
		}
		f.Add(c.Bytes())
	}
	f.Add([]byte(`{"PeerConnections":{"1-1":{"stats":{"a-b":{"startTime":1,"endTime":1,"values":[1,"x",null,true]}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data)
	})
}
