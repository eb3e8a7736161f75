package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/assist"
	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
	"calldiag/internal/simulate"
	"calldiag/internal/store/sqlite"
)

func (a *app) evalAskCommand() *cobra.Command {
	var asJSON, verbose, useModel bool
	var calls int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "eval-ask [--json] [--verbose] [--calls N] [--seed N] [--llm]",
		Short: "Score the troubleshooting assistant on its evaluation set",
		Long: `Ask the assistant every question of its evaluation set and score the
answers. The set holds knowledge-base questions (codes, subcodes, user-facing
diagnostics, issue kinds, every guide, many phrased without the entries'
words) and call questions generated from simulated calls: the calls are
simulated and ingested into a temporary store (removed afterwards), and for
each injected cause the assistant is asked why the participant dropped, why
their audio was bad, and so on, and to summarize the call. A question passes
when the answer cites every required entry or issue with at most two other
citations. The command fails when the score is below 90%.

The assistant answers deterministically unless --llm is given, which uses
the model CALLDIAG_LLM_URL and CALLDIAG_LLM_MODEL name.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			qs, err := assist.KBEvalSet()
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "calldiag-eval-ask-")
			if err != nil {
				return fmt.Errorf("create evaluation folder: %w", err)
			}
			defer os.RemoveAll(tmp)
			st, err := sqlite.Open(ctx, tmp, a.log)
			if err != nil {
				return err
			}
			defer st.Close()
			faults, err := ingestSimulatedCalls(ctx, st, simulate.Config{Calls: calls, Seed: seed,
				Start: time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				return err
			}
			sc := storeCalls{st: st, rules: detect.DefaultRules}
			callQs, err := assist.CallEvalSet(ctx, sc, faults)
			if err != nil {
				return err
			}
			qs = append(qs, callQs...)
			cfg := assist.Config{Calls: sc, Logger: a.log}
			if useModel {
				if cfg.LLM = assist.LLMFromEnv(a.io.Env); cfg.LLM == nil {
					return &UsageError{Msg: "--llm needs CALLDIAG_LLM_URL and CALLDIAG_LLM_MODEL"}
				}
			}
			rep, err := assist.Evaluate(ctx, assist.New(cfg), qs)
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(a.io.Stdout, rep); err != nil {
					return err
				}
			} else {
				printEvalAsk(a.io.Stdout, rep, verbose)
			}
			if rep.Score < assist.PassScore {
				return fmt.Errorf("score %.3f is below %.2f", rep.Score, assist.PassScore)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the report (every question, answer and verdict) as JSON")
	fl.BoolVarP(&verbose, "verbose", "v", false, "print every answer, not only those of failing questions")
	fl.IntVar(&calls, "calls", 30, "number of simulated calls the call questions come from")
	fl.Uint64Var(&seed, "seed", 42, "simulator seed")
	fl.BoolVar(&useModel, "llm", false, "evaluate the language model configured by CALLDIAG_LLM_*")
	return cmd
}

// ingestSimulatedCalls simulates calls and feeds their records, as JSON
// lines, through the ingest pipeline (with detection) into st, returning
// the causes injected.
func ingestSimulatedCalls(ctx context.Context, st *sqlite.DB, cfg simulate.Config) ([]assist.InjectedFault, error) {
	var buf bytes.Buffer
	labels, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		return nil, err
	}
	res, err := pipeline.New(st, pipeline.Options{Detector: st}).Ingest(ctx, &buf, fmt.Sprintf("simulated-seed-%d", cfg.Seed))
	if err != nil {
		return nil, err
	}
	if res.Rejected > 0 {
		return nil, fmt.Errorf("%d simulated records were rejected", res.Rejected)
	}
	var out []assist.InjectedFault
	for _, c := range labels.Calls {
		for _, f := range c.Faults {
			out = append(out, assist.InjectedFault{CallID: c.CallID, Kind: f.Kind, ParticipantID: f.ParticipantID})
		}
	}
	return out, nil
}

func printEvalAsk(w io.Writer, rep assist.EvalReport, verbose bool) {
	for _, r := range rep.Results {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s  %-52s %s\n", verdict, r.Question.ID, r.Question.Question)
		if r.Pass && !verbose {
			continue
		}
		if len(r.Missing) > 0 {
			fmt.Fprintf(w, "      missing: %s\n", strings.Join(r.Missing, ", "))
		}
		if len(r.Extra) > assist.MaxExtraCitations {
			fmt.Fprintf(w, "      extra:   %s\n", strings.Join(r.Extra, ", "))
		}
		for _, line := range strings.Split(r.Answer.Answer, "\n") {
			fmt.Fprintf(w, "      | %s\n", line)
		}
	}
	fmt.Fprintf(w, "\nscore %.3f: %d of %d questions pass (at least %.2f required)\n", rep.Score, rep.Passed, rep.Total, assist.PassScore)
}
