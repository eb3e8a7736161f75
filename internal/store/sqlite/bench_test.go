package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"calldiag/internal/model"
	"calldiag/internal/store"
)

// liveWorkload produces the records of several concurrent group calls the
// way an ingest sees them: every 10 s each participant reports a dozen
// media-stats metrics and an operation; diagnostics and summary rows come
// when a call ends.
type liveWorkload struct {
	calls, parts, steps int // concurrent calls, participants per call, 10 s steps per call
	step                int
	next                int // record id counter
	raw                 []byte
}

var benchMetrics = []string{"JitterInMs", "Bitrate", "PacketsPerSecond", "PacketsLostPerSecond", "RttInMs",
	"AudioInputLevel", "AudioOutputLevel", "JitterBufferInMs", "HealedRatio", "AvailableBitrate", "PairRttInMs", "FrameRateOutput"}

// id returns a fresh record id shaped like the ingest's: 32 hex digits of
// a content hash, so ids arrive in random order.
func (w *liveWorkload) id() string {
	w.next++
	h := sha256.Sum256(strconv.AppendInt(nil, int64(w.next), 10))
	return hex.EncodeToString(h[:16])
}

// rawOf imitates an exported record of about the usual size.
func (w *liveWorkload) rawOf(call, pid, name string, t time.Time) []byte {
	w.raw = w.raw[:0]
	w.raw = fmt.Appendf(w.raw, `{"time":"%s","resourceId":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/ACS",`+
		`"category":"CallClientMediaStatsTimeSeries","properties":{"TenantId":"aaaabbbb-0000-cccc-1111-dddd2222eeee","OperationName":"CallClientMediaStatsTimeSeries",`+
		`"CallId":%q,"CallClientTimeStamp":"%s","MetricName":%q,"Count":"10","Sum":"170","Average":"17","Minimum":"10","Maximum":"25",`+
		`"MediaStreamDirection":"recv","MediaStreamType":"audio","MediaStreamCodec":"OPUS","ParticipantId":%q,"ClientInstanceId":"ci-%s","AggregationIntervalSeconds":"10"}}`,
		t.Format(time.RFC3339Nano), call, t.Format(time.RFC3339Nano), name, pid, pid)
	return append([]byte(nil), w.raw...)
}

// batch returns the records of the next 10 s step.
func (w *liveWorkload) batch() []model.Record {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var recs []model.Record
	res := "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/microsoft.communication/communicationservices/acs"
	for c := range w.calls {
		// Calls are staggered so that one ends every few steps.
		age := (w.step + c*w.steps/w.calls) % w.steps
		gen := (w.step + c*w.steps/w.calls) / w.steps
		call := fmt.Sprintf("bench-call-%d-%d", c, gen)
		start := base.Add(time.Duration(w.step-age) * 10 * time.Second)
		t := base.Add(time.Duration(w.step) * 10 * time.Second)
		for p := range w.parts {
			pid := fmt.Sprintf("%s-p%02d", call, p)
			ci := "ci-" + pid
			for _, m := range benchMetrics {
				avg := float64(w.step%50) + 0.5
				recs = append(recs, model.Record{
					ID: w.id(), Category: model.CatCallClientMediaStatsTimeSeries, Resource: res, CallID: call, Time: t, Known: true,
					Raw: w.rawOf(call, pid, m, t),
					Sample: &model.Sample{ParticipantID: pid, ClientInstanceID: ci, MediaType: model.MediaAudio,
						Direction: model.DirInbound, Codec: "OPUS", Metric: m, ClientTime: t, Average: &avg},
				})
			}
			recs = append(recs, model.Record{
				ID: w.id(), Category: model.CatCallClientOperations, Resource: res, CallID: call, Time: t, Known: true,
				Raw: w.rawOf(call, pid, "op", t),
				Operation: &model.Operation{Name: "State-changed", ParticipantID: pid, ClientInstanceID: ci, ClientTime: t,
					ResultType: "Succeeded", SDKVersion: "1.30.1", UserAgent: "azsdk-js-communication-calling/1.30.1"},
			})
			if age != w.steps-1 {
				continue
			}
			dur := float64(age * 10)
			for _, dir := range []model.Direction{model.DirInbound, model.DirOutbound} {
				etype := model.EndpointVoIP
				if dir == model.DirInbound {
					etype = model.EndpointServer
				}
				recs = append(recs, model.Record{
					ID: w.id(), Category: model.CatCallDiagnostics, Resource: res, CallID: call, Time: t, Known: true,
					Raw: w.rawOf(call, pid, "diag", t),
					Stream: &model.StreamRow{ParticipantID: pid, RawParticipantID: pid, EndpointType: etype,
						MediaType: model.MediaAudio, Direction: dir, ACSStreamID: "1000", JitterAvgMs: &avg10},
				})
			}
			recs = append(recs, model.Record{
				ID: w.id(), Category: model.CatCallSummary, Resource: res, CallID: call, Time: t, Known: true,
				Raw: w.rawOf(call, pid, "summary", t),
				Participant: &model.ParticipantRow{ParticipantID: pid, RawParticipantID: pid, EndpointID: "ep-" + pid,
					EndpointType: model.EndpointVoIP, CallStartTime: start, CallDuration: &dur, CallType: model.CallTypeGroup,
					StartTime: start, Duration: &dur},
			})
		}
	}
	w.step++
	return recs
}

