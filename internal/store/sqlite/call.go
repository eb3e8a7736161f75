package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/callfold"
)

// callHead is the calls row of one call.
type callHead struct {
	cid       int64
	call      model.Call
	resources string
	counts    string
}

// loadCallHead reads the summary row of a call, or store.ErrNotFound.
func loadCallHead(ctx context.Context, tx *sql.Tx, id string) (callHead, error) {
	var h callHead
	var start, end int64
	var callType string
	err := tx.QueryRowContext(ctx, `SELECT cid, start_ns, end_ns, duration, call_type, teams_thread, resources, counts, unknown, pinned
		FROM calls WHERE id = ?`, id).Scan(&h.cid, &start, &end, &h.call.DurationSeconds, &callType,
		&h.call.TeamsThreadID, &h.resources, &h.counts, &h.call.UnknownRecords, &h.call.Pinned)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return h, fmt.Errorf("call %s: %w", id, store.ErrNotFound)
	case err != nil:
		return h, fmt.Errorf("call %s: %w", id, err)
	}
	h.call.ID = id
	h.call.StartTime, h.call.EndTime = callfold.FromNS(start), callfold.FromNS(end)
	h.call.CallType = model.CallType(callType)
	return h, nil
}

// orphanOp is a client operation stored without a call id.
type orphanOp struct {
	rid, ci       string
	t             int64
	kind, pid     string
	name, result  string
	code, subcode sql.NullInt64
	dur           sql.NullFloat64
	detail        string
	ua, sdk       string
}

// attachedOrphans returns the operations without a call id that belong to
// call cid through their client instance, with the participant filled in
// from the mapping when the operation names none.
func attachedOrphans(ctx context.Context, tx *sql.Tx, cid int64) ([]orphanOp, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.ci FROM client_map m WHERE m.cid = ?
		AND EXISTS (SELECT 1 FROM orphan_ops o WHERE o.ci = m.ci)`, cid)
	if err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	var cis []string
	for rows.Next() {
		var ci string
		if err := rows.Scan(&ci); err != nil {
			rows.Close()
			return nil, fmt.Errorf("unlinked operations: %w", err)
		}
		cis = append(cis, ci)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	var out []orphanOp
	for _, ci := range cis {
		cands, err := mappedCalls(ctx, tx, ci)
		if err != nil {
			return nil, err
		}
		ops, err := orphansOf(ctx, tx, ci)
		if err != nil {
			return nil, err
		}
		for _, op := range ops {
			i := chooseCall(op.t, cands)
			if i < 0 || cands[i].cid != cid {
				continue
			}
			if op.pid == "" {
				op.pid = cands[i].pid
			}
			out = append(out, op)
		}
	}
	return out, nil
}

func orphansOf(ctx context.Context, tx *sql.Tx, ci string) ([]orphanOp, error) {
	rows, err := tx.QueryContext(ctx, `SELECT rid, t, kind, pid, name, result, code, subcode, dur, detail,
		coalesce((SELECT name FROM names WHERE id = ua), ''), sdk
		FROM orphan_ops WHERE ci = ? ORDER BY t, rid`, ci)
	if err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	defer rows.Close()
	var out []orphanOp
	for rows.Next() {
		op := orphanOp{ci: ci}
		err := rows.Scan(&op.rid, &op.t, &op.kind, &op.pid, &op.name, &op.result, &op.code, &op.subcode,
			&op.dur, &op.detail, &op.ua, &op.sdk)
		if err != nil {
			return nil, fmt.Errorf("unlinked operations: %w", err)
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unlinked operations: %w", err)
	}
	return out, nil
}

// Call returns the overview of one call, or store.ErrNotFound.
func (db *DB) Call(ctx context.Context, id string) (model.Call, error) {
	tx, err := db.readTx(ctx)
	if err != nil {
		return model.Call{}, err
	}
	defer tx.Rollback()
	h, err := loadCallHead(ctx, tx, id)
	if err != nil {
		return model.Call{}, err
	}
	c := h.call
	if err := json.Unmarshal([]byte(h.resources), &c.ResourceIDs); err != nil {
		return c, fmt.Errorf("call %s: decode resources: %w", id, err)
	}
	if c.ResourceIDs == nil {
		c.ResourceIDs = []string{}
	}
	if err := json.Unmarshal([]byte(h.counts), &c.RecordCounts); err != nil {
		return c, fmt.Errorf("call %s: decode counts: %w", id, err)
	}
	if c.RecordCounts == nil {
		c.RecordCounts = map[model.Category]int{}
	}
	parts, err := loadParticipants(ctx, tx, h.cid)
	if err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	orphans, err := attachedOrphans(ctx, tx, h.cid)
	if err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	if c.Participants, err = buildParticipants(parts, orphans); err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	if err := loadStreams(ctx, tx, h.cid, c.Participants); err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	if c.Surveys, err = loadSurveys(ctx, tx, h.cid); err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	if c.PeerConnections, err = loadPeerConns(ctx, tx, h.cid); err != nil {
		return c, fmt.Errorf("call %s: %w", id, err)
	}
	return c, nil
}

func loadPeerConns(ctx context.Context, tx *sql.Tx, cid int64) ([]model.PeerConnection, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t, rid, data FROM peer_conns WHERE cid = ?`, cid)
	if err != nil {
		return nil, fmt.Errorf("load peer connections: %w", err)
	}
	defer rows.Close()
	var all []callfold.PeerConnRow
	for rows.Next() {
		var r callfold.PeerConnRow
		var data []byte
		if err := rows.Scan(&r.T, &r.RID, &data); err != nil {
			return nil, fmt.Errorf("load peer connections: %w", err)
		}
		if err := decodeRow(data, &r.Row); err != nil {
			return nil, fmt.Errorf("decode peer connection %s: %w", r.RID, err)
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load peer connections: %w", err)
	}
	return callfold.PeerConnectionViews(all), nil
}

