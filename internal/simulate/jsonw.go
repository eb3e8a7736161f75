package simulate

import (
	"math"
	"strconv"
	"time"
)

// line builds one compact JSON record. Its options reproduce the spellings
// real exports mix: numbers as strings or as numbers, and "null" strings or
// JSON nulls for missing values.
type line struct {
	b     []byte
	depth int
	first bool
	// strNums writes numbers as JSON strings ("82") instead of numbers.
	strNums bool
	// nullStr writes missing values as the string "null" instead of null.
	nullStr bool
}

func (w *line) reset(strNums, nullStr bool) {
	w.b = w.b[:0]
	w.depth = 0
	w.first = true
	w.strNums = strNums
	w.nullStr = nullStr
	w.b = append(w.b, '{')
}

func (w *line) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
}

// open starts a nested object under key k.
func (w *line) open(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.first = true
	w.depth++
}

// close ends the innermost open object.
func (w *line) close() {
	w.b = append(w.b, '}')
	w.first = false
	w.depth--
}

// done ends the record and returns its bytes (valid until the next reset).
func (w *line) done() []byte {
	for w.depth >= 0 {
		w.close()
	}
	return w.b
}

func (w *line) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

// strOrNull writes v, or a null in the record's null spelling when v is "".
func (w *line) strOrNull(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

func (w *line) null(k string) {
	w.key(k)
	if w.nullStr {
		w.b = append(w.b, `"null"`...)
	} else {
		w.b = append(w.b, "null"...)
	}
}

// jsonNull always writes a JSON null.
func (w *line) jsonNull(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *line) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// ts writes a UTC time with millisecond precision, as ACS logs spell it.
func (w *line) ts(k string, t time.Time) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, t)
	w.b = append(w.b, '"')
}

func (w *line) integer(k string, v int64) {
	w.key(k)
	if w.strNums {
		w.b = append(w.b, '"')
		w.b = strconv.AppendInt(w.b, v, 10)
		w.b = append(w.b, '"')
		return
	}
	w.b = strconv.AppendInt(w.b, v, 10)
}

// real writes a float with up to 7 significant digits ("3.146336E-05").
func (w *line) real(k string, v float64) {
	w.key(k)
	if w.strNums {
		w.b = append(w.b, '"')
		w.b = appendReal(w.b, v)
		w.b = append(w.b, '"')
		return
	}
	w.b = appendReal(w.b, v)
}

// optInt writes v rounded, or a null when ok is false.
func (w *line) optInt(k string, v float64, ok bool) {
	if !ok {
		w.null(k)
		return
	}
	w.integer(k, int64(math.Round(v)))
}

// optReal writes v, or a null when ok is false.
func (w *line) optReal(k string, v float64, ok bool) {
	if !ok {
		w.null(k)
		return
	}
	w.real(k, v)
}

func appendReal(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'G', 7, 64)
}

// appendTime appends t in UTC as 2006-01-02T15:04:05.000Z. It is a hot
// path (every record has two times), hence the hand-rolled civil date.
func appendTime(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		rem += 86400000
		days--
	}
	// Civil date from days since 1970-01-01 (proleptic Gregorian).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, rem/3600000)
	b = append(b, ':')
	b = append2(b, rem/60000%60)
	b = append(b, ':')
	b = append2(b, rem/1000%60)
	b = append(b, '.')
	b = append(b, byte('0'+rem%1000/100), byte('0'+rem%100/10), byte('0'+rem%10))
	return append(b, 'Z')
}

func append2(b []byte, v int64) []byte { return append(b, byte('0'+v/10%10), byte('0'+v%10)) }

func append4(b []byte, v int64) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
