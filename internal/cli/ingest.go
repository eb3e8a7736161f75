package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"calldiag/internal/detect"
	"calldiag/internal/pipeline"
)

func (a *app) ingestCommand() *cobra.Command {
	var asJSON bool
	var maxRecord int
	var rulesFile string
	var follow bool
	var poll, settle time.Duration
	var wrtc pipeline.WebRTCOptions
	cmd := &cobra.Command{
		Use:   "ingest [flags] PATH...",
		Short: "Ingest log files or folders (- for standard input) into the store",
		Long: `Ingest ACS call logs in any shape: Storage archive blobs (PT1H.json, JSON
lines), Event Hub payloads ({"records":[…]}), Log Analytics query results
(JSON arrays) and CSV exports, any of them gzip-compressed; and browser
WebRTC telemetry: chrome://webrtc-internals dumps and rtcstats dumps. Folders
are walked recursively; - reads standard input. Records already stored are
skipped, so re-running an ingest, or ingesting a blob that grew, stores only
what is new. The issues of every call that received records are detected
again once the records are stored.

With --follow, each PATH is a folder that keeps being followed until the
command is interrupted: new files and files that grew (a PT1H.json blob
grows during its hour) are ingested as their lines complete, and a
checkpoint per file is kept in the store, so a later --follow of the same
folder goes on where this one stopped. This is what serve --source
dir://PATH does inside the server.

A WebRTC dump is one participant, the browser that recorded it, with an
entry per peer connection. Its call id is --call-id, else the rtcstats
conference id, else a hash of the file; its participant is --participant,
else the dump's user or client id, else a hash. Dumps recorded by the other
ends of a call join it when given the same --call-id.

Exit status 3 means the ingest finished but some records were rejected; each
is listed with its file, line, field and reason.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &UsageError{Msg: "give at least one file or folder to ingest (- for standard input)"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rules, err := loadRules(rulesFile)
			if err != nil {
				return err
			}
			if follow && (wrtc.CallID != "" || wrtc.ParticipantID != "") {
				return &UsageError{Msg: "--call-id and --participant name one dump's call; they do not go with --follow"}
			}
			if follow {
				return a.follow(ctx, args, poll, settle, maxRecord, rules, asJSON)
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			opts := pipeline.Options{MaxRecordBytes: maxRecord, Logger: a.log, Detector: st, Rules: detect.NewRuleSet(rules),
				WebRTC: wrtc}
			if bar := a.progress(asJSON); bar != nil {
				defer bar.Finish()
				var done int
				var source string
				opts.Progress = func(p pipeline.Progress) {
					if p.Source != source {
						source, done = p.Source, 0
					}
					bar.Add(p.Records - done)
					done = p.Records
				}
			}
			p := pipeline.New(st, opts)
			start := time.Now()
			res, err := p.IngestPaths(ctx, args, a.io.Stdin)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.io.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printIngestSummary(a.io.Stdout, res, time.Since(start))
			}
			if res.Rejected > 0 {
				return &RejectedError{Rejected: res.Rejected}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.Flags().IntVar(&maxRecord, "max-record-bytes", 1<<20, "reject records larger than this")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "detection rules file overriding the default thresholds")
	cmd.Flags().StringVar(&wrtc.CallID, "call-id", "", "the call WebRTC dumps belong to (default: from the dump, or a hash of it)")
	cmd.Flags().StringVar(&wrtc.ParticipantID, "participant", "", "the participant that recorded WebRTC dumps (default: from the dump, or a hash of it)")
	cmd.Flags().BoolVar(&follow, "follow", false, "keep following the folders given, ingesting what arrives, until interrupted")
	cmd.Flags().DurationVar(&poll, "poll", time.Second, "with --follow: time between two looks at a folder")
	cmd.Flags().DurationVar(&settle, "settle", 10*time.Second,
		"with --follow: how long a file must stay unchanged before a last line without a newline, or a gzip file, is read")
	return cmd
}

// follow runs ingest --follow: it follows the folders until ctx ends and
// then prints what each source did.
func (a *app) follow(ctx context.Context, dirs []string, poll, settle time.Duration, maxRecord int, rules detect.Rules, asJSON bool) error {
	if poll <= 0 || settle <= 0 {
		return &UsageError{Msg: "--poll and --settle must be positive"}
	}
	var specs []sourceSpec
	for _, d := range dirs {
		if d == "-" {
			return &UsageError{Msg: "--follow follows folders, not standard input"}
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return &UsageError{Msg: fmt.Sprintf("--follow %s: not a folder", d)}
		}
		sp, err := parseSource("dir://" + d)
		if err != nil {
			return err
		}
		sp.poll, sp.settle = poll, settle
		specs = append(specs, sp)
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	p := pipeline.New(st, pipeline.Options{MaxRecordBytes: maxRecord, Logger: a.log, Detector: st, Rules: detect.NewRuleSet(rules)})
	set, err := newSources(st, p, specs, a.log, a.io.Env)
	if err != nil {
		return err
	}
	if !asJSON {
		fmt.Fprintf(a.io.Stderr, "following %d folder(s); interrupt to stop\n", len(specs))
	}
	set.run(ctx, a.log)
	snaps := set.snapshots()
	if asJSON {
		return writeJSON(a.io.Stdout, snaps)
	}
	for _, s := range snaps {
		fmt.Fprintf(a.io.Stdout, "%s: read %d records: %d stored, %d duplicates skipped, %d rejected; %d files\n",
			s.Name, s.Records, s.Stored, s.Duplicates, s.Rejected, s.Streams)
	}
	return nil
}

// progress returns a progress display on stderr when it is a terminal.
func (a *app) progress(quiet bool) *progressbar.ProgressBar {
	f, ok := a.io.Stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("ingesting"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func printIngestSummary(w io.Writer, res pipeline.Result, took time.Duration) {
	fmt.Fprintf(w, "read %d records: %d stored, %d duplicates skipped, %d of unknown category, %d rejected (%d calls touched, %s)\n",
		res.Read, res.Stored, res.Duplicates, res.UnknownCategory, res.Rejected, len(res.Calls), took.Round(time.Millisecond))
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  rejected %s\n", e.Error())
	}
	if res.ErrorsTruncated {
		fmt.Fprintf(w, "  (more rejected records not listed)\n")
	}
}
