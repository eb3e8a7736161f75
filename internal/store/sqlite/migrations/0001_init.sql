-- 0001: the initial calldiag schema.
--
-- Times are Unix nanoseconds (0 means unknown). A call is referred to by its
-- integer cid everywhere except in calls itself, which keeps the string id.
-- The bulk of the data (raw records, media-stats points) is packed into a
-- few rows per call and batch, because with SQLite a row costs far more
-- than the bytes in it.

-- Interned category and resource names.
CREATE TABLE names (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);

-- Small counters kept up to date by Append: records, calls, index_upto.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

-- Every stored record, also unknown and resource-level ones (cid 0), in
-- chunks: the records of one call from one batch. data is the DEFLATE of
-- their concatenated raw bytes; meta lists, per record, its id, category and
-- resource (names ids), time and place in data. A record's seq is
-- (chunk id << 20) + its position in the chunk.
CREATE TABLE chunks (
	id   INTEGER PRIMARY KEY,
	cid  INTEGER NOT NULL,
	meta BLOB NOT NULL,
	data BLOB NOT NULL
);
-- Retention (Expire) finds the chunks and search keys of a call by cid.
CREATE INDEX chunks_by_call ON chunks (cid);

-- The record id index: sorted runs of (128-bit key of the id, seq), split
-- into pages of a few dozen entries. An id of 32 lower-case hex digits is
-- its own key; any other id's key is the first half of its SHA-256, flagged
-- in the top bit of seq. A page is keyed by the first 64 bits of its first
-- key, with the sign bit flipped so that integer order is key order; keys
-- that share those 64 bits are never split across pages. Chunks after the
-- counter index_upto are not in any run yet: the writer keeps their ids in
-- memory and writes them out as one run at a time. Runs of one tier are
-- merged into a run of the next tier once four of them exist.
CREATE TABLE id_runs (
	run  INTEGER PRIMARY KEY,
	tier INTEGER NOT NULL,
	n    INTEGER NOT NULL
);
CREATE TABLE id_pages (
	run   INTEGER NOT NULL,
	first INTEGER NOT NULL,
	data  BLOB NOT NULL,
	PRIMARY KEY (run, first)
) WITHOUT ROWID;

