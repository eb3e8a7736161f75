package acs

import (
	"math"
	"strconv"
	"strings"

	"calldiag/internal/ingest"
)

// isNullText reports whether a trimmed string is one of the spellings that
// mean "no value": "" (an empty CSV cell or LA column), "null" in any case
// (the published samples) and "None" (the az CLI's rendering of null).
func isNullText(s string) bool {
	switch len(s) {
	case 0:
		return true
	case 4:
		return s == "None" || strings.EqualFold(s, "null")
	}
	return false
}

// isNull reports whether v carries no value.
func isNull(v ingest.Value) bool {
	switch v.Kind {
	case ingest.KindNull:
		return true
	case ingest.KindString:
		return isNullText(strings.TrimSpace(v.Str))
	}
	return false
}

// isDecimal reports whether s is a plain decimal number: an optional sign,
// digits with an optional fraction (".5" and "5." included) and an optional
// exponent. Unlike strconv.ParseFloat it refuses "NaN", "Inf", hexadecimal
// and underscores, which are not numbers in a log record.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseDecimal parses a trimmed decimal number. ok is false when s is not a
// decimal number or does not fit a float64.
func parseDecimal(s string) (float64, bool) {
	if n, ok := smallInt(s); ok {
		return float64(n), true
	}
	if !isDecimal(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseBool parses the boolean spellings seen in the logs: true/false in
// any case ("True" from the az CLI, "TRUE" from a portal grid copy).
func parseBool(s string) (b, ok bool) {
	switch len(s) {
	case 4:
		if strings.EqualFold(s, "true") {
			return true, true
		}
	case 5:
		if strings.EqualFold(s, "false") {
			return false, true
		}
	}
	return false, false
}

// maxExactInt is the largest integer a float64 holds exactly.
const maxExactInt = 1 << 53

// floatToInt converts f to an int when it is a whole number in range.
func floatToInt(f float64) (int, bool) {
	if f != math.Trunc(f) || f > maxExactInt || f < -maxExactInt {
		return 0, false
	}
	return int(f), true
}

// appendCanonNumber appends the canonical text of the decimal number s
// (already trimmed) and reports whether s was one. The canonical text is
// strconv.FormatFloat(f, 'g', -1, 64), so "5", "5.0" and "5e0" agree, as do
// "3.1E-05" and "0.000031". An integer written with more than 15
// significant digits is kept digit for digit (without leading zeros)
// instead, because a float64 would round it and make distinct values equal.
func appendCanonNumber(dst []byte, s string) ([]byte, bool) {
	if n, ok := smallInt(s); ok && n < 1e6 && (len(s) == 1 || s[0] != '0') {
		// FormatFloat writes a whole number below 1e6 as its plain digits,
		// which s already is.
		return append(dst, s...), true
	}
	if !isDecimal(s) {
		return dst, false
	}
	if d, neg, ok := bigIntDigits(s); ok {
		if neg {
			dst = append(dst, '-')
		}
		return append(dst, d...), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return dst, false
	}
	if f == 0 {
		f = 0 // fold -0 into 0
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64), true
}

// bigIntDigits returns the significant digits of s when s is an integer
// (sign and digits only) with more than 15 of them.
func bigIntDigits(s string) (digits string, neg, ok bool) {
	if len(s) <= 15 {
		return "", false, false
	}
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false, false
		}
	}
	s = strings.TrimLeft(s, "0")
	if len(s) <= 15 {
		return "", false, false
	}
	return s, neg, true
}

// smallInt parses s when it is 1 to 15 plain digits (no sign), the common
// case of a count, code or duration, without going through ParseFloat.
func smallInt(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
