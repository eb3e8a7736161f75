package storetest

import (
	"context"
	"testing"
	"time"

	"calldiag/internal/store"
)

// checkpointStore is what continuous sources need of a store.
type checkpointStore interface {
	Checkpoints(ctx context.Context, source string) (map[string]store.Checkpoint, error)
	SaveCheckpoints(ctx context.Context, source string, cps map[string]store.Checkpoint) error
	SourceProgress(ctx context.Context) ([]store.SourceProgress, error)
}

func testCheckpoints(t *testing.T, open func(t testing.TB) store.Store) {
	ctx := context.Background()
	s, ok := open(t).(checkpointStore)
	if !ok {
		t.Fatal("the store does not keep source checkpoints")
	}
	const src, other = "dir:///var/log/acs", "kafka://broker:9092/acs-logs?group=calldiag"
	if got, err := s.Checkpoints(ctx, src); err != nil || len(got) != 0 {
		t.Fatalf("checkpoints of a new source = %v, %v; want none", got, err)
	}
	at := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	first := map[string]store.Checkpoint{
		"insights-logs-calldiagnostics/h=10/PT1H.json": {Offset: 40960, Line: 37, Tag: "2049:1234", Updated: at},
		"insights-logs-callsummary/h=10/PT1H.json":     {Offset: 512, Line: 1, Updated: at},
	}
	if err := s.SaveCheckpoints(ctx, src, first); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoints(ctx, other, map[string]store.Checkpoint{"0": {Offset: 99, Updated: at.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	// One stream moves on; the other keeps its checkpoint.
	moved := store.Checkpoint{Offset: 81920, Line: 75, Tag: "2049:1234", Updated: at.Add(time.Minute)}
	if err := s.SaveCheckpoints(ctx, src, map[string]store.Checkpoint{"insights-logs-calldiagnostics/h=10/PT1H.json": moved}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Checkpoints(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Checkpoint{
		"insights-logs-calldiagnostics/h=10/PT1H.json": moved,
		"insights-logs-callsummary/h=10/PT1H.json":     first["insights-logs-callsummary/h=10/PT1H.json"],
	}
	if len(got) != len(want) {
		t.Fatalf("checkpoints %v, want %v", got, want)
	}
	for k, w := range want {
		g := got[k]
		if g.Offset != w.Offset || g.Line != w.Line || g.Tag != w.Tag || !g.Updated.Equal(w.Updated) {
			t.Errorf("checkpoint of %s = %+v, want %+v", k, g, w)
		}
	}
	prog, err := s.SourceProgress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 2 {
		t.Fatalf("progress %+v, want both sources", prog)
	}
	p := prog[0]
	if p.Source != src || p.Streams != 2 || p.Bytes != 81920+512 || p.Lines != 76 || !p.Updated.Equal(at.Add(time.Minute)) {
		t.Errorf("progress of %s = %+v", src, p)
	}
	if q := prog[1]; q.Source != other || q.Streams != 1 || q.Bytes != 99 {
		t.Errorf("progress of %s = %+v", other, q)
	}
}
