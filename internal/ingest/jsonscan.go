package ingest

import "fmt"

// maxDepth bounds how deeply arrays and objects may nest inside one record.
// It stays below the tree parser's own limit, so every record the scanner
// accepts also parses.
const maxDepth = 256

// scanState is where the scanner stands inside a JSON value.
type scanState uint8

const (
	stValue       scanState = iota // expecting a value
	stObjFirst                     // after '{': a key or '}'
	stObjKey                       // after ',' in an object: a key
	stColon                        // after a key: ':'
	stAfter                        // after a value inside a container: ',' or the closer
	stArrFirst                     // after '[': a value or ']'
	stStr                          // inside a string
	stStrEsc                       // after a backslash in a string
	stStrHex                       // inside the four hex digits of \u
	stNumMinus                     // after a leading '-'
	stNumZero                      // after a leading '0'
	stNumInt                       // in the integer digits
	stNumDot                       // after '.'
	stNumFrac                      // in the fraction digits
	stNumExp                       // after 'e' or 'E'
	stNumExpSign                   // after the exponent sign
	stNumExpDigit                  // in the exponent digits
	stLit                          // inside true, false or null
	stDone                         // the value is complete
)

// scanEvent tells the caller why scan returned.
type scanEvent uint8

const (
	evMore    scanEvent = iota // all bytes consumed, the value goes on
	evDone                     // the value is complete
	evError                    // a syntax error; see scanner.msg
	evRecords                  // the watched object's first key is "records" and its value an array
)

// scanner is a validating JSON tokenizer that is fed a value in chunks. It
// keeps only a bracket stack, so a value of any size passes through it in
// constant memory, and it reports the exact byte where a value turns
// invalid, which is what lets the reader resynchronise after bad input.
//
// It counts newlines as it goes (lines) and remembers, for the last token,
// whether a newline preceded it and how much indentation did (errNL,
// errCol).
type scanner struct {
	st    scanState
	stack []byte
	inKey bool
	hex   uint8
	lit   string
	lines int

	// watch asks for evRecords when the root object's first key is
	// "records" and its value starts with '['.
	watch     bool
	watchKey  bool
	checkDoc  bool
	key       [8]byte
	keyLen    int
	keyEscape bool

	nl     bool // a newline was crossed since the last token
	col    int  // whitespace bytes since that newline
	errNL  bool // nl for the token that failed
	errCol int  // col for the token that failed
	msg    string
}

// reset prepares the scanner for a new value.
func (s *scanner) reset(watch bool) {
	s.st = stValue
	s.stack = s.stack[:0]
	s.inKey = false
	s.lit = ""
	s.lines = 0
	s.watch = watch
	s.watchKey = false
	s.checkDoc = false
	s.keyLen = 0
	s.keyEscape = false
	s.nl = false
	s.col = 0
	s.msg = ""
}

// resumeObject prepares the scanner to finish an object whose opening brace
// and some members were already read, standing just after a member value.
func (s *scanner) resumeObject() {
	s.reset(false)
	s.stack = append(s.stack, '{')
	s.st = stAfter
}

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r'
}

// strSafe marks the bytes that may appear in a string without ending it or
// starting an escape. It is a read-only table.
var strSafe = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

