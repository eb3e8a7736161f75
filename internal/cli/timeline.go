package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

func (a *app) timelineCommand() *cobra.Command {
	var asJSON bool
	f := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "timeline [flags] CALL_ID",
		Short: "Show a call's events and media-stats samples in time order, a page at a time",
		Long: `Show a call's timeline: client operations, user-facing diagnostics, joins and
leaves, surveys, service events and media-stats samples, in time order.
Long timelines come a page at a time (--limit, default 5000 items); continue
with --cursor. --kind takes a comma-separated list of operation, ufd, join,
leave, survey, service, metric.`,
		Args: exactArgs(1, "one CALL_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := callview.ParseTimelineQuery(strings.TrimSpace(args[0]), func(n string) string { return *f[n] }, time.Now())
			if err != nil {
				return &UsageError{Msg: err.Error()}
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			tl, err := st.Timeline(cmd.Context(), q)
			if err != nil {
				if errors.Is(err, store.ErrBadCursor) {
					return &UsageError{Msg: "invalid --cursor"}
				}
				return notFoundError(err, "call", args[0])
			}
			if asJSON {
				return writeJSON(a.io.Stdout, tl)
			}
			printTimeline(a.io.Stdout, tl)
			return nil
		},
	}
	fl := cmd.Flags()
	for _, def := range []struct{ name, usage string }{
		{"participant", "only this participant"},
		{"from", "only items at or after this time (RFC 3339, or a duration back from now)"},
		{"to", "only items before this time"},
		{"kind", "only these kinds (comma-separated)"},
		{"limit", "at most this many items (events plus samples; default 5000)"},
		{"cursor", "continue from a previous page's nextCursor"},
	} {
		f[def.name] = fl.String(def.name, "", def.usage)
	}
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printTimeline(w io.Writer, tl model.Timeline) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tPARTICIPANT\tKIND\tNAME\tRESULT\tCODE\tDURATION\tDETAIL")
	for _, e := range tl.Events {
		code := "-"
		if e.Code != nil || e.SubCode != nil {
			code = fmtInt(e.Code) + "/" + fmtInt(e.SubCode)
		}
		detail := e.Detail
		if len(detail) > 80 {
			detail = detail[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			orDash(e.ParticipantID), e.Kind, e.Name, orDash(e.Result), code, fmtRound(e.DurationMs, 0, "ms"), detail)
	}
	tw.Flush()
	if len(tl.Events) == 0 {
		fmt.Fprintln(w, "no events in this page")
	}
	if len(tl.Series) > 0 {
		fmt.Fprintf(w, "\nSeries (%d)\n", len(tl.Series))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PARTICIPANT\tSTREAM\tMETRIC\tPOINTS\tFIRST\tLAST\tMIN\tAVG\tMAX")
		for _, s := range tl.Series {
			if len(s.Points) == 0 {
				continue
			}
			lo, hi, sum := s.Points[0].Value, s.Points[0].Value, 0.0
			for _, p := range s.Points {
				lo, hi, sum = min(lo, p.Value), max(hi, p.Value), sum+p.Value
			}
			avg := sum / float64(len(s.Points))
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", s.ParticipantID, s.StreamID, s.Metric, len(s.Points),
				s.Points[0].Time.UTC().Format("15:04:05"), s.Points[len(s.Points)-1].Time.UTC().Format("15:04:05"),
				fmtRound(&lo, 2, ""), fmtRound(&avg, 2, ""), fmtRound(&hi, 2, ""))
		}
		tw.Flush()
	}
	if tl.NextCursor != "" {
		fmt.Fprintf(w, "\nmore with --cursor %s\n", tl.NextCursor)
	}
}
