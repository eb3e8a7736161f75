// Package simulate generates realistic Azure Communication Services call
// logs, with causes of trouble injected into a share of the calls, and the
// labels that say which cause was injected where. The product's demo, its
// tests and benchmarks run on these logs, and the detection engine is
// scored against the labels.
//
// Causes, not symptoms: a cause is injected into a small model of the
// call (each leg's access network, its devices, its user), and every record
// — media stats, diagnostics aggregates, user-facing diagnostics, end
// codes, surveys — is derived from that model. A poor uplink therefore
// shows in the sender's outbound stats, in what the others receive from
// that sender, and in the UFDs the SDK would raise, never as a copied
// label. Healthy calls carry background noise that is not a fault (short
// one-bucket spikes, and stretches of mildly worse network below what a
// user notices), and some rows are missing, as in real exports. Network
// causes are labelled only when they are large enough to be noticed.
//
// Conventions the records follow, beyond the published schema:
//   - In P2P calls no record carries a participantId: summary and
//     diagnostics rows say "null", client rows leave it null, received
//     streams name the remote party by RemoteEndpointId, and surveys carry
//     EndpointId. Labels name a leg the way model.ParticipantKey does.
//   - In group calls a client receives the service's mixed audio as one
//     stream without RemoteParticipantId, and one stream per rendered
//     remote video or screen share with it.
//   - Flag-type UFDs are logged with DiagnosticQuality "Bad" when raised
//     and "Good" when cleared.
//
// Output is a pure function of the Config: no clock is read, every random
// draw comes from PCG sources seeded from Config.Seed (one per call, so a
// call does not depend on how many calls precede it), and no map order
// reaches the output.
//
// It may import only the standard library, model and catalog; it must not
// import ingest, store, detect or anything above them.
package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Config says what to generate.
type Config struct {
	// Calls is the number of calls.
	Calls int
	// Seed selects the calls; the same Config always gives the same output.
	Seed uint64
	// Start is the beginning of the day the calls start in: every call
	// starts between Start and Start+24h (so with Start = now-24h calls end
	// around now). It must be set.
	Start time.Time
	// Resource is the ARM id of the ACS resource (any case, with or without
	// a leading slash). Empty means DefaultResource. About 5% of calls also
	// involve a second resource in the same resource group.
	Resource string
	// GroupSize, when above zero, makes every call a group call of exactly
	// this many participants (for benchmarks of large calls); zero draws
	// call types and sizes as real traffic has them.
	GroupSize int
}

// DefaultResource is the ACS resource used when Config.Resource is empty.
const DefaultResource = "SUBSCRIPTIONS/6A1C8F2E-4B7D-4E90-9C3A-2F5D8B1E7A40/RESOURCEGROUPS/CONTOSO-COMMS-RG/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/CONTOSO-ACS-PROD"

// Categories lists the log categories the simulator writes.
func Categories() []string {
	return []string{catSummary, catSummaryUpdates, catDiagnostics, catDiagnosticsUpdates,
		catClientOps, catMediaStats, catSurvey, catRecording, catAutomation}
}

const (
	catSummary            = "CallSummary"
	catSummaryUpdates     = "CallSummaryUpdates"
	catDiagnostics        = "CallDiagnostics"
	catDiagnosticsUpdates = "CallDiagnosticsUpdates"
	catClientOps          = "CallClientOperations"
	catMediaStats         = "CallClientMediaStatsTimeSeries"
	catSurvey             = "CallSurvey"
	catRecording          = "CallRecordingSummary"
	catAutomation         = "CallAutomationOperational"
)

