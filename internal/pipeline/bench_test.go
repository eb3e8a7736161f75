package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
)

var (
	corpusOnce  sync.Once
	corpusBytes []byte
	corpusLines int
)

// corpus is a JSON-lines file of simulated calls: every category, mostly
// media-stats rows, as the Storage archive holds them.
func corpus(b *testing.B) ([]byte, int) {
	b.Helper()
	corpusOnce.Do(func() {
		var buf bytes.Buffer
		_, err := simulate.Records(simulate.Config{Calls: 40, Seed: 11, Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
			func(_ string, line []byte) error {
				buf.Write(line)
				buf.WriteByte('\n')
				corpusLines++
				return nil
			})
		if err != nil {
			b.Fatal(err)
		}
		corpusBytes = buf.Bytes()
	})
	return corpusBytes, corpusLines
}

// BenchmarkIngestEndToEnd reads, maps, de-duplicates and commits the corpus
// into a fresh SQLite store: the whole `calldiag ingest` path.
func BenchmarkIngestEndToEnd(b *testing.B) {
	data, n := corpus(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := sqlite.Open(context.Background(), b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := New(st, Options{}).Ingest(context.Background(), bytes.NewReader(data), "corpus")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Read != n || res.Rejected != 0 {
			b.Fatalf("read %d of %d, rejected %d", res.Read, n, res.Rejected)
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeBaseline only splits the same corpus into lines and decodes
// each with encoding/json into a map: the floor any Go ingester starts from.
func BenchmarkDecodeBaseline(b *testing.B) {
	data, n := corpus(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
