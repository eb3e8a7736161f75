-- 0003: where continuous sources stand.
--
-- One row per stream (file, blob, partition) of a source (its URL): the
-- bytes and lines consumed, a tag of the stream's identity, and when the
-- row was saved (Unix nanoseconds).
CREATE TABLE checkpoints (
	source     TEXT NOT NULL,
	stream     TEXT NOT NULL,
	"offset"   INTEGER NOT NULL,
	line       INTEGER NOT NULL,
	tag        TEXT NOT NULL,
	updated_ns INTEGER NOT NULL,
	PRIMARY KEY (source, stream)
) WITHOUT ROWID;
