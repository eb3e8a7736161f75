package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

// writeJSON prints v as indented JSON; the shapes are the API's.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return nil
}

func fmtFloat(p *float64, unit string) string {
	if p == nil {
		return "-"
	}
	// At most one decimal: browser statistics are averages with many.
	return strconv.FormatFloat(math.Round(*p*10)/10, 'f', -1, 64) + unit
}

func fmtRound(p *float64, prec int, unit string) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', prec, 64) + unit
}

func fmtPercent(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p*100, 'f', 2, 64) + "%"
}

func fmtInt(p *int) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(*p)
}
