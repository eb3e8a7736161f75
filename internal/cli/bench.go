package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/bench"
	"calldiag/internal/detect"
	"calldiag/internal/store"
	"calldiag/internal/store/clickhouse"
	"calldiag/internal/store/sqlite"
	"calldiag/internal/web"
)

func (a *app) benchCommand() *cobra.Command {
	var opts bench.Options
	var asJSON bool
	var profile string
	cmd := &cobra.Command{
		Use:   "bench [--quick] [--calls N] [--runs N] [--json] [--db DIR]",
		Short: "Measure ingest, freshness, search, call pages, store size and memory",
		Long: `Generate a corpus of simulated calls from the last day (a fixed seed) plus one
call of 250 participants, and measure on the store:

  ingest throughput end to end, beside decoding the same bytes only;
  freshness: from an HTTP ingest to the call showing in search;
  search latency (p50, p95) over typical filters;
  the call detail and the timeline page of the 250-participant call;
  store size per call against the raw JSON and its gzip;
  peak memory of this process.

Each figure is the median of --runs measurements and is shown beside its
target. The stores are created in a temporary folder removed at the end,
or, with --db DIR (or --store sqlite:DIR), in DIR/run-1, DIR/run-2, ...,
which are kept. With --store clickhouse://HOST:PORT/DB each run gets a
database of its own, DB_bench_run_N, dropped at the end; the peak memory
is then this process's alone, not the server's. --quick measures about 40
calls and finishes within a minute.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Runs < 1 || opts.Calls < 0 {
				return &UsageError{Msg: "--runs must be at least 1 and --calls not negative"}
			}
			b, dir, err := a.benchBackend()
			if err != nil {
				return err
			}
			opts.Dir, opts.Logger = dir, a.log
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer f.Close()
				opts.IngestProfile = f
			}
			rep, err := bench.Run(cmd.Context(), b, opts)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, rep)
			}
			printBench(a.io.Stdout, rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Quick, "quick", false, "measure a small corpus (about 40 calls and one 250-participant call)")
	fl.IntVar(&opts.Calls, "calls", 0, fmt.Sprintf("ordinary calls in the corpus (default %d, %d with --quick)", bench.DefaultCalls, bench.QuickCalls))
	fl.IntVar(&opts.Runs, "runs", 3, "measurements of each figure; the median is reported")
	fl.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	fl.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the ingest runs (detection included) to `FILE`, for go tool pprof")
	return cmd
}

// benchBackend is the store bench measures, chosen like every command's
// store, and the folder for its files ("" for a temporary one when neither
// --db nor --store is given).
func (a *app) benchBackend() (bench.Backend, string, error) {
	webHandler := func(st store.Store) (http.Handler, error) {
		h, err := web.New(web.Config{Store: st, Rules: detect.NewRuleSet(detect.DefaultRules()), Logger: a.log})
		if err != nil {
			return nil, err
		}
		mux := http.NewServeMux()
		h.Register(mux)
		return mux, nil
	}
	dir := ""
	if a.dbDir != "" || a.store != "" {
		kind, loc, err := a.storeTarget()
		if err != nil {
			return bench.Backend{}, "", err
		}
		if kind == storeClickHouse {
			return a.clickhouseBench(loc, webHandler)
		}
		dir = loc
	}
	b := bench.Backend{
		Name: "sqlite",
		Open: func(ctx context.Context, dir string) (store.Store, error) {
			return sqlite.Open(ctx, dir, a.log)
		},
		Size: func(ctx context.Context, st store.Store) (bench.Size, error) {
			db, ok := st.(*sqlite.DB)
			if !ok {
				return bench.Size{}, fmt.Errorf("size: not a SQLite store")
			}
			if err := db.FlushRecordIDs(ctx); err != nil {
				return bench.Size{}, err
			}
			s, err := db.SizeBreakdown(ctx)
			return bench.Size{Total: s.Total, RawArchive: s.RawArchive, IDIndex: s.IDIndex}, err
		},
		Serve: a.benchServe,
		Web:   webHandler,
	}
	return b, dir, nil
}

// clickhouseBench measures the ClickHouse store at URL u: each run gets a
// database of its own, named after the URL's database and the run, which is
// dropped when the run's store is closed. The files bench writes (the
// corpus) go to a temporary folder.
func (a *app) clickhouseBench(u string, webHandler func(store.Store) (http.Handler, error)) (bench.Backend, string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return bench.Backend{}, "", &UsageError{Msg: fmt.Sprintf("--store %s: %v", u, err)}
	}
	base := strings.Trim(parsed.Path, "/")
	if base == "" {
		base = "calldiag"
	}
	b := bench.Backend{
		Name: "clickhouse",
		Open: func(ctx context.Context, dir string) (store.Store, error) {
			run := *parsed
			run.Path = "/" + base + "_bench_" + strings.NewReplacer("-", "_", ".", "_").Replace(filepath.Base(dir))
			db, err := clickhouse.Open(ctx, run.String(), a.log)
			if err != nil {
				return nil, err
			}
			// Start from an empty database even when an earlier bench was
			// interrupted before it dropped its own.
			if err := db.Drop(ctx); err != nil {
				db.Close()
				return nil, err
			}
			db.Close()
			if db, err = clickhouse.Open(ctx, run.String(), a.log); err != nil {
				return nil, err
			}
			return droppedOnClose{db}, nil
		},
		Size: func(ctx context.Context, st store.Store) (bench.Size, error) {
			db, ok := st.(droppedOnClose)
			if !ok {
				return bench.Size{}, fmt.Errorf("size: not a ClickHouse store")
			}
			total, raw, ids, err := db.Size(ctx)
			return bench.Size{Total: total, RawArchive: raw, IDIndex: ids}, err
		},
		Serve: a.benchServe,
		Web:   webHandler,
	}
	return b, "", nil
}

// droppedOnClose is a ClickHouse store whose database is dropped when it
// is closed.
type droppedOnClose struct{ *clickhouse.DB }

func (d droppedOnClose) Close() error {
	err := d.Drop(context.Background())
	if cerr := d.DB.Close(); err == nil {
		err = cerr
	}
	return err
}

// benchServe runs the real server on a loopback port until stop is called.
// It ignores CALLDIAG_TOKEN: the server listens on loopback only.
func (a *app) benchServe(ctx context.Context, st store.Store) (string, func(), error) {
	sa := *a
	sa.io.Env = func(key string) string {
		if key == "CALLDIAG_TOKEN" {
			return ""
		}
		return a.io.Env(key)
	}
	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		f := serveFlags{addr: "127.0.0.1:0", maxBody: 32 << 20, queueDepth: 4, rulesEvery: 5 * time.Second}
		done <- sa.serve(ctx, st, f, func(url string) { urls <- url })
	}()
	select {
	case url := <-urls:
		return url, func() { cancel(); <-done }, nil
	case err := <-done:
		cancel()
		if err == nil {
			err = fmt.Errorf("server stopped before listening")
		}
		return "", nil, err
	}
}

func printBench(w io.Writer, r bench.Report) {
	fmt.Fprintf(w, "store %s: %d calls, %d records (%.1f MB of JSON lines), medians of %d runs\n\n",
		r.Store, r.Calls, r.Records, float64(r.RawJSONBytes)/1e6, r.Runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tTARGET\t")
	for _, c := range r.Checks() {
		verdict := ""
		if c.Target != "" {
			verdict = "met"
			if !c.Met {
				verdict = "not met"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Figure, c.Value, c.Target, verdict)
	}
	tw.Flush()
}
