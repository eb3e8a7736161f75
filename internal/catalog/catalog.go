// Package catalog holds calldiag's embedded reference facts about Azure
// Communication Services calls: call-end and SDK codes with their subcodes,
// the end codes Azure's Call Diagnostics counts as ungraceful drops, and the
// user-facing diagnostic (UFD) names. Every fact carries the source it was
// taken from. It also holds the knowledge base (KB, LookupKB): entries for
// codes, UFDs, detection issue kinds and troubleshooting guides, explained in
// calldiag's own words and stored as text files under kb/.
//
// The tables are generated from the reference material by gen.sh; see that
// script for which columns are kept.
//
// It may import only the standard library and model; it must not import
// ingest, store, detect or any package above them.
package catalog

//go:generate sh gen.sh $CALLDIAG_REFERENCE

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed codes.tsv
var codesTSV []byte

//go:embed ufd.tsv
var ufdTSV []byte

// Absent is the value of Code.Code or Code.SubCode when the source gives no
// value for it (a code listed without subcodes, or a generic subcode listed
// without a code).
const Absent = -1

// Sources of the code table (Code.Source values).
const (
	// SourceCallingSDK is the Calling SDK code list of the ACS
	// troubleshooting codes page.
	SourceCallingSDK = "calling-sdk"
	// SourceCallEnd is the call-end code list of the same page.
	SourceCallEnd = "call-end"
	// SourcePSTN is the PSTN code list of the same page.
	SourcePSTN = "pstn"
	// SourceCallAutomation is the Call Automation SDK code list.
	SourceCallAutomation = "call-automation"
	// SourceCallAutomationGenericSubcode lists generic Call Automation subcodes.
	SourceCallAutomationGenericSubcode = "call-automation-generic-subcode"
	// SourceCallAutomationGenericCode lists generic Call Automation codes.
	SourceCallAutomationGenericCode = "call-automation-generic-code"
	// SourceCallDiagnosticsKQL is the end-code phrase table inside Azure's
	// Call Diagnostics query.
	SourceCallDiagnosticsKQL = "call-diagnostics-kql"
)

// Result categories as ACS logs spell them (CallSummary ResultCategory).
const (
	ResultSuccess               = "Success"
	ResultExpectedError         = "ExpectedError"
	ResultUnexpectedClientError = "UnexpectedClientError"
	ResultUnexpectedServerError = "UnexpectedServerError"
)

// Code is one row of the code table: a code and subcode pair as one source
// lists it. The same pair can appear once per source.
type Code struct {
	// Code is the SIP-like response code, or Absent.
	Code int
	// SubCode is the subcode, or Absent.
	SubCode int
	// ResultCategory is the category the source gives ("" when it gives none).
	ResultCategory string
	// Source names the list the row comes from (one of the Source constants).
	Source string
	// UngracefulDrop is true when Azure's Call Diagnostics counts Code as an
	// ungraceful end of a participant leg.
	UngracefulDrop bool
}

// UngracefulEndReasonsSource names where UngracefulEndReasons comes from.
const UngracefulEndReasonsSource = "Azure Call Diagnostics \"Search calls by keyword\" query (azure-reference-other azure-monitor-ref/queries/acscallsummary.md)"

// ungracefulEndReasons is the drop list of the Call Diagnostics query.
var ungracefulEndReasons = [...]int{380, 400, 407, 408, 409, 410, 412, 417, 430, 439, 440, 481, 483, 488, 489, 493, 500, 502, 503, 504, 580}

// UngracefulEndReasons returns the participant end codes that Azure's Call
// Diagnostics counts as a participant dropped ungracefully, ascending.
func UngracefulEndReasons() []int {
	return slices.Clone(ungracefulEndReasons[:])
}

// IsUngracefulEndReason reports whether code is in UngracefulEndReasons.
func IsUngracefulEndReason(code int) bool {
	_, ok := slices.BinarySearch(ungracefulEndReasons[:], code)
	return ok
}

// codeTable is parsed once; the embedded file is part of the binary, so a
// parse failure is a build defect, not a runtime condition.
var codeTable = sync.OnceValue(func() []Code {
	codes, err := parseCodes(codesTSV)
	if err != nil {
		panic("BUG: catalog: embedded codes.tsv: " + err.Error())
	}
	return codes
})

// Codes returns every row of the code table in file order.
func Codes() []Code {
	return slices.Clone(codeTable())
}

// Lookup returns the rows whose code and subcode both equal the arguments,
// one per source that lists the pair. Pass Absent as subcode to find rows
// listed for a code alone. A subcode can occur under several codes, so
// Lookup never matches on the subcode alone; use LookupSubCode for that.
func Lookup(code, subcode int) []Code {
	var out []Code
	for _, c := range codeTable() {
		if c.Code == code && c.SubCode == subcode {
			out = append(out, c)
		}
	}
	return out
}

// LookupSubCode returns every row listing subcode, under whatever code.
func LookupSubCode(subcode int) []Code {
	var out []Code
	for _, c := range codeTable() {
		if c.SubCode == subcode {
			out = append(out, c)
		}
	}
	return out
}

func parseCodes(b []byte) ([]Code, error) {
	var out []Code
	err := eachRow(b, 5, func(line int, f []string) error {
		code, err := optInt(f[0])
		if err != nil {
			return fmt.Errorf("line %d: code: %w", line, err)
		}
		sub, err := optInt(f[1])
		if err != nil {
			return fmt.Errorf("line %d: subcode: %w", line, err)
		}
		if f[3] == "" {
			return fmt.Errorf("line %d: source: empty", line)
		}
		switch f[4] {
		case "", "yes":
		default:
			return fmt.Errorf("line %d: ungraceful: %q is not empty or yes", line, f[4])
		}
		out = append(out, Code{Code: code, SubCode: sub, ResultCategory: f[2], Source: f[3], UngracefulDrop: f[4] == "yes"})
		return nil
	})
	return out, err
}

func optInt(s string) (int, error) {
	if s == "" {
		return Absent, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("negative value %d", n)
	}
	return n, nil
}

// eachRow calls fn for every data row of a TSV with a header and exactly
// cols columns. Line numbers are 1-based and count the header.
func eachRow(b []byte, cols int, fn func(line int, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 || text == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != cols {
			return fmt.Errorf("line %d: %d columns, want %d", line, len(f), cols)
		}
		if err := fn(line, f); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if line == 0 {
		return fmt.Errorf("empty table")
	}
	return nil
}