// scan consumes bytes of data until the value completes, fails, or data runs
// out. It returns how many bytes it consumed; on evError that is the offset
// of the offending byte, and on evRecords the offset of the '['.
func (s *scanner) scan(data []byte) (int, scanEvent) {
	i, n := 0, len(data)
	for i < n {
		c := data[i]
		switch s.st {
		case stStr:
			start := i
			for i < n && strSafe[data[i]] {
				i++
			}
			if s.watchKey {
				s.keepKey(data[start:i])
			}
			if i == n {
				return n, evMore
			}
			c = data[i]
			switch {
			case c == '"':
				i++
				if s.inKey {
					s.inKey = false
					s.st = stColon
				} else if s.valueEnd() {
					return i, evDone
				}
			case c == '\\':
				i++
				s.st = stStrEsc
				if s.watchKey {
					s.keyEscape = true
				}
			case c == '\n':
				return i, s.fail("newline inside a string")
			default:
				return i, s.fail(fmt.Sprintf("control character %s inside a string", quoteByte(c)))
			}

		case stStrEsc:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.st = stStr
			case 'u':
				s.st = stStrHex
				s.hex = 4
			default:
				return i, s.fail(fmt.Sprintf("invalid escape %s in string", quoteByte(c)))
			}
			i++

		case stStrHex:
			if !isHex(c) {
				return i, s.fail(fmt.Sprintf("invalid character %s in \\u escape", quoteByte(c)))
			}
			i++
			s.hex--
			if s.hex == 0 {
				s.st = stStr
			}

		case stNumMinus:
			switch {
			case c == '0':
				s.st = stNumZero
			case c >= '1' && c <= '9':
				s.st = stNumInt
			default:
				return i, s.fail(fmt.Sprintf("invalid character %s after '-' in number", quoteByte(c)))
			}
			i++

		case stNumZero:
			switch c {
			case '.':
				s.st = stNumDot
				i++
			case 'e', 'E':
				s.st = stNumExp
				i++
			default:
				if s.valueEnd() {
					return i, evDone
				}
			}

		case stNumInt:
			for i < n && data[i] >= '0' && data[i] <= '9' {
				i++
			}
			if i == n {
				return n, evMore
			}
			switch data[i] {
			case '.':
				s.st = stNumDot
				i++
			case 'e', 'E':
				s.st = stNumExp
				i++
			default:
				if s.valueEnd() {
					return i, evDone
				}
			}

		case stNumDot:
			if c < '0' || c > '9' {
				return i, s.fail(fmt.Sprintf("invalid character %s after decimal point in number", quoteByte(c)))
			}
			s.st = stNumFrac
			i++

		case stNumFrac:
			for i < n && data[i] >= '0' && data[i] <= '9' {
				i++
			}
			if i == n {
				return n, evMore
			}
			if c = data[i]; c == 'e' || c == 'E' {
				s.st = stNumExp
				i++
			} else if s.valueEnd() {
				return i, evDone
			}

		case stNumExp:
			switch {
			case c == '+' || c == '-':
				s.st = stNumExpSign
			case c >= '0' && c <= '9':
				s.st = stNumExpDigit
			default:
				return i, s.fail(fmt.Sprintf("invalid character %s in exponent", quoteByte(c)))
			}
			i++

		case stNumExpSign:
			if c < '0' || c > '9' {
				return i, s.fail(fmt.Sprintf("invalid character %s in exponent", quoteByte(c)))
			}
			s.st = stNumExpDigit
			i++

		case stNumExpDigit:
			for i < n && data[i] >= '0' && data[i] <= '9' {
				i++
			}
			if i == n {
				return n, evMore
			}
			if s.valueEnd() {
				return i, evDone
			}

		case stLit:
			if c != s.lit[0] {
				return i, s.fail(fmt.Sprintf("invalid character %s in literal", quoteByte(c)))
			}
			i++
			s.lit = s.lit[1:]
			if s.lit == "" && s.valueEnd() {
				return i, evDone
			}

		case stDone:
			return i, evDone

		default: // the structural states skip whitespace first
			for isSpace(c) {
				if c == '\n' {
					s.lines++
					s.nl = true
					s.col = 0
				} else {
					s.col++
				}
				i++
				if i == n {
					return n, evMore
				}
				c = data[i]
			}
			nl, col := s.nl, s.col
			s.nl, s.col = false, 0
			adv, ev := s.token(c)
			i += adv
			if ev != evMore {
				if ev == evError {
					s.errNL, s.errCol = nl, col
				}
				return i, ev
			}
		}
	}
	return n, evMore
}

// token handles one non-space byte in a structural state. It returns how
// many bytes it consumed (0 or 1) and the event to report, if any.
func (s *scanner) token(c byte) (int, scanEvent) {
	switch s.st {
	case stValue:
		if s.checkDoc {
			s.checkDoc = false
			if c == '[' && s.isRecordsKey() {
				return 0, evRecords
			}
		}
		return s.begin(c)
	case stArrFirst:
		if c == ']' {
			return 1, s.closeContainer()
		}
		return s.begin(c)
	case stObjFirst, stObjKey:
		if c == '}' && s.st == stObjFirst {
			return 1, s.closeContainer()
		}
		if c != '"' {
			return 0, s.fail(fmt.Sprintf("unexpected %s where an object key was expected", quoteByte(c)))
		}
		if s.watch && s.st == stObjFirst && len(s.stack) == 1 {
			s.watchKey = true
		}
		s.watch = false
		s.st = stStr
		s.inKey = true
		return 1, evMore
	case stColon:
		if c != ':' {
			return 0, s.fail(fmt.Sprintf("unexpected %s after object key, expected ':'", quoteByte(c)))
		}
		if s.watchKey {
			s.watchKey = false
			s.checkDoc = true
		}
		s.st = stValue
		return 1, evMore
	case stAfter:
		top := s.stack[len(s.stack)-1]
		switch {
		case c == ',' && top == '{':
			s.st = stObjKey
			return 1, evMore
		case c == ',':
			s.st = stValue
			return 1, evMore
		case c == '}' && top == '{', c == ']' && top == '[':
			return 1, s.closeContainer()
		case top == '{':
			return 0, s.fail(fmt.Sprintf("unexpected %s after object value, expected ',' or '}'", quoteByte(c)))
		default:
			return 0, s.fail(fmt.Sprintf("unexpected %s after array element, expected ',' or ']'", quoteByte(c)))
		}
	}
	return 0, s.fail("scanner in an impossible state")
}