-- One row per call: the search summary, maintained on every Append.
CREATE TABLE calls (
	cid          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	start_ns     INTEGER NOT NULL DEFAULT 0,
	end_ns       INTEGER NOT NULL DEFAULT 0,
	duration     REAL NOT NULL DEFAULT 0,
	call_type    TEXT NOT NULL DEFAULT '',
	teams_thread TEXT NOT NULL DEFAULT '',
	participants INTEGER NOT NULL DEFAULT 0,
	client_types TEXT NOT NULL DEFAULT '{}',
	resources    TEXT NOT NULL DEFAULT '[]',
	records      INTEGER NOT NULL DEFAULT 0,
	unknown      INTEGER NOT NULL DEFAULT 0,
	counts       TEXT NOT NULL DEFAULT '{}',
	first_ns     INTEGER,
	last_ns      INTEGER,
	-- The latest detection (ReplaceDetection; Append leaves these alone).
	-- issue_count counts issues of severity warning or worse and
	-- issue_kinds (a JSON array) lists their kinds; max_sev is the highest
	-- severity rank of any issue (info 1, warning 2, critical 3, none 0).
	quality      TEXT NOT NULL DEFAULT 'Unknown',
	rating       TEXT NOT NULL DEFAULT 'Unknown',
	rating_score REAL,
	issue_count  INTEGER NOT NULL DEFAULT 0,
	max_sev      INTEGER NOT NULL DEFAULT 0,
	issue_kinds  TEXT NOT NULL DEFAULT '[]',
	-- 1 keeps the call whatever the retention window (SetPinned).
	pinned       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX calls_by_start ON calls (start_ns, id);
CREATE INDEX calls_by_duration ON calls (duration, id, start_ns);
CREATE INDEX calls_by_participants ON calls (participants, id, start_ns);
-- The detection indexes carry every sort column, so that a filtered page
-- is chosen from the index alone before any row is read.
CREATE INDEX calls_by_quality ON calls (quality, start_ns, duration, participants, id);
CREATE INDEX calls_by_rating ON calls (rating, start_ns, duration, participants, id);
CREATE INDEX calls_by_severity ON calls (max_sev, start_ns, duration, participants, id);

-- The issues of the latest detection of a call, as a JSON array.
CREATE TABLE detections (
	cid     INTEGER PRIMARY KEY,
	issues  BLOB NOT NULL,
	-- JSON {"mos": {…}, "completeness": {…}}; NULL when not given.
	extra   BLOB,
	rules   TEXT NOT NULL DEFAULT '',
	records INTEGER NOT NULL DEFAULT 0
);

-- The issue kinds of a call's latest detection with the highest severity
-- rank of each, for the kind filter of search.
CREATE TABLE call_issues (
	cid  INTEGER NOT NULL,
	kind TEXT NOT NULL,
	sev  INTEGER NOT NULL,
	PRIMARY KEY (cid, kind)
) WITHOUT ROWID;
CREATE INDEX call_issues_by_kind ON call_issues (kind, cid);

-- Search keys: lower-cased call, participant and endpoint ids and identifiers.
CREATE TABLE keys (
	key TEXT NOT NULL,
	cid INTEGER NOT NULL,
	PRIMARY KEY (key, cid)
) WITHOUT ROWID;
CREATE INDEX keys_by_call ON keys (cid);

-- Search facets. facet_values interns each value a call can have of the
-- call type (facet 1), endpoint type (2), SDK version (3), OS family (4)
-- and resource (5) filters, spelt as the filters compare them (see
-- facets.go), with the number of calls that have it (0 once none has).
-- facets lists the values of each call; Append replaces a call's rows
-- whenever what they derive from changes.
CREATE TABLE facet_values (
	id    INTEGER PRIMARY KEY,
	facet INTEGER NOT NULL,
	value TEXT NOT NULL,
	calls INTEGER NOT NULL DEFAULT 0,
	UNIQUE (facet, value)
);
CREATE TABLE facets (
	vid INTEGER NOT NULL,
	cid INTEGER NOT NULL,
	PRIMARY KEY (vid, cid)
) WITHOUT ROWID;
CREATE INDEX facets_by_call ON facets (cid);

-- One row per participant leg, merged from every source that names it.
-- The s_* columns hold the winning summary row (s_final NULL: none yet);
-- s_sdk and s_os repeat its SDK and OS versions for the facets.
CREATE TABLE participants (
	cid          INTEGER NOT NULL,
	pid          TEXT NOT NULL,
	grp          INTEGER NOT NULL,
	client       INTEGER NOT NULL,
	diag         INTEGER NOT NULL,
	d_etype      TEXT NOT NULL,
	endpoint     TEXT NOT NULL,
	identifier   TEXT NOT NULL,
	ua           TEXT NOT NULL,
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
	s_res        TEXT,
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

-- The winning CallDiagnostics(Updates) row per stream.
CREATE TABLE streams (
	cid    INTEGER NOT NULL,
	pid    TEXT NOT NULL,
	media  TEXT NOT NULL,
	dir    TEXT NOT NULL,
	acs    TEXT NOT NULL,
	final  INTEGER NOT NULL,
	ver    INTEGER NOT NULL,
	t      INTEGER NOT NULL,
	rid    TEXT NOT NULL,
	server INTEGER NOT NULL,
	data   BLOB NOT NULL,
	PRIMARY KEY (cid, pid, media, dir, acs)
) WITHOUT ROWID;

-- Timeline events stored as they arrive (join and leave are derived from
-- participants when read).
CREATE TABLE events (
	cid     INTEGER NOT NULL,
	t       INTEGER NOT NULL,
	kind    TEXT NOT NULL,
	id      TEXT NOT NULL,
	pid     TEXT NOT NULL,
	name    TEXT NOT NULL,
	result  TEXT NOT NULL,
	code    INTEGER,
	subcode INTEGER,
	dur     REAL,
	detail  TEXT NOT NULL,
	PRIMARY KEY (cid, t, kind, id)
) WITHOUT ROWID;

-- Media-stats series (participant, stream, metric) of a call.
CREATE TABLE series (
	sid    INTEGER PRIMARY KEY,
	cid    INTEGER NOT NULL,
	pid    TEXT NOT NULL,
	stream TEXT NOT NULL,
	metric TEXT NOT NULL,
	UNIQUE (cid, pid, stream, metric)
);

-- Media-stats points, packed: one row per call, minute and batch holding
-- the points of that minute as (time, hash of record id, record seq,
-- series, value), ordered by time, hash and seq. The hash orders points of
-- the same time independently of arrival order.
CREATE TABLE points (
	cid    INTEGER NOT NULL,
	minute INTEGER NOT NULL,
	seq    INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	data   BLOB NOT NULL,
	PRIMARY KEY (cid, minute, seq)
) WITHOUT ROWID;

CREATE TABLE surveys (
	cid       INTEGER NOT NULL,
	t         INTEGER NOT NULL,
	survey_id TEXT NOT NULL,
	rid       TEXT NOT NULL,
	data      BLOB NOT NULL,
	PRIMARY KEY (cid, t, survey_id, rid)
) WITHOUT ROWID;

-- Client instance to call mapping learnt from client records with a call id.
CREATE TABLE client_map (
	ci  TEXT NOT NULL,
	cid INTEGER NOT NULL,
	pid TEXT NOT NULL,
	PRIMARY KEY (ci, cid)
) WITHOUT ROWID;
CREATE INDEX client_map_by_call ON client_map (cid, ci);

-- Client operations that arrived without a call id. They are attached to a
-- call through client_map when read, so the attachment never depends on
-- which record arrived first.
CREATE TABLE orphan_ops (
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
	ua      TEXT NOT NULL,
	sdk     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX orphan_ops_by_client ON orphan_ops (ci, t);
