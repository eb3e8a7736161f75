package webrtcmap

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"calldiag/internal/ingest/webrtc"
)

// FuzzRecords maps whatever Parse makes of its input: the mapping must not
// panic, every record belongs to the call and has an id, and every record
// can be encoded (no NaN or infinity reaches a store).
func FuzzRecords(f *testing.F) {
	files, _ := filepath.Glob("../webrtc/testdata/rtcstats/*.rtcstats")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.SplitAfter(b, []byte("\n"))
		for i := 0; i+40 <= len(lines) && i < 400; i += 40 {
			f.Add(bytes.Join(lines[i:i+40], nil))
		}
	}
	f.Add([]byte(`["identity",null,{"calldiag":1,"callId":"c","participantId":"p","seq":2},1]` + "\n" +
		`["getstats","pc-1",{"a":{"type":"inbound-rtp","kind":"video","packetsReceived":1,"timestamp":5}},6]` + "\n" +
		`["getstats","pc-1",{"a":{"type":"inbound-rtp","kind":"video","packetsReceived":0,"packetsLost":-3,"timestamp":5}},6]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _, err := webrtc.Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		id := Resolve(d, Options{Digest: "00112233445566778899"})
		recs, err := Records(d, id, Options{})
		if err != nil {
			t.Fatalf("Records: %v", err)
		}
		for _, r := range recs {
			if r.ID == "" || r.CallID != id.CallID || !json.Valid(r.Raw) {
				t.Fatalf("record %+v", r)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("record %s does not encode: %v", r.ID, err)
			}
		}
	})
}
