package acs

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkNormalize measures one record of each high-volume category, as
// a Storage archive line read by the ingest reader would give it.
func BenchmarkNormalize(b *testing.B) {
	for _, c := range []struct{ name, dir string }{
		{"summary", "callsummary"},
		{"diagnostics", "calldiagnostics"},
		{"operation", "clientoperation"},
		{"mediastats", "mediastats"},
	} {
		name := filepath.Join("testdata", "shapes", c.dir, "storage.jsonl")
		src, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		it := readerItems(b, name, src)[0]
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(it.Raw)))
			for b.Loop() {
				if _, err := Normalize(it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
