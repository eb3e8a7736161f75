package sqlite

import (
	"bytes"
	"calldiag/internal/model"
	"compress/flate"
	"testing"
)

// TestDecompressRange reads records back from both chunk encodings: zstd,
// which this build writes, and the raw DEFLATE of earlier builds.
func TestDecompressRange(t *testing.T) {
	raw := []byte(`{"a":1}{"bb":"two"}{"ccc":[3]}`)
	var deflated bytes.Buffer
	w, _ := flate.NewWriter(&deflated, flate.BestSpeed)
	w.Write(raw)
	w.Close()
	db := &DB{}
	// The records of a chunk joined in a reused buffer that holds older
	// bytes.
	g := &blobGroup{size: len(raw)}
	for _, part := range []string{`{"a":1}`, `{"bb":"two"}`, `{"ccc":[3]}`} {
		g.recs = append(g.recs, &model.Record{Raw: []byte(part)})
	}
	zst, _ := db.compress(g, []byte("stale bytes from the chunk before"))
	if !bytes.HasPrefix(zst, zstdMagic) {
		t.Fatal("compress does not write a zstd frame")
	}
	for name, data := range map[string][]byte{"zstd": zst, "deflate": deflated.Bytes()} {
		got, err := decompressRange(data, 7, 12)
		if err != nil || string(got) != `{"bb":"two"}` {
			t.Errorf("%s: %q, %v", name, got, err)
		}
		if _, err := decompressRange(data, 20, 100); err == nil {
			t.Errorf("%s: a range past the chunk's end was read", name)
		}
	}
}