// begin starts a value whose first byte is c.
func (s *scanner) begin(c byte) (int, scanEvent) {
	switch {
	case c == '{' || c == '[':
		if len(s.stack) >= maxDepth {
			return 0, s.fail(fmt.Sprintf("nesting deeper than %d levels", maxDepth))
		}
		s.stack = append(s.stack, c)
		if c == '{' {
			s.st = stObjFirst
		} else {
			s.st = stArrFirst
			s.watch = false
		}
	case c == '"':
		s.st = stStr
		s.inKey = false
	case c == '-':
		s.st = stNumMinus
	case c == '0':
		s.st = stNumZero
	case c >= '1' && c <= '9':
		s.st = stNumInt
	case c == 't':
		s.st, s.lit = stLit, "rue"
	case c == 'f':
		s.st, s.lit = stLit, "alse"
	case c == 'n':
		s.st, s.lit = stLit, "ull"
	default:
		return 0, s.fail(fmt.Sprintf("unexpected %s where a value was expected", quoteByte(c)))
	}
	return 1, evMore
}

// closeContainer pops the innermost array or object, which just ended.
func (s *scanner) closeContainer() scanEvent {
	s.stack = s.stack[:len(s.stack)-1]
	if s.valueEnd() {
		return evDone
	}
	return evMore
}

// valueEnd records that a value ended and reports whether it was the
// outermost one.
func (s *scanner) valueEnd() bool {
	if len(s.stack) == 0 {
		s.st = stDone
		return true
	}
	s.st = stAfter
	return false
}

// atEOF reports what the end of input means in the current state: a
// complete value (a bare number that needed a delimiter) or an error.
func (s *scanner) atEOF() scanEvent {
	if len(s.stack) == 0 {
		switch s.st {
		case stDone, stNumZero, stNumInt, stNumFrac, stNumExpDigit:
			s.st = stDone
			return evDone
		}
	}
	return s.fail("unexpected end of input")
}

// fail records a syntax error. errNL and errCol are set by the caller when
// the error is at a token that may start a line.
func (s *scanner) fail(msg string) scanEvent {
	s.msg = msg
	s.errNL, s.errCol = false, 0
	return evError
}

// keepKey collects the bytes of the watched key, up to what is needed to
// recognise "records".
func (s *scanner) keepKey(b []byte) {
	for _, c := range b {
		if s.keyLen < len(s.key) {
			s.key[s.keyLen] = c
		}
		s.keyLen++
	}
}

// isRecordsKey reports whether the watched key was "records", in any case.
func (s *scanner) isRecordsKey() bool {
	const want = "records"
	if s.keyEscape || s.keyLen != len(want) {
		return false
	}
	for i := range len(want) {
		if lowerASCII(s.key[i]) != want[i] {
			return false
		}
	}
	return true
}

// validate reports whether b holds exactly one JSON value (with optional
// surrounding whitespace), and if not, why.
func (s *scanner) validate(b []byte) (ok bool, msg string) {
	s.reset(false)
	n, ev := s.scan(b)
	if ev == evMore {
		ev = s.atEOF()
	}
	if ev != evDone {
		return false, s.msg
	}
	for _, c := range b[n:] {
		if !isSpace(c) {
			return false, fmt.Sprintf("unexpected %s after the value", quoteByte(c))
		}
	}
	return true, ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// quoteByte renders c for an error message.
func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		if c == '\'' {
			return `"'"`
		}
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