var avg10 = 10.0

// BenchmarkAppend appends batches of a live workload (about 2,000 records,
// mostly media-stats samples) and reports records per second.
func BenchmarkAppend(b *testing.B) {
	db := openTest(b)
	w := &liveWorkload{calls: 8, parts: 10, steps: 60}
	ctx := context.Background()
	var records, bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		batch := append(w.batch(), w.batch()...)
		for i := range batch {
			bytes += int64(len(batch[i].Raw))
		}
		b.StartTimer()
		res, err := db.Append(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		records += int64(res.Stored)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
	b.SetBytes(bytes / int64(b.N))
}

// BenchmarkSearch searches a store of 100,000 summary-only calls, 30 % of
// them with detected issues; CALLDIAG_BENCH_CALLS sets another number
// (1000000 for the million-call figure, which takes minutes to build).
// With CALLDIAG_BENCH_DIR set, the store is built once in a subdirectory
// of it named after the number of calls and reused by later runs.
func BenchmarkSearch(b *testing.B) {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("CALLDIAG_BENCH_CALLS")); err == nil && v > 0 {
		n = v
	}
	db := searchBenchStore(b, n, base)
	ctx := context.Background()
	for _, tc := range searchBenchCases(base) {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			took := make([]time.Duration, 0, b.N)
			for range b.N {
				start := time.Now()
				if _, err := db.SearchCalls(ctx, tc.q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2])/1e6, "p50-ms")
			b.ReportMetric(float64(took[len(took)*95/100])/1e6, "p95-ms")
		})
	}
}

// benchCase is a named search of BenchmarkSearch.
type benchCase struct {
	name string
	q    store.CallQuery
}

// searchBenchCases are the searches BenchmarkSearch times on the calls of
// summaryOnly starting at base.
func searchBenchCases(base time.Time) []benchCase {
	return []benchCase{
		{"none", store.CallQuery{}},
		{"since", store.CallQuery{Since: base.Add(30 * time.Minute)}},
		{"since+until/duration", store.CallQuery{Since: base.Add(50 * time.Minute), Until: base.Add(55 * time.Minute), Sort: store.SortDuration}},
		{"since/participants/asc", store.CallQuery{Since: base.Add(59 * time.Minute), Sort: store.SortParticipants, Asc: true}},
		{"q/exact", store.CallQuery{Q: "participant-00054321-1"}},
		{"q/prefix", store.CallQuery{Q: "PARTICIPANT-0005432"}},
		{"q/identifier+since", store.CallQuery{Q: "8:acs:user-000012", Since: base.Add(30 * time.Minute)}},
		{"kind", store.CallQuery{IssueKinds: []string{"jitter"}}},
		{"kinds/duration", store.CallQuery{IssueKinds: []string{"jitter", "drop"}, Sort: store.SortDuration}},
		{"kind+since/participants/asc", store.CallQuery{IssueKinds: []string{"reconnect"}, Since: base.Add(30 * time.Minute),
			Sort: store.SortParticipants, Asc: true}},
		{"quality/poor", store.CallQuery{Quality: "Poor"}},
		{"quality/good/duration", store.CallQuery{Quality: "Good", Sort: store.SortDuration}},
		{"has-issues+since", store.CallQuery{HasIssues: true, Since: base.Add(30 * time.Minute)}},
		{"min-critical/participants", store.CallQuery{MinSeverity: model.SeverityCritical, Sort: store.SortParticipants}},
		{"rating+quality+kind", store.CallQuery{Rating: "Good", Quality: "Poor", IssueKinds: []string{"jitter"}}},
		{"endpoint/common", store.CallQuery{EndpointType: "VoIP"}},
		{"endpoint/pstn", store.CallQuery{EndpointType: "PSTN"}},
		{"call-type/group/duration", store.CallQuery{CallType: "Group", Sort: store.SortDuration}},
		{"os/rare", store.CallQuery{OS: "Linux"}},
		{"sdk/common+since", store.CallQuery{SDK: "2.11.0.1", Since: base.Add(30 * time.Minute)}},
		{"resource/rare", store.CallQuery{Resource: synthRare}},
		{"resource+os+endpoint", store.CallQuery{Resource: synthResource, OS: "Windows", EndpointType: "VoIP"}},
		{"os/common+quality", store.CallQuery{OS: "Android", Quality: "Good"}},
	}
}

