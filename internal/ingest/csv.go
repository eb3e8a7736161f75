package ingest

import (
	"bytes"
	"fmt"
	"strings"
)

// maxCSVColumns bounds the header row, and so the memory a row's cell list
// can take.
const maxCSVColumns = 1 << 14

// csvState is the CSV side of a Reader: the header and the row being read.
type csvState struct {
	ready   bool     // the header row has been read
	keys    []string // normalized column names
	rawKeys [][]byte // each column's `"name":` prefix for Item.Raw
	rawLen  int      // total length of rawKeys

	row    []byte // cell text of the current row, unquoted, back to back
	ends   []int  // end offset of each cell in row
	cells  int    // cells seen in the row, including any not kept
	size   int    // input bytes the row has taken so far
	over   bool   // the row outgrew the limit; its text is no longer kept
	quoted bool   // the current cell was quoted
	reason string // why the row is bad, if it is
}

// csvStep is where the CSV row reader stands.
type csvStep uint8

const (
	csvStart   csvStep = iota // at the start of a cell
	csvPlain                  // inside an unquoted cell
	csvQuoted                 // inside a quoted cell
	csvQuote                  // just after a '"' inside a quoted cell
	csvQuoteCR                // after a closing quote and a carriage return
	csvJunk                   // after an error: skipping to the end of the line
)

// rowStatus is the outcome of reading one CSV row.
type rowStatus uint8

const (
	rowOK    rowStatus = iota
	rowBlank           // an empty line, skipped
	rowBad             // csvState.reason says why
	rowEnd             // no more rows (or a read error, in r.err)
)

// plainSafe marks bytes that continue an unquoted cell. It is a read-only
// table.
var plainSafe = func() (t [256]bool) {
	for i := range t {
		t[i] = i != ',' && i != '\n' && i != '"'
	}
	return t
}()

// nextCSV returns the next data row. The first row is the header; its
// column names become the field keys. Every cell is a string field, or a
// null one when empty; a "properties" column is not flattened.
func (r *Reader) nextCSV() (Item, error) {
	c := &r.csvs
	for {
		line, st := r.csvRow()
		switch st {
		case rowEnd:
			return r.finish()
		case rowBlank:
			continue
		}
		if !c.ready {
			if st == rowBad {
				r.done = true
				return Item{}, r.recordError(line, "header row: "+c.reason)
			}
			if err := r.setHeader(line); err != nil {
				return Item{}, err
			}
			continue
		}
		if st == rowBad {
			return Item{}, r.recordError(line, c.reason)
		}
		if c.cells != len(c.keys) {
			return Item{}, r.recordError(line, fmt.Sprintf("row has %d cells, the header has %d", c.cells, len(c.keys)))
		}
		return r.csvItem(line), nil
	}
}

// setHeader takes the row just read as the header.
func (r *Reader) setHeader(line int) error {
	c := &r.csvs
	if c.cells > maxCSVColumns {
		r.done = true
		return r.recordError(line, fmt.Sprintf("header row has more than %d columns", maxCSVColumns))
	}
	text := string(c.row)
	c.keys = make([]string, c.cells)
	c.rawKeys = make([][]byte, c.cells)
	a := 0
	for i, end := range c.ends {
		name := text[a:end]
		a = end
		c.keys[i] = normalizeKey(name)
		c.rawKeys[i] = append(appendJSONString(nil, name), ':')
		c.rawLen += len(c.rawKeys[i])
	}
	if len(r.opts.CSVColumns) > 0 && !namesAny(c.keys, r.opts.CSVColumns) {
		r.done = true
		return r.recordError(line, "not a recognised input: JSON input starts with { or [, and a CSV export needs a header row naming columns such as "+strings.Join(r.opts.CSVColumns, ", "))
	}
	c.ready = true
	return nil
}

// namesAny reports whether the header keys include one of the columns
// (compared case-insensitively).
func namesAny(keys, columns []string) bool {
	for _, k := range keys {
		for _, c := range columns {
			if strings.EqualFold(k, c) {
				return true
			}
		}
	}
	return false
}

// csvItem builds the Item for the row just read, which has one cell per
// column.
func (r *Reader) csvItem(line int) Item {
	c := &r.csvs
	text := string(c.row)
	fields := make([]Field, len(c.keys))
	raw := make([]byte, 0, 2+c.rawLen+len(c.row)+len(c.row)/8+3*len(c.keys))
	raw = append(raw, '{')
	a := 0
	for i, end := range c.ends {
		cell := text[a:end]
		a = end
		fields[i].Key = c.keys[i]
		if cell != "" {
			fields[i].Value = Value{Kind: KindString, Str: cell}
		}
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = append(raw, c.rawKeys[i]...)
		raw = appendJSONString(raw, cell)
	}
	raw = append(raw, '}')
	return Item{Source: r.source, Line: line, Format: FormatCSV, Fields: fields, Raw: raw}
}

