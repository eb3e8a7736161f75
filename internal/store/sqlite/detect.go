package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// unknownLabel is the quality and rating of a call never detected.
const unknownLabel = "Unknown"

// detectionLabels are the quality and rating values the store knows; a
// filter value that matches one of them case-insensitively is spelled as
// stored.
var detectionLabels = [...]string{"Good", "Average", "Poor", unknownLabel}

// canonicalLabel spells a quality or rating as it is stored: known values
// in their canonical case, empty as Unknown, anything else as given.
func canonicalLabel(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return unknownLabel
	}
	for _, l := range detectionLabels {
		if strings.EqualFold(s, l) {
			return l
		}
	}
	return s
}

// sortIssues orders issues most severe first, then by start, then by id.
func sortIssues(issues []model.Issue) {
	slices.SortStableFunc(issues, func(a, b model.Issue) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// issueFacts are the per-call numbers search needs from a detection.
type issueFacts struct {
	count  int            // issues of severity warning or worse
	maxSev int            // highest severity rank of any issue
	kinds  []string       // kinds of counted issues, most severe first, then by name
	byKind map[string]int // every kind with its highest severity rank
}

func factsOf(issues []model.Issue) issueFacts {
	f := issueFacts{byKind: make(map[string]int), kinds: []string{}}
	counted := make(map[string]int)
	for _, is := range issues {
		r := is.Severity.Rank()
		f.maxSev = max(f.maxSev, r)
		if old, ok := f.byKind[is.Kind]; !ok || r > old {
			f.byKind[is.Kind] = r
		}
		if r >= model.SeverityWarning.Rank() {
			f.count++
			counted[is.Kind] = max(counted[is.Kind], r)
		}
	}
	for k := range counted {
		f.kinds = append(f.kinds, k)
	}
	slices.SortFunc(f.kinds, func(a, b string) int {
		if c := cmp.Compare(counted[b], counted[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return f
}

// ReplaceDetection stores the detection of a call in place of any earlier
// one and updates the call's search summary; see store.Store.
func (db *DB) ReplaceDetection(ctx context.Context, callID string, d store.Detection) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return errClosed
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace detection of %s: begin: %w", callID, err)
	}
	defer tx.Rollback()
	if err := replaceDetection(ctx, tx, callID, d); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace detection of %s: commit: %w", callID, withCancel(ctx, err))
	}
	return nil
}

// replaceDetection does the work of ReplaceDetection inside tx.
func replaceDetection(ctx context.Context, tx *sql.Tx, callID string, d store.Detection) error {
	issues := slices.Clone(d.Issues)
	if issues == nil {
		issues = []model.Issue{}
	}
	sortIssues(issues)
	blob, err := json.Marshal(issues)
	if err != nil {
		return fmt.Errorf("replace detection of %s: encode issues: %w", callID, err)
	}
	blob = packRow(blob)
	var extra []byte
	if d.MOS != nil || d.Completeness != nil {
		if extra, err = json.Marshal(detectionExtra{MOS: d.MOS, Completeness: d.Completeness}); err != nil {
			return fmt.Errorf("replace detection of %s: encode: %w", callID, err)
		}
		extra = packRow(extra)
	}
	f := factsOf(issues)
	kinds, err := json.Marshal(f.kinds)
	if err != nil {
		return fmt.Errorf("replace detection of %s: encode kinds: %w", callID, err)
	}

	var cid int64
	if err := tx.QueryRowContext(ctx, qCallID, callID).Scan(&cid); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("replace detection of %s: %w", callID, store.ErrNotFound)
		}
		return fmt.Errorf("replace detection of %s: %w", callID, withCancel(ctx, err))
	}
	var score any
	if d.RatingScore != nil {
		score = *d.RatingScore
	}
	steps := []struct {
		sql  string
		args []any
	}{
		{`UPDATE calls SET quality = ?, rating = ?, rating_score = ?, issue_count = ?, max_sev = ?,
			issue_kinds = ? WHERE cid = ?`,
			[]any{canonicalLabel(d.Quality), canonicalLabel(d.Rating), score, f.count, f.maxSev, string(kinds), cid}},
		{"INSERT OR REPLACE INTO detections (cid, issues, extra, rules, records) VALUES (?, ?, ?, ?, ?)",
			[]any{cid, blob, extra, d.Rules, d.Records}},
		{"DELETE FROM call_issues WHERE cid = ?", []any{cid}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("replace detection of %s: %w", callID, withCancel(ctx, err))
		}
	}
	for kind, sev := range f.byKind {
		if _, err := tx.ExecContext(ctx, "INSERT INTO call_issues (cid, kind, sev) VALUES (?, ?, ?)", cid, kind, sev); err != nil {
			return fmt.Errorf("replace detection of %s: kind %s: %w", callID, kind, withCancel(ctx, err))
		}
	}
	return nil
}

// Detection returns the stored detection of a call; see store.Store.
func (db *DB) Detection(ctx context.Context, callID string) (store.Detection, error) {
	d := store.Detection{Quality: unknownLabel, Rating: unknownLabel, Issues: []model.Issue{}}
	tx, err := db.readTx(ctx)
	if err != nil {
		return d, err
	}
	defer tx.Rollback()
	var score sql.NullFloat64
	var blob, extra []byte
	var rules sql.NullString
	var records sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT c.quality, c.rating, c.rating_score, d.issues, d.extra, d.rules, d.records
		FROM calls c LEFT JOIN detections d ON d.cid = c.cid WHERE c.id = ?`, callID).
		Scan(&d.Quality, &d.Rating, &score, &blob, &extra, &rules, &records)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("detection of %s: %w", callID, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("detection of %s: %w", callID, err)
	}
	if score.Valid {
		v := score.Float64
		d.RatingScore = &v
	}
	if blob != nil {
		if err := decodeRow(blob, &d.Issues); err != nil {
			return d, fmt.Errorf("detection of %s: decode issues: %w", callID, err)
		}
		if d.Issues == nil {
			d.Issues = []model.Issue{}
		}
	}
	d.Rules, d.Records = rules.String, int(records.Int64)
	if extra != nil {
		var x detectionExtra
		if err := decodeRow(extra, &x); err != nil {
			return d, fmt.Errorf("detection of %s: decode: %w", callID, err)
		}
		d.MOS, d.Completeness = x.MOS, x.Completeness
	}
	return d, nil
}

// detectionExtra is the part of a detection kept as one JSON value.
type detectionExtra struct {
	MOS          map[string]float64  `json:"mos,omitempty"`
	Completeness *model.Completeness `json:"completeness,omitempty"`
}
