package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// cacheLimit bounds each writer cache; a full cache is simply dropped.
const cacheLimit = 1 << 18

// optimizeEvery is how many appended records trigger a refresh of the
// planner statistics.
const optimizeEvery = 1_000_000

// seriesKey names one media-stats series of a call.
type seriesKey struct {
	cid                 int64
	pid, stream, metric string
}

// clientKey is one client instance within one call.
type clientKey struct {
	ci  string
	cid int64
}

type partKey struct {
	cid int64
	pid string
}

type keyPair struct {
	key string
	cid int64
}

// writerCache remembers ids the writer has already resolved. Entries are
// added only after the transaction that created them committed.
type writerCache struct {
	calls   map[string]int64
	names   map[string]int64
	series  map[seriesKey]int64
	clients map[clientKey]string
	facets  map[facetRow]int64
}

// checkEpoch forgets the cached rows when calls were expired since this
// writer last looked, by this process or another one on the same file:
// the rows they point at may be gone.
func (a *appender) checkEpoch(ctx context.Context) error {
	var epoch int64
	if err := a.queryRow(ctx, qExpireEpoch).Scan(&epoch); err != nil {
		return fmt.Errorf("read expiry epoch: %w", err)
	}
	if epoch != a.db.cacheEpoch {
		a.db.cache.reset()
		a.db.cacheEpoch = epoch
	}
	return nil
}

func (c *writerCache) reset() {
	c.calls = make(map[string]int64)
	c.names = make(map[string]int64)
	c.series = make(map[seriesKey]int64)
	c.clients = make(map[clientKey]string)
	c.facets = make(map[facetRow]int64)
}

