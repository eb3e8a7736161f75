package acs

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/model"
)

// state is the scratch space of one Normalize call. It is pooled because
// Normalize runs once per record on the ingest hot path.
type state struct {
	idx [numSlots]int32 // 1-based field index per slot, 0 when absent
	buf []byte          // canonical record text for the identity hash
	// order is the identity order of the fields of the record whose keys
	// are orderKeys (see identityOrder).
	order     []int32
	orderKeys []string
	// lastResource and lastNormalized cache the previous record's resource:
	// records of one source share it.
	lastResource, lastNormalized string
	json                         jsonCanon
	// cacheField is the 1-based index of the field whose canonical JSON is
	// in cache, so the identity does not canonicalize a payload twice.
	cacheField int32
	cache      []byte
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// maxPooledBuf and maxPooledKeys keep one huge record from pinning huge
// scratch space.
const (
	maxPooledBuf  = 64 << 10
	maxPooledKeys = 512
)

// Normalize maps one item to a normalized record.
//
// The category comes from the category field, else from the Log Analytics
// Type column (table name), case-insensitively and through an alias table;
// a CallSummary or CallDiagnostics record that carries CallUpdatesVersion
// is the *Updates category. Records of categories calldiag does not model
// are not errors: an unknown or missing category gives Known=false and no
// typed payload (still with ID, Resource, Time and Raw), and the
// resource-level CallingMetrics and CallClientServiceRequestAndOutcome
// records are Known=true with no CallID and no payload.
//
// A bad record returns a *ingest.RecordError naming Source, Line, Field
// (the key as it arrived, e.g. "jitterAvg", or the key a missing call id
// belongs in) and Reason.
//
// Record.ID is the same for one record in every shape it can arrive in (a
// Storage line, an Event Hub element, a Log Analytics JSON row or a CSV
// row), whatever the key casing or number spelling. It is the first 16
// bytes, in hex, of the SHA-256 of a canonical text made of the normalized
// category, the normalized resource, the record time (UTC, RFC 3339 with
// nanoseconds; for a record of an unknown category whose time cannot be
// read, the time text as it arrived) and then every other field in order
// of lower-cased key.
// Fields only one shape has are left out: time, timegenerated, resourceid,
// category, type, tenantid, sourcesystem, level, location,
// operationversion and every key starting with "_". Null spellings (JSON
// null, "null", "", "None") are left out too. Values are written
// canonically: numbers, and strings that are wholly a decimal number, as
// strconv.FormatFloat(f, 'g', -1, 64) (integers of more than 15 digits
// digit for digit); true/false in any case as true/false; strings that
// are a timestamp as UTC RFC 3339; JSON objects and arrays, and strings
// holding one, as compact JSON with sorted keys; other strings trimmed.
// Keys the documentation spells differently in an export and in a Log
// Analytics table (pstnPartcipantCallType, interrupted,
// ScreenshareLowerBound …) are hashed under one spelling.
// Each key and value is followed by its length, so no two different field
// sets share a canonical text.
func Normalize(it ingest.Item) (model.Record, error) {
	st := statePool.Get().(*state)
	defer func() {
		if cap(st.buf) > maxPooledBuf || cap(st.cache) > maxPooledBuf {
			st.buf, st.cache = nil, nil
		}
		if len(st.orderKeys) > maxPooledKeys {
			st.order, st.orderKeys = nil, nil
		}
		statePool.Put(st)
	}()
	r := rec{it: &it, st: st}
	r.index()

	out := model.Record{Raw: it.Raw}
	cat, rawCat, known := r.category()
	out.Category, out.RawCategory, out.Known = cat, rawCat, known
	if !known {
		// Nothing about an unknown record is wrong: keep what can be read.
		r.lenient = true
	}

	res := r.text(slotResourceID)
	if res == "" {
		res = r.text(slotLAResourceID)
	}
	if res != st.lastResource || st.lastNormalized == "" {
		st.lastResource, st.lastNormalized = res, normalizeResource(res)
	}
	out.Resource = st.lastNormalized
	out.Time = r.recordTime()

	switch cat {
	case model.CatCallSummary, model.CatCallSummaryUpdates:
		out.CallID = r.callID(slotCorrelationID, "correlationId", true)
		out.Participant = r.participantRow(cat == model.CatCallSummaryUpdates)
	case model.CatCallDiagnostics, model.CatCallDiagnosticsUpdates:
		out.CallID = r.callID(slotCorrelationID, "correlationId", true)
		out.Stream = r.streamRow(cat == model.CatCallDiagnosticsUpdates)
	case model.CatCallClientOperations:
		// An operation logged before the call existed (CallAgentInit,
		// AskDevicePermission) has no call id; it is linked later through
		// its ClientInstanceId.
		out.CallID = r.callID(slotCallID, "CallId", false)
		out.Operation = r.operation(out.Time)
		if out.CallID != "" {
			// P2P client rows carry no ParticipantId; the leg is then
			// known by its endpoint, as its summary row is. Operations
			// before the call keep an empty participant: the store takes it
			// from the client instance's call.
			out.Operation.ParticipantID = model.ParticipantKey(out.Operation.ParticipantID, out.Operation.EndpointID, "", "")
		}
	case model.CatCallClientMediaStatsTimeSeries:
		out.CallID = r.callID(slotCallID, "CallId", true)
		out.Sample = r.sample(out.Time)
		out.Sample.ParticipantID = model.ParticipantKey(out.Sample.ParticipantID, out.Sample.EndpointID, "", "")
		out.Sample.RemoteParticipantID = model.ParticipantKey(out.Sample.RemoteParticipantID, out.Sample.RemoteEndpointID, "", "")
	case model.CatCallSurvey:
		// A survey's CorrelationId holds a participant id, not the call.
		out.CallID = r.callID(slotCallID, "CallId", true)
		out.Survey = r.survey()
		out.Survey.ParticipantID = model.ParticipantKey(out.Survey.ParticipantID, r.text(slotEndpointID), "", "")
	case model.CatCallAutomationOperational, model.CatCallAutomationMediaSummary,
		model.CatCallAutomationStreamingUsage, model.CatCallRecordingSummary,
		model.CatCallRecordingOperational, model.CatCallClosedCaptionsSummary:
		out.CallID = r.callID(slotCorrelationID, "correlationId", true)
		out.Event = r.serviceEvent(cat)
	}
	if r.err != nil {
		return model.Record{}, r.err
	}

	catText := string(cat)
	var rawTime string
	if !known {
		catText = strings.ToLower(rawCat)
		if out.Time.IsZero() {
			// An unknown record may carry a time this package cannot read;
			// its text still tells records apart.
			if rawTime = r.looseText(slotTime); rawTime == "" {
				rawTime = r.looseText(slotTimeGenerated)
			}
		}
	}
	out.ID = r.identity(catText, out.Resource, out.Time, rawTime)
	return out, nil
}

// rec reads the fields of one item through the slot index. The first
// problem found is kept in err and later reads return zero values, so the
// category mappers read fields without checking after each one.
type rec struct {
	it      *ingest.Item
	st      *state
	err     *ingest.RecordError
	lenient bool // unknown category: never fail
}

// index records, for every slot, where its field is. Fields are visited
// last to first so that the first of duplicated keys wins, as with
// ingest.Item.Get.
func (r *rec) index() {
	st := r.st
	st.idx = [numSlots]int32{}
	st.cacheField = 0
	f := r.it.Fields
	for i := len(f) - 1; i >= 0; i-- {
		if s := slotOf(f[i].Key); s != slotNone {
			st.idx[s] = int32(i + 1)
		}
	}
}

// value returns the value in slot s and its 1-based field index (0 and the
// zero Value when the record lacks the field).
func (r *rec) value(s slot) (ingest.Value, int32) {
	i := r.st.idx[s]
	if i == 0 {
		return ingest.Value{}, 0
	}
	return r.it.Fields[i-1].Value, i
}

// has reports whether slot s holds a non-null value.
func (r *rec) has(s slot) bool {
	v, i := r.value(s)
	return i != 0 && !isNull(v)
}

// fail records a problem with the field at 1-based index fi (0: a missing
// field, named by name).
func (r *rec) fail(fi int32, name, reason string) {
	if r.err != nil || r.lenient {
		return
	}
	if fi != 0 {
		name = originalKey(r.it.Raw, r.it.Fields[fi-1].Key)
	}
	r.err = &ingest.RecordError{Source: r.it.Source, Line: r.it.Line, Field: name, Reason: reason}
}

// category resolves the record's category: the category field, else the
// Log Analytics table name in Type.
func (r *rec) category() (cat model.Category, raw string, known bool) {
	rawCat := r.looseText(slotCategory)
	rawType := r.looseText(slotType)
	if c, ok := lookupCategory(rawCat); ok {
		cat, known = c, true
	} else if c, ok := lookupCategory(rawType); ok {
		cat, known = c, true
	}
	raw = rawCat
	if raw == "" {
		raw = rawType
	}
	if !known {
		return "", raw, false
	}
	// The *Updates pages publish their records with the base category; the
	// version field tells them apart.
	if r.has(slotUpdatesVersion) {
		switch cat {
		case model.CatCallSummary:
			cat = model.CatCallSummaryUpdates
		case model.CatCallDiagnostics:
			cat = model.CatCallDiagnosticsUpdates
		}
	}
	return cat, raw, true
}

// recordTime reads time, else TimeGenerated.
func (r *rec) recordTime() time.Time {
	s := slotTime
	if !r.has(slotTime) {
		s = slotTimeGenerated
	}
	t, ok := r.timeAt(s)
	if !ok {
		r.fail(0, "time", "missing record time")
	}
	return t
}

// callID reads a call id; a required one that is missing fails the record
// naming the key it belongs in.
func (r *rec) callID(s slot, name string, required bool) string {
	id := r.text(s)
	if id == "" && required {
		_, fi := r.value(s)
		r.fail(fi, name, "missing call id")
	}
	return id
}

// text reads a string field, trimmed; "" when absent or null. Numbers and
// booleans are taken as their text; an object or array is an error.
func (r *rec) text(s slot) string {
	v, fi := r.value(s)
	switch v.Kind {
	case ingest.KindString:
		t := strings.TrimSpace(v.Str)
		if isNullText(t) {
			return ""
		}
		return t
	case ingest.KindNumber, ingest.KindBool:
		return v.Str
	case ingest.KindObject, ingest.KindArray:
		if r.lenient {
			return v.Str
		}
		r.fail(fi, "", "not a string: "+describe(v))
	}
	return ""
}

// looseText reads a field as text whatever its kind, never failing: the
// routing fields must not make a record bad before its category is known.
func (r *rec) looseText(s slot) string {
	v, _ := r.value(s)
	if v.Kind == ingest.KindNull {
		return ""
	}
	t := strings.TrimSpace(v.Str)
	if isNullText(t) {
		return ""
	}
	return t
}

// jsonText reads a field that holds JSON either as a nested value or as a
// string (OperationPayload, DiagnosticOptions, CallDebuggingInfo) and
// returns its canonical JSON; a string that is not JSON is kept as it is.
// When cache is set the canonical bytes are kept for the identity.
func (r *rec) jsonText(s slot, cache bool) string {
	v, fi := r.value(s)
	var src string
	switch v.Kind {
	case ingest.KindObject, ingest.KindArray:
		src = v.Str
	case ingest.KindString:
		src = strings.TrimSpace(v.Str)
		if isNullText(src) {
			return ""
		}
		if src[0] != '{' && src[0] != '[' {
			return src
		}
	case ingest.KindNumber, ingest.KindBool:
		return v.Str
	default:
		return ""
	}
	st := r.st
	if !cache {
		b, ok := st.json.appendJSON(st.buf[:0], src)
		st.buf = b[:0]
		if !ok {
			return src
		}
		return string(b)
	}
	b, ok := st.json.appendJSON(st.cache[:0], src)
	st.cache = b
	if !ok {
		return src
	}
	st.cacheField = fi
	return string(b)
}

// number reads a numeric field into *dst and returns dst, or nil when the
// field is absent or null.
func (r *rec) number(s slot, dst *float64) *float64 {
	v, fi := r.value(s)
	var t string
	switch v.Kind {
	case ingest.KindNumber:
		t = v.Str
	case ingest.KindString:
		t = strings.TrimSpace(v.Str)
		if isNullText(t) {
			return nil
		}
	case ingest.KindNull:
		return nil
	default:
		r.fail(fi, "", "not a number: "+describe(v))
		return nil
	}
	f, ok := parseDecimal(t)
	if !ok {
		r.fail(fi, "", "not a number: "+describe(v))
		return nil
	}
	*dst = f
	return dst
}

// integer reads a whole-number field ("487", 487 and 487.0 alike) into
// *dst and returns dst, or nil when absent or null.
func (r *rec) integer(s slot, dst *int) *int {
	var f float64
	if r.number(s, &f) == nil {
		return nil
	}
	n, ok := floatToInt(f)
	if !ok {
		v, fi := r.value(s)
		r.fail(fi, "", "not an integer: "+describe(v))
		return nil
	}
	*dst = n
	return dst
}

// boolean reads a boolean field into *dst and returns dst, or nil when
// absent or null.
func (r *rec) boolean(s slot, dst *bool) *bool {
	v, fi := r.value(s)
	var t string
	switch v.Kind {
	case ingest.KindBool:
		t = v.Str
	case ingest.KindString:
		t = strings.TrimSpace(v.Str)
		if isNullText(t) {
			return nil
		}
	case ingest.KindNull:
		return nil
	}
	b, ok := parseBool(t)
	if !ok {
		r.fail(fi, "", "not a boolean: "+describe(v))
		return nil
	}
	*dst = b
	return dst
}

// timeAt reads a timestamp field; ok is false when it is absent, null or
// bad (a bad one also fails the record).
func (r *rec) timeAt(s slot) (time.Time, bool) {
	v, fi := r.value(s)
	if v.Kind != ingest.KindString {
		if fi != 0 && v.Kind != ingest.KindNull {
			r.fail(fi, "", "not a time: "+describe(v))
		}
		return time.Time{}, false
	}
	t := strings.TrimSpace(v.Str)
	if isNullText(t) {
		return time.Time{}, false
	}
	tm, ok := parseTime(t)
	if !ok {
		r.fail(fi, "", "not a time: "+describe(v))
		return time.Time{}, false
	}
	return tm, true
}

// timeOf reads an optional timestamp field.
func (r *rec) timeOf(s slot) time.Time {
	t, _ := r.timeAt(s)
	return t
}

// describe renders a bad value for an error message, shortened.
func describe(v ingest.Value) string {
	switch v.Kind {
	case ingest.KindObject:
		return "a JSON object"
	case ingest.KindArray:
		return "a JSON array"
	case ingest.KindNull:
		return "null"
	case ingest.KindString:
		s := v.Str
		if len(s) > 64 {
			s = s[:64] + "…"
		}
		return strconv.Quote(s)
	}
	s := v.Str
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return s
}

// originalKey finds how key was spelled in the raw record (for example
// "jitterAvg" for "jitteravg") so that an error names the field the way
// the user sees it. It falls back to key.
func originalKey(raw []byte, key string) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(raw) && raw[j] != '"' {
			if raw[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(raw) {
			break
		}
		name := string(raw[i+1 : j])
		k := j + 1
		for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\r' || raw[k] == '\n') {
			k++
		}
		if k < len(raw) && raw[k] == ':' {
			bare := name
			if p := strings.Index(bare, " ["); p > 0 {
				bare = bare[:p] // a Log Analytics decoration such as " [UTC]"
			}
			if strings.EqualFold(strings.TrimSpace(bare), key) {
				return strings.TrimSpace(bare)
			}
		}
		i = j
	}
	return key
}
