package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/assist"
	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
	"calldiag/internal/store/sqlite"
)

func (a *app) askCommand() *cobra.Command {
	var callID, participant, rulesFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   `ask [--db DIR] [--call CALL_ID] [--participant ID] [--json] "QUESTION"`,
		Short: "Ask the troubleshooting assistant about a call, a code, a diagnostic or a symptom",
		Long: `Answer a troubleshooting question from calldiag's knowledge base (codes and
subcodes, user-facing diagnostics, issue kinds, guides) and, with --call, from
that call's detected issues, evidence and timeline. The answer lists its
sources (knowledge-base entries, issues, records) and what the data cannot
tell. Questions about codes and symptoms need no store.

Examples:
  calldiag ask "How do I fix subcode 41048?"
  calldiag ask --call CALL_ID "Summarize what went wrong in this call"
  calldiag ask --call CALL_ID "Why did participant 3f2a9c1e drop?"

By default answers are composed by calldiag itself, offline. To have a
language model write them, point CALLDIAG_LLM_URL (an OpenAI-compatible API
base URL; /chat/completions is appended), CALLDIAG_LLM_MODEL and, if the
endpoint needs one, CALLDIAG_LLM_KEY at it; if the model fails, calldiag's
own answer is given with a note.`,
		Args: func(_ *cobra.Command, args []string) error {
			if strings.TrimSpace(strings.Join(args, " ")) == "" {
				return &UsageError{Msg: "expected a QUESTION"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			rules, err := loadRules(rulesFile)
			if err != nil {
				return err
			}
			kind, dir, err := a.storeTarget()
			if err != nil {
				return err
			}
			calls := &lazyCalls{rules: rules, open: func(ctx context.Context) (store.Store, error) {
				// Do not create a store just to answer a question: a
				// missing one simply holds no calls.
				if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); kind == storeSQLite && errors.Is(err, os.ErrNotExist) {
					return nil, nil
				}
				return a.openStore(ctx)
			}}
			defer calls.Close()
			asst := assist.New(assist.Config{Calls: calls, LLM: assist.LLMFromEnv(a.io.Env), Logger: a.log})
			ans, err := asst.Ask(ctx, assist.Question{Question: strings.Join(args, " "), CallID: callID, ParticipantID: participant})
			if err != nil {
				return err
			}
			if err := calls.err(); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, ans)
			}
			printAnswer(a.io.Stdout, ans)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&callID, "call", "", "the call the question is about")
	fl.StringVar(&participant, "participant", "", "the participant the question is about (id or the first block of it)")
	fl.BoolVar(&asJSON, "json", false, "print the answer as JSON")
	fl.StringVar(&rulesFile, "rules", "", "detection rules file overriding the default thresholds (for questions about a call)")
	return cmd
}

func printAnswer(w io.Writer, ans assist.Answer) {
	fmt.Fprintln(w, ans.Answer)
	if len(ans.Citations) > 0 {
		fmt.Fprintln(w, "\nSources:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range ans.Citations {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Type, c.ID, c.URL)
		}
		tw.Flush()
	}
	if len(ans.Unknowns) > 0 {
		fmt.Fprintln(w, "\nNot known:")
		for _, u := range ans.Unknowns {
			fmt.Fprintf(w, "  - %s\n", u)
		}
	}
	switch {
	case ans.Fallback:
		fmt.Fprintf(w, "\nNote: %s\n", ans.Note)
	case ans.Model != "":
		fmt.Fprintf(w, "\nAnswered by %s.\n", ans.Model)
	}
}

// storeCalls is how the assistant reads calls from a store: the same
// overview (with detection) the call and issues commands show.
type storeCalls struct {
	st store.Store
	// rules gives the rules in force at each question (serve reloads them).
	rules func() detect.Rules
}

var _ assist.Calls = storeCalls{}

func (s storeCalls) Overview(ctx context.Context, callID string) (model.Call, error) {
	return callview.Overview(ctx, s.st, callID, s.rules())
}

// timelineEventKinds are every timeline kind but metric samples.
var timelineEventKinds = []string{model.KindOperation, model.KindUFD, model.KindJoin, model.KindLeave, model.KindSurvey, model.KindService}

func (s storeCalls) Events(ctx context.Context, callID, participantID string, from, to time.Time) ([]model.TimelineEvent, error) {
	q := store.TimelineQuery{CallID: callID, ParticipantID: participantID, From: from, To: to,
		Kinds: timelineEventKinds, Limit: store.MaxTimelineLimit}
	var out []model.TimelineEvent
	for {
		tl, err := s.st.Timeline(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, tl.Events...)
		if tl.NextCursor == "" {
			return out, nil
		}
		q.Cursor = tl.NextCursor
	}
}

func (s storeCalls) Search(ctx context.Context, q string, limit int) ([]model.CallSummary, error) {
	page, err := s.st.SearchCalls(ctx, store.CallQuery{Q: q, Limit: limit})
	if err != nil {
		return nil, err
	}
	return page.Calls, nil
}

// lazyCalls opens the store on the first question that needs a call; open
// returning a nil store means there is none, which holds no calls.
type lazyCalls struct {
	open  func(ctx context.Context) (store.Store, error)
	rules detect.Rules

	once    sync.Once
	st      store.Store
	calls   assist.Calls
	openErr error
}

func (l *lazyCalls) get(ctx context.Context) (assist.Calls, error) {
	l.once.Do(func() {
		l.st, l.openErr = l.open(ctx)
		if l.st != nil {
			l.calls = storeCalls{st: l.st, rules: func() detect.Rules { return l.rules }}
		}
	})
	return l.calls, l.openErr
}

// err is the error opening the store, if that failed.
func (l *lazyCalls) err() error { return l.openErr }

func (l *lazyCalls) Close() {
	if l.st != nil {
		l.st.Close()
	}
}

func (l *lazyCalls) Overview(ctx context.Context, callID string) (model.Call, error) {
	c, err := l.get(ctx)
	if err != nil {
		return model.Call{}, err
	}
	if c == nil {
		return model.Call{}, fmt.Errorf("call %s: %w", callID, store.ErrNotFound)
	}
	return c.Overview(ctx, callID)
}

func (l *lazyCalls) Events(ctx context.Context, callID, participantID string, from, to time.Time) ([]model.TimelineEvent, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("call %s: %w", callID, store.ErrNotFound)
	}
	return c.Events(ctx, callID, participantID, from, to)
}

func (l *lazyCalls) Search(ctx context.Context, q string, limit int) ([]model.CallSummary, error) {
	c, err := l.get(ctx)
	if err != nil || c == nil {
		return nil, err
	}
	return c.Search(ctx, q, limit)
}
