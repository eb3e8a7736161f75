package clickhouse

import (
	"context"
	"fmt"

	"calldiag/internal/store/callfold"
)

// views folds the given calls from their records, with the client
// operations without a call id that belong to them. Calls without records
// are left out.
func (db *DB) views(ctx context.Context, ids []string) (map[string]*callfold.Call, error) {
	folds, err := db.folds(ctx, ids)
	if err != nil {
		return nil, err
	}
	return db.attach(ctx, folds)
}

// attach finishes folded calls: it attaches the client operations without
// a call id that belong to them and derives their views. It does not
// change the folds.
func (db *DB) attach(ctx context.Context, folds map[string]*callfold.Fold) (map[string]*callfold.Call, error) {
	// Client instances of these calls, and which have unlinked operations.
	ciSet := make(map[string]bool)
	for _, f := range folds {
		for ci := range f.Clients() {
			ciSet[ci] = true
		}
	}
	orphans, err := db.orphans(ctx, keys(ciSet))
	if err != nil {
		return nil, err
	}
	cands, err := db.mappings(ctx, keys(orphans))
	if err != nil {
		return nil, err
	}
	// The folded calls stand for themselves: their stored mappings may be
	// out of date.
	for ci, ms := range cands {
		kept := ms[:0]
		for _, m := range ms {
			if folds[m.ID] == nil {
				kept = append(kept, m)
			}
		}
		cands[ci] = kept
	}
	for _, id := range keys(folds) {
		f := folds[id]
		for ci, pid := range f.Clients() {
			if _, ok := orphans[ci]; ok {
				cands[ci] = append(cands[ci], callfold.MappedCall{ID: id, First: f.First(), ParticipantID: pid})
			}
		}
	}
	attached := make(map[string][]callfold.Orphan)
	for ci, ops := range orphans {
		cs := cands[ci]
		for _, op := range ops {
			i := callfold.ChooseCall(op.T, cs)
			if i < 0 || folds[cs[i].ID] == nil {
				continue
			}
			if op.ParticipantID == "" {
				op.ParticipantID = cs[i].ParticipantID
			}
			attached[cs[i].ID] = append(attached[cs[i].ID], op)
		}
	}
	out := make(map[string]*callfold.Call, len(folds))
	for id, f := range folds {
		c, err := f.Result(attached[id])
		if err != nil {
			return nil, fmt.Errorf("call %s: %w", id, err)
		}
		out[id] = c
	}
	return out, nil
}

// idBatch is how many call ids one read names.
const idBatch = 5000

// folds reads the records of the given calls.
func (db *DB) folds(ctx context.Context, ids []string) (map[string]*callfold.Fold, error) {
	folds := make(map[string]*callfold.Fold, len(ids))
	fold := func(id string) *callfold.Fold {
		f := folds[id]
		if f == nil {
			f = callfold.New(id)
			folds[id] = f
		}
		return f
	}
	for start := 0; start < len(ids); start += idBatch {
		part := inList(ids[start:min(start+idBatch, len(ids))])
		rows, err := db.conn.Query(ctx, "SELECT call_id, rec FROM "+db.t("records")+
			" WHERE call_id IN "+part+" AND kind != ?", kindSample)
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		for rows.Next() {
			var id, rec string
			if err := rows.Scan(&id, &rec); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read records: %w", err)
			}
			r, err := callfold.UnmarshalRecord([]byte(rec))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("call %s: decode stored record: %w", id, err)
			}
			fold(id).Add(&r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		rows, err = db.conn.Query(ctx, "SELECT call_id, participant, endpoint, client_id, resource, category,"+
			" uniqExact(id), min(t), max(t) FROM "+db.t("points")+" WHERE call_id IN "+part+
			" GROUP BY call_id, participant, endpoint, client_id, resource, category")
		if err != nil {
			return nil, fmt.Errorf("read samples: %w", err)
		}
		for rows.Next() {
			var id string
			var g callfold.SampleGroup
			var n uint64
			if err := rows.Scan(&id, &g.ParticipantID, &g.EndpointID, &g.ClientID, &g.Resource, &g.Category,
				&n, &g.First, &g.Last); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read samples: %w", err)
			}
			g.Records = int(n)
			fold(id).AddSamples(g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read samples: %w", err)
		}
	}
	return folds, nil
}

// orphans reads the operations stored without a call id of the given
// client instances, by instance.
func (db *DB) orphans(ctx context.Context, cis []string) (map[string][]callfold.Orphan, error) {
	out := make(map[string][]callfold.Orphan)
	if len(cis) == 0 {
		return out, nil
	}
	rows, err := db.conn.Query(ctx, "SELECT id, rec FROM "+db.t("records")+
		" WHERE call_id = '' AND kind = ? AND client_id IN "+inList(cis), kindOperation)
	if err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	defer rows.Close()
	seen := make(map[string]bool)
	for rows.Next() {
		var id, rec string
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, fmt.Errorf("unlinked operations: %w", err)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		r, err := callfold.UnmarshalRecord([]byte(rec))
		if err != nil {
			return nil, fmt.Errorf("unlinked operation %s: decode: %w", id, err)
		}
		if r.Operation == nil {
			continue
		}
		o := callfold.OrphanOf(&r)
		out[o.ClientID] = append(out[o.ClientID], o)
	}
	return out, rows.Err()
}