// Write writes the logs of cfg in the Azure Storage archive layout under
// dir/logs/ (one PT1H.json of JSON lines per category, resource and arrival
// hour, records sorted by time) and the labels to dir/labels.json. Files
// are written under temporary names and renamed into place; dir should be
// empty, as files of an earlier run are not removed.
func Write(ctx context.Context, cfg Config, dir string) (Labels, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return Labels{}, err
	}
	sink, err := newBlobSink(dir, g.res)
	if err != nil {
		return Labels{}, err
	}
	labels, err := g.runPipelined(ctx, sink)
	if err != nil {
		return Labels{}, errors.Join(err, sink.discard())
	}
	if err := sink.finish(ctx); err != nil {
		return Labels{}, err
	}
	b, err := json.MarshalIndent(labels, "", "  ")
	if err != nil {
		return Labels{}, fmt.Errorf("simulate: encode labels: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, "labels.json"), append(b, '\n')); err != nil {
		return Labels{}, fmt.Errorf("simulate: %w", err)
	}
	return labels, nil
}

// Records generates the records of cfg in generation order (call by call,
// in order of call start) and passes
// each to fn with its category, without touching disk. They are the
// records Write writes: a record Write also copies into the next hour's
// blob is passed twice. line is only valid during the call. An error from
// fn stops generation and is returned.
func Records(cfg Config, fn func(category string, line []byte) error) (Labels, error) {
	g, err := newGenerator(cfg)
	if err != nil {
		return Labels{}, err
	}
	return g.run(context.Background(), func(o *outRec) error {
		if err := fn(o.cat, o.line); err != nil {
			return err
		}
		if o.dup {
			return fn(o.cat, o.line)
		}
		return nil
	}, nil)
}

// resource is one ACS resource records are attributed to.
type resource struct {
	id            string // upper case, no leading slash
	sub, rg, name string
	guid          string // the resource's immutable id, used in ACS identities
	tenant        string // the resource's Entra tenant
	host          string // endpoint host name
}

func parseResource(s string) (resource, error) {
	id := strings.ToUpper(strings.Trim(strings.TrimSpace(s), "/"))
	p := strings.Split(id, "/")
	if len(p) != 8 || p[0] != "SUBSCRIPTIONS" || p[2] != "RESOURCEGROUPS" || p[4] != "PROVIDERS" ||
		p[5] != "MICROSOFT.COMMUNICATION" || p[6] != "COMMUNICATIONSERVICES" ||
		p[1] == "" || p[3] == "" || p[7] == "" {
		return resource{}, fmt.Errorf("simulate: resource %q is not an ACS resource id (subscriptions/…/resourceGroups/…/providers/Microsoft.Communication/communicationServices/…)", s)
	}
	h := fnv.New128a()
	h.Write([]byte(id))
	sum := h.Sum(nil)
	hi, lo := beUint64(sum[:8]), beUint64(sum[8:])
	return resource{
		id: id, sub: p[1], rg: p[3], name: p[7],
		guid:   formatGUID(hi&^(0xf<<12)|0x4<<12, lo&^(0x3<<62)|0x2<<62),
		tenant: formatGUID(splitmix64(hi)&^(0xf<<12)|0x4<<12, splitmix64(lo)&^(0x3<<62)|0x2<<62),
		host:   strings.ToLower(p[7]) + ".communication.azure.com",
	}, nil
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// generator generates the calls of one Config.
type generator struct {
	cfg Config
	res [2]resource
}

func newGenerator(cfg Config) (*generator, error) {
	if cfg.Calls < 0 {
		return nil, fmt.Errorf("simulate: calls %d is negative", cfg.Calls)
	}
	if cfg.Start.IsZero() {
		return nil, errors.New("simulate: start time is not set")
	}
	if cfg.GroupSize < 0 || cfg.GroupSize == 1 || cfg.GroupSize > 1000 {
		return nil, fmt.Errorf("simulate: group size %d is not 0 (drawn) or from 2 to 1000", cfg.GroupSize)
	}
	if cfg.Start.Year() < 2000 || cfg.Start.Year() > 9000 {
		return nil, fmt.Errorf("simulate: start time %s is out of range", cfg.Start.Format(time.RFC3339))
	}
	cfg.Start = cfg.Start.UTC().Truncate(time.Millisecond)
	if cfg.Resource == "" {
		cfg.Resource = DefaultResource
	}
	g := &generator{cfg: cfg}
	var err error
	if g.res[0], err = parseResource(cfg.Resource); err != nil {
		return nil, err
	}
	p := g.res[0]
	second := "SUBSCRIPTIONS/" + p.sub + "/RESOURCEGROUPS/" + p.rg +
		"/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/" + p.name + "-PARTNER"
	if g.res[1], err = parseResource(second); err != nil {
		return nil, err
	}
	return g, nil
}

// outRec is one generated record on its way to a sink.
type outRec struct {
	cat  string
	res  int
	at   time.Time // envelope time, which decides the arrival blob
	call int
	seq  uint32
	line []byte
	dup  bool // also delivered into the next hour's blob
}

// dupRate is the share of records an export duplicates into the next
// hour's blob (writes right after an hour boundary land in both).
const dupRate = 0.002

// run generates every call, in order of start time, and returns the labels
// in call index order. advance, if not nil, is told each call's start
// before the call is generated.
func (g *generator) run(ctx context.Context, sink func(*outRec) error, advance func(context.Context, time.Time) error) (Labels, error) {
	type start struct {
		idx int
		at  time.Time
	}
	order := make([]start, g.cfg.Calls)
	for i := range order {
		order[i] = start{i, g.callStart(callRand(g.cfg.Seed, i))}
	}
	slices.SortFunc(order, func(a, b start) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.idx - b.idx
	})
	labels := Labels{Seed: g.cfg.Seed, Calls: make([]CallLabels, g.cfg.Calls)}
	for _, s := range order {
		if err := ctx.Err(); err != nil {
			return Labels{}, fmt.Errorf("simulate: %w", err)
		}
		if advance != nil {
			if err := advance(ctx, s.at); err != nil {
				return Labels{}, err
			}
		}
		c := &call{g: g, r: callRand(g.cfg.Seed, s.idx), idx: s.idx, sink: sink}
		cl, err := c.generate()
		if err != nil {
			return Labels{}, fmt.Errorf("simulate: call %d: %w", s.idx, err)
		}
		labels.Calls[s.idx] = cl
	}
	return labels, nil
}

