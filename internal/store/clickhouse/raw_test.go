package clickhouse

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"calldiag/internal/model"
)

// TestChunkRaws checks that every record's bytes can be found again from
// its reference, that chunks stay within their bound, and that records of
// different calls, days, or unlinked client instances never share one.
func TestChunkRaws(t *testing.T) {
	day1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	big := bytes.Repeat([]byte("x"), maxChunkBytes/3)
	op := func(ci string) *model.Operation { return &model.Operation{ClientInstanceID: ci} }
	tests := []struct {
		name   string
		recs   []model.Record
		chunks int
	}{
		{"one call, one day", []model.Record{
			{ID: "a", CallID: "c1", Time: day1, Raw: []byte(`{"a":1}`)},
			{ID: "b", CallID: "c1", Time: day1, Raw: []byte(`{"b":2}`)},
		}, 1},
		{"calls and days apart", []model.Record{
			{ID: "a", CallID: "c1", Time: day1, Raw: []byte(`{"a":1}`)},
			{ID: "b", CallID: "c2", Time: day1, Raw: []byte(`{"b":2}`)},
			{ID: "c", CallID: "c1", Time: day2, Raw: []byte(`{"c":3}`)},
			{ID: "d", CallID: "c1", Resource: "r2", Time: day1, Raw: []byte(`{"d":4}`)},
		}, 4},
		{"unlinked operations by client instance", []model.Record{
			{ID: "a", Time: day1, Operation: op("ci1"), Raw: []byte(`{"a":1}`)},
			{ID: "b", Time: day1, Operation: op("ci2"), Raw: []byte(`{"b":2}`)},
			{ID: "c", Time: day1, Operation: op("ci1"), Raw: []byte(`{"c":3}`)},
			{ID: "d", Time: day1, Raw: []byte(`{"d":4}`)},
		}, 3},
		{"bounded size", []model.Record{
			{ID: "a", CallID: "c1", Time: day1, Raw: big},
			{ID: "b", CallID: "c1", Time: day1, Raw: big},
			{ID: "c", CallID: "c1", Time: day1, Raw: big},
			{ID: "d", CallID: "c1", Time: day1, Raw: big},
			{ID: "e", CallID: "c1", Time: day1, Raw: bytes.Repeat([]byte("y"), 2*maxChunkBytes)},
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fresh := make([]*model.Record, len(tt.recs))
			for i := range tt.recs {
				fresh[i] = &tt.recs[i]
			}
			chunks, refs := chunkRaws(fresh)
			if len(chunks) != tt.chunks {
				t.Errorf("got %d chunks, want %d", len(chunks), tt.chunks)
			}
			for i, c := range chunks {
				if c.seq != uint32(i) {
					t.Errorf("chunk %d has sequence number %d", i, c.seq)
				}
				if len(c.data) > maxChunkBytes && bytes.Count(c.data, []byte("y")) != len(c.data) {
					t.Errorf("chunk %d holds %d bytes, more than one oversized record", i, len(c.data))
				}
			}
			for i, r := range fresh {
				ref := refs[i]
				c := chunks[ref.seq]
				got := c.data[ref.off : ref.off+ref.len]
				if !bytes.Equal(got, r.Raw) {
					t.Errorf("record %s: reference gives %q", r.ID, trim(got))
				}
				if c.key.callID != r.CallID || c.key.client != clientOf(r) && r.CallID == "" {
					t.Errorf("record %s (call %q) is in the chunk of call %q, client %q", r.ID, r.CallID, c.key.callID, c.key.client)
				}
			}
		})
	}
}

func trim(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%s… (%d bytes)", b[:40], len(b))
	}
	return string(b)
}
