package acs

import "time"

// parseTime parses the timestamp spellings found in ACS records, with s
// already trimmed:
//
//   - RFC 3339 with any number of fraction digits (Log Analytics writes 7),
//     "T", "t" or a space between date and time, and an optional zone
//     ("Z" or ±hh:mm / ±hhmm); no zone means UTC;
//   - the Azure portal grid's localized form "5/25/2023, 5:43:25.746 PM"
//     (month/day/year, 12- or 24-hour clock, comma optional), read as UTC
//     because the portal labels those columns "[UTC]".
//
// Fraction digits beyond nanoseconds are dropped. The result is in UTC.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 8 || s[0] < '0' || s[0] > '9' {
		return time.Time{}, false
	}
	if len(s) >= 19 && s[4] == '-' {
		return parseISOTime(s)
	}
	return parsePortalTime(s)
}

// digitsAt reads n digits at s[i:].
func digitsAt(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// leadingInt reads 1 to max digits at s[i:] and returns the value and the
// index after them.
func leadingInt(s string, i, max int) (v, next int, ok bool) {
	j := i
	for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
		v = v*10 + int(s[j]-'0')
		j++
	}
	return v, j, j > i
}

// fraction reads ".ddd" (or ",ddd") at s[i:] and returns the nanoseconds
// and the index after it; without a fraction it returns i unchanged.
func fraction(s string, i int) (nsec, next int, ok bool) {
	if i >= len(s) || (s[i] != '.' && s[i] != ',') {
		return 0, i, true
	}
	j := i + 1
	scale := 100000000
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		nsec += int(s[j]-'0') * scale
		scale /= 10
		j++
	}
	if j == i+1 {
		return 0, i, false
	}
	return nsec, j, true
}

func parseISOTime(s string) (time.Time, bool) {
	year, ok1 := digitsAt(s, 0, 4)
	month, ok2 := digitsAt(s, 5, 2)
	day, ok3 := digitsAt(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[7] != '-' {
		return time.Time{}, false
	}
	if c := s[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	hour, ok1 := digitsAt(s, 11, 2)
	minute, ok2 := digitsAt(s, 14, 2)
	sec, ok3 := digitsAt(s, 17, 2)
	if !ok1 || !ok2 || !ok3 || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	nsec, i, ok := fraction(s, 19)
	if !ok {
		return time.Time{}, false
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			oh, okh := digitsAt(s, i+1, 2)
			if !okh {
				return time.Time{}, false
			}
			i += 3
			if i < len(s) && s[i] == ':' {
				i++
			}
			om, okm := digitsAt(s, i, 2)
			if !okm || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			i += 2
			offset = sign * (oh*3600 + om*60)
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	return makeTime(year, month, day, hour, minute, sec, nsec, offset)
}

func parsePortalTime(s string) (time.Time, bool) {
	month, i, ok := leadingInt(s, 0, 2)
	if !ok || i >= len(s) || s[i] != '/' {
		return time.Time{}, false
	}
	day, i, ok := leadingInt(s, i+1, 2)
	if !ok || i >= len(s) || s[i] != '/' {
		return time.Time{}, false
	}
	year, ok := digitsAt(s, i+1, 4)
	if !ok {
		return time.Time{}, false
	}
	i += 5
	if i < len(s) && s[i] == ',' {
		i++
	}
	if i >= len(s) || s[i] != ' ' {
		return time.Time{}, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	hour, i, ok := leadingInt(s, i, 2)
	if !ok || i >= len(s) || s[i] != ':' {
		return time.Time{}, false
	}
	minute, ok := digitsAt(s, i+1, 2)
	if !ok || i+3 >= len(s) || s[i+3] != ':' {
		return time.Time{}, false
	}
	sec, ok := digitsAt(s, i+4, 2)
	if !ok {
		return time.Time{}, false
	}
	nsec, i, ok := fraction(s, i+6)
	if !ok {
		return time.Time{}, false
	}
	if i < len(s) {
		if s[i] != ' ' || len(s)-i != 3 {
			return time.Time{}, false
		}
		pm := false
		switch s[i+1:] {
		case "AM", "am":
		case "PM", "pm":
			pm = true
		default:
			return time.Time{}, false
		}
		if hour < 1 || hour > 12 {
			return time.Time{}, false
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	return makeTime(year, month, day, hour, minute, sec, nsec, 0)
}

// makeTime builds a UTC time from validated fields; offset is the zone's
// offset east of UTC in seconds.
func makeTime(year, month, day, hour, minute, sec, nsec, offset int) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
