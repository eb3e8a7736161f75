// Package ingest reads telemetry files in every shape a user holds them —
// Storage archive JSON lines, Event Hub {"records":[…]} payloads, Log
// Analytics JSON arrays and CSV exports, any of them gzip-compressed — and
// yields one Item per record with its fields, its raw bytes and its origin.
// Reading is streaming and bounded: no record larger than Options.MaxRecordBytes
// is ever held in memory whole.
//
// It imports only model. Mapping fields to the model (ingest/acs,
// ingest/webrtc) happens in the sub-packages, which import this one.
package ingest

import (
	"fmt"
	"strings"
)

// Kind is the JSON kind of a field value.
type Kind uint8

// Value kinds. A CSV cell is always KindString (or KindNull when empty).
const (
	KindNull Kind = iota
	KindString
	KindNumber
	KindBool
	KindObject
	KindArray
)

// Value is one field value as it arrived.
type Value struct {
	Kind Kind
	// Str is the string content (KindString), the number's text as written
	// (KindNumber), "true"/"false" (KindBool), or the compact JSON text of an
	// object or array (KindObject, KindArray).
	Str string
}

// Field is one named value of a record. Key is lower-cased; the keys of a
// nested "properties" object are flattened into the record's top level, and
// Log Analytics column decorations such as " [UTC]" are removed.
type Field struct {
	Key   string
	Value Value
}

// Format names the shape a record arrived in.
type Format string

// Formats.
const (
	FormatJSONLines    Format = "jsonl"    // Storage archive PT1H.json: one record per line
	FormatEventHub     Format = "eventhub" // {"records":[…]} document(s)
	FormatLogAnalytics Format = "la-json"  // JSON array of flattened rows
	FormatCSV          Format = "csv"      // CSV export with a header row
)

// Item is one record read from a source.
type Item struct {
	// Source names where the record came from (a file path, "-" for standard
	// input, or an upload name).
	Source string
	// Line is the 1-based line in the (decompressed) source where the record starts.
	Line   int
	Format Format
	Fields []Field
	// Raw is the record's bytes as they arrived; for a CSV row, a JSON object
	// of the header names and cell strings.
	Raw []byte
}

// Get returns the value of the first field whose key equals one of keys
// (which must be lower-case), and whether one was found.
func (it *Item) Get(keys ...string) (Value, bool) {
	for _, k := range keys {
		for i := range it.Fields {
			if it.Fields[i].Key == k {
				return it.Fields[i].Value, true
			}
		}
	}
	return Value{}, false
}

// RecordError is a problem with one record (or one line that could not be
// read as a record). Reading continues after it.
type RecordError struct {
	Source string `json:"file"`
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}
