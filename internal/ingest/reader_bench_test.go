package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// member is one key and value of a generated record, kept in order.
type member struct {
	key string
	val any
}

// benchRecords generates n ACS-like exported records (envelope plus
// properties), 400 to 900 bytes each, from a fixed seed.
func benchRecords(n int) [][]member {
	rng := rand.New(rand.NewPCG(1, 2))
	guid := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
	}
	const rid = "/SUBSCRIPTIONS/0F3C2A1E-7B45-4C0D-9E21-5A6B7C8D9E0F/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMMUNICATION/COMMUNICATIONSERVICES/ACS"
	ts := func(i int) string {
		return fmt.Sprintf("2026-03-02T%02d:%02d:%02d.%03dZ", 8+i/3600%12, i/60%60, i%60, rng.IntN(1000))
	}
	calls := make([]string, 200)
	for i := range calls {
		calls[i] = guid()
	}
	out := make([][]member, n)
	for i := range out {
		call := calls[rng.IntN(len(calls))]
		part := guid()
		var category string
		var props []member
		switch k := rng.IntN(10); {
		case k == 0:
			category = "CallSummary"
			props = []member{
				{"identifier", "8:acs:" + guid()}, {"callStartTime", ts(i)}, {"callDuration", rng.IntN(4000)},
				{"callType", "Group"}, {"teamsThreadId", nil}, {"participantId", part}, {"participantStartTime", ts(i)},
				{"participantDuration", strconv.Itoa(rng.IntN(4000))}, {"participantEndReason", "0"}, {"ParticipantEndSubCode", "0"},
				{"ResultCategory", "Success"}, {"endpointId", guid()}, {"endpointType", "VoIP"}, {"sdkVersion", "1.31.2.1"},
				{"participantType", "ACS"},
				{"DiagnosticOptions", `{"appName":"contoso-care","appVersion":"4.2.0","tags":["clinic"]}`}, {"TPE", false},
			}
		case k <= 3:
			category = "CallDiagnostics"
			props = []member{
				{"participantId", part}, {"endpointType", "VoIP"},
				{"mediaType", "Audio"}, {"streamId", strconv.Itoa(1000 + rng.IntN(4))}, {"transportType", "UDP"},
				{"roundTripTimeAvg", strconv.Itoa(rng.IntN(300))}, {"roundTripTimeMax", strconv.Itoa(rng.IntN(900))},
				{"jitterAvg", strconv.Itoa(rng.IntN(40))}, {"jitterMax", strconv.Itoa(rng.IntN(200))},
				{"packetLossRateAvg", strconv.FormatFloat(rng.Float64()/20, 'E', 6, 64)}, {"packetLossRateMax", rng.Float64() / 5},
				{"JitterBufferSizeAvg", rng.IntN(80)}, {"HealedDataRatioAvg", rng.Float64() / 10}, {"StreamDirection", "Inbound"}, {"CodecName", "OPUS"},
			}
		case k <= 6:
			category = "CallClientOperations"
			props = []member{
				{"CallClientTimeStamp", ts(i)}, {"OperationName", "UserFacingDiagnostics"}, {"CallId", call}, {"ParticipantId", part},
				{"OperationType", "client-api-request"}, {"OperationId", guid()}, {"DurationMs", rng.IntN(500)}, {"ResultType", "Succeeded"},
				{"ResultSignature", 200}, {"SdkVersion", "1.31.2.1"},
				{"UserAgent", `azsdk-js-communication-calling/1.31.2 (javascript_calling_sdk;#clientTag:"care")`},
				{"OperationPayload", []member{{"DiagnosticChanged", "networkReceiveQuality"}, {"DiagnosticQuality", "Poor"}}},
			}
		default:
			category = "CallClientMediaStatsTimeSeries"
			props = []member{
				{"CallId", call}, {"CallClientTimeStamp", ts(i)}, {"MetricName", "JitterInMs"}, {"Count", "10"},
				{"Sum", strconv.Itoa(rng.IntN(500))}, {"Average", strconv.FormatFloat(rng.Float64()*50, 'f', 1, 64)},
				{"Minimum", strconv.Itoa(rng.IntN(10))}, {"Maximum", strconv.Itoa(rng.IntN(100))}, {"MediaStreamDirection", "recv"},
				{"MediaStreamType", "audio"}, {"MediaStreamCodec", "OPUS"}, {"ParticipantId", part},
				{"AggregationIntervalSeconds", "10"},
			}
		}
		out[i] = []member{
			{"time", ts(i)}, {"resourceId", rid}, {"operationName", category}, {"operationVersion", "1.0"},
			{"category", category}, {"correlationId", call}, {"level", "Informational"}, {"properties", props},
		}
	}
	return out
}

// writeJSON writes v as JSON; indent > 0 pretty-prints like the az CLI.
func writeJSON(b *bytes.Buffer, v any, indent, depth int) {
	nl := func(d int) {
		if indent > 0 {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(" ", indent*d))
		}
	}
	switch v := v.(type) {
	case []member:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			k, _ := json.Marshal(m.key)
			b.Write(k)
			b.WriteByte(':')
			if indent > 0 {
				b.WriteByte(' ')
			}
			writeJSON(b, m.val, indent, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	default:
		j, _ := json.Marshal(v)
		b.Write(j)
	}
}

