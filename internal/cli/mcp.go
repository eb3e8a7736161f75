package cli

import (
	"errors"
	"runtime/debug"

	"github.com/spf13/cobra"

	"calldiag/internal/assist"
	"calldiag/internal/detect"
	"calldiag/internal/mcp"
)

func (a *app) mcpCommand() *cobra.Command {
	var rulesFile string
	cmd := &cobra.Command{
		Use:   "mcp [--rules FILE]",
		Short: "Serve the Model Context Protocol on standard input and output, for AI assistants",
		Long: `Serve the Model Context Protocol (MCP) over standard input and output, so an
MCP-capable assistant can diagnose the stored calls. Configure your client to
start "calldiag mcp --db DIR" as a stdio server.

Tools (arguments named like the JSON API's parameters, results the API's JSON):
search_calls, get_call, get_call_issues, get_timeline, lookup_code and
search_kb. The knowledge base is also offered as resources calldiag://kb/{id}.
Everything is read-only: the store is never written.

The session ends when standard input closes. Standard output carries only the
protocol; log lines go to standard error.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, rules, err := a.openWithRules(ctx, rulesFile)
			if err != nil {
				return err
			}
			defer st.Close()
			srv := mcp.New(mcp.Config{Store: st, Rules: detect.NewRuleSet(rules), SearchKB: assist.SearchKB, Version: buildVersion(), Logger: a.log})
			a.log.Info("serving mcp on stdio")
			err = srv.ServeStdio(ctx, a.io.Stdin, a.io.Stdout)
			if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// Interrupted: a normal way to stop a server.
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&rulesFile, "rules", "", "rules file overriding the default detection thresholds")
	return cmd
}

// buildVersion is the module version calldiag was built as, or "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
