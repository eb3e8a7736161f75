package webrtc

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// msTime converts milliseconds since the Unix epoch, as JavaScript keeps
// time, to a time.Time. ok is false for values no clock produces (zero,
// negative, not finite, or past the year 9999).
func msTime(ms float64) (time.Time, bool) {
	if !(ms > 0) || ms > 253402300799999 || math.IsInf(ms, 0) {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(math.Round(ms * 1000))).UTC(), true
}

// dateLayouts are the ways dumps write a date as text: JSON dates from
// JavaScript, and the en-US toLocaleString form older webrtc-internals
// pages used (no zone is written; it is read as UTC).
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"1/2/2006, 3:04:05 PM",
	"1/2/2006, 15:04:05",
	"1/2/2006 3:04:05 PM",
	"Mon Jan 02 2006 15:04:05 GMT-0700",
	time.RFC1123Z,
	time.RFC1123,
}

// parseDate reads a date written as text, or as a number of milliseconds
// in text.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if ms, err := strconv.ParseFloat(s, 64); err == nil {
		return msTime(ms)
	}
	// JavaScript's Date.toString appends the zone's name in parentheses.
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// kind is v's JSON type, with a missing value (nil) as null: fastjson's
// own methods do not accept nil.
func kind(v *fastjson.Value) fastjson.Type {
	if v == nil {
		return fastjson.TypeNull
	}
	return v.Type()
}

// valueTime reads a JSON value that holds a time: milliseconds as a number
// or a string, or a date string.
func valueTime(v *fastjson.Value) (time.Time, bool) {
	if v == nil {
		return time.Time{}, false
	}
	switch v.Type() {
	case fastjson.TypeNumber:
		return msTime(v.GetFloat64())
	case fastjson.TypeString:
		return parseDate(string(v.GetStringBytes()))
	}
	return time.Time{}, false
}

// valueText renders a JSON value as text: a string as it is, null as "",
// anything else as compact JSON.
func valueText(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNull:
		return ""
	}
	return string(v.MarshalTo(nil))
}

// shortText cuts s to at most max bytes on a rune boundary, marking the cut.
func shortText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// eventValue is an Event's Value for a JSON value.
func eventValue(v *fastjson.Value) string {
	return shortText(valueText(v), maxEventValue)
}

// secretKeys are the members of an ICE server entry that hold credentials.
var secretKeys = []string{"credential", "username", "password"}

// redactConfig renders a peer connection's configuration as compact JSON
// without its ICE servers' credentials. A configuration given as a string
// of JSON is read first; any other string is kept as it is.
func redactConfig(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	if v.Type() == fastjson.TypeString {
		s := string(v.GetStringBytes())
		inner, err := fastjson.Parse(s)
		if err != nil || inner.Type() != fastjson.TypeObject {
			return s
		}
		v = inner
	}
	if v.Type() != fastjson.TypeObject {
		return valueText(v)
	}
	for _, key := range []string{"iceServers", "iceservers"} {
		for _, server := range v.GetArray(key) {
			if o, err := server.Object(); err == nil {
				for _, k := range secretKeys {
					o.Del(k)
				}
			}
		}
	}
	return string(v.MarshalTo(nil))
}

// scalarText renders a scalar JSON value (string, number, boolean) as text;
// ok is false for null, objects and arrays.
func scalarText(v *fastjson.Value) (string, bool) {
	switch v.Type() {
	case fastjson.TypeString:
		return string(v.GetStringBytes()), true
	case fastjson.TypeNumber:
		return strconv.FormatFloat(v.GetFloat64(), 'f', -1, 64), true
	case fastjson.TypeTrue:
		return "true", true
	case fastjson.TypeFalse:
		return "false", true
	}
	return "", false
}
