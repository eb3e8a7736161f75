package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/simulate"
)

func (a *app) simulateCommand() *cobra.Command {
	var calls int
	var seed uint64
	var out, start string
	cmd := &cobra.Command{
		Use:   "simulate --calls N --out DIR [--seed S] [--start T]",
		Short: "Write realistic ACS logs of simulated calls, with the faults they contain",
		Long: `Write realistic ACS call logs in the Azure Storage archive layout under
DIR/logs/, and DIR/labels.json naming, for every call, the causes injected
into it (poor networks, device failures, drops, …). The same seed and start
give byte-identical output. --start defaults to 24 hours ago.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &UsageError{Msg: "--out DIR is required"}
			}
			if calls < 1 {
				return &UsageError{Msg: "--calls must be at least 1"}
			}
			st := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
			if start != "" {
				t, err := callview.ParseTime(start, time.Now())
				if err != nil {
					return &UsageError{Msg: "--start: " + err.Error()}
				}
				st = t
			}
			labels, err := simulate.Write(cmd.Context(), simulate.Config{Calls: calls, Seed: seed, Start: st}, out)
			if err != nil {
				return err
			}
			faulty := 0
			for _, c := range labels.Calls {
				if len(c.Faults) > 0 {
					faulty++
				}
			}
			fmt.Fprintf(a.io.Stdout, "wrote %d calls (%d with injected faults) to %s/logs, labels in %s/labels.json\n",
				len(labels.Calls), faulty, out, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&calls, "calls", 0, "number of calls")
	fl.StringVar(&out, "out", "", "output folder")
	fl.Uint64Var(&seed, "seed", 1, "random seed")
	fl.StringVar(&start, "start", "", "start of the 24-hour window the calls fall in (RFC 3339; default 24h ago)")
	return cmd
}