// generate plans the call and emits all its records.
func (c *call) generate() (CallLabels, error) {
	c.plan()
	streams, accs := c.buildStreams()
	for _, s := range streams {
		if err := c.runStream(s); err != nil {
			return CallLabels{}, err
		}
	}
	for _, a := range accs {
		if err := c.emitDiagnostics(a); err != nil {
			return CallLabels{}, err
		}
	}
	for _, l := range c.legs {
		if err := c.emitSummaries(l); err != nil {
			return CallLabels{}, err
		}
		if l.hasClientLogs() {
			if err := c.emitClientOps(l); err != nil {
				return CallLabels{}, err
			}
		}
		if l.survey != nil {
			if err := c.emitSurvey(l); err != nil {
				return CallLabels{}, err
			}
		}
	}
	if err := c.emitService(); err != nil {
		return CallLabels{}, err
	}
	faults := make([]Fault, len(c.faults))
	for i, f := range c.faults {
		f.Start, f.End = f.Start.UTC(), f.End.UTC()
		faults[i] = f
	}
	slices.SortStableFunc(faults, func(a, b Fault) int { return a.Start.Compare(b.Start) })
	return CallLabels{CallID: c.id, Faults: faults}, nil
}

// begin starts a record: the envelope every category shares, then the
// properties object.
func (c *call) begin(res int, at time.Time, cat, op, version, correlation string) *line {
	w := &c.w
	w.reset(chance(c.r, 0.7), chance(c.r, 0.5))
	w.ts("time", at)
	w.str("resourceId", c.g.res[res].id)
	w.str("category", cat)
	w.str("operationName", op)
	w.str("operationVersion", version)
	w.str("correlationId", correlation)
	w.str("level", "Informational")
	w.open("properties")
	return w
}

// emit finishes the current record and hands it to the sink.
func (c *call) emit(cat string, res int, at time.Time) error {
	c.seq++
	c.out = outRec{cat: cat, res: res, at: at, call: c.idx, seq: c.seq, line: c.w.done(), dup: chance(c.r, dupRate)}
	return c.sink(&c.out)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
