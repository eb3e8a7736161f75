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
	clock   uint64
}

type cachedCall struct {
	fold    *callfold.Fold
	records int
	used    uint64
}

func (c *foldCache) get(id string) *callfold.Fold {
	e := c.entries[id]
	if e == nil {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e.fold
}

// put remembers the fold of a call, evicting the least recently used calls
// when the folds stand for too many records.
func (c *foldCache) put(id string, f *callfold.Fold) {
	if f == nil {
		return
	}
	if c.entries == nil {
		c.entries = make(map[string]*cachedCall)
	}
	c.clock++
	if old := c.entries[id]; old != nil {
		c.records -= old.records
	}
	e := &cachedCall{fold: f, records: f.Records(), used: c.clock}
	c.entries[id] = e
	c.records += e.records
	if c.records > maxCachedRecords {
		c.evict(maxCachedRecords / 2)
	}
}

// drop forgets calls.
func (c *foldCache) drop(ids ...string) {
	for _, id := range ids {
		if e := c.entries[id]; e != nil {
			c.records -= e.records
			delete(c.entries, id)
		}
	}
}

func (c *foldCache) reset() {
	c.entries, c.records = nil, 0
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

func (c *viewCache) put(id string, ver uint64, v *callfold.Call) {
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
	c.entries[id] = &cachedView{ver: ver, view: v, used: c.clock}
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
		c.put(id, to, e.view)
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
