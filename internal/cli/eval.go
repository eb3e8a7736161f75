package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/api"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
)

// evalSlack is how far apart a detection's and a label's intervals may be
// and still count as overlapping: one media-stats aggregation bucket plus
// the time a client takes to report.
const evalSlack = 30 * time.Second

// labelKinds maps each injected cause to the issue kinds that detect it.
// The three network causes share the stream kinds; which one it was is the
// culprit's job, scored separately.
var labelKinds = map[string][]string{
	simulate.KindPoorUplink:                 {"poor-stream", "poor-video", "poor-screenshare", "poor-audio-concealment"},
	simulate.KindPoorDownlink:               {"poor-stream", "poor-video", "poor-screenshare", "poor-audio-concealment"},
	simulate.KindSharedNetwork:              {"poor-stream", "poor-video", "poor-screenshare", "poor-audio-concealment"},
	simulate.KindNetworkReconnect:           {"network-reconnect"},
	simulate.KindDropped:                    {"dropped-ungracefully"},
	simulate.KindSetupFailed:                {"call-setup-failed"},
	simulate.KindSpeakingWhileMuted:         {"speaking-while-muted"},
	simulate.KindMicrophoneNotFunctioning:   {"microphone-not-functioning"},
	simulate.KindCameraStartFailed:          {"camera-start-failed"},
	simulate.KindCameraPermissionDenied:     {"camera-permission-denied"},
	simulate.KindMicrophonePermissionDenied: {"microphone-permission-denied"},
	simulate.KindPoorRating:                 {"poor-rating"},
	simulate.KindMediaOverTCP:               {"media-over-tcp"},
}

// culpritFor is the culprit type a correct attribution of a network cause names.
var culpritFor = map[string]string{
	simulate.KindPoorUplink:    model.CulpritUplink,
	simulate.KindPoorDownlink:  model.CulpritDownlink,
	simulate.KindSharedNetwork: model.CulpritSharedNetwork,
}