// flatten turns an exported record into a Log Analytics row: the envelope
// and properties at one level, PascalCase, nested values as JSON text.
func flatten(rec []member) []member {
	var row []member
	add := func(k string, v any) {
		if m, ok := v.([]member); ok {
			var b bytes.Buffer
			writeJSON(&b, m, 0, 0)
			v = b.String()
		}
		if k == "time" {
			k = "TimeGenerated"
		}
		row = append(row, member{strings.ToUpper(k[:1]) + k[1:], v})
	}
	for _, m := range rec {
		if m.key == "properties" {
			for _, p := range m.val.([]member) {
				add(p.key, p.val)
			}
			continue
		}
		add(m.key, m.val)
	}
	return append(row, member{"Type", "ACS" + rec[4].val.(string)})
}

type benchCorpus struct {
	records          int
	jsonl, la, csvIn []byte
}

func newBenchCorpus(n int) benchCorpus {
	recs := benchRecords(n)
	c := benchCorpus{records: n}

	var jl bytes.Buffer
	for _, r := range recs {
		writeJSON(&jl, r, 0, 0)
		jl.WriteByte('\n')
	}
	c.jsonl = jl.Bytes()

	var la bytes.Buffer
	la.WriteString("[")
	rows := make([][]member, n)
	for i, r := range recs {
		rows[i] = flatten(r)
		if i > 0 {
			la.WriteByte(',')
		}
		la.WriteString("\n  ")
		writeJSON(&la, rows[i], 2, 1)
	}
	la.WriteString("\n]\n")
	c.la = la.Bytes()

	// CSV over the union of columns, as a cross-table export has.
	var cols []string
	index := map[string]int{}
	for _, row := range rows {
		for _, m := range row {
			if _, ok := index[m.key]; !ok {
				index[m.key] = len(cols)
				cols = append(cols, m.key)
			}
		}
	}
	var cb bytes.Buffer
	cell := func(s string) {
		if strings.ContainsAny(s, ",\"\r\n") {
			s = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
		cb.WriteString(s)
	}
	for i, k := range cols {
		if i > 0 {
			cb.WriteByte(',')
		}
		if k == "TimeGenerated" {
			k += " [UTC]"
		}
		cell(k)
	}
	cb.WriteString("\r\n")
	cells := make([]string, len(cols))
	for _, row := range rows {
		clear(cells)
		for _, m := range row {
			switch v := m.val.(type) {
			case nil:
			case string:
				cells[index[m.key]] = v
			default:
				j, _ := json.Marshal(v)
				cells[index[m.key]] = string(j)
			}
		}
		for i, s := range cells {
			if i > 0 {
				cb.WriteByte(',')
			}
			cell(s)
		}
		cb.WriteString("\r\n")
	}
	c.csvIn = cb.Bytes()
	return c
}

// TestBenchCorpus keeps the benchmark input honest: every generated record
// is read back without error in each shape, at a realistic size.
func TestBenchCorpus(t *testing.T) {
	c := newBenchCorpus(500)
	if avg := len(c.jsonl) / c.records; avg < 400 || avg > 900 {
		t.Errorf("average JSON line is %d bytes, want 400 to 900", avg)
	}
	for name, data := range map[string][]byte{"jsonl": c.jsonl, "la": c.la, "csv": c.csvIn} {
		res := readAll(t, data, Options{})
		if res.fatal != nil || len(res.errs) > 0 || len(res.items) != c.records {
			t.Errorf("%s: %d items, fatal %v, errors:%s", name, len(res.items), res.fatal, fmtErrs(res.errs))
		}
	}
}

func benchRead(b *testing.B, data []byte, records int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data), "bench", Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != records {
			b.Fatalf("read %d records, want %d", n, records)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

const benchN = 10000

func BenchmarkReaderJSONLines(b *testing.B) {
	c := newBenchCorpus(benchN)
	benchRead(b, c.jsonl, c.records)
}

func BenchmarkReaderJSONLinesGzip(b *testing.B) {
	c := newBenchCorpus(benchN)
	benchRead(b, gzipBytes(b, c.jsonl), c.records)
}

func BenchmarkReaderLAArray(b *testing.B) {
	c := newBenchCorpus(benchN)
	benchRead(b, c.la, c.records)
}

func BenchmarkReaderCSV(b *testing.B) {
	c := newBenchCorpus(benchN)
	benchRead(b, c.csvIn, c.records)
}

// BenchmarkDecodeBaseline decodes the JSON-lines corpus with encoding/json
// into maps: the decode-only floor the reader is compared against.
func BenchmarkDecodeBaseline(b *testing.B) {
	c := newBenchCorpus(benchN)
	lines := bytes.Split(bytes.TrimSpace(c.jsonl), []byte{'\n'})
	b.ReportAllocs()
	b.SetBytes(int64(len(c.jsonl)))
	for b.Loop() {
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
