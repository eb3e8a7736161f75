package cli

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"calldiag/internal/api"
	"calldiag/internal/assist"
	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/server"
	"calldiag/internal/source"
	"calldiag/internal/store"
	"calldiag/internal/web"
)

type serveFlags struct {
	addr       string
	maxBody    int64
	queueDepth int
	rulesFile  string
	rulesEvery time.Duration
	retention  retentionFlag
	sources    []string
	// collectKey turns on POST /api/v1/collect for browser collectors;
	// collectOrigins are the origins whose pages may post there.
	collectKey     string
	collectOrigins []string
}

func (f *serveFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen address; a non-loopback address needs CALLDIAG_TOKEN")
	fl.Int64Var(&f.maxBody, "max-body-bytes", 32<<20, "largest accepted ingest upload")
	fl.IntVar(&f.queueDepth, "ingest-queue", 4, "uploads ingested at once; more are answered 429")
	fl.StringVar(&f.rulesFile, "rules", "", "detection rules file overriding the default thresholds; re-read when it changes")
	fl.DurationVar(&f.rulesEvery, "rules-check", 5*time.Second, "how often to check the rules file for changes")
	fl.Var(&f.retention, "retention", retentionUsage+"; checked at start and every hour (default: keep every call)")
	fl.StringSliceVar(&f.sources, "source", nil, "follow a source and ingest what arrives: dir://PATH, blob://ACCOUNT[/CONTAINER], "+
		"eventhub://NAMESPACE/HUB or kafka://HOST:PORT/TOPIC (see the README); repeatable, or several separated by commas (default $CALLDIAG_SOURCE)")
	fl.StringVar(&f.collectKey, "collect-key", "", "write-only key that turns on POST /api/v1/collect for the browser collector (/sdk/calldiag.js); "+
		"prefer $CALLDIAG_COLLECT_KEY, which other users cannot see")
	fl.StringSliceVar(&f.collectOrigins, "collect-origin", nil, "origin (https://app.example.com, or * for any) whose pages may send to "+
		"/api/v1/collect; repeatable, or several separated by commas (default $CALLDIAG_COLLECT_ORIGIN)")
}

// collectConfig checks the collector flags: origins are scheme://host[:port]
// (how browsers write the Origin header) or *, and need a key to matter.
func (f *serveFlags) collectConfig() (key string, origins []string, err error) {
	var problems []string
	for _, o := range f.collectOrigins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, perr := url.Parse(o)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
				strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
				problems = append(problems, fmt.Sprintf("--collect-origin %q: write an origin as scheme://host[:port], such as https://app.example.com, or *", o))
				continue
			}
			o = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		origins = append(origins, o)
	}
	key = strings.TrimSpace(f.collectKey)
	if len(origins) > 0 && key == "" {
		problems = append(problems, "--collect-origin needs --collect-key (or CALLDIAG_COLLECT_KEY): without a key the collector endpoint is off")
	}
	if len(problems) > 0 {
		return "", nil, &UsageError{Msg: strings.Join(problems, "; ")}
	}
	return key, origins, nil
}

// sourceSpecs parses the --source flags.
func (f *serveFlags) sourceSpecs() ([]sourceSpec, error) {
	specs := make([]sourceSpec, 0, len(f.sources))
	for _, r := range f.sources {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		sp, err := parseSource(r)
		if err != nil {
			return nil, err
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

func (a *app) serveCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve the JSON API (and ingest over HTTP)",
		Long: `Serve calldiag over HTTP: the web UI at /, the JSON API under /api/v1, /healthz and /metrics.
When CALLDIAG_TOKEN is set every API request needs "Authorization: Bearer
<token>"; without it the server only listens on loopback addresses.
With --collect-key, web pages that load /sdk/calldiag.js send their WebRTC
telemetry to POST /api/v1/collect with that key instead of the token, from
the origins named by --collect-origin.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			return a.serve(cmd.Context(), st, f, nil)
		},
	}
	f.register(cmd)
	return cmd
}

// serve runs the HTTP server on st until ctx is done. ready, when set, is
// called with the URL once the server listens.
func (a *app) serve(ctx context.Context, st store.Store, f serveFlags, ready func(url string)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "calldiag_calls_stored", Help: "Calls in the store."},
		func() float64 {
			s, err := st.Stats(context.Background())
			if err != nil {
				return -1
			}
			return float64(s.Calls)
		}))
	rules, err := loadRules(f.rulesFile)
	if err != nil {
		return err
	}
	collectKey, collectOrigins, err := f.collectConfig()
	if err != nil {
		return err
	}
	set := detect.NewRuleSet(rules)
	p := pipeline.New(st, pipeline.Options{Logger: a.log, Detector: st, Rules: set})
	specs, err := f.sourceSpecs()
	if err != nil {
		return err
	}
	sources, err := newSources(st, p, specs, a.log, a.io.Env)
	if err != nil {
		return err
	}
	reg.MustRegister(source.NewCollector(sources.snapshots))
	asst := assist.New(assist.Config{Calls: storeCalls{st: st, rules: set.Load}, LLM: assist.LLMFromEnv(a.io.Env), Logger: a.log})
	h := api.New(api.Config{Store: st, Pipeline: p, Logger: a.log, Registry: reg,
		MaxBodyBytes: f.maxBody, QueueDepth: f.queueDepth, Rules: set, Assistant: asst, Pinner: st, Sources: sources.snapshots,
		CollectKey: collectKey, CollectOrigins: collectOrigins})
	var watcher sync.WaitGroup
	defer watcher.Wait() // the watchers stop with ctx, before the store closes
	ctx, stop := context.WithCancel(ctx)
	defer stop() // also when serving fails, so that the watchers end
	if f.retention.d > 0 {
		watcher.Go(func() { keepRetention(ctx, st, f.retention.d, time.Hour, time.Now, a.log) })
	}
	if len(specs) > 0 {
		watcher.Go(func() { sources.run(ctx, a.log) })
	}
	if f.rulesFile != "" {
		watcher.Go(func() {
			watchRules(ctx, f.rulesFile, set, f.rulesEvery,
				func(r detect.Rules) {
					a.log.Info("rules file changed; detecting again", "file", f.rulesFile)
					redetectAll(ctx, st, r, a.log)
				},
				func(err error) {
					a.log.Error("rules file rejected; the rules in force stay", "file", f.rulesFile, "err", err)
				})
		})
	}
	token := a.io.Env("CALLDIAG_TOKEN")
	ui, err := web.New(web.Config{Store: st, Rules: set, Logger: a.log, Token: token, Assistant: asst, Sources: sources.snapshots,
		Upload: pipelineUploader{p}, MaxUploadBytes: f.maxBody})
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Addr: f.addr, Token: token, API: h, Web: ui, Gatherer: reg, Logger: a.log,
		Ready: func(ctx context.Context) error { _, err := st.Stats(ctx); return err },
	})
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	url := "http://" + displayAddr(ln.Addr())
	if ready != nil {
		ready(url)
	} else {
		fmt.Fprintf(a.io.Stdout, "calldiag is serving on %s (open it in a browser; JSON API under %s/api/v1)\n", url, url)
		if collectKey != "" {
			fmt.Fprintf(a.io.Stdout, "browser collector: pages load %s/sdk/calldiag.js and post to %s/api/v1/collect\n", url, url)
		}
	}
	return srv.Serve(ctx, ln)
}

func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return tcp.String()
}
