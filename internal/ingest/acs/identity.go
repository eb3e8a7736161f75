package acs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"calldiag/internal/ingest"
)

// excludedKey reports whether a key stays out of the record identity
// because only some shapes of a record carry it: the envelope fields that
// are hashed separately (time, resource, category) and the columns that
// only a Log Analytics workspace adds or only an export has.
func excludedKey(k string) bool {
	if strings.HasPrefix(k, "_") {
		return true // _ResourceId, _SubscriptionId, _BilledSize, _IsBillable, …
	}
	switch k {
	case "time", "timegenerated", "resourceid", "category", "type",
		"tenantid", "sourcesystem", "level", "location", "operationversion":
		return true
	}
	return false
}

// identity computes Record.ID; see Normalize for the canonical text it
// hashes.
func (r *rec) identity(cat, resource string, t time.Time, rawTime string) string {
	st := r.st
	b := st.buf[:0]
	b = appendItem(b, cat)
	b = appendItem(b, resource)
	p := len(b)
	if !t.IsZero() {
		b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	} else {
		b = append(b, rawTime...)
	}
	b = appendLen(b, p)

	fields := r.it.Fields
	order := st.identityOrder(fields)
	for _, i := range order {
		key := keyAlias(fields[i].Key)
		p := len(b)
		b = appendItem(b, key)
		q := len(b)
		var present bool
		if b, present = r.appendCanonValue(b, fields[i].Value, int(i)+1); !present {
			b = b[:p]
			continue
		}
		b = appendLen(b, q)
	}

	sum := sha256.Sum256(b)
	st.buf = b
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// identityOrder returns the positions of the fields that take part in the
// identity, ordered by the key they are hashed under; of repeated keys only
// the first is kept, as with Item.Get. Records of one source nearly always
// share their key sequence, so the order of the previous record is reused
// when the keys are the same.
func (st *state) identityOrder(fields []ingest.Field) []int32 {
	if len(fields) == len(st.orderKeys) {
		same := true
		for i := range fields {
			if fields[i].Key != st.orderKeys[i] {
				same = false
				break
			}
		}
		if same {
			return st.order
		}
	}
	st.orderKeys = st.orderKeys[:0]
	order := st.order[:0]
	for i := range fields {
		k := fields[i].Key
		st.orderKeys = append(st.orderKeys, k)
		if !excludedKey(k) {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(x, y int32) int {
		if c := strings.Compare(keyAlias(fields[x].Key), keyAlias(fields[y].Key)); c != 0 {
			return c
		}
		return int(x - y)
	})
	order = slices.CompactFunc(order, func(x, y int32) bool {
		return keyAlias(fields[x].Key) == keyAlias(fields[y].Key)
	})
	st.order = order
	return order
}

// appendItem appends s followed by its length.
func appendItem(b []byte, s string) []byte {
	p := len(b)
	b = append(b, s...)
	return appendLen(b, p)
}

// appendLen appends the length of b[p:] as four bytes. Writing every
// item's length after it makes the canonical text decodable from its end,
// so different field sets cannot produce the same text.
func appendLen(b []byte, p int) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(len(b)-p))
}

// appendCanonValue appends the canonical text of v (field fi, 1-based) and
// reports whether v holds a value at all.
func (r *rec) appendCanonValue(b []byte, v ingest.Value, fi int) ([]byte, bool) {
	switch v.Kind {
	case ingest.KindNull:
		return b, false
	case ingest.KindBool:
		return append(b, v.Str...), true
	case ingest.KindNumber:
		if out, ok := appendCanonNumber(b, strings.TrimSpace(v.Str)); ok {
			return out, true
		}
		return append(b, v.Str...), true
	case ingest.KindObject, ingest.KindArray:
		return r.appendCanonJSON(b, v.Str, fi), true
	}
	s := strings.TrimSpace(v.Str)
	if isNullText(s) {
		return b, false
	}
	if bv, ok := parseBool(s); ok {
		if bv {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	}
	if out, ok := appendCanonNumber(b, s); ok {
		return out, true
	}
	if t, ok := parseTime(s); ok {
		return t.AppendFormat(b, time.RFC3339Nano), true
	}
	if s[0] == '{' || s[0] == '[' {
		return r.appendCanonJSON(b, s, fi), true
	}
	return append(b, s...), true
}

// appendCanonJSON appends the canonical form of JSON text s, reusing the
// payload canonicalized while mapping the record when s is that field; s
// itself when it is not valid JSON.
func (r *rec) appendCanonJSON(b []byte, s string, fi int) []byte {
	st := r.st
	if st.cacheField != 0 && int(st.cacheField) == fi {
		return append(b, st.cache...)
	}
	if out, ok := st.json.appendJSON(b, s); ok {
		return out
	}
	return append(b, s...)
}
