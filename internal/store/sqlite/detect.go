package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

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
	store.SortIssues(issues)
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
	f := store.FactsOf(issues)
	kinds, err := json.Marshal(f.Kinds)
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
			[]any{store.CanonicalLabel(d.Quality), store.CanonicalLabel(d.Rating), score, f.Count, f.MaxSev, string(kinds), cid}},
		{"INSERT OR REPLACE INTO detections (cid, issues, extra, rules, records) VALUES (?, ?, ?, ?, ?)",
			[]any{cid, blob, extra, d.Rules, d.Records}},
		{"DELETE FROM call_issues WHERE cid = ?", []any{cid}},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("replace detection of %s: %w", callID, withCancel(ctx, err))
		}
	}
	for kind, sev := range f.ByKind {
		if _, err := tx.ExecContext(ctx, "INSERT INTO call_issues (cid, kind, sev) VALUES (?, ?, ?)", cid, kind, sev); err != nil {
			return fmt.Errorf("replace detection of %s: kind %s: %w", callID, kind, withCancel(ctx, err))
		}
	}
	return nil
}

// Detection returns the stored detection of a call; see store.Store.
func (db *DB) Detection(ctx context.Context, callID string) (store.Detection, error) {
	d := store.Detection{Quality: store.UnknownLabel, Rating: store.UnknownLabel, Issues: []model.Issue{}}
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
