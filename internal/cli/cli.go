// Package cli is calldiag's command line: one file per subcommand, each
// testable through Run without os.Exit. With cmd/calldiag it is the
// composition root — the only package that builds concrete stores and wires
// ingest, store, api and server together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"calldiag/internal/store"
)

// Exit codes of every command.
const (
	ExitOK       = 0
	ExitError    = 1 // an error, or something asked for was not found
	ExitUsage    = 2 // the command line was wrong
	ExitRejected = 3 // finished, but some records were rejected
)

// UsageError is a mistake in the command line.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// RejectedError reports a finished ingest that rejected records.
type RejectedError struct{ Rejected int }

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%d records were rejected", e.Rejected)
}

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	var re *RejectedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &re):
		return ExitRejected
	default:
		return ExitError
	}
}

// Env gives environment variables; tests pass their own.
type Env func(key string) string

// IO bundles a command's standard streams and environment.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Env    Env
}

// app carries what every subcommand shares.
type app struct {
	io     IO
	dbDir  string
	store  string
	log    *slog.Logger
	logLvl string
}

// Run runs the command line args (without the program name).
func Run(ctx context.Context, args []string, sio IO) error {
	if sio.Env == nil {
		sio.Env = os.Getenv
	}
	if sio.Stdin == nil {
		sio.Stdin = strings.NewReader("")
	}
	a := &app{io: sio}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(sio.Stdin)
	root.SetOut(sio.Stdout)
	root.SetErr(sio.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var ue *UsageError
		var re *RejectedError
		switch {
		case errors.As(err, &re):
			// The summary already said it.
		case errors.As(err, &ue):
			fmt.Fprintf(sio.Stderr, "calldiag: %s\nTry: calldiag %s --help\n", ue.Msg, commandPath(root, args))
		default:
			fmt.Fprintf(sio.Stderr, "calldiag: %s\n", err)
		}
	}
	return err
}

func commandPath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return ""
	}
	return strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "calldiag",
		Short: "Call diagnostics for Azure Communication Services and WebRTC calls",
		Long: `calldiag ingests call telemetry (ACS diagnostic logs from Storage, Event Hubs,
Log Analytics exports) and lets you search calls and inspect their
participants, streams and timeline, from the command line or over HTTP.

Every flag can also be set with an environment variable CALLDIAG_<FLAG>
(upper case, dashes as underscores), e.g. CALLDIAG_DB for --db.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd, a.io.Env); err != nil {
				return err
			}
			a.log = newLogger(a.io.Stderr, a.logLvl)
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbDir, "db", "", "folder of the embedded SQLite store (default $CALLDIAG_DB, else ./calldiag-data)")
	pf.StringVar(&a.store, "store", "", "store URL: sqlite:DIR, or clickhouse://HOST:PORT/DATABASE for the scale-out store (default $CALLDIAG_STORE)")
	pf.StringVar(&a.logLvl, "log-level", "warn", "log level: debug, info, warn, error")

	root.AddCommand(
		a.ingestCommand(),
		a.callsCommand(),
		a.callCommand(),
		a.timelineCommand(),
		a.issuesCommand(),
		a.rulesCommand(),
		a.evalCommand(), a.askCommand(), a.evalAskCommand(),
		a.detectCommand(),
		a.recordCommand(),
		a.pinCommand(), a.unpinCommand(), a.expireCommand(),
		a.serveCommand(),
		a.sourcesCommand(),
		a.demoCommand(),
		a.simulateCommand(),
		a.mcpCommand(),
		a.benchCommand(),
	)
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Msg: err.Error()} })
	}
	return root
}

// applyEnv fills every flag not given on the command line from
// CALLDIAG_<FLAG>, the one rule by which flags and variables correspond.
func applyEnv(cmd *cobra.Command, env Env) error {
	var errs []string
	apply := func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		key := "CALLDIAG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env(key); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", key, v, err))
			}
		}
	}
	cmd.Flags().VisitAll(apply)
	cmd.InheritedFlags().VisitAll(apply)
	if len(errs) > 0 {
		return &UsageError{Msg: "bad environment: " + strings.Join(errs, "; ")}
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return &UsageError{Msg: fmt.Sprintf("expected %s, got %d arguments", what, len(args))}
		}
		return nil
	}
}

// notFoundError turns store.ErrNotFound into a message naming the thing.
func notFoundError(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s %s not found", what, id)
	}
	return err
}
