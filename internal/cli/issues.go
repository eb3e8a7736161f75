package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// loadRules reads the rules file named by --rules, or returns the defaults.
func loadRules(path string) (detect.Rules, error) {
	if path == "" {
		return detect.DefaultRules(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return detect.Rules{}, fmt.Errorf("read rules: %w", err)
	}
	return detect.ParseRules(path, data)
}

// openWithRules loads the rules file (before touching the store, so a bad
// file fails fast) and opens the store.
func (a *app) openWithRules(ctx context.Context, rulesFile string) (store.Store, detect.Rules, error) {
	rules, err := loadRules(rulesFile)
	if err != nil {
		return nil, rules, err
	}
	st, err := a.openStore(ctx)
	return st, rules, err
}

func (a *app) issuesCommand() *cobra.Command {
	return callViewCommand(a, "issues [flags] CALL_ID",
		"Detect a call's media-quality and reliability issues, most severe first",
		`Detect the issues of a call: poor streams, drops, setup failures, device and
permission problems, user-facing diagnostics, poor ratings and missing
telemetry, each with its evidence, the rule that fired, the likely culprit and
a recommendation. --rules FILE overrides thresholds (see calldiag rules).`,
		callview.Issues, printIssues)
}

// callViewCommand is a command that shows one view of one call, as text or
// with --json as the API's JSON, with the rules in force or --rules FILE.
func callViewCommand[T any](a *app, use, short, long string,
	view func(context.Context, callview.Reader, string, detect.Rules) (T, error), print func(io.Writer, T)) *cobra.Command {
	var asJSON bool
	var rulesFile string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  exactArgs(1, "one CALL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, rules, err := a.openWithRules(cmd.Context(), rulesFile)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := view(cmd.Context(), st, strings.TrimSpace(args[0]), rules)
			if err != nil {
				return notFoundError(err, "call", args[0])
			}
			if asJSON {
				return writeJSON(a.io.Stdout, v)
			}
			print(a.io.Stdout, v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "detection rules file overriding the default thresholds")
	return cmd
}

func printIssues(w io.Writer, res callview.CallIssues) {
	rating := res.Rating
	if res.RatingScore != nil {
		rating += fmt.Sprintf(" (%.1f/5)", *res.RatingScore)
	}
	fmt.Fprintf(w, "Call %s  quality %s  rating %s  %d issues\n", res.CallID, res.Quality, rating, res.IssueCount)
	if len(res.Issues) == 0 {
		fmt.Fprintln(w, "no issues detected")
		return
	}
	for _, is := range res.Issues {
		fmt.Fprintf(w, "\n%-8s %s  %s\n", strings.ToUpper(string(is.Severity)), is.Kind, is.Summary)
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		if is.ParticipantID != "" {
			fmt.Fprintf(tw, "  participant\t%s", is.ParticipantID)
			if is.StreamID != "" {
				fmt.Fprintf(tw, " · %s", is.StreamID)
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "  when\t%s – %s\n", is.Start.UTC().Format(time.RFC3339), is.End.UTC().Format(time.RFC3339))
		if is.Culprit.Type != "" {
			fmt.Fprintf(tw, "  culprit\t%s: %s\n", is.Culprit.Type, is.Culprit.Summary)
		}
		for _, e := range is.Evidence {
			fmt.Fprintf(tw, "  evidence\t%s\n", evidenceText(e))
		}
		fmt.Fprintf(tw, "  rule\t%s\n", is.Rule)
		if is.Recommendation.Text != "" {
			fmt.Fprintf(tw, "  do\t%s\n", is.Recommendation.Text)
		}
		if len(is.Recommendation.KB) > 0 {
			fmt.Fprintf(tw, "  see\t%s\n", strings.Join(is.Recommendation.KB, ", "))
		}
		tw.Flush()
	}
}

func evidenceText(e model.Evidence) string {
	var b strings.Builder
	b.WriteString(e.Metric)
	if e.Value != nil {
		fmt.Fprintf(&b, " = %s", fmtRound(e.Value, 3, ""))
	} else if e.Text != "" {
		fmt.Fprintf(&b, " = %s", e.Text)
	}
	if e.Op != "" && e.Threshold != nil {
		fmt.Fprintf(&b, " (%s %s)", e.Op, fmtRound(e.Threshold, 3, ""))
	}
	if e.Source != "" {
		fmt.Fprintf(&b, " from %s", e.Source)
	}
	return b.String()
}

func (a *app) rulesCommand() *cobra.Command {
	var rulesFile string
	cmd := &cobra.Command{
		Use:   "rules [--rules FILE]",
		Short: "Print the detection rules in force, in the rules-file format",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules, err := loadRules(rulesFile)
			if err != nil {
				return err
			}
			_, err = io.WriteString(a.io.Stdout, rules.Format())
			return err
		},
	}
	cmd.Flags().StringVar(&rulesFile, "rules", "", "rules file to check and print with the defaults it overrides")
	return cmd
}
