package ingest

import (
	"fmt"
	"io"
)

// frameCtx is where the JSON reader stands between records.
type frameCtx uint8

const (
	ctxTop      frameCtx = iota // between top-level values
	ctxArrFirst                 // just inside the '[' of a record array
	ctxArrElem                  // after a ',' in a record array
	ctxArrNext                  // after an element of a record array
	ctxDocRest                  // after the records array, still inside its document
	ctxSkipTop                  // resynchronising on the next top-level value
	ctxSkipElem                 // resynchronising on the next element of the array
)

// nextJSON frames the next record out of JSON input.
//
// Records are top-level objects (JSON lines, or pretty-printed objects one
// after another), the elements of a top-level array (Log Analytics), and the
// elements of the "records" array of a top-level {"records":[…]} document
// (Event Hub). Each record is validated while it streams past; only records
// within the size limit are kept and parsed.
func (r *Reader) nextJSON() (Item, error) {
	for {
		switch r.ctx {
		case ctxTop:
			c, ok := r.skipSpace()
			if !ok {
				return r.finish()
			}
			if c == ',' {
				// Tolerated between top-level values: records split out of
				// an array by hand often keep their separators.
				r.pos++
				continue
			}
			r.topCol = 0
			if r.wsNL {
				r.topCol = r.wsCol
			}
			if c == '[' {
				r.pos++
				r.openArray(false, r.line)
				continue
			}
			if it, more, err := r.record(true); !more {
				return it, err
			}

		case ctxArrFirst, ctxArrElem:
			c, ok := r.skipSpace()
			if !ok {
				return r.unclosed()
			}
			if c == ']' && r.ctx == ctxArrFirst {
				r.pos++
				r.closeArray()
				continue
			}
			if r.wsNL {
				r.contCol = r.wsCol
			}
			it, _, err := r.record(false)
			return it, err

		case ctxArrNext:
			c, ok := r.skipSpace()
			if !ok {
				return r.unclosed()
			}
			switch c {
			case ',':
				r.pos++
				r.ctx = ctxArrElem
				continue
			case ']':
				r.pos++
				r.closeArray()
				continue
			}
			err := r.recordError(r.line, fmt.Sprintf("invalid JSON: unexpected %s after array element, expected ',' or ']'", quoteByte(c)))
			r.elemFailed(c, r.wsNL, r.wsCol)
			return Item{}, err

		case ctxDocRest:
			ev, eof := r.run()
			switch {
			case ev == evDone:
				r.ctx = ctxTop
			case eof:
				if r.err != nil {
					return Item{}, r.err
				}
				r.done = true
				return Item{}, r.recordError(r.contLine, "invalid JSON: unexpected end of input, the records document is not closed")
			default:
				r.ctx = ctxSkipTop
				return Item{}, r.recordError(r.line, "invalid JSON: "+r.sc.msg)
			}

		case ctxSkipTop:
			if !r.skipToTop() {
				return r.finish()
			}
			r.ctx = ctxTop

		case ctxSkipElem:
			if !r.skipToElement() {
				return r.finish()
			}
			r.ctx = ctxArrElem
		}
	}
}

// record reads one value that stands where a record belongs: at the top
// level (top) or as an element of a record array. more reports that the
// value turned out to be a {"records":[…]} document, whose elements the
// caller should now read.
func (r *Reader) record(top bool) (it Item, more bool, err error) {
	first := r.buf[r.pos]
	r.recLine = r.line
	r.sc.reset(top && first == '{')
	r.startCapture()
	ev, eof := r.run()
	switch {
	case ev == evDone:
		b, over := r.endCapture()
		format := FormatJSONLines
		if top {
			r.ctx = ctxTop
		} else {
			r.ctx = ctxArrNext
			format = FormatLogAnalytics
			if r.inDoc {
				format = FormatEventHub
			}
		}
		switch {
		case over:
			return Item{}, false, r.recordError(r.recLine, r.oversize())
		case first != '{':
			return Item{}, false, r.recordError(r.recLine, "record is "+describeValue(first)+", not an object")
		}
		if top {
			r.sawRecord = true
		}
		it, err := r.item(b, r.recLine, format)
		return it, false, err

	case ev == evRecords:
		r.dropCapture()
		r.pos++ // the '[' of the records array
		r.openArray(true, r.recLine)
		if !r.sawRecord {
			r.format = FormatEventHub
		}
		return Item{}, true, nil

	case eof:
		r.dropCapture()
		if r.err != nil {
			return Item{}, false, r.err
		}
		r.done = true
		return Item{}, false, r.recordError(r.recLine, "invalid JSON: unexpected end of input (truncated record)")
	}

	// A syntax error: report it against the record's first line and decide
	// where reading resumes.
	r.dropCapture()
	reason := "invalid JSON: " + r.sc.msg
	if r.line != r.recLine {
		reason += fmt.Sprintf(" (line %d)", r.line)
	}
	c := r.buf[r.pos]
	newLine := r.sc.errNL && r.line > r.recLine
	if top {
		// A value that breaks off where a new line starts a new value is
		// most likely a truncated line followed by a good one: resume at it.
		if newLine && (c == '{' || c == '[') && r.sc.errCol <= r.topCol {
			r.bol, r.bolCol = true, r.sc.errCol
			r.ctx = ctxTop
		} else {
			r.ctx = ctxSkipTop
		}
	} else {
		r.elemFailed(c, newLine, r.sc.errCol)
	}
	return Item{}, false, r.recordError(r.recLine, reason)
}