// searchBenchStore opens the store of BenchmarkSearch, building it unless
// CALLDIAG_BENCH_DIR holds a complete one of n calls: a file "built" is
// written beside the database once the build has finished.
func searchBenchStore(b *testing.B, n int, base time.Time) *DB {
	b.Helper()
	dir := b.TempDir()
	keep := os.Getenv("CALLDIAG_BENCH_DIR")
	if keep != "" {
		dir = filepath.Join(keep, fmt.Sprintf("search-%d", n))
		if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
			return openDir(b, dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	db := openDir(b, dir)
	appendAll(b, db, summaryOnly(n, base), 5000)
	detectSynthetic(b, db, n, base)
	if _, err := db.w.ExecContext(context.Background(), "PRAGMA optimize=0x10002"); err != nil {
		b.Fatal(err)
	}
	if keep != "" {
		if err := os.WriteFile(filepath.Join(dir, "built"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkTimeline pages through a 250-participant call of ten minutes
// (about 190,000 points and 15,000 operations).
func BenchmarkTimeline(b *testing.B) {
	db := openTest(b)
	w := &liveWorkload{calls: 1, parts: 250, steps: 61}
	for range 60 {
		if _, err := db.Append(context.Background(), w.batch()); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	call := "bench-call-0-0"
	mid, err := db.Timeline(ctx, store.TimelineQuery{CallID: call, Limit: 100000 / 2})
	if err != nil || mid.NextCursor == "" {
		b.Fatalf("no cursor: %v", err)
	}
	cases := []struct {
		name string
		q    store.TimelineQuery
	}{
		{"first-page", store.TimelineQuery{CallID: call}},
		{"middle-page", store.TimelineQuery{CallID: call, Cursor: mid.NextCursor}},
		{"participant", store.TimelineQuery{CallID: call, ParticipantID: call + "-p07"}},
		{"events-only", store.TimelineQuery{CallID: call, Kinds: []string{model.KindOperation}}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			items := 0
			for range b.N {
				tl, err := db.Timeline(ctx, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				items = len(tl.Events)
				for _, s := range tl.Series {
					items += len(s.Points)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
			b.ReportMetric(float64(items), "items/page")
		})
	}
}

// BenchmarkRecord reads raw records back: one in the id runs, one of the
// newest (their ids are only in the writer's memory yet, so a reader scans
// the chunk indexes of about 190,000 recent records), and an unknown id.
func BenchmarkRecord(b *testing.B) {
	db := openTest(b)
	w := &liveWorkload{calls: 8, parts: 10, steps: 60}
	ctx := context.Background()
	appendN := func(n int) (first, last string) {
		for i := range n {
			batch := w.batch()
			if i == 0 {
				first = batch[0].ID
			}
			last = batch[len(batch)-1].ID
			if _, err := db.Append(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		return first, last
	}
	indexed, _ := appendN(50)
	if err := db.flushIDs(ctx); err != nil {
		b.Fatal(err)
	}
	_, recent := appendN(180)
	for _, tc := range []struct{ name, id string }{{"indexed", indexed}, {"recent", recent}, {"unknown", "no-such-record"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_, err := db.Record(ctx, tc.id)
				if err != nil && tc.name != "unknown" {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
		})
	}
}

// BenchmarkAppendDuplicates re-appends batches that are already stored —
// what re-running an ingest, or ingesting the same data in another shape,
// costs — on a store of 600,000 records.
func BenchmarkAppendDuplicates(b *testing.B) {
	db := openTest(b)
	w := &liveWorkload{calls: 8, parts: 10, steps: 60}
	ctx := context.Background()
	var batches [][]model.Record
	for range 300 {
		batch := append(w.batch(), w.batch()...)
		if _, err := db.Append(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batches = append(batches, batch)
	}
	var records int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		res, err := db.Append(ctx, batches[i%len(batches)])
		if err != nil {
			b.Fatal(err)
		}
		if res.Stored != 0 {
			b.Fatalf("stored %d of a batch already stored", res.Stored)
		}
		records += int64(res.Duplicates)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFlushIDs writes the ids of 200,000 records as one run, as the
// writer does every memLimit records; every fourth run also merges a tier.
func BenchmarkFlushIDs(b *testing.B) {
	db := openTest(b)
	ctx := context.Background()
	if _, err := db.Append(ctx, []model.Record{plainRecord("seed", 0)}); err != nil {
		b.Fatal(err)
	}
	w := &liveWorkload{}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db.ix.mem = make(map[idKey]int64, memLimit)
		for i := range memLimit {
			db.ix.mem[keyOf(w.id())] = int64(i)
		}
		b.StartTimer()
		if err := db.flushIDs(ctx); err != nil || len(db.ix.mem) != 0 {
			b.Fatalf("flush: %v, %d ids left in memory", err, len(db.ix.mem))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/run")
}