func mergeCache[K comparable, V any](dst, src map[K]V) map[K]V {
	if len(dst)+len(src) > cacheLimit {
		dst = make(map[K]V, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// Append stores a batch of records in one transaction. See store.Store.
func (db *DB) Append(ctx context.Context, batch []model.Record) (store.AppendResult, error) {
	var res store.AppendResult
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return res, errClosed
	}
	if len(batch) == 0 {
		return res, nil
	}
	for i := range batch {
		if batch[i].ID == "" {
			return res, fmt.Errorf("append: record %d has no id", i)
		}
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback()
	a := newAppender(db, tx)
	defer a.close()
	if err := a.run(ctx, batch); err != nil {
		return res, fmt.Errorf("append: %w", withCancel(ctx, err))
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("append: commit: %w", withCancel(ctx, err))
	}
	a.publish()
	db.remember(ctx, a.added, a.lastChunk)
	if db.sinceOptimize += a.stored; db.sinceOptimize >= optimizeEvery {
		db.sinceOptimize = 0
		if _, err := db.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			db.log.Warn("optimize", "err", err)
		}
	}
	res.Stored, res.Duplicates = a.stored, a.dups
	res.Calls = a.touchedIDs()
	res.New = a.isNew
	return res, nil
}

// withCancel adds the context's error to err when the context has ended: a
// cancelled transaction is rolled back as soon as that happens, so the
// statement then running may only see that it or its transaction is gone.
func withCancel(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// appender carries the state of one Append transaction.
type appender struct {
	db *DB
	tx *sql.Tx

	// cache entries created by this transaction, published after commit
	newCalls   map[string]int64
	newNames   map[string]int64
	newSeries  map[seriesKey]int64
	nextSID    map[int64]int64     // per call: the highest series id so far
	oldSeries  map[seriesKey]int64 // series read from the store by loadSeries
	newClients map[clientKey]string
	newFacets  map[facetRow]int64

	calls   map[int64]*callState
	parts   map[partKey]*partState
	keys    map[keyPair]struct{}
	clients map[clientKey]string
	orphans map[string]*orphanTouch
	touched map[string]struct{}
	// orphanCalls are the calls whose unlinked operations may have changed
	// (cid to id), which touchOrphanCalls finds.
	orphanCalls map[int64]string

	stmts                 map[string]*sql.Stmt
	events                *bulkInsert
	points                map[pointKey][]point
	chunks                *compression
	firstChunk, lastChunk int64

	stored, dups int
	freshKeys    []idKey        // per record to store: its id's key
	added        []idSeq        // ids stored by this batch
	newRuns      []*idRun       // id runs written by this transaction
	droppedRuns  map[int64]bool // id runs merged away by this transaction
	isNew        []bool         // per record of the batch: stored (not a duplicate)
	newCallCount int
}

func newAppender(db *DB, tx *sql.Tx) *appender {
	a := &appender{
		db: db, tx: tx,
		newCalls:   make(map[string]int64),
		newNames:   make(map[string]int64),
		newSeries:  make(map[seriesKey]int64),
		nextSID:    make(map[int64]int64),
		oldSeries:  make(map[seriesKey]int64),
		newClients: make(map[clientKey]string),
		calls:      make(map[int64]*callState),
		parts:      make(map[partKey]*partState),
		keys:       make(map[keyPair]struct{}),
		clients:    make(map[clientKey]string),
		orphans:    make(map[string]*orphanTouch),
		touched:    make(map[string]struct{}),
		stmts:      make(map[string]*sql.Stmt),
		points:     make(map[pointKey][]point),
	}
	a.orphanCalls = make(map[int64]string)
	a.newFacets = make(map[facetRow]int64)
	a.events = a.bulk(eventsSpec)
	return a
}

// close releases the transaction's statements.
func (a *appender) close() {
	for _, s := range a.stmts {
		s.Close()
	}
}

// publish merges the ids created by the committed transaction into the cache.
func (a *appender) publish() {
	c := &a.db.cache
	c.calls = mergeCache(c.calls, a.newCalls)
	c.names = mergeCache(c.names, a.newNames)
	c.series = mergeCache(c.series, a.newSeries)
	c.clients = mergeCache(c.clients, a.newClients)
	c.facets = mergeCache(c.facets, a.newFacets)
}

func (a *appender) touchedIDs() []string {
	ids := make([]string, 0, len(a.touched))
	for id := range a.touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (a *appender) run(ctx context.Context, batch []model.Record) error {
	if err := a.checkEpoch(ctx); err != nil {
		return err
	}
	fresh, err := a.freshRecords(ctx, batch)
	if err != nil {
		return err
	}
	a.dups = len(batch) - len(fresh)
	a.stored = len(fresh)
	if len(fresh) == 0 {
		return nil
	}
	a.chunks = a.db.compressAsync(fresh, a.firstChunk)
	defer a.chunks.wait()
	a.lastChunk = a.firstChunk + int64(len(a.chunks.groups)) - 1

	if err := a.loadCalls(ctx, fresh); err != nil {
		return err
	}
	for i, r := range fresh {
		if i%512 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := a.add(ctx, r, a.freshKeys[i], a.chunks.refs[i]); err != nil {
			return fmt.Errorf("record %s: %w", r.ID, err)
		}
	}
	if err := a.events.flush(ctx); err != nil {
		return err
	}
	if err := a.writePoints(ctx); err != nil {
		return err
	}
	if err := a.writeParticipants(ctx); err != nil {
		return err
	}
	if err := a.writeClients(ctx); err != nil {
		return err
	}
	if err := a.writeKeys(ctx); err != nil {
		return err
	}
	if err := a.writeCalls(ctx); err != nil {
		return err
	}
	if err := a.touchOrphanCalls(ctx); err != nil {
		return err
	}
	if err := a.writeFacets(ctx); err != nil {
		return err
	}
	if err := a.writeCounters(ctx); err != nil {
		return err
	}
	return a.writeChunks(ctx)
}

// freshRecords drops records repeated within the batch or already stored.
func (a *appender) freshRecords(ctx context.Context, batch []model.Record) ([]*model.Record, error) {
	seen := make(map[string]struct{}, len(batch))
	first := make([]int, 0, len(batch)) // batch index of each first occurrence
	keys := make([]idKey, 0, len(batch))
	for i := range batch {
		id := batch[i].ID
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		first = append(first, i)
		keys = append(keys, keyOf(id))
	}
	next, err := a.syncIndex(ctx)
	if err != nil {
		return nil, err
	}
	a.firstChunk, a.lastChunk = next, next-1
	existing, err := a.storedIDs(ctx, keys)
	if err != nil {
		return nil, err
	}
	a.isNew = make([]bool, len(batch))
	fresh := make([]*model.Record, 0, len(first))
	for j, i := range first {
		if !existing[j] {
			a.isNew[i] = true
			fresh = append(fresh, &batch[i])
			a.freshKeys = append(a.freshKeys, keys[j])
		}
	}
	return fresh, nil
}

func placeholders(n int) string {
	var b strings.Builder
	b.Grow(2 * n)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
	}
	return b.String()
}

// loadCalls resolves the call ids of the batch and loads the state of every
// touched call with all its participants.
func (a *appender) loadCalls(ctx context.Context, fresh []*model.Record) error {
	done := make(map[string]struct{})
	for _, r := range fresh {
		if r.CallID == "" {
			continue
		}
		if _, ok := done[r.CallID]; ok {
			continue
		}
		done[r.CallID] = struct{}{}
		if err := a.loadCall(ctx, r.CallID); err != nil {
			return fmt.Errorf("call %s: %w", r.CallID, err)
		}
	}
	return nil
}

func (a *appender) loadCall(ctx context.Context, id string) error {
	a.touched[id] = struct{}{}
	cid, ok := a.db.cache.calls[id]
	if !ok {
		err := a.queryRow(ctx, qCallID, id).Scan(&cid)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := a.exec(ctx, qInsertCall, id)
			if err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			if cid, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			a.newCalls[id] = cid
			a.newCallCount++
			a.calls[cid] = &callState{cid: cid, id: id, isNew: true, counts: make(map[string]int)}
			return nil
		case err != nil:
			return fmt.Errorf("lookup: %w", err)
		}
		a.newCalls[id] = cid
	}
	c := &callState{cid: cid, id: id}
	var counts, resources string
	err := a.queryRow(ctx, qLoadCall, cid).
		Scan(&c.first, &c.last, &c.records, &c.unknown, &counts, &resources)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if err := json.Unmarshal([]byte(counts), &c.counts); err != nil {
		return fmt.Errorf("decode counts: %w", err)
	}
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	if err := json.Unmarshal([]byte(resources), &c.resources); err != nil {
		return fmt.Errorf("decode resources: %w", err)
	}
	rows, err := a.query(ctx, qParticipants, cid)
	if err != nil {
		return fmt.Errorf("load participants: %w", err)
	}
	parts, err := scanParticipants(rows)
	if err != nil {
		return err
	}
	for _, p := range parts {
		a.parts[partKey{cid, p.pid}] = p
	}
	c.parts = parts
	a.calls[cid] = c
	return nil
}

// participantCols are the columns of participants as written. ua and
// s_res hold names ids (0: none), which participantSelect reads back as
// the names.
const participantCols = `cid, pid, grp, client, diag, d_etype, endpoint, identifier,
	ua, ua_ns, ua_rid, sdk, sdk_ns, sdk_rid, resources,
	s_final, s_ver, s_ns, s_rid, s_res, s_call_start, s_call_end, s_start, s_end,
	s_call_type, s_etype, s_teams, s_sdk, s_os, s_data`

const participantSelect = `cid, pid, grp, client, diag, d_etype, endpoint, identifier,
	coalesce((SELECT name FROM names WHERE id = ua), ''), ua_ns, ua_rid, sdk, sdk_ns, sdk_rid, resources,
	s_final, s_ver, s_ns, s_rid, (SELECT name FROM names WHERE id = s_res), s_call_start, s_call_end, s_start, s_end,
	s_call_type, s_etype, s_teams, s_sdk, s_os, s_data`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadParticipants reads every participant of a call.
func loadParticipants(ctx context.Context, q querier, cid int64) ([]*partState, error) {
	rows, err := q.QueryContext(ctx, qParticipants, cid)
	if err != nil {
		return nil, fmt.Errorf("load participants: %w", err)
	}
	return scanParticipants(rows)
}

// scanParticipants reads the rows of qParticipants and closes them.
func scanParticipants(rows *sql.Rows) ([]*partState, error) {
	defer rows.Close()
	var parts []*partState
	for rows.Next() {
		p := &partState{}
		var grp, client, diag int64
		var resources string
		var final, ver, sns, callStart, start sql.NullInt64
		var callEnd, end sql.NullInt64
		var rid, res, callType, etype, teams, sdk, osVersion sql.NullString
		var data []byte
		err := rows.Scan(&p.cid, &p.pid, &grp, &client, &diag, &p.dEtype, &p.endpoint, &p.identifier,
			&p.ua, &p.uaNS, &p.uaRID, &p.sdk, &p.sdkNS, &p.sdkRID, &resources,
			&final, &ver, &sns, &rid, &res, &callStart, &callEnd, &start, &end,
			&callType, &etype, &teams, &sdk, &osVersion, &data)
		if err != nil {
			return nil, fmt.Errorf("load participants: %w", err)
		}
		p.grp, p.client, p.diag = grp != 0, client != 0, diag != 0
		if resources != "" {
			p.resources = strings.Split(resources, "\n")
		}
		if final.Valid {
			p.sum = &summaryRow{
				rank:      rank{final: final.Int64 != 0, ver: ver.Int64, ns: sns.Int64, rid: rid.String},
				res:       res.String,
				callStart: callStart.Int64,
				callEnd:   callEnd,
				start:     start.Int64,
				end:       end,
				callType:  callType.String,
				etype:     etype.String,
				teams:     teams.String,
				sdk:       sdk.String,
				os:        osVersion.String,
				data:      data,
			}
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load participants: %w", err)
	}
	return parts, nil
}

// part returns the participant (cid, pid) of a loaded call, creating it.
// It returns nil for ids that do not name a participant.
func (a *appender) part(c *callState, pid string) *partState {
	if pid == "" || pid == c.id {
		return nil
	}
	k := partKey{c.cid, pid}
	if p, ok := a.parts[k]; ok {
		return p
	}
	p := &partState{cid: c.cid, pid: pid, dirty: true}
	a.parts[k] = p
	c.parts = append(c.parts, p)
	return p
}

func (a *appender) addKey(cid int64, s string) {
	s = strings.TrimSpace(s)
	if !callfold.Usable(s) {
		return
	}
	a.keys[keyPair{strings.ToLower(s), cid}] = struct{}{}
}

func (a *appender) addClient(ci string, cid int64, pid string) {
	if ci == "" {
		return
	}
	k := clientKey{ci, cid}
	cur, ok := a.clients[k]
	if !ok {
		a.clients[k] = pid
		return
	}
	a.clients[k], _ = minNonEmpty(cur, pid)
}

// name interns a category or resource name.
// optName is name, but 0 for the empty string.
func (a *appender) optName(ctx context.Context, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return a.name(ctx, s)
}

func (a *appender) name(ctx context.Context, s string) (int64, error) {
	if id, ok := a.db.cache.names[s]; ok {
		return id, nil
	}
	if id, ok := a.newNames[s]; ok {
		return id, nil
	}
	var id int64
	err := a.queryRow(ctx, qNameID, s).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		res, err = a.exec(ctx, qInsertName, s)
		if err == nil {
			id, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("intern name: %w", err)
	}
	a.newNames[s] = id
	return id, nil
}

// series returns the id of a media-stats series, creating it.
func (a *appender) series(ctx context.Context, k seriesKey) (int64, error) {
	if id, ok := a.db.cache.series[k]; ok {
		return id, nil
	}
	if id, ok := a.newSeries[k]; ok {
		return id, nil
	}
	// The first miss of a call in this transaction loads all the call's
	// series, so that a key missing after that is a new series.
	if _, loaded := a.nextSID[k.cid]; !loaded {
		if err := a.loadSeries(ctx, k.cid); err != nil {
			return 0, err
		}
	}
	if id, ok := a.oldSeries[k]; ok {
		return id, nil
	}
	stream, err := a.name(ctx, k.stream)
	if err != nil {
		return 0, err
	}
	metric, err := a.name(ctx, k.metric)
	if err != nil {
		return 0, err
	}
	// Series ids count up from 1 within each call.
	id := a.nextSID[k.cid] + 1
	if _, err := a.exec(ctx, qInsertSeries, k.cid, k.pid, stream, metric, id); err != nil {
		return 0, fmt.Errorf("series: %w", err)
	}
	a.nextSID[k.cid] = id
	a.newSeries[k] = id
	return id, nil
}

// loadSeries reads the series of a call into oldSeries and notes its
// highest series id. They are not published to the cache: a call with many
// series would otherwise re-publish all of them with every batch.
func (a *appender) loadSeries(ctx context.Context, cid int64) error {
	rows, err := a.query(ctx, seriesNamesQuery, cid)
	if err != nil {
		return fmt.Errorf("series: %w", err)
	}
	defer rows.Close()
	var top int64
	for rows.Next() {
		var sid int64
		k := seriesKey{cid: cid}
		if err := rows.Scan(&sid, &k.pid, &k.stream, &k.metric); err != nil {
			return fmt.Errorf("series: %w", err)
		}
		a.oldSeries[k] = sid
		top = max(top, sid)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("series: %w", err)
	}
	a.nextSID[cid] = top
	return nil
}

// clientPlaceholder prefixes the client instance id that stands for the
// participant of a series whose samples named none (P2P media stats carry
// neither a participant nor an endpoint id); reads resolve it through the
// client instance mapping, whichever record arrived first.
const clientPlaceholder = "ci:"

// add stores one new record and merges it into the state of its call.
func (a *appender) add(ctx context.Context, r *model.Record, key idKey, ref blobRef) error {
	cat, err := a.name(ctx, callfold.CategoryName(r))
	if err != nil {
		return err
	}
	res, err := a.name(ctx, r.Resource)
	if err != nil {
		return err
	}
	var c *callState
	var cid int64
	if r.CallID != "" {
		cid = a.cidOf(r.CallID)
		c = a.calls[cid]
	}
	a.added = append(a.added, idSeq{key, ref.seq})
	chunk, _ := chunkOf(ref.seq)
	g := a.chunks.groups[chunk-a.firstChunk]
	g.cid = cid
	g.meta = appendMeta(g.meta, metaEntry{id: r.ID, cat: cat, res: res, t: callfold.NS(r.Time), off: ref.off, len: ref.len})
	if c == nil {
		if r.Operation != nil {
			return a.addOrphan(ctx, r)
		}
		return nil
	}
	c.addRecord(r)
	a.addKey(cid, r.CallID)
	switch {
	case r.Participant != nil:
		return a.addSummary(c, r)
	case r.Stream != nil:
		return a.addStream(ctx, c, r)
	case r.Operation != nil:
		return a.addOperation(ctx, c, r)
	case r.Sample != nil:
		return a.addSample(ctx, c, r, ref.seq)
	case r.Survey != nil:
		return a.addSurvey(ctx, c, r)
	case r.PeerConn != nil:
		return a.addPeerConn(ctx, c, r)
	case r.Event != nil:
		ev := r.Event
		return a.events.add(ctx, cid, callfold.NS(callfold.EventTime(r)), model.KindService, r.ID, ev.ParticipantID, ev.Name,
			ev.Result, intArg(ev.Code), intArg(ev.SubCode), floatArg(ev.DurationMs), ev.Detail)
	}
	return nil
}

func (a *appender) cidOf(id string) int64 {
	if cid, ok := a.db.cache.calls[id]; ok {
		return cid
	}
	return a.newCalls[id]
}

func intArg(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func floatArg(p *float64) any {
	if p = callfold.Finite(p); p == nil {
		return nil
	}
	return *p
}

func (a *appender) addSummary(c *callState, r *model.Record) error {
	row := r.Participant
	for _, k := range []string{row.ParticipantID, row.RawParticipantID, row.EndpointID, row.Identifier} {
		a.addKey(c.cid, k)
	}
	p := a.part(c, row.ParticipantID)
	if p == nil {
		return nil
	}
	if callfold.Usable(row.RawParticipantID) {
		p.flag(&p.grp)
	}
	p.addResource(r.Resource)
	rk := rankOf(row.Version, r.Time, r.ID)
	if p.sum != nil && !rk.beats(p.sum.rank) {
		return nil
	}
	s, err := newSummaryRow(r)
	if err != nil {
		return fmt.Errorf("encode summary row: %w", err)
	}
	p.sum = s
	p.dirty = true
	return nil
}

func (a *appender) addStream(ctx context.Context, c *callState, r *model.Record) error {
	row := r.Stream
	for _, k := range []string{row.ParticipantID, row.RawParticipantID, row.EndpointID, row.Identifier} {
		a.addKey(c.cid, k)
	}
	server := row.EndpointType == model.EndpointServer
	if p := a.part(c, row.ParticipantID); p != nil {
		p.flag(&p.diag)
		if callfold.Usable(row.RawParticipantID) || server {
			p.flag(&p.grp)
		}
		if !server {
			p.minField(&p.dEtype, string(row.EndpointType))
			p.minField(&p.endpoint, row.EndpointID)
			p.minField(&p.identifier, row.Identifier)
		}
		p.addResource(r.Resource)
	}
	data, err := json.Marshal(finiteStream(row))
	if err != nil {
		return fmt.Errorf("encode stream row: %w", err)
	}
	data = packRow(data)
	rk := rankOf(row.Version, r.Time, r.ID)
	_, err = a.exec(ctx, qUpsertStream, c.cid, row.ParticipantID, string(row.MediaType), string(row.Direction), row.ACSStreamID,
		boolInt(rk.final), rk.ver, rk.ns, rk.rid, boolInt(server), data)
	if err != nil {
		return fmt.Errorf("upsert stream: %w", err)
	}
	return nil
}

// opEvent maps a client operation to its timeline fields.
func opEvent(op *model.Operation) (kind, name, result, detail string, code any) {
	code = intArg(op.Code)
	if code == nil {
		code = intArg(op.ResultSignature)
	}
	if op.UFDName != "" || strings.EqualFold(op.Name, "UserFacingDiagnostics") {
		return model.KindUFD, op.UFDName, op.UFDValue, op.UFDValue, code
	}
	return model.KindOperation, op.Name, op.ResultType, op.Payload, code
}

func (a *appender) addOperation(ctx context.Context, c *callState, r *model.Record) error {
	op := r.Operation
	a.addKey(c.cid, op.ParticipantID)
	a.addKey(c.cid, op.EndpointID)
	a.addClient(op.ClientInstanceID, c.cid, op.ParticipantID)
	t := callfold.NS(callfold.EventTime(r))
	if p := a.part(c, op.ParticipantID); p != nil {
		p.flag(&p.client)
		p.grp = p.grp || callfold.Usable(op.ParticipantID)
		p.minField(&p.endpoint, op.EndpointID)
		p.earliest(&p.ua, &p.uaNS, &p.uaRID, op.UserAgent, t, r.ID)
		p.earliest(&p.sdk, &p.sdkNS, &p.sdkRID, op.SDKVersion, t, r.ID)
		p.addResource(r.Resource)
	}
	kind, name, result, detail, code := opEvent(op)
	return a.events.add(ctx, c.cid, t, kind, r.ID, op.ParticipantID, name, result, code,
		intArg(op.SubCode), floatArg(op.DurationMs), detail)
}

func (a *appender) addOrphan(ctx context.Context, r *model.Record) error {
	op := r.Operation
	t := callfold.NS(callfold.EventTime(r))
	kind, name, result, detail, code := opEvent(op)
	ua, err := a.optName(ctx, op.UserAgent)
	if err != nil {
		return fmt.Errorf("insert unlinked operation: %w", err)
	}
	_, err = a.exec(ctx, qInsertOrphan, r.ID, op.ClientInstanceID, t, kind, op.ParticipantID, name, result, code,
		intArg(op.SubCode), floatArg(op.DurationMs), detail, ua, op.SDKVersion)
	if err != nil {
		return fmt.Errorf("insert unlinked operation: %w", err)
	}
	if op.ClientInstanceID != "" {
		o := a.orphanTouch(op.ClientInstanceID)
		o.times = append(o.times, t)
	}
	return nil
}

func (a *appender) addSample(ctx context.Context, c *callState, r *model.Record, seq int64) error {
	s := r.Sample
	a.addKey(c.cid, s.ParticipantID)
	a.addKey(c.cid, s.EndpointID)
	a.addClient(s.ClientInstanceID, c.cid, s.ParticipantID)
	if p := a.part(c, s.ParticipantID); p != nil {
		p.flag(&p.client)
		if !p.grp && callfold.Usable(s.ParticipantID) {
			p.flag(&p.grp)
		}
		p.addResource(r.Resource)
	}
	v, ok := callfold.SampleValue(s)
	if !ok {
		return nil
	}
	spid := s.ParticipantID
	if spid == "" && s.ClientInstanceID != "" {
		spid = clientPlaceholder + s.ClientInstanceID
	}
	sid, err := a.series(ctx, seriesKey{c.cid, spid, callfold.SeriesStream(s), s.Metric})
	if err != nil {
		return err
	}
	t := callfold.NS(callfold.EventTime(r))
	k := pointKey{c.cid, minuteOf(t)}
	a.points[k] = append(a.points[k], point{t: t, seq: seq, sid: sid, value: v})
	return nil
}

func (a *appender) addSurvey(ctx context.Context, c *callState, r *model.Record) error {
	sv := *r.Survey
	sv.Overall, sv.Audio = finiteRating(sv.Overall), finiteRating(sv.Audio)
	sv.Video, sv.Screenshare = finiteRating(sv.Video), finiteRating(sv.Screenshare)
	s := &sv
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode survey: %w", err)
	}
	data = packRow(data)
	t := callfold.NS(r.Time)
	if _, err := a.exec(ctx, qInsertSurvey, c.cid, t, s.SurveyID, r.ID, data); err != nil {
		return fmt.Errorf("insert survey: %w", err)
	}
	var issues []string
	for _, v := range []string{s.OverallIssues, s.AudioIssues, s.VideoIssues, s.ScreenshareIssues} {
		if v != "" {
			issues = append(issues, v)
		}
	}
	return a.events.add(ctx, c.cid, t, model.KindSurvey, r.ID, s.ParticipantID, "CallSurvey", "",
		nil, nil, nil, strings.Join(issues, ", "))
}

func (a *appender) addPeerConn(ctx context.Context, c *callState, r *model.Record) error {
	pc := *r.PeerConn
	pc.ReceivedPacketsLostPct, pc.SentPacketsLostPct = callfold.Finite(pc.ReceivedPacketsLostPct), callfold.Finite(pc.SentPacketsLostPct)
	pc.MeanRoundTripMs, pc.SetupMs = callfold.Finite(pc.MeanRoundTripMs), callfold.Finite(pc.SetupMs)
	a.addKey(c.cid, pc.ParticipantID)
	data, err := json.Marshal(&pc)
	if err != nil {
		return fmt.Errorf("encode peer connection: %w", err)
	}
	if _, err := a.exec(ctx, qInsertPeerConn, c.cid, pc.ParticipantID, pc.ID, callfold.NS(r.Time), r.ID, packRow(data)); err != nil {
		return fmt.Errorf("insert peer connection: %w", err)
	}
	return nil
}

func (a *appender) writeParticipants(ctx context.Context) error {
	keys := make([]partKey, 0)
	for k, p := range a.parts {
		if p.dirty {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cid != keys[j].cid {
			return keys[i].cid < keys[j].cid
		}
		return keys[i].pid < keys[j].pid
	})
	for _, k := range keys {
		p := a.parts[k]
		ua, err := a.optName(ctx, p.ua)
		if err != nil {
			return fmt.Errorf("write participant %s: %w", p.pid, err)
		}
		args := []any{p.cid, p.pid, boolInt(p.grp), boolInt(p.client), boolInt(p.diag), p.dEtype, p.endpoint, p.identifier,
			ua, p.uaNS, p.uaRID, p.sdk, p.sdkNS, p.sdkRID, strings.Join(p.resources, "\n")}
		if s := p.sum; s != nil {
			res, err := a.optName(ctx, s.res)
			if err != nil {
				return fmt.Errorf("write participant %s: %w", p.pid, err)
			}
			args = append(args, boolInt(s.final), s.ver, s.ns, s.rid, res, s.callStart, s.callEnd, s.start, s.end,
				s.callType, s.etype, s.teams, s.sdk, s.os, s.data)
		} else {
			args = append(args, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil)
		}
		if _, err := a.exec(ctx, qWriteParticipant, args...); err != nil {
			return fmt.Errorf("write participant %s: %w", p.pid, err)
		}
	}
	return nil
}

// writeClients records client instance mappings and remembers which client
// instances are new, since their unlinked operations may now attach.
func (a *appender) writeClients(ctx context.Context) error {
	if len(a.clients) == 0 {
		return nil
	}
	for k, pid := range a.clients {
		cached, ok := a.db.cache.clients[k]
		if ok {
			best, changed := minNonEmpty(cached, pid)
			if !changed {
				continue
			}
			pid = best
		}
		if _, err := a.exec(ctx, qUpsertClient, k.ci, k.cid, pid); err != nil {
			return fmt.Errorf("write client map: %w", err)
		}
		if !ok {
			if err := a.queryRow(ctx, qClientPID, k.ci, k.cid).Scan(&pid); err != nil {
				return fmt.Errorf("read client map: %w", err)
			}
			a.orphanTouch(k.ci).newMapping = true
		}
		a.newClients[k] = pid
	}
	return nil
}

func (a *appender) writeKeys(ctx context.Context) error {
	b := a.bulk(keysSpec)
	for k := range a.keys {
		if err := b.add(ctx, k.key, k.cid); err != nil {
			return fmt.Errorf("write keys: %w", err)
		}
	}
	if err := b.flush(ctx); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	return nil
}

func (a *appender) writeCalls(ctx context.Context) error {
	for cid, c := range a.calls {
		row, err := summarize(c)
		if err != nil {
			return fmt.Errorf("summarize call %s: %w", c.id, err)
		}
		_, err = a.exec(ctx, qUpdateCall, row.start, row.end, row.duration, row.callType, row.teams, row.participants,
			row.clientTypes, row.resources, c.records, c.unknown, row.counts, c.first, c.last, cid)
		if err != nil {
			return fmt.Errorf("write call %s: %w", c.id, err)
		}
		c.callType = row.callType
	}
	return nil
}

// orphanTouch is what a batch did to one client instance: new unlinked
// operations (their times) and whether it gained a call.
type orphanTouch struct {
	times      []int64
	newMapping bool
}

func (a *appender) orphanTouch(ci string) *orphanTouch {
	o := a.orphans[ci]
	if o == nil {
		o = &orphanTouch{}
		a.orphans[ci] = o
	}
	return o
}

// touchOrphanCalls adds to the touched calls those that gain (or may lose)
// unlinked operations through this batch.
func (a *appender) touchOrphanCalls(ctx context.Context) error {
	for ci, o := range a.orphans {
		if o.newMapping && len(o.times) == 0 {
			var one int
			err := a.queryRow(ctx, qHasOrphans, ci).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("check unlinked operations: %w", err)
			}
		}
		cands, err := mappedCalls(ctx, a.tx, ci)
		if err != nil {
			return err
		}
		if o.newMapping {
			// A new call of this client instance may take over operations
			// that were attached to another of its calls.
			for _, c := range cands {
				a.touched[c.id] = struct{}{}
				a.orphanCalls[c.cid] = c.id
			}
			continue
		}
		for _, t := range o.times {
			if i := chooseCall(t, cands); i >= 0 {
				a.touched[cands[i].id] = struct{}{}
				a.orphanCalls[cands[i].cid] = cands[i].id
			}
		}
	}
	return nil
}

// mappedCalls lists the calls a client instance is known in.
func mappedCalls(ctx context.Context, q querier, ci string) ([]mappedCall, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.cid, c.id, coalesce(c.first_ns, 0), m.pid
		FROM client_map m JOIN calls c ON c.cid = m.cid WHERE m.ci = ? ORDER BY c.id`, ci)
	if err != nil {
		return nil, fmt.Errorf("client calls: %w", err)
	}
	defer rows.Close()
	var out []mappedCall
	for rows.Next() {
		var m mappedCall
		if err := rows.Scan(&m.cid, &m.id, &m.first, &m.pid); err != nil {
			return nil, fmt.Errorf("client calls: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("client calls: %w", err)
	}
	return out, nil
}

func (a *appender) writeCounters(ctx context.Context) error {
	_, err := a.exec(ctx, qAddCounters, a.stored, a.newCallCount)
	if err != nil {
		return fmt.Errorf("write counters: %w", err)
	}
	if a.stored > 0 {
		if _, err := a.exec(ctx, qSetLastAppend, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("write counters: %w", err)
		}
	}
	return nil
}

func (a *appender) writeChunks(ctx context.Context) error {
	a.chunks.wait()
	for _, g := range a.chunks.groups {
		if _, err := a.exec(ctx, qInsertChunk, g.id, g.cid, g.meta, g.data); err != nil {
			return fmt.Errorf("write chunk: %w", err)
		}
	}
	return nil
}

type pointKey struct {
	cid, minute int64
}

// writePoints packs the batch's points into one row per call and minute.
func (a *appender) writePoints(ctx context.Context) error {
	for k, ps := range a.points {
		first := ps[0].seq
		for _, p := range ps {
			first = min(first, p.seq)
		}
		if _, err := a.exec(ctx, qInsertPoints, k.cid, k.minute, first, len(ps), encodePoints(ps, k.minute)); err != nil {
			return fmt.Errorf("write points: %w", err)
		}
	}
	return nil
}