// run feeds the scanner until the value completes or fails. eof reports that
// the input ended first; r.err is set if that was a read error.
func (r *Reader) run() (ev scanEvent, eof bool) {
	for {
		n, ev := r.sc.scan(r.buf[r.pos:r.end])
		r.pos += n
		r.line += r.sc.lines
		r.sc.lines = 0
		if ev != evMore {
			return ev, false
		}
		if !r.fill() {
			if r.err != nil {
				return evError, true
			}
			if ev = r.sc.atEOF(); ev == evDone {
				return ev, false
			}
			return ev, true
		}
	}
}

// elemFailed chooses how to resynchronise after bad input inside a record
// array, given the offending byte c, whether it starts a line (newLine) and
// its indentation. Pretty-printed arrays put every element on its own line
// at one indentation, so the next line with that indentation starting with
// '{' is the next element. Without a known indentation (a compact array) the
// array is abandoned and reading resumes at the next top-level value.
func (r *Reader) elemFailed(c byte, newLine bool, col int) {
	want := r.contCol
	switch {
	case want < 0:
		r.inDoc = false
		r.ctx = ctxSkipTop
	case newLine && c == '{' && col == want:
		r.bol, r.bolCol = true, col
		r.ctx = ctxArrElem
	default:
		r.skipCol = want
		r.ctx = ctxSkipElem
	}
}

// openArray enters a record array that opened on line: a top-level array or
// the records array of an Event Hub document (inDoc).
func (r *Reader) openArray(inDoc bool, line int) {
	r.ctx = ctxArrFirst
	r.inDoc = inDoc
	r.contLine = line
	r.contCol = -1
}

// closeArray leaves a record array after its ']'. The rest of an Event Hub
// document is still validated, but its other members are ignored.
func (r *Reader) closeArray() {
	if r.inDoc {
		r.sc.resumeObject()
		r.ctx = ctxDocRest
		r.inDoc = false
		return
	}
	r.ctx = ctxTop
}

// unclosed reports input that ended inside a record array.
func (r *Reader) unclosed() (Item, error) {
	if r.err != nil {
		return Item{}, r.err
	}
	r.done = true
	what := "array"
	if r.inDoc {
		what = "records document"
	}
	return Item{}, r.recordError(r.contLine, "invalid JSON: unexpected end of input, the "+what+" is not closed")
}

// finish ends the source: io.EOF, or the read error that ended it.
func (r *Reader) finish() (Item, error) {
	r.done = true
	if r.err != nil {
		return Item{}, r.err
	}
	return Item{}, io.EOF
}

// skipToTop discards the rest of the current line, then whole lines, until
// a line whose first non-space byte is '{' or '[' at an indentation no deeper
// than the value that failed. It reports false if the input ended first.
func (r *Reader) skipToTop() bool {
	for {
		if !r.skipLine() {
			return false
		}
		n, c, ok := r.indent()
		if !ok {
			return false
		}
		if (c == '{' || c == '[') && n <= r.topCol {
			r.bol, r.bolCol = true, n
			return true
		}
	}
}

// skipToElement discards the rest of the current line, then whole lines,
// until a line that starts with '{' at the indentation of the array's
// elements. It reports false if the input ended first.
func (r *Reader) skipToElement() bool {
	for {
		if !r.skipLine() {
			return false
		}
		n, c, ok := r.indent()
		if !ok {
			return false
		}
		if c == '{' && n == r.skipCol {
			r.bol, r.bolCol = true, n
			return true
		}
	}
}

// describeValue names the kind of JSON value that starts with c.
func describeValue(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