// buildParticipants turns merged participant state into the overview,
// ordered by start time (unknown last), then id.
func buildParticipants(parts []*partState, orphans []orphanOp) ([]model.Participant, error) {
	// Agent strings from unlinked operations compete with the ones from
	// operations that carried the call id: the earliest record wins.
	byPID := make(map[string]*partState, len(parts))
	for _, p := range parts {
		byPID[p.pid] = p
	}
	for _, op := range orphans {
		if p := byPID[op.pid]; p != nil {
			p.earliest(&p.ua, &p.uaNS, &p.uaRID, op.ua, op.t, op.rid)
			p.earliest(&p.sdk, &p.sdkNS, &p.sdkRID, op.sdk, op.t, op.rid)
		}
	}
	primary := primaryResource(parts)
	out := make([]model.Participant, 0, len(parts))
	for _, p := range parts {
		mp := model.Participant{
			ID:           p.pid,
			EndpointType: p.endpointType(),
			Source:       "client",
			UserAgent:    p.ua,
			Streams:      []model.Stream{},
		}
		var row *model.ParticipantRow
		var res string
		if s := p.sum; s != nil {
			row, res = &model.ParticipantRow{}, s.res
			if err := decodeRow(s.data, row); err != nil {
				return nil, fmt.Errorf("decode summary row of %s: %w", p.pid, err)
			}
		}
		callfold.FillParticipant(&mp, row, res, p.endpoint, p.identifier, p.sdk)
		if primary != "" && len(p.resources) > 0 {
			i := sort.SearchStrings(p.resources, primary)
			mp.OtherResource = i == len(p.resources) || p.resources[i] != primary
		}
		out = append(out, mp)
	}
	callfold.OrderParticipants(out)
	return out, nil
}

// primaryResource is the resource that reported the most summary rows of a
// call, ties going to the lexically smallest.
func primaryResource(parts []*partState) string {
	n := make(map[string]int)
	for _, p := range parts {
		if p.sum != nil && p.sum.res != "" {
			n[p.sum.res]++
		}
	}
	best := ""
	for res, c := range n {
		if best == "" || c > n[best] || (c == n[best] && res < best) {
			best = res
		}
	}
	return best
}

// loadStreams attaches the winning stream rows to their participants.
func loadStreams(ctx context.Context, tx *sql.Tx, cid int64, parts []model.Participant) error {
	idx := make(map[string]int, len(parts))
	for i := range parts {
		idx[parts[i].ID] = i
	}
	rows, err := tx.QueryContext(ctx, `SELECT pid, rid, server, data FROM streams WHERE cid = ?
		ORDER BY pid, media, dir, acs`, cid)
	if err != nil {
		return fmt.Errorf("load streams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, rid string
		var server int64
		var data []byte
		if err := rows.Scan(&pid, &rid, &server, &data); err != nil {
			return fmt.Errorf("load streams: %w", err)
		}
		i, ok := idx[pid]
		if !ok {
			continue
		}
		var row model.StreamRow
		if err := decodeRow(data, &row); err != nil {
			return fmt.Errorf("decode stream row %s: %w", rid, err)
		}
		parts[i].Streams = append(parts[i].Streams, callfold.StreamView(pid, rid, server != 0, &row))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load streams: %w", err)
	}
	return nil
}

func loadSurveys(ctx context.Context, tx *sql.Tx, cid int64) ([]model.SurveyView, error) {
	rows, err := tx.QueryContext(ctx, `SELECT t, rid, data FROM surveys WHERE cid = ? ORDER BY t, survey_id, rid`, cid)
	if err != nil {
		return nil, fmt.Errorf("load surveys: %w", err)
	}
	defer rows.Close()
	out := []model.SurveyView{}
	for rows.Next() {
		var t int64
		var rid string
		var data []byte
		if err := rows.Scan(&t, &rid, &data); err != nil {
			return nil, fmt.Errorf("load surveys: %w", err)
		}
		var s model.Survey
		if err := decodeRow(data, &s); err != nil {
			return nil, fmt.Errorf("decode survey %s: %w", rid, err)
		}
		out = append(out, model.SurveyView{
			SurveyID: s.SurveyID, ParticipantID: s.ParticipantID, Time: callfold.FromNS(t),
			Overall: s.Overall, Audio: s.Audio, Video: s.Video, Screenshare: s.Screenshare,
			OverallIssues: s.OverallIssues, AudioIssues: s.AudioIssues, VideoIssues: s.VideoIssues,
			ScreenshareIssues: s.ScreenshareIssues, RecordID: rid,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load surveys: %w", err)
	}
	return out, nil
}
