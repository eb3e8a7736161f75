package clickhouse

import (
	"cmp"
	"slices"
	"sync"

	"calldiag/internal/store/callfold"
)

// maxCachedRecords bounds the records the writer's folds stand for. A
// fold keeps the call's events and winning rows and the ids of its records
// other than samples, a few hundred bytes per such record.
const maxCachedRecords = 2_000_000

// foldCache keeps, for the writing process, the folds of the calls it
// wrote recently, so that a batch adding to a call folds only its own
// records instead of reading the call back. It is used under DB.mu only.
// It assumes this process is the only one appending records to these
// calls.
type foldCache struct {
	entries map[string]*cachedCall
	records int
	points  int
	clock   uint64
}

type cachedCall struct {
	fold    *callfold.Fold
	records int
	used    uint64
	// points are the call's points when this process wrote every record
	// of the call; hasPoints is false otherwise.
	points    callPoints
	hasPoints bool
}

// maxCachedPoints bounds the points the writer keeps over all calls.
const maxCachedPoints = 1_000_000

func (c *foldCache) get(id string) *callfold.Fold {
	e := c.entries[id]
	if e == nil {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e.fold
}

// pointsOf returns the points kept for a call, if all are kept.
func (c *foldCache) pointsOf(id string) (callPoints, bool) {
	e := c.entries[id]
	if e == nil || !e.hasPoints {
		return nil, false
	}
	return e.points, true
}

// put remembers the fold of a call and, when has is set, all its points,
// evicting the least recently used calls when the folds stand for too many
// records and forgetting the points of the least recently used calls when
// there are too many points.
func (c *foldCache) put(id string, f *callfold.Fold, pts callPoints, has bool) {
	if f == nil {
		return
	}
	if c.entries == nil {
		c.entries = make(map[string]*cachedCall)
	}
	c.clock++
	if old := c.entries[id]; old != nil {
		c.records -= old.records
		c.points -= len(old.points)
	}
	e := &cachedCall{fold: f, records: f.Records(), used: c.clock}
	if has {
		e.points, e.hasPoints = pts, true
	}
	c.entries[id] = e
	c.records += e.records
	c.points += len(e.points)
	if c.records > maxCachedRecords {
		c.evict(maxCachedRecords / 2)
	}
	if c.points > maxCachedPoints {
		for _, id := range byLastUse(c.entries, func(e *cachedCall) uint64 { return e.used }) {
			if c.points <= maxCachedPoints/2 {
				break
			}
			e := c.entries[id]
			c.points -= len(e.points)
			e.points, e.hasPoints = nil, false
		}
	}
}

// drop forgets calls.
func (c *foldCache) drop(ids ...string) {
	for _, id := range ids {
		if e := c.entries[id]; e != nil {
			c.records -= e.records
			c.points -= len(e.points)
			delete(c.entries, id)
		}
	}
}

func (c *foldCache) reset() {
	c.entries, c.records, c.points = nil, 0, 0
}

// evict forgets the least recently used calls until the rest stand for at
// most keep records.
func (c *foldCache) evict(keep int) {
	ids := byLastUse(c.entries, func(e *cachedCall) uint64 { return e.used })
	for _, id := range ids {
		if c.records <= keep {
			return
		}
		c.drop(id)
	}
}

// maxViewRecords bounds the records the cached views stand for.
const maxViewRecords = 1_000_000

// viewCache keeps the folded views of recently read or written calls,
// each at the version of the call's row it was folded at: the pages of one
// timeline, the overview after it and detection right after an append read
// the call once. It is safe for concurrent use.
type viewCache struct {
	mu      sync.Mutex
	entries map[string]*cachedView
	records int
	clock   uint64
}

type cachedView struct {
	ver  uint64
	view *callfold.Call
	used uint64
	// points are all the call's points at ver, when the writer kept them.
	points    callPoints
	hasPoints bool
}

func (c *viewCache) get(id string, ver uint64) *callfold.Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil || e.ver != ver {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e.view
}

// pointsAt returns all the points of a call at a version, when they are
// kept.
func (c *viewCache) pointsAt(id string, ver uint64) (callPoints, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil || e.ver != ver || !e.hasPoints {
		return nil, false
	}
	return e.points, true
}

func (c *viewCache) put(id string, ver uint64, v *callfold.Call) {
	c.putPoints(id, ver, v, nil, false)
}

// putPoints caches a view and, when has is set, all the call's points.
func (c *viewCache) putPoints(id string, ver uint64, v *callfold.Call, pts callPoints, has bool) {
	if v == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]*cachedView)
	}
	if old := c.entries[id]; old != nil {
		if old.ver > ver {
			return
		}
		c.records -= old.view.Records
	}
	c.clock++
	c.entries[id] = &cachedView{ver: ver, view: v, used: c.clock, points: pts, hasPoints: has}
	c.records += v.Records
	if c.records <= maxViewRecords {
		return
	}
	ids := byLastUse(c.entries, func(e *cachedView) uint64 { return e.used })
	for _, id := range ids {
		if c.records <= maxViewRecords/2 {
			return
		}
		c.records -= c.entries[id].view.Records
		delete(c.entries, id)
	}
}

// carry files the view folded at version from under version to as well,
// for a change of the call's row that leaves its records as they were.
func (c *viewCache) carry(id string, from, to uint64) {
	c.mu.Lock()
	e := c.entries[id]
	c.mu.Unlock()
	if e != nil && e.ver == from {
		c.putPoints(id, to, e.view, e.points, e.hasPoints)
	}
}

// byLastUse lists the keys of a cache, least recently used first.
func byLastUse[E any](entries map[string]E, used func(E) uint64) []string {
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Compare(used(entries[a]), used(entries[b])) })
	return ids
}
