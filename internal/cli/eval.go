package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/eval"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
)

func (a *app) evalCommand() *cobra.Command {
	var labelsPath, rulesFile string
	var asJSON, withMisses bool
	cmd := &cobra.Command{
		Use:   "eval --labels labels.json [--db DIR] [--rules FILE] [--misses] [--json]",
		Short: "Score detection against the causes the simulator injected",
		Long: `Run detection on every call named in a simulator labels.json and compare the
issues found with the causes injected: true and false positives, misses,
precision and recall per cause, and how often a detected network cause was
blamed on the right culprit (uplink, downlink or shared network). A detection
matches a cause when call, kind and participant agree and their intervals
overlap (within 30 s). A network cause clearly past a stream threshold must
be found by the stream rules; a milder one may be found by the client's own
network diagnostic instead. --misses also lists every missed cause and every
detection no cause explains.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if labelsPath == "" {
				return &UsageError{Msg: "--labels FILE is required"}
			}
			data, err := os.ReadFile(labelsPath)
			if err != nil {
				return fmt.Errorf("read labels: %w", err)
			}
			var labels simulate.Labels
			if err := json.Unmarshal(data, &labels); err != nil {
				return fmt.Errorf("read labels %s: %w", labelsPath, err)
			}
			st, rules, err := a.openWithRules(cmd.Context(), rulesFile)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := eval.Run(cmd.Context(), labels, rules, withMisses, func(ctx context.Context, id string) ([]model.Issue, error) {
				res, err := callview.Issues(ctx, st, id, rules)
				return res.Issues, notFoundError(err, "labelled call", id)
			})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, rep)
			}
			printEval(a.io.Stdout, rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&labelsPath, "labels", "", "labels.json written by calldiag simulate")
	fl.StringVar(&rulesFile, "rules", "", "rules file overriding the default thresholds")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	fl.BoolVar(&withMisses, "misses", false, "list each missed cause and unexplained detection")
	return cmd
}

func printEval(w io.Writer, rep eval.Report) {
	fmt.Fprintf(w, "%d calls\n", rep.Calls)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAUSE\tTP\tFP\tFN\tPRECISION\tRECALL")
	for _, r := range append(rep.Kinds, rep.Culprit) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\n", r.Kind, r.TP, r.FP, r.FN, r.Precision, r.Recall)
	}
	tw.Flush()
	if len(rep.Misses) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MISS\tCAUSE\tCALL\tPARTICIPANT\tFROM\tTO\tDETAIL")
	for _, m := range rep.Misses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Type, m.Kind, m.CallID, m.ParticipantID,
			m.Start.Format("15:04:05"), m.End.Format("15:04:05"), m.Detail)
	}
	tw.Flush()
}