// EvalRow is the score of one label kind (or of culprit attribution).
type EvalRow struct {
	Kind      string  `json:"kind"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// EvalReport compares detections with injected causes.
type EvalReport struct {
	Calls int       `json:"calls"`
	Kinds []EvalRow `json:"kinds"`
	// Culprit scores the attribution of the network causes that were
	// detected: tp when the culprit type is right, fp when it is wrong.
	Culprit EvalRow `json:"culprit"`
}

func touches(is model.Issue, pid string) bool {
	return is.ParticipantID == pid || slices.Contains(is.Culprit.ParticipantIDs, pid)
}

func overlaps(is model.Issue, f simulate.Fault) bool {
	return !is.Start.After(f.End.Add(evalSlack)) && !f.Start.After(is.End.Add(evalSlack))
}

// scoreCall adds one call's labels and detections to the counters.
func scoreCall(faults []simulate.Fault, issues []model.Issue, rows map[string]*EvalRow, culprit *EvalRow) {
	used := make([]bool, len(issues))
	for _, f := range faults {
		kinds, ok := labelKinds[f.Kind]
		if !ok {
			continue
		}
		row := rows[f.Kind]
		found := -1
		for i, is := range issues {
			if slices.Contains(kinds, is.Kind) && touches(is, f.ParticipantID) && overlaps(is, f) {
				found = i
				if want, ok := culpritFor[f.Kind]; !ok || is.Culprit.Type == want {
					break // prefer a detection that also names the right culprit
				}
			}
		}
		if found < 0 {
			row.FN++
			continue
		}
		row.TP++
		used[found] = true
		if want, ok := culpritFor[f.Kind]; ok {
			if issues[found].Culprit.Type == want {
				culprit.TP++
			} else {
				culprit.FP++
			}
		}
	}
	// A detection that matched no label — not even one another detection
	// already matched — is a false positive of the cause it claims: for the
	// stream kinds the cause its culprit names, otherwise its label kind.
	for i, is := range issues {
		if used[i] || matchesAny(is, faults) {
			continue
		}
		if kind := claimedCause(is); kind != "" {
			if rows[kind] == nil {
				rows[kind] = &EvalRow{Kind: kind}
			}
			rows[kind].FP++
		}
	}
}

// claimedCause is the injected cause a detection stands for, "" when it is
// of a kind the simulator never injects. Stream issues blamed on something
// other than an uplink, downlink or shared network count as network-other.
func claimedCause(is model.Issue) string {
	kinds := make([]string, 0, len(labelKinds))
	for k := range labelKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	network := false
	for _, k := range kinds {
		if !slices.Contains(labelKinds[k], is.Kind) {
			continue
		}
		want, isNetwork := culpritFor[k]
		if !isNetwork {
			return k
		}
		network = true
		if is.Culprit.Type == want {
			return k
		}
	}
	if network {
		return "network-other"
	}
	return ""
}

func matchesAny(is model.Issue, faults []simulate.Fault) bool {
	for _, f := range faults {
		if slices.Contains(labelKinds[f.Kind], is.Kind) && touches(is, f.ParticipantID) && overlaps(is, f) {
			return true
		}
	}
	return false
}

func finish(r *EvalRow) {
	if r.TP+r.FP > 0 {
		r.Precision = float64(r.TP) / float64(r.TP+r.FP)
	}
	if r.TP+r.FN > 0 {
		r.Recall = float64(r.TP) / float64(r.TP+r.FN)
	}
}

// evaluate runs detection on every labelled call in the store.
func evaluate(ctx context.Context, st api.Reader, labels simulate.Labels, detectCall func(context.Context, string) ([]model.Issue, error)) (EvalReport, error) {
	rows := map[string]*EvalRow{}
	for kind := range labelKinds {
		rows[kind] = &EvalRow{Kind: kind}
	}
	rep := EvalReport{Culprit: EvalRow{Kind: "culprit"}}
	for _, c := range labels.Calls {
		issues, err := detectCall(ctx, c.CallID)
		if err != nil {
			return rep, fmt.Errorf("call %s: %w", c.CallID, err)
		}
		scoreCall(c.Faults, issues, rows, &rep.Culprit)
		rep.Calls++
	}
	for _, r := range rows {
		if r.TP+r.FP+r.FN == 0 {
			continue
		}
		finish(r)
		rep.Kinds = append(rep.Kinds, *r)
	}
	sort.Slice(rep.Kinds, func(i, j int) bool { return rep.Kinds[i].Kind < rep.Kinds[j].Kind })
	finish(&rep.Culprit)
	return rep, nil
}

func (a *app) evalCommand() *cobra.Command {
	var labelsPath, rulesFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval --labels labels.json [--db DIR] [--rules FILE] [--json]",
		Short: "Score detection against the causes the simulator injected",
		Long: `Run detection on every call named in a simulator labels.json and compare the
issues found with the causes injected: true and false positives, misses,
precision and recall per cause, and how often a detected network cause was
blamed on the right culprit (uplink, downlink or shared network). A detection
matches a cause when call, kind and participant agree and their intervals
overlap (within 30 s).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if labelsPath == "" {
				return &UsageError{Msg: "--labels FILE is required"}
			}
			data, err := os.ReadFile(labelsPath)
			if err != nil {
				return fmt.Errorf("read labels: %w", err)
			}
			var labels simulate.Labels
			if err := json.Unmarshal(data, &labels); err != nil {
				return fmt.Errorf("read labels %s: %w", labelsPath, err)
			}
			st, rules, err := a.openWithRules(cmd.Context(), rulesFile)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := evaluate(cmd.Context(), st, labels, func(ctx context.Context, id string) ([]model.Issue, error) {
				res, err := api.DetectCall(ctx, st, id, rules)
				return res.Issues, notFoundError(err, "labelled call", id)
			})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.io.Stdout, rep)
			}
			printEval(a.io.Stdout, rep)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&labelsPath, "labels", "", "labels.json written by calldiag simulate")
	fl.StringVar(&rulesFile, "rules", "", "rules file overriding the default thresholds")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printEval(w io.Writer, rep EvalReport) {
	fmt.Fprintf(w, "%d calls\n", rep.Calls)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAUSE\tTP\tFP\tFN\tPRECISION\tRECALL")
	for _, r := range append(rep.Kinds, rep.Culprit) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\n", r.Kind, r.TP, r.FP, r.FN, r.Precision, r.Recall)
	}
	tw.Flush()
}
