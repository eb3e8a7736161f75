package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

func (a *app) callsCommand() *cobra.Command {
	var asJSON bool
	f := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "calls [flags]",
		Short: "List calls, newest first, with filters",
		Long: `List stored calls, newest first. Without --since every call is listed.

--q matches a call id, participant id, endpoint id or identifier exactly
(case-insensitive), or as a prefix of at least 8 characters. --since and
--until take RFC 3339 times or durations back from now (24h, 7d).
--endpoint-type, --sdk and --os keep calls with at least one such
participant; they and --resource ignore case.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := callview.ParseCallQuery(func(n string) string { return *f[n] }, time.Now())
			if err != nil {
				return &UsageError{Msg: err.Error()}
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			page, err := st.SearchCalls(cmd.Context(), q)
			if err != nil {
				if err == store.ErrBadCursor {
					return &UsageError{Msg: "invalid --cursor"}
				}
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, page)
			}
			printCalls(a.io.Stdout, page)
			return nil
		},
	}
	fl := cmd.Flags()
	for _, def := range []struct{ name, usage string }{
		{"since", "only calls that started at or after this (RFC 3339 or 24h, 7d)"},
		{"until", "only calls that started before this"},
		{"q", "call id, participant id, endpoint id or identifier (or a prefix of 8+ characters)"},
		{"sort", "start, duration or participants"},
		{"order", "desc (default) or asc"},
		{"limit", "at most this many calls (default 50, at most 1000)"},
		{"cursor", "continue from a previous page's nextCursor"},
		{"issue", "only calls with an issue of one of these kinds (comma-separated)"},
		{"severity", "only calls with an issue of this severity or worse: critical, warning, info"},
		{"has-issues", "true: only calls with an issue of severity warning or worse"},
		{"quality", "only calls of this quality: Good, Poor, Unknown"},
		{"rating", "only calls of this rating: Good, Average, Poor, Unknown"},
		{"call-type", "only calls of this type: P2P or Group"},
		{"endpoint-type", "only calls with a participant of this endpoint type: VoIP, PSTN, Bot, Teams, Unknown, ..."},
		{"sdk", "only calls with a participant of this SDK version"},
		{"os", "only calls with a participant on this OS: Windows, macOS, iOS, Android, Linux, ChromeOS, Other"},
		{"resource", "only calls with records from this ACS resource id"},
	} {
		f[def.name] = fl.String(def.name, "", def.usage)
	}
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printCalls(w io.Writer, page store.CallPage) {
	if len(page.Calls) == 0 {
		fmt.Fprintln(w, "no calls")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tDURATION\tTYPE\tPARTICIPANTS\tCLIENTS\tQUALITY\tRATING\tISSUES\tCALL ID")
	for _, c := range page.Calls {
		issues := "-"
		if c.IssueCount > 0 {
			issues = fmt.Sprintf("%d: %s", c.IssueCount, strings.Join(c.IssueKinds, ", "))
			if len(issues) > 48 {
				issues = issues[:45] + "..."
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", c.StartTime.UTC().Format(time.RFC3339),
			fmtDuration(c.DurationSeconds), orDash(string(c.CallType)), c.ParticipantCount, clientTypes(c.ClientTypes),
			orDash(c.Quality), orDash(c.Rating), issues, c.ID)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d of %s calls", len(page.Calls), totalText(page))
	if page.NextCursor != "" {
		fmt.Fprintf(w, "; more with --cursor %s", page.NextCursor)
	}
	fmt.Fprintln(w)
}

// totalText renders the total of a search, "10,000+" when more calls
// matched than the store counts.
func totalText(page store.CallPage) string {
	s := strconv.Itoa(page.Total)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if page.TotalCapped {
		s += "+"
	}
	return s
}

// clientTypes renders {"VoIP":3,"PSTN":1} as "3 VoIP, 1 PSTN", largest first.
func clientTypes(m map[model.EndpointType]int) string {
	return orDash(model.DescribeClientTypes(m))
}

func fmtDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	return d.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
