package acs

import (
	"strings"
	"time"

	"calldiag/internal/model"
)

// operationAlloc holds an Operation and the storage its optional values
// point into.
type operationAlloc struct {
	op   model.Operation
	dur  float64
	sig  int
	code int
	sub  int
}

// operation maps a CallClientOperations row: an SDK API call or event, or a
// user-facing diagnostic value change. recTime stands in for a missing
// CallClientTimeStamp.
func (r *rec) operation(recTime time.Time) *model.Operation {
	a := new(operationAlloc)
	op := &a.op
	op.Name = r.text(slotOperationName)
	op.Type = r.text(slotOperationType)
	op.OperationID = r.text(slotOperationID)
	op.ParticipantID = r.text(slotParticipantID)
	op.ClientInstanceID = r.text(slotClientInstanceID)
	op.EndpointID = r.text(slotEndpointID)
	if t, ok := r.timeAt(slotClientTime); ok {
		op.ClientTime = t
	} else {
		op.ClientTime = recTime
	}
	op.DurationMs = r.number(slotDurationMs, &a.dur)
	op.ResultType = r.text(slotResultType)
	op.ResultSignature = r.integer(slotResultSignature, &a.sig)
	op.SDKVersion = r.text(slotSDKVersion)
	op.UserAgent = r.text(slotUserAgent)
	op.Payload = r.jsonText(slotOperationPayload, true)
	if op.Payload != "" {
		r.readPayload(a)
	}
	return op
}

// readPayload picks the UFD name and value and any result code out of the
// payload's top-level members. The payload has no published schema, so
// values of an unexpected kind are skipped rather than failing the record.
func (r *rec) readPayload(a *operationAlloc) {
	op := &a.op
	ms := r.st.json.objectMembers(op.Payload)
	ufd := strings.EqualFold(op.Name, "UserFacingDiagnostics")
	// When several keys could supply one value, the more specific key wins
	// whatever the member order: rank 1 beats rank 2.
	var codeRank, nameRank, valueRank int
	better := func(rank *int, r int) bool {
		if *rank != 0 && *rank <= r {
			return false
		}
		*rank = r
		return true
	}
	for _, m := range ms {
		key := op.Payload[m.ks:m.ke]
		val := op.Payload[m.vs:m.ve]
		switch {
		case strings.EqualFold(key, "code"):
			if c := payloadInt(val, &a.code); c != nil && better(&codeRank, 1) {
				op.Code = c
			}
		case strings.EqualFold(key, "resultCode"):
			if codeRank == 0 {
				if c := payloadInt(val, &a.code); c != nil && better(&codeRank, 2) {
					op.Code = c
				}
			}
		case strings.EqualFold(key, "subCode"):
			op.SubCode = payloadInt(val, &a.sub)
		case !ufd:
		case strings.EqualFold(key, "diagnosticChanged"):
			if t := payloadText(val); t != "" && better(&nameRank, 1) {
				op.UFDName = t
			}
		case strings.EqualFold(key, "diagnostic"), strings.EqualFold(key, "name"):
			if t := payloadText(val); t != "" && better(&nameRank, 2) {
				op.UFDName = t
			}
		case strings.EqualFold(key, "diagnosticQuality"):
			if t := payloadText(val); t != "" && better(&valueRank, 1) {
				op.UFDValue = t
			}
		case strings.EqualFold(key, "value"):
			if t := payloadText(val); t != "" && better(&valueRank, 2) {
				op.UFDValue = t
			}
		}
	}
}

// payloadText returns a payload member's value as text: a string's
// content, or a number's or boolean's literal; "" for null, objects and
// arrays.
func payloadText(val string) string {
	switch val[0] {
	case '"':
		body := val[1 : len(val)-1]
		if strings.IndexByte(body, '\\') < 0 {
			return strings.TrimSpace(body)
		}
		return strings.TrimSpace(string(appendUnescaped(nil, body)))
	case '{', '[', 'n':
		return ""
	}
	return val
}

// payloadInt reads a payload member holding a whole number (or a string of
// one) into *dst; nil when it holds anything else.
func payloadInt(val string, dst *int) *int {
	f, ok := parseDecimal(strings.TrimSpace(strings.Trim(val, `"`)))
	if !ok {
		return nil
	}
	n, ok := floatToInt(f)
	if !ok {
		return nil
	}
	*dst = n
	return dst
}
