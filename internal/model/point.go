package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// MarshalJSON encodes a point as [RFC 3339 time, value].
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{p.Time.UTC().Format(time.RFC3339Nano), p.Value})
}

// UnmarshalJSON decodes a point from [time, value].
func (p *Point) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("point: %w", err)
	}
	var ts string
	if err := json.Unmarshal(raw[0], &ts); err != nil {
		return fmt.Errorf("point time: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return fmt.Errorf("point time: %w", err)
	}
	if err := json.Unmarshal(raw[1], &p.Value); err != nil {
		return fmt.Errorf("point value: %w", err)
	}
	p.Time = t
	return nil
}
