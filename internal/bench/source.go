package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/source"
	"calldiag/internal/store"
)

// sourceFreshnessCalls is how many calls are delivered to the followed
// folder, one at a time.
const sourceFreshnessCalls = 10

// measureSourceFreshness follows a folder with the folder source at its
// default settings (a look every second) and times each call from the
// moment its blob lands in the folder (written aside, then renamed in, as
// a sync tool delivers it) until a search finds it.
func measureSourceFreshness(ctx context.Context, st store.Store, now time.Time, rep *Report) error {
	cps, ok := st.(source.Checkpoints)
	if !ok {
		return fmt.Errorf("bench: the %T store keeps no source checkpoints", st)
	}
	dir, err := os.MkdirTemp("", "calldiag-bench-source-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	f := &source.Folder{Root: filepath.Join(dir, "logs"), Name: "bench", Ingest: pipeline.New(st, pipeline.Options{Detector: st}), Checkpoints: cps}
	if err := os.Mkdir(f.Root, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	defer func() { stop(); <-done }()
	var took []float64
	for i := range sourceFreshnessCalls {
		blob, err := os.CreateTemp(dir, "blob-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		labels, err := simulate.Records(simulate.Config{Calls: 1, Seed: freshSeed + 100 + uint64(i), Start: now.Add(-2 * time.Hour)},
			func(_ string, line []byte) error {
				_, err := blob.Write(append(line, '\n'))
				return err
			})
		blob.Close()
		if err != nil {
			return fmt.Errorf("bench: simulate call: %w", err)
		}
		id := labels.Calls[0].CallID
		dst := filepath.Join(f.Root, fmt.Sprintf("insights-logs-callsummary/h=%02d/PT1H.json", i))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		// Deliveries come at any moment of the folder's poll cycle: spread
		// them over one cycle after the last one was found.
		time.Sleep(time.Duration(i) * time.Second / sourceFreshnessCalls)
		start := time.Now()
		if err := os.Rename(blob.Name(), dst); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		found := false
		for !found && time.Since(start) < 30*time.Second {
			page, err := st.SearchCalls(ctx, store.CallQuery{Q: id, Limit: 1})
			if err != nil {
				return fmt.Errorf("bench: search: %w", err)
			}
			found = len(page.Calls) == 1
			if !found {
				time.Sleep(5 * time.Millisecond)
			}
		}
		if !found {
			return fmt.Errorf("bench: call %s delivered to the folder never became searchable", id)
		}
		took = append(took, ms(time.Since(start)))
	}
	rep.SourceFreshnessP50Ms = Percentile(took, 50)
	rep.SourceFreshnessP95Ms = Percentile(took, 95)
	return nil
}
