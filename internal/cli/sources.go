package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/source"
	"calldiag/internal/store"
)

// follower is a continuous source ready to run.
type follower interface {
	Run(ctx context.Context) error
}

// sourceSpec is a parsed --source URL.
type sourceSpec struct {
	// raw is the URL as the source is named (normalized, no secrets).
	raw  string
	kind string
	// build makes the source's follower.
	build func(deps sourceDeps) (follower, error)
	// dir: the folder and its timings, which ingest --follow sets.
	path         string
	poll, settle time.Duration
	// blob: the time between two listings of the account.
	list time.Duration
}

// sourceDeps is what a follower is built from.
type sourceDeps struct {
	store  store.Store
	ingest source.Ingester
	status *source.Status
	log    *slog.Logger
	// env gives the process environment (credentials); nil reads none.
	env Env
}

// getenv returns the environment variable key, or "".
func (d sourceDeps) getenv(key string) string {
	if d.env == nil {
		return ""
	}
	return d.env(key)
}

// sourceKinds parse the part after "SCHEME://" of a source URL, by scheme.
func sourceKinds() map[string]func(raw, rest string) (sourceSpec, error) {
	return map[string]func(raw, rest string) (sourceSpec, error){
		"dir":      parseDirSource,
		"blob":     parseBlobSource,
		"kafka":    parseKafkaSource,
		"eventhub": parseEventHubSource,
	}
}

// parseSource reads a source URL.
func parseSource(raw string) (sourceSpec, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return sourceSpec{}, &UsageError{Msg: fmt.Sprintf("source %q: want a URL such as dir:///var/log/acs", raw)}
	}
	kinds := sourceKinds()
	parse, ok := kinds[scheme]
	if !ok {
		names := make([]string, 0, len(kinds))
		for k := range kinds {
			names = append(names, k+"://")
		}
		sort.Strings(names)
		return sourceSpec{}, &UsageError{Msg: fmt.Sprintf("source %q: unknown kind %q; known: %s", raw, scheme, strings.Join(names, ", "))}
	}
	return parse(raw, rest)
}

// parseDirSource reads dir://PATH[?poll=1s&settle=10s].
func parseDirSource(raw, rest string) (sourceSpec, error) {
	spec := sourceSpec{raw: raw, kind: "dir"}
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
	spec.build = func(d sourceDeps) (follower, error) {
		cps, ok := d.store.(source.Checkpoints)
		if !ok {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s: this store does not keep source checkpoints", spec.raw)}
		}
		return &source.Folder{Root: spec.path, Name: spec.raw, Poll: spec.poll, Settle: spec.settle,
			Ingest: d.ingest, Checkpoints: cps, Status: d.status, Logger: d.log}, nil
	}
	return spec, nil
}

// sourceSet is the sources a process follows and their status.
type sourceSet struct {
	followers []follower
	statuses  []*source.Status
}

// newSources builds the sources of specs on st, ingesting through ing; env
// gives the credentials some kinds read from the environment.
func newSources(st store.Store, ing source.Ingester, specs []sourceSpec, log *slog.Logger, env Env) (*sourceSet, error) {
	set := &sourceSet{}
	seen := map[string]bool{}
	for _, sp := range specs {
		if seen[sp.raw] {
			return nil, &UsageError{Msg: fmt.Sprintf("source %s is given twice", sp.raw)}
		}
		seen[sp.raw] = true
		status := source.NewStatus(sp.raw, sp.kind)
		f, err := sp.build(sourceDeps{store: st, ingest: ing, status: status, log: log, env: env})
		if err != nil {
			return nil, err
		}
		set.followers = append(set.followers, f)
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

// progressReader is the part of a store that lists source progress.
type progressReader interface {
	SourceProgress(ctx context.Context) ([]store.SourceProgress, error)
}

func (a *app) sourcesCommand() *cobra.Command {
	var asJSON bool
	var server string
	cmd := &cobra.Command{
		Use:   "sources [--server URL] [--json]",
		Short: "List the continuous sources: how far each has read, or a running server's live state",
		Long: `List the continuous sources (serve --source, ingest --follow).

Without --server, from the store: every source that has saved a checkpoint,
with the streams (files, blobs, partitions) it follows, the bytes and lines
read and when it last moved on.

With --server URL, from a running server (GET /api/v1/sources, with
CALLDIAG_TOKEN when set): each source's state, records read, stored,
duplicates and rejected, how far behind it is, and its last error.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if server != "" {
				return a.liveSources(ctx, server, asJSON)
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			pr, ok := st.(progressReader)
			if !ok {
				return &UsageError{Msg: "this store does not keep source checkpoints"}
			}
			list, err := pr.SourceProgress(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(a.io.Stdout, "no source has read anything into this store yet (see serve --source and ingest --follow)")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tSTREAMS\tREAD\tLINES\tLAST PROGRESS")
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", p.Source, p.Streams, humanBytes(p.Bytes), p.Lines,
					p.Updated.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&server, "server", "", "ask the server at this URL (e.g. http://127.0.0.1:8080) for its sources' live state")
	return cmd
}

// liveSources prints the sources of a running server.
func (a *app) liveSources(ctx context.Context, server string, asJSON bool) error {
	u, err := url.Parse(strings.TrimRight(server, "/") + "/api/v1/sources")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &UsageError{Msg: fmt.Sprintf("--server %q: want a URL such as http://127.0.0.1:8080", server)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if tok := a.io.Env("CALLDIAG_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("ask %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("ask %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	var body struct {
		Sources []source.Snapshot `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("ask %s: %w", u, err)
	}
	if asJSON {
		return writeJSON(a.io.Stdout, body.Sources)
	}
	if len(body.Sources) == 0 {
		fmt.Fprintln(a.io.Stdout, "the server follows no source")
		return nil
	}
	tw := tabwriter.NewWriter(a.io.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATE\tSTREAMS\tREAD\tSTORED\tDUPLICATES\tREJECTED\tBEHIND\tLAST ERROR")
	for _, s := range body.Sources {
		behind := "caught up"
		if s.LagBytes > 0 || s.LagMessages > 0 {
			behind = fmt.Sprintf("%s %d msgs %.0fs", humanBytes(s.LagBytes), s.LagMessages, s.LagSeconds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.State, s.Streams, s.Records, s.Stored,
			s.Duplicates, s.Rejected, behind, s.LastError)
	}
	return tw.Flush()
}

// humanBytes shows a byte count in B, KB, MB or GB (powers of 1000).
func humanBytes(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "KB", "MB"} {
		if f < 1000 {
			if u == "B" {
				return fmt.Sprintf("%d B", n)
			}
			return fmt.Sprintf("%.1f %s", f, u)
		}
		f /= 1000
	}
	return fmt.Sprintf("%.1f GB", f)
}
