package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"calldiag/internal/source"
	"calldiag/internal/store"
)

// follower is a continuous source ready to run.
type follower interface {
	Run(ctx context.Context) error
}

// sourceSpec is a parsed --source URL.
type sourceSpec struct {
	raw    string
	kind   string
	path   string // dir: the folder
	poll   time.Duration
	settle time.Duration
}

// parseSource reads a source URL: dir://PATH[?poll=1s&settle=10s].
func parseSource(raw string) (sourceSpec, error) {
	spec := sourceSpec{raw: raw}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: want a URL such as dir:///var/log/acs", raw)}
	}
	switch scheme {
	case "dir":
		spec.kind = "dir"
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return spec, &UsageError{Msg: fmt.Sprintf("source %q: no folder", raw)}
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return spec, &UsageError{Msg: fmt.Sprintf("source %q: %v", raw, err)}
		}
		spec.path = abs
		spec.raw = "dir://" + abs
		q, err := url.ParseQuery(query)
		if err != nil {
			return spec, &UsageError{Msg: fmt.Sprintf("source %q: %v", raw, err)}
		}
		for key, vals := range q {
			d, err := time.ParseDuration(vals[len(vals)-1])
			if err != nil || d <= 0 {
				return spec, &UsageError{Msg: fmt.Sprintf("source %q: %s=%s is not a positive duration", raw, key, vals[len(vals)-1])}
			}
			switch key {
			case "poll":
				spec.poll = d
			case "settle":
				spec.settle = d
			default:
				return spec, &UsageError{Msg: fmt.Sprintf("source %q: unknown parameter %s (poll, settle)", raw, key)}
			}
		}
		return spec, nil
	default:
		return spec, &UsageError{Msg: fmt.Sprintf("source %q: unknown kind %q; this build follows dir://PATH", raw, scheme)}
	}
}

// sourceSet is the sources a process follows and their status.
type sourceSet struct {
	followers []follower
	statuses  []*source.Status
}

// newSources builds the sources of specs on st, ingesting through ing.
func newSources(st store.Store, ing source.Ingester, specs []sourceSpec, log *slog.Logger) (*sourceSet, error) {
	if len(specs) == 0 {
		return &sourceSet{}, nil
	}
	cps, ok := st.(source.Checkpoints)
	if !ok {
		return nil, &UsageError{Msg: "this store does not keep source checkpoints"}
	}
	set := &sourceSet{}
	seen := map[string]bool{}
	for _, sp := range specs {
		if seen[sp.raw] {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s is given twice", sp.raw)}
		}
		seen[sp.raw] = true
		status := source.NewStatus(sp.raw, sp.kind)
		set.followers = append(set.followers, &source.Folder{Root: sp.path, Name: sp.raw, Poll: sp.poll, Settle: sp.settle,
			Ingest: ing, Checkpoints: cps, Status: status, Logger: log})
		set.statuses = append(set.statuses, status)
	}
	return set, nil
}

// run follows every source until ctx ends.
func (s *sourceSet) run(ctx context.Context, log *slog.Logger) {
	var wg sync.WaitGroup
	for i, f := range s.followers {
		wg.Go(func() {
			if err := f.Run(ctx); err != nil {
				log.Error("source stopped", "source", s.statuses[i].Snapshot().Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// snapshots returns the status of every source.
func (s *sourceSet) snapshots() []source.Snapshot {
	out := make([]source.Snapshot, len(s.statuses))
	for i, st := range s.statuses {
		out[i] = st.Snapshot()
	}
	return out
}
