package sqlite

import (
	"math"
	"reflect"
	"testing"

	"calldiag/internal/store"
)

// FuzzCursors feeds arbitrary cursors to the call cursor decoder: it must
// never panic, and what it accepts must encode back to the same position.
func FuzzCursors(f *testing.F) {
	f.Add(store.CallCursor{Sort: store.SortDuration, Value: "12.5", ID: "call|1"}.Encode())
	f.Add(store.CallCursor{Sort: store.SortStart, Asc: true, Value: "-1", ID: ""}.Encode())
	f.Add("")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		for _, sort := range []string{store.SortStart, store.SortDuration, store.SortParticipants} {
			for _, asc := range []bool{false, true} {
				c, v, err := decodeCallCursor(s, sort, asc)
				if err != nil {
					continue
				}
				c2, v2, err := decodeCallCursor(c.Encode(), sort, asc)
				if err != nil || c2 != c || !sameValue(v, v2) {
					t.Fatalf("call cursor %q: %+v/%v re-decodes to %+v/%v, %v", s, c, v, c2, v2, err)
				}
			}
		}
	})
}

func sameValue(a, b any) bool {
	fa, okA := a.(float64)
	fb, okB := b.(float64)
	if okA && okB && math.IsNaN(fa) && math.IsNaN(fb) {
		return true
	}
	return a == b
}

// FuzzPackedRows feeds arbitrary bytes to the decoders of packed rows
// (points, chunk indexes, id pages): they must never panic, and what they
// decode must survive a round trip.
func FuzzPackedRows(f *testing.F) {
	f.Add(encodePoints([]point{{t: 1, sid: 2, value: 1.5}, {t: 59e9, sid: 1, value: -2}}, 0))
	f.Add(encodePoints(manyPoints(200), 0))
	f.Add(appendMeta(appendMeta(nil, metaEntry{id: "abc", cat: 1, res: 2, t: -4, off: 0, len: 3}), metaEntry{id: "", off: 3}))
	f.Add(appendEntry(appendEntry(nil, indexEntry{key: idKey{hi: 1, lo: 2}, seq: 5}),
		indexEntry{key: idKey{hi: 1, lo: 2, hashed: true}, seq: 1 << 21}))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ps []point
		if err := decodePoints(b, 3, func(p point) { ps = append(ps, p) }); err == nil {
			var back []point
			if err := decodePoints(encodePoints(ps, 3), 3, func(p point) { back = append(back, p) }); err != nil ||
				!reflect.DeepEqual(back, ps) && !hasNaN(ps) {
				t.Fatalf("points %x: %v re-decode to %v, %v", b, ps, back, err)
			}
		}
		var es []metaEntry
		err := eachMeta(b, func(_ int, e metaEntry) bool { es = append(es, e); return true })
		for i, e := range es {
			// The fast search agrees with the full decoder.
			if j, ferr := findMeta(b, e.id); ferr != nil || j > i || (j >= 0 && es[j].id != e.id) {
				t.Fatalf("chunk index %x: findMeta(%q) = %d, %v; entry %d has it", b, e.id, j, ferr, i)
			}
		}
		if err == nil {
			var enc []byte
			for _, e := range es {
				enc = appendMeta(enc, e)
			}
			var back []metaEntry
			if err := eachMeta(enc, func(_ int, e metaEntry) bool { back = append(back, e); return true }); err != nil || !reflect.DeepEqual(back, es) {
				t.Fatalf("chunk index %x: %v re-decodes to %v, %v", b, es, back, err)
			}
		}
		if checkPage(b) == nil {
			var enc []byte
			sorted := true
			for i := range len(b) / entrySize {
				e := entryAt(b, i)
				enc = appendEntry(enc, e)
				sorted = sorted && (i == 0 || compareKeys(entryAt(b, i-1).key, e.key) < 0)
			}
			if string(enc) != string(b) {
				t.Fatalf("id page %x re-encodes to %x", b, enc)
			}
			for i := range len(b) / entrySize {
				e := entryAt(b, i)
				seq, ok, err := findEntry(b, e.key)
				if sorted && (err != nil || !ok || seq != e.seq) {
					t.Fatalf("id page %x: findEntry(%+v) = %d, %v, %v; want %d", b, e.key, seq, ok, err, e.seq)
				}
			}
		} else if _, _, err := findEntry(b, idKey{}); err == nil {
			t.Fatalf("id page %x: findEntry accepts a malformed page", b)
		}
	})
}

func hasNaN(ps []point) bool {
	for _, p := range ps {
		if math.IsNaN(p.value) {
			return true
		}
	}
	return false
}
