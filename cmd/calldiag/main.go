// Command calldiag is the call-diagnostics tool: ingest, search, inspect and
// serve call telemetry. See "calldiag --help".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"calldiag/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: os.Getenv})
	stop()
	os.Exit(cli.ExitCode(err))
}
