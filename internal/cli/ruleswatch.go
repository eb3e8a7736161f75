package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// watchRules re-reads the rules file when it changes, checking every
// interval until ctx is done. A change is taken once the file has kept the
// same size and modification time for one interval, so a file caught
// half-written is not read. A file that parses and differs from the rules
// in force replaces them and onChange runs; one that does not parse is
// reported through onError (each problem with its file:line) and the rules
// in force stay.
func watchRules(ctx context.Context, path string, set *detect.RuleSet, interval time.Duration,
	onChange func(detect.Rules), onError func(error)) {
	// last is the state last read (nil: not read since the watch began, so
	// a change made between loading the rules and starting is not missed).
	var last, pending os.FileInfo
	var missing bool
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(path)
		if err != nil {
			if !missing {
				onError(err)
				missing = true
			}
			continue
		}
		missing = false
		if last != nil && sameFile(fi, last) {
			pending = nil
			continue
		}
		if pending == nil || !sameFile(fi, pending) {
			pending = fi // changed: wait one interval for the writer to finish
			continue
		}
		last, pending = fi, nil
		rules, err := loadRules(path)
		if err != nil {
			onError(err)
			continue
		}
		if rules.Format() == set.Load().Format() {
			continue // touched, not changed
		}
		set.Store(rules)
		onChange(rules)
	}
}

func sameFile(a, b os.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// redetectAll detects and stores the issues of every stored call again,
// after the rules changed.
func redetectAll(ctx context.Context, st store.Store, rules detect.Rules, log *slog.Logger) {
	ids, err := callIDsSince(ctx, st, time.Time{})
	if err == nil {
		err = pipeline.Redetect(ctx, st, ids, rules)
	}
	if err != nil {
		log.Error("re-detect after a rules change failed", "err", err)
		return
	}
	log.Info("re-detected after a rules change", "calls", len(ids))
}
