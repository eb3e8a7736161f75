-- 0002: a more compact store.
--
-- series: keyed by (cid, pid, stream, metric) with no second index; the
-- stream and metric names are interned in names; a series id now counts
-- up from 1 within its call (ids already given stay).
INSERT OR IGNORE INTO names (name) SELECT stream FROM series UNION SELECT metric FROM series;
CREATE TABLE series_v2 (
	cid    INTEGER NOT NULL,
	pid    TEXT NOT NULL,
	stream INTEGER NOT NULL, -- names id
	metric INTEGER NOT NULL, -- names id
	sid    INTEGER NOT NULL,
	PRIMARY KEY (cid, pid, stream, metric)
) WITHOUT ROWID;
INSERT INTO series_v2 (cid, pid, stream, metric, sid)
	SELECT s.cid, s.pid, st.id, me.id, s.sid FROM series s
	JOIN names st ON st.name = s.stream JOIN names me ON me.name = s.metric;
DROP TABLE series;
ALTER TABLE series_v2 RENAME TO series;

-- participants: the user agent and the summary row's resource as names
-- ids, since the same long strings repeat on most participants.
INSERT OR IGNORE INTO names (name) SELECT ua FROM participants WHERE ua <> ''
	UNION SELECT s_res FROM participants WHERE s_res IS NOT NULL;
CREATE TABLE participants_v2 (
	cid          INTEGER NOT NULL,
	pid          TEXT NOT NULL,
	grp          INTEGER NOT NULL,
	client       INTEGER NOT NULL,
	diag         INTEGER NOT NULL,
	d_etype      TEXT NOT NULL,
	endpoint     TEXT NOT NULL,
	identifier   TEXT NOT NULL,
	ua           INTEGER NOT NULL, -- names id, 0: none
	ua_ns        INTEGER NOT NULL,
	ua_rid       TEXT NOT NULL,
	sdk          TEXT NOT NULL,
	sdk_ns       INTEGER NOT NULL,
	sdk_rid      TEXT NOT NULL,
	resources    TEXT NOT NULL,
	s_final      INTEGER,
	s_ver        INTEGER,
	s_ns         INTEGER,
	s_rid        TEXT,
	s_res        INTEGER,          -- names id
	s_call_start INTEGER,
	s_call_end   INTEGER,
	s_start      INTEGER,
	s_end        INTEGER,
	s_call_type  TEXT,
	s_etype      TEXT,
	s_teams      TEXT,
	s_sdk        TEXT,
	s_os         TEXT,
	s_data       BLOB,
	PRIMARY KEY (cid, pid)
) WITHOUT ROWID;
INSERT INTO participants_v2 (cid, pid, grp, client, diag, d_etype, endpoint, identifier, ua, ua_ns, ua_rid, sdk, sdk_ns, sdk_rid, resources, s_final, s_ver, s_ns, s_rid, s_res, s_call_start, s_call_end, s_start, s_end, s_call_type, s_etype, s_teams, s_sdk, s_os, s_data)
	SELECT p.cid,
		p.pid,
		p.grp,
		p.client,
		p.diag,
		p.d_etype,
		p.endpoint,
		p.identifier,
		coalesce((SELECT id FROM names WHERE name = p.ua AND p.ua <> ''), 0),
		p.ua_ns,
		p.ua_rid,
		p.sdk,
		p.sdk_ns,
		p.sdk_rid,
		p.resources,
		p.s_final,
		p.s_ver,
		p.s_ns,
		p.s_rid,
		(SELECT id FROM names WHERE name = p.s_res),
		p.s_call_start,
		p.s_call_end,
		p.s_start,
		p.s_end,
		p.s_call_type,
		p.s_etype,
		p.s_teams,
		p.s_sdk,
		p.s_os,
		p.s_data
	FROM participants p;
DROP TABLE participants;
ALTER TABLE participants_v2 RENAME TO participants;

-- orphan_ops: the user agent as a names id too.
INSERT OR IGNORE INTO names (name) SELECT DISTINCT ua FROM orphan_ops WHERE ua <> '';
CREATE TABLE orphan_ops_v2 (
	rid     TEXT PRIMARY KEY,
	ci      TEXT NOT NULL,
	t       INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	pid     TEXT NOT NULL,
	name    TEXT NOT NULL,
	result  TEXT NOT NULL,
	code    INTEGER,
	subcode INTEGER,
	dur     REAL,
	detail  TEXT NOT NULL,
	ua      INTEGER NOT NULL, -- names id, 0: none
	sdk     TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO orphan_ops_v2 (rid, ci, t, kind, pid, name, result, code, subcode, dur, detail, ua, sdk)
	SELECT o.rid, o.ci, o.t, o.kind, o.pid, o.name, o.result, o.code, o.subcode, o.dur, o.detail,
		coalesce((SELECT id FROM names WHERE name = o.ua AND o.ua <> ''), 0), o.sdk
	FROM orphan_ops o;
DROP TABLE orphan_ops;
ALTER TABLE orphan_ops_v2 RENAME TO orphan_ops;
CREATE INDEX orphan_ops_by_client ON orphan_ops (ci, t);

-- points: the same rows, packed anew (points.go describes the encoding):
-- no record hash or record seq per point, values as short decimals, the
-- row compressed. Points of the same time are now ordered by their series
-- and value. The program rewrites the rows of version 1 in this step.
