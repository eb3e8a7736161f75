package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"calldiag/internal/model"
	"calldiag/internal/store/callfold"
)

// WholeTimeline returns every event and series point of a call at once,
// in the order Timeline pages them, without the paging: what detection
// reads. It skips the work of ordering points across series, which a page
// boundary needs and a whole timeline does not.
func (db *DB) WholeTimeline(ctx context.Context, callID string) (model.Timeline, error) {
	tl := model.Timeline{Events: []model.TimelineEvent{}, Series: []model.Series{}}
	tx, err := db.readTx(ctx)
	if err != nil {
		return tl, err
	}
	defer tx.Rollback()
	h, err := loadCallHead(ctx, tx, callID)
	if err != nil {
		return tl, fmt.Errorf("timeline: %w", err)
	}
	w := window{want: func(string) bool { return true }}
	var items []item
	if items, err = w.storedEvents(ctx, tx, h.cid, math.MaxInt32, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", callID, err)
	}
	if items, err = w.legEvents(ctx, tx, h.cid, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", callID, err)
	}
	if items, err = w.orphanEvents(ctx, tx, h.cid, items); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", callID, err)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key.Less(items[j].key) })
	for _, it := range items {
		tl.Events = append(tl.Events, *it.event)
	}
	rows, err := tx.QueryContext(ctx, "SELECT minute, data FROM points WHERE cid = ?", h.cid)
	if err != nil {
		return tl, fmt.Errorf("timeline %s: points: %w", callID, err)
	}
	defer rows.Close()
	bySID := make(map[int64]int)
	for rows.Next() {
		var m int64
		var data []byte
		if err := rows.Scan(&m, &data); err != nil {
			return tl, fmt.Errorf("timeline %s: points: %w", callID, err)
		}
		err := decodePoints(data, m, func(p point) {
			i, ok := bySID[p.sid]
			if !ok {
				i = len(tl.Series)
				bySID[p.sid] = i
				tl.Series = append(tl.Series, model.Series{})
			}
			tl.Series[i].Points = append(tl.Series[i].Points, model.Point{Time: callfold.FromNS(p.t), Value: p.value})
		})
		if err != nil {
			return tl, fmt.Errorf("timeline %s: points of minute %d: %w", callID, m, err)
		}
	}
	if err := rows.Err(); err != nil {
		return tl, fmt.Errorf("timeline %s: points: %w", callID, err)
	}
	for i := range tl.Series {
		slices.SortFunc(tl.Series[i].Points, func(a, b model.Point) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return cmp.Compare(a.Value, b.Value)
		})
	}
	if err := describeSeries(ctx, tx, h.cid, bySID, tl.Series); err != nil {
		return tl, fmt.Errorf("timeline %s: %w", callID, err)
	}
	sortSeries(tl.Series)
	return tl, nil
}
