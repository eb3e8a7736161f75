package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
)

func (a *app) demoCommand() *cobra.Command {
	var f serveFlags
	var calls int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "demo [flags]",
		Short: "Serve calldiag with simulated calls of the last 24 hours",
		Long: `Generate realistic calls of the last 24 hours with the simulator, ingest them
through the normal ingest path into a temporary store (removed on exit,
never ./calldiag-data), and serve them.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			tmp, err := os.MkdirTemp("", "calldiag-demo-")
			if err != nil {
				return fmt.Errorf("create demo folder: %w", err)
			}
			defer os.RemoveAll(tmp)
			start := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
			fmt.Fprintf(a.io.Stdout, "simulating %d calls…\n", calls)
			if _, err := simulate.Write(ctx, simulate.Config{Calls: calls, Seed: seed, Start: start}, tmp); err != nil {
				return err
			}
			st, err := sqlite.Open(ctx, filepath.Join(tmp, "store"), a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			rules, err := loadRules(f.rulesFile)
			if err != nil {
				return err
			}
			res, err := pipeline.New(st, pipeline.Options{Logger: a.log, Detector: st, Rules: detect.NewRuleSet(rules)}).
				IngestPaths(ctx, []string{filepath.Join(tmp, "logs")}, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Stdout, "ingested %d records of %d calls\n", res.Stored, len(res.Calls))
			return a.serve(ctx, st, f, func(url string) {
				fmt.Fprintf(a.io.Stdout, "calldiag demo is serving on %s — open it in a browser, or try %s/api/v1/calls (Ctrl-C to stop)\n", url, url)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&calls, "calls", 120, "number of simulated calls")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "simulator seed")
	return cmd
}
