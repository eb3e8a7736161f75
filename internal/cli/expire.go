package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/store"
)

// retentionFlag is a retention window: a whole number of days ("30d") or a
// Go duration ("720h"). Zero, the default, keeps calls forever.
type retentionFlag struct{ d time.Duration }

func (f *retentionFlag) String() string {
	if f.d == 0 {
		return ""
	}
	if f.d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(f.d/(24*time.Hour)), 10) + "d"
	}
	return f.d.String()
}

func (f *retentionFlag) Set(s string) error {
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

func (f *retentionFlag) Type() string { return "duration" }

// parseRetention parses "Nd" (days) or a Go duration such as "720h"; it
// rejects negative windows.
func parseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days such as 30d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is neither a number of days such as 30d nor a duration such as 720h", s)
	}
	return d, nil
}

const retentionUsage = "remove whole calls whose newest record is older than this (e.g. 30d, 720h); pinned calls stay"

func (a *app) expireCommand() *cobra.Command {
	var (
		window retentionFlag
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "expire --retention DURATION [flags]",
		Short: "Remove calls older than the retention window, once",
		Long: `Remove, once, every call whose newest record is older than the retention
window, each call whole; pinned calls (calldiag pin) stay. Records of a
removed call that arrive again are counted as duplicates and not stored.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if window.d <= 0 {
				return &UsageError{Msg: "expire needs --retention (e.g. --retention 30d)"}
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Expire(cmd.Context(), time.Now().Add(-window.d))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, res)
			}
			_, err = fmt.Fprintf(a.io.Stdout, "removed %d calls (%d records) older than %s\n", res.Calls, res.Records, window.String())
			return err
		},
	}
	fl := cmd.Flags()
	fl.Var(&window, "retention", retentionUsage)
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// expirer is the part of the store retention needs.
type expirer interface {
	Expire(ctx context.Context, before time.Time) (store.ExpireResult, error)
}

// keepRetention removes calls older than window at once and then every
// interval until ctx is done, logging what it removed.
func keepRetention(ctx context.Context, st expirer, window, interval time.Duration, now func() time.Time, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		start := now()
		res, err := st.Expire(ctx, start.Add(-window))
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			log.Error("retention failed; trying again later", "err", err)
		default:
			log.Info("retention", "window", window.String(), "calls", res.Calls, "records", res.Records,
				"took", time.Since(start).Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
