package simulate

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testStart = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// record is a generated record decoded for inspection.
type record struct {
	Time          string         `json:"time"`
	ResourceID    string         `json:"resourceId"`
	Category      string         `json:"category"`
	OperationName string         `json:"operationName"`
	Version       string         `json:"operationVersion"`
	CorrelationID string         `json:"correlationId"`
	Level         string         `json:"level"`
	Props         map[string]any `json:"properties"`
}

// val returns a property by case-insensitive key.
func (r *record) val(key string) (any, bool) {
	if v, ok := r.Props[key]; ok {
		return v, true
	}
	for k, v := range r.Props {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// str returns a string property trimmed, with null spellings as "".
func (r *record) str(key string) string {
	v, _ := r.val(key)
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if s == "null" {
		return ""
	}
	return s
}

// num returns a numeric property written as a number or a string.
func (r *record) num(key string) (float64, bool) {
	v, _ := r.val(key)
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func (r *record) ts(t *testing.T, key string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, r.str(key))
	if err != nil {
		t.Fatalf("%s %s: %v", r.Category, key, err)
	}
	return tm
}

// legKey is the key of the leg a client or summary record belongs to, the
// way model.ParticipantKey derives it.
func (r *record) legKey() string {
	if p := r.str("ParticipantId"); p != "" {
		return p
	}
	return r.str("EndpointId")
}

// testGenerator returns a generator for seed with the default resource.
func testGenerator(t testing.TB, seed uint64) *generator {
	t.Helper()
	g, err := newGenerator(Config{Calls: 1, Seed: seed, Start: testStart})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// planned returns call idx of seed planned but not generated.
func planned(g *generator, idx int) *call {
	c := &call{g: g, r: callRand(g.cfg.Seed, idx), idx: idx}
	c.plan()
	return c
}

// generated generates call idx of seed and decodes all its records.
func generated(t testing.TB, g *generator, idx int) (*call, CallLabels, []record) {
	t.Helper()
	var recs []record
	c := &call{g: g, r: callRand(g.cfg.Seed, idx), idx: idx}
	c.sink = func(o *outRec) error {
		var r record
		if err := json.Unmarshal(o.line, &r); err != nil {
			t.Fatalf("call %d: invalid record %s: %v", idx, o.line, err)
		}
		if r.Category != o.cat {
			t.Fatalf("call %d: record category %q routed as %q", idx, r.Category, o.cat)
		}
		recs = append(recs, r)
		return nil
	}
	cl, err := c.generate()
	if err != nil {
		t.Fatal(err)
	}
	return c, cl, recs
}

// findCalls returns up to n indexes of calls of g with a fault accepted by
// pick, scanning at most limit calls.
func findCalls(g *generator, n, limit int, pick func(c *call, f Fault) bool) []int {
	var out []int
	for i := 0; i < limit && len(out) < n; i++ {
		c := planned(g, i)
		for _, f := range c.faults {
			if pick(c, f) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// lossIn is the loss fraction of the media stats buckets of the streams
// sel accepts, split into buckets inside the window and outside it.
func lossIn(t *testing.T, recs []record, sel func(r *record) bool, from, to time.Time) (in, out float64, nIn, nOut int) {
	t.Helper()
	type key struct {
		ts, stream string
	}
	type agg struct{ lost, pk float64 }
	buckets := map[key]*agg{}
	send := map[key]bool{}
	for i := range recs {
		r := &recs[i]
		if r.Category != catMediaStats || !sel(r) {
			continue
		}
		k := key{r.str("CallClientTimeStamp"), r.str("MediaStreamDirection") + r.str("MediaStreamType") + r.str("RemoteParticipantId") + r.str("RemoteEndpointId")}
		a := buckets[k]
		if a == nil {
			a = &agg{}
			buckets[k] = a
		}
		sum, _ := r.num("Sum")
		switch r.OperationName {
		case "CallClientMediaStatsTimeSeries":
		default:
			t.Fatalf("media stats operationName %q", r.OperationName)
		}
		switch r.str("MetricName") {
		case "PacketsLostPerSecond":
			a.lost += sum
		case "PacketsPerSecond":
			a.pk += sum
		}
		send[k] = r.str("MediaStreamDirection") == "send"
	}
	var lin, pin, lout, pout float64
	for k, a := range buckets {
		ts, err := time.Parse(time.RFC3339Nano, k.ts)
		if err != nil {
			t.Fatal(err)
		}
		pk := a.pk
		if !send[k] {
			pk += a.lost // received + lost = due
		}
		switch {
		case !ts.Before(from) && ts.Add(10*time.Second).Before(to):
			lin += a.lost
			pin += pk
			nIn++
		case ts.Add(10*time.Second).Before(from) || ts.After(to):
			lout += a.lost
			pout += pk
			nOut++
		}
	}
	if pin > 0 {
		in = lin / pin
	}
	if pout > 0 {
		out = lout / pout
	}
	return in, out, nIn, nOut
}

func ops(recs []record, key, name string) []*record {
	var out []*record
	for i := range recs {
		r := &recs[i]
		if r.Category == catClientOps && r.legKey() == key && (name == "" || strings.EqualFold(r.OperationName, name)) {
			out = append(out, r)
		}
	}
	return out
}

// ufdChanges returns the values of the UFD name raised on leg key, grouped
// by OperationId.
func ufdChanges(t *testing.T, recs []record, key, name string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range ops(recs, key, "UserFacingDiagnostics") {
		var p map[string]string
		if err := json.Unmarshal([]byte(r.str("OperationPayload")), &p); err != nil {
			t.Fatalf("UFD payload %q: %v", r.str("OperationPayload"), err)
		}
		var ufd, value string
		for k, v := range p {
			switch strings.ToLower(k) {
			case "diagnosticchanged":
				ufd = v
			case "diagnosticquality":
				value = v
			}
		}
		if ufd == name {
			id := r.str("OperationId")
			out[id] = append(out[id], value)
		}
	}
	return out
}

func finalSummary(recs []record, key string) *record {
	for i := range recs {
		r := &recs[i]
		if r.Category == catSummary && r.legKey() == key {
			return r
		}
	}
	return nil
}
