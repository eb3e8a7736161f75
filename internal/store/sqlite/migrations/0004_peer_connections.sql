-- 0004: WebRTC peer connections.
--
-- One row per summary record of a peer connection (t is the record's time
-- in Unix nanoseconds, data the row as compressed JSON); a call shows the
-- latest of each connection.
CREATE TABLE peer_conns (
	cid  INTEGER NOT NULL,
	pid  TEXT NOT NULL,
	pc   TEXT NOT NULL,
	t    INTEGER NOT NULL,
	rid  TEXT NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (cid, pid, pc, t, rid)
) WITHOUT ROWID;
