package clickhouse

import (
	"context"
	"fmt"
	"strings"
)

// Record kinds in the records table.
const (
	kindOther     uint8 = iota // unknown and resource-level records
	kindSummary                // CallSummary(Updates)
	kindStream                 // CallDiagnostics(Updates)
	kindOperation              // CallClientOperations
	kindSample                 // CallClientMediaStatsTimeSeries
	kindSurvey                 // CallSurvey
	kindService                // service events
	kindPeerConn               // WebRTC peer-connection summaries
)

// schema creates the tables. Times are Unix nanoseconds in Int64 columns;
// day is the UTC day of a row's time, the partition key.
var schema = []string{
	// Every stored record: rec is the normalized record as JSON (empty for
	// media-stats samples, which the points table holds); the record as it
	// arrived is raw_len bytes at raw_off in chunk (ver, raw_seq) of the
	// raws table. Ordered for reading one call's records.
	`CREATE TABLE IF NOT EXISTS {db}.records (
		day Date,
		resource String,
		call_id String,
		t Int64,
		rec_time Int64,
		id String,
		kind UInt8,
		client_id String,
		category String,
		ver UInt64,
		rec String,
		raw_seq UInt32,
		raw_off UInt32,
		raw_len UInt32
	) ENGINE = MergeTree PARTITION BY day ORDER BY (resource, call_id, t, id)`,

	// The original bytes of records, in zstd-compressed chunks (see
	// raw.go). client_id and kind are set for chunks of records without a
	// call only.
	`CREATE TABLE IF NOT EXISTS {db}.raws (
		day Date,
		resource String,
		call_id String,
		client_id String,
		kind UInt8,
		ver UInt64,
		seq UInt32,
		data String
	) ENGINE = MergeTree PARTITION BY day ORDER BY (resource, call_id, ver, seq)`,

	// Media-stats samples of calls, one per record: pid is the series
	// participant (or the client placeholder), value is set when has_value.
	`CREATE TABLE IF NOT EXISTS {db}.points (
		day Date,
		resource String,
		call_id String,
		t Int64,
		h Int64,
		id String,
		pid String,
		participant String,
		endpoint String,
		client_id String,
		category String,
		stream String,
		metric String,
		has_value UInt8,
		value Float64
	) ENGINE = MergeTree PARTITION BY day ORDER BY (resource, call_id, t, h)`,

	// The id of every record ever stored, where it went, and when. Ids of
	// expired calls stay, so that their records are not stored again.
	`CREATE TABLE IF NOT EXISTS {db}.ids (
		id String,
		call_id String,
		resource String,
		day Date,
		t Int64,
		stored Int64
	) ENGINE = MergeTree ORDER BY id`,

	// Per-call search summaries, one row per version; the row with the
	// highest ver is the call's state. deleted marks an expired call.
	`CREATE TABLE IF NOT EXISTS {db}.calls (
		day Date,
		call_id String,
		ver UInt64,
		deleted UInt8,
		start Int64,
		end Int64,
		duration Float64,
		call_type String,
		participants UInt32,
		client_types String,
		resources Array(String),
		records UInt64,
		first Int64,
		last Int64,
		endpoint_types Array(String),
		sdks Array(String),
		oses Array(String),
		res_facets Array(String),
		quality String,
		rating String,
		has_score UInt8,
		rating_score Float64,
		issue_count UInt32,
		max_sev UInt8,
		issue_kinds Array(String),
		all_kinds Array(String),
		pinned UInt8
	) ENGINE = ReplacingMergeTree(ver) PARTITION BY toYYYYMM(day) ORDER BY (day, call_id)`,

	// The stored detection of each call, one row per version.
	`CREATE TABLE IF NOT EXISTS {db}.detections (
		call_id String,
		ver UInt64,
		issues String,
		extra String,
		rules String,
		records UInt64
	) ENGINE = ReplacingMergeTree(ver) ORDER BY call_id`,

	// Search keys: lower-cased call, participant and endpoint ids and
	// identifiers.
	`CREATE TABLE IF NOT EXISTS {db}.keys (
		key String,
		call_id String
	) ENGINE = ReplacingMergeTree ORDER BY (key, call_id)`,

	// Client instances and the calls they were seen in, with the
	// participant they were seen as.
	`CREATE TABLE IF NOT EXISTS {db}.clients (
		client_id String,
		call_id String,
		ver UInt64,
		pid String
	) ENGINE = ReplacingMergeTree(ver) ORDER BY (client_id, call_id)`,

	// Store-wide values: last_append.
	`CREATE TABLE IF NOT EXISTS {db}.meta (
		name String,
		ver UInt64,
		value Int64
	) ENGINE = ReplacingMergeTree(ver) ORDER BY name`,

	// Where continuous sources stand: one row per save of a stream's
	// checkpoint, the newest (by ver) winning.
	`CREATE TABLE IF NOT EXISTS {db}.checkpoints (
		source String,
		stream String,
		ver UInt64,
		offset Int64,
		line Int64,
		tag String,
		updated Int64
	) ENGINE = ReplacingMergeTree(ver) ORDER BY (source, stream)`,
}

func (db *DB) migrate(ctx context.Context) error {
	if err := db.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+db.name+"`"); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	for _, s := range schema {
		if err := db.conn.Exec(ctx, strings.ReplaceAll(s, "{db}", "`"+db.name+"`")); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	}
	// Databases made before the original records moved into chunks keep
	// them in a raw column; they are not converted.
	var old uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = 'records'"+
		" AND name = 'raw'", db.name).Scan(&old); err != nil {
		return fmt.Errorf("check tables: %w", err)
	}
	if old > 0 {
		return db.tooOld()
	}
	// Call rows are versioned by their record count first (see
	// rowVersion); rows versioned by time alone would hide every newer one.
	var marked, calls uint64
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+db.t("meta")+" WHERE name = 'row_versions'").
		Scan(&marked); err != nil {
		return fmt.Errorf("check tables: %w", err)
	}
	if marked > 0 {
		return nil
	}
	if err := db.conn.QueryRow(ctx, "SELECT count() FROM "+db.t("calls")).Scan(&calls); err != nil {
		return fmt.Errorf("check tables: %w", err)
	}
	if calls > 0 {
		return db.tooOld()
	}
	if err := db.insertRow(ctx, "meta", "row_versions", uint64(1), int64(2)); err != nil {
		return fmt.Errorf("mark tables: %w", err)
	}
	return nil
}

func (db *DB) tooOld() error {
	return fmt.Errorf("database %s was made by an older calldiag whose tables this one cannot use:"+
		" drop it (DROP DATABASE %s) and ingest the logs again", db.name, db.name)
}
