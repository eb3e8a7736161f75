package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

func (a *app) detectCommand() *cobra.Command {
	var callID, since, rulesFile string
	cmd := &cobra.Command{
		Use:   "detect (--call CALL_ID | --since T) [--rules FILE]",
		Short: "Detect and store the issues of stored calls again, without re-ingesting",
		Long: `Run issue detection again on stored calls — one call, or every call that
started since a time — and store the outcome, for example after changing the
rules with --rules FILE. Search filters and summaries reflect it at once.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (callID == "") == (since == "") {
				return &UsageError{Msg: "give either --call CALL_ID or --since T"}
			}
			st, rules, err := a.openWithRules(cmd.Context(), rulesFile)
			if err != nil {
				return err
			}
			defer st.Close()
			ids := []string{strings.TrimSpace(callID)}
			if since != "" {
				t, err := callview.ParseTime(since, time.Now())
				if err != nil {
					return &UsageError{Msg: "--since: " + err.Error()}
				}
				if ids, err = callIDsSince(cmd.Context(), st, t); err != nil {
					return err
				}
			}
			if err := pipeline.Redetect(cmd.Context(), st, ids, rules); err != nil {
				return notFoundError(err, "call", callID)
			}
			fmt.Fprintf(a.io.Stdout, "detected the issues of %d calls\n", len(ids))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&callID, "call", "", "the call to detect again")
	fl.StringVar(&since, "since", "", "every call that started at or after this (RFC 3339 or 24h, 7d)")
	fl.StringVar(&rulesFile, "rules", "", "detection rules file overriding the default thresholds")
	return cmd
}

// callIDsSince lists the ids of the calls that started at or after since
// (every call for the zero time), oldest first.
func callIDsSince(ctx context.Context, st store.Store, since time.Time) ([]string, error) {
	var ids []string
	q := store.CallQuery{Since: since, Limit: store.MaxCallLimit, Asc: true}
	for {
		page, err := st.SearchCalls(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Calls {
			ids = append(ids, c.ID)
		}
		if page.NextCursor == "" {
			return ids, nil
		}
		q.Cursor = page.NextCursor
	}
}