// csvRow reads one row (RFC 4180: comma separated, '"' quoting with doubled
// quotes, quoted cells may span lines, CRLF or LF line ends) and returns the
// line it started on. A row larger than the limit is read to its end but
// not kept. After a quoting error the rest of the physical line is skipped.
func (r *Reader) csvRow() (line int, st rowStatus) {
	c := &r.csvs
	c.row, c.ends = c.row[:0], c.ends[:0]
	c.cells, c.size, c.over, c.quoted, c.reason = 0, 0, false, false, ""
	line = r.line
	step := csvStart
	for ended := false; ; {
		if r.pos == r.end && !r.fill() {
			if r.err != nil {
				return line, rowEnd
			}
			switch step {
			case csvStart:
				if c.cells == 0 && c.size == 0 {
					return line, rowEnd
				}
			case csvQuoted:
				r.done = true
				c.reason = "unexpected end of input inside a quoted cell"
				return line, rowBad
			case csvJunk:
				return line, rowBad
			}
			return line, r.endRow(step)
		}
		data := r.buf[r.pos:r.end]
		before := r.pos
		switch step {
		case csvStart:
			c.quoted = data[0] == '"'
			if c.quoted {
				r.pos++
				step = csvQuoted
			} else {
				step = csvPlain
			}

		case csvPlain:
			i := 0
			for i < len(data) && plainSafe[data[i]] {
				i++
			}
			c.add(data[:i], r.limit)
			r.pos += i
			if i == len(data) {
				break
			}
			switch data[i] {
			case ',':
				r.pos++
				c.endCell()
				step = csvStart
			case '\n':
				r.pos++
				r.line++
				ended = true
			default:
				c.reason = `bare '"' in an unquoted cell`
				step = csvJunk
			}

		case csvQuoted:
			i := bytes.IndexByte(data, '"')
			if i < 0 {
				i = len(data)
			}
			r.line += bytes.Count(data[:i], []byte{'\n'})
			c.add(data[:i], r.limit)
			r.pos += i
			if i < len(data) {
				r.pos++
				step = csvQuote
			}

		case csvQuote:
			switch data[0] {
			case '"':
				c.add(data[:1], r.limit)
				r.pos++
				step = csvQuoted
			case ',':
				r.pos++
				c.endCell()
				step = csvStart
			case '\n':
				r.pos++
				r.line++
				ended = true
			case '\r':
				r.pos++
				step = csvQuoteCR
			default:
				c.reason = "unexpected " + quoteByte(data[0]) + " after a closing quote"
				step = csvJunk
			}

		case csvQuoteCR:
			if data[0] != '\n' {
				c.reason = "carriage return after a closing quote not followed by a line end"
				step = csvJunk
				break
			}
			r.pos++
			r.line++
			ended = true

		case csvJunk:
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				r.pos = r.end
				break
			}
			r.pos += i + 1
			r.line++
			return line, rowBad
		}
		c.size += r.pos - before
		if ended {
			c.size-- // the line end is not part of the row
		}
		if c.size > r.limit && !c.over {
			c.over = true
			c.row, c.ends = c.row[:0], c.ends[:0]
		}
		if ended {
			return line, r.endRow(step)
		}
	}
}

// endRow completes the last cell of a row and classifies the row.
func (r *Reader) endRow(step csvStep) rowStatus {
	c := &r.csvs
	if step == csvPlain && !c.over {
		// The CR of a CRLF line end.
		start := 0
		if len(c.ends) > 0 {
			start = c.ends[len(c.ends)-1]
		}
		if len(c.row) > start && c.row[len(c.row)-1] == '\r' {
			c.row = c.row[:len(c.row)-1]
		}
	}
	blank := c.cells == 0 && !c.quoted && len(c.row) == 0
	c.endCell()
	switch {
	case c.over:
		c.reason = r.oversize()
		return rowBad
	case blank:
		return rowBlank
	}
	return rowOK
}

// add appends cell text unless the row is already too large.
func (c *csvState) add(b []byte, limit int) {
	if c.over {
		return
	}
	if len(c.row)+len(b) > limit {
		c.over = true
		c.row, c.ends = c.row[:0], c.ends[:0]
		return
	}
	c.row = append(c.row, b...)
}

// endCell closes the current cell. Cells beyond what a valid row can have
// are counted but not kept.
func (c *csvState) endCell() {
	c.cells++
	if c.over {
		return
	}
	keep := maxCSVColumns + 1
	if c.ready {
		keep = len(c.keys)
	}
	if len(c.ends) < keep {
		c.ends = append(c.ends, len(c.row))
	}
	c.quoted = false
}
