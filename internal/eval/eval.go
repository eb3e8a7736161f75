// Package eval scores the detection engine against the causes the
// simulator injected: per cause, how many were found (true positives),
// missed (false negatives) and how many detections no cause explains (false
// positives), and whether a found network cause was blamed on the right
// culprit.
//
// A detection matches a cause when their call and participant agree, their
// intervals overlap (within Slack), and the detection is of a kind that
// shows that cause: the issue kinds listed for it, or the kind of the
// user-facing diagnostic the cause made the client raise. A network cause
// large enough to break a stream rule by a clear margin must be found by
// the stream rules themselves; the client's own diagnostic is then not
// enough.
//
// It sits beside the API: it reads detection results and simulator labels
// and knows nothing of stores or input formats.
package eval

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"calldiag/internal/catalog"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
)

// Slack is how far apart a detection's and a label's intervals may be and
// still count as overlapping: one media-stats aggregation bucket plus the
// time a client takes to report.
const Slack = 30 * time.Second

// ClearMargin is how far past a stream threshold a network cause must be
// before only a stream-rule detection counts for it. Closer to the
// threshold, measurement noise decides whether the rule fires, and the
// client's diagnostic is accepted instead.
const ClearMargin = 1.25

// streamKinds are the kinds a network cause shows as.
var streamKinds = []string{"poor-stream", "poor-video", "poor-screenshare", "poor-audio-concealment"}

// causeKinds maps each injected cause to the issue kinds that detect it.
// The three network causes share the stream kinds; which one it was is the
// culprit's job, scored separately.
var causeKinds = map[string][]string{
	simulate.KindPoorUplink:                 streamKinds,
	simulate.KindPoorDownlink:               streamKinds,
	simulate.KindSharedNetwork:              streamKinds,
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

// culpritFor is the culprit type a correct attribution of a network cause
// names.
var culpritFor = map[string]string{
	simulate.KindPoorUplink:    model.CulpritUplink,
	simulate.KindPoorDownlink:  model.CulpritDownlink,
	simulate.KindSharedNetwork: model.CulpritSharedNetwork,
}

// Scored reports whether a cause kind is scored.
func Scored(kind string) bool {
	_, ok := causeKinds[kind]
	return ok
}

// Row is the score of one cause kind (or of culprit attribution).
type Row struct {
	Kind      string  `json:"kind"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Miss is one injected cause detection missed (fn), one detection no
// injected cause explains (fp), or a found network cause blamed on the
// wrong culprit (culprit).
type Miss struct {
	Type          string    `json:"type"`
	Kind          string    `json:"kind"`
	CallID        string    `json:"callId"`
	ParticipantID string    `json:"participantId"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	// Detail is the detected issue's kind and summary (fp), the injected
	// cause's magnitudes (fn) or the culprit named (culprit).
	Detail string `json:"detail"`
}

// Report compares detections with injected causes.
type Report struct {
	Calls int   `json:"calls"`
	Kinds []Row `json:"kinds"`
	// Culprit scores the attribution of the network causes that were
	// detected: tp when the culprit type is right, fp when it is wrong.
	Culprit Row `json:"culprit"`
	// Misses lists every false negative and false positive, when asked for.
	Misses []Miss `json:"misses,omitempty"`
}

// Row returns the row of a cause kind, and whether there is one.
func (r Report) Row(kind string) (Row, bool) {
	for _, row := range r.Kinds {
		if row.Kind == kind {
			return row, true
		}
	}
	return Row{}, false
}

// Scorer accumulates the score of many calls. The zero value is not
// usable; use NewScorer.
type Scorer struct {
	rules   detect.Rules
	misses  bool
	rows    map[string]*Row
	culprit Row
	calls   int
	list    []Miss
}

// NewScorer returns a Scorer that judges whether a network cause clearly
// breaks a stream rule by rules, and keeps the list of misses if asked.
func NewScorer(rules detect.Rules, withMisses bool) *Scorer {
	s := &Scorer{rules: rules, misses: withMisses, rows: map[string]*Row{}, culprit: Row{Kind: "culprit"}}
	for kind := range causeKinds {
		s.rows[kind] = &Row{Kind: kind}
	}
	return s
}

// Run scores every call of labels, getting each call's issues from
// detectCall.
func Run(ctx context.Context, labels simulate.Labels, rules detect.Rules, withMisses bool,
	detectCall func(context.Context, string) ([]model.Issue, error)) (Report, error) {
	s := NewScorer(rules, withMisses)
	for _, c := range labels.Calls {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		issues, err := detectCall(ctx, c.CallID)
		if err != nil {
			return Report{}, fmt.Errorf("call %s: %w", c.CallID, err)
		}
		s.Add(c, issues)
	}
	return s.Report(), nil
}

// detects reports whether an issue of this kind counts as finding cause
// f: one of the cause's own kinds, or for a network cause that is not
// strict (see clearlyBreaks) the kind of the diagnostic it raised.
func detects(f simulate.Fault, kind string, strict bool) bool {
	if slices.Contains(causeKinds[f.Kind], kind) {
		return true
	}
	if _, network := culpritFor[f.Kind]; !network || strict {
		return false
	}
	return ufdKind(f) == kind
}

// explains reports whether an issue of this kind is a symptom of cause f:
// one it detects, or the diagnostic the cause raised on the way (the
// reconnect attempt before a drop, say).
func explains(f simulate.Fault, kind string) bool {
	return slices.Contains(causeKinds[f.Kind], kind) || ufdKind(f) == kind
}

func ufdKind(f simulate.Fault) string {
	if f.UFD == "" {
		return ""
	}
	k, _ := catalog.UFDKind(f.UFD)
	return k
}

// clearlyBreaks reports whether a network cause is large enough that the
// stream rules must find it.
func (s *Scorer) clearlyBreaks(f simulate.Fault) bool {
	if _, network := culpritFor[f.Kind]; !network {
		return false
	}
	r := s.rules
	return f.LossRate > ClearMargin*r.PacketLossAvg || f.JitterMs > ClearMargin*r.JitterAvgMs ||
		f.RTTMs > ClearMargin*r.RTTAvgMs
}

func touches(is model.Issue, pid string) bool {
	return is.ParticipantID == pid || slices.Contains(is.Culprit.ParticipantIDs, pid)
}

func overlaps(is model.Issue, f simulate.Fault) bool {
	return !is.Start.After(f.End.Add(Slack)) && !f.Start.After(is.End.Add(Slack))
}

// rank orders the detections that find a cause: the right culprit first,
// then the cause's own kinds before the diagnostic's.
func rank(is model.Issue, f simulate.Fault) int {
	n := 0
	if want, ok := culpritFor[f.Kind]; ok && is.Culprit.Type == want {
		n += 2
	}
	if slices.Contains(causeKinds[f.Kind], is.Kind) {
		n++
	}
	return n
}

// Add scores one call's labels against the issues detected in it.
func (s *Scorer) Add(c simulate.CallLabels, issues []model.Issue) {
	s.calls++
	used := make([]bool, len(issues))
	for _, f := range c.Faults {
		row, ok := s.rows[f.Kind]
		if !ok {
			continue
		}
		strict := s.clearlyBreaks(f)
		want, network := culpritFor[f.Kind]
		found := -1
		for i, is := range issues {
			if !detects(f, is.Kind, strict) || !touches(is, f.ParticipantID) || !overlaps(is, f) {
				continue
			}
			if found < 0 || rank(is, f) > rank(issues[found], f) {
				found = i
			}
		}
		if found < 0 {
			row.FN++
			if s.misses {
				s.list = append(s.list, Miss{Type: "fn", Kind: f.Kind, CallID: c.CallID, ParticipantID: f.ParticipantID,
					Start: f.Start, End: f.End, Detail: faultDetail(f, strict)})
			}
			continue
		}
		row.TP++
		used[found] = true
		if network {
			if is := issues[found]; is.Culprit.Type == want {
				s.culprit.TP++
			} else {
				s.culprit.FP++
				if s.misses {
					s.list = append(s.list, Miss{Type: "culprit", Kind: f.Kind, CallID: c.CallID, ParticipantID: f.ParticipantID,
						Start: f.Start, End: f.End, Detail: fmt.Sprintf("%s on %s blamed %s %v, want %s", is.Kind, is.ParticipantID, is.Culprit.Type, is.Culprit.ParticipantIDs, want)})
				}
			}
		}
	}
	// A detection that matched no cause — not even one another detection
	// already matched — is a false positive of the cause it claims: for the
	// stream kinds the cause its culprit names, otherwise its cause kind.
	for i, is := range issues {
		if used[i] || explained(is, c.Faults) {
			continue
		}
		kind := claimedCause(is)
		if kind == "" {
			continue
		}
		if s.rows[kind] == nil {
			s.rows[kind] = &Row{Kind: kind}
		}
		s.rows[kind].FP++
		if s.misses {
			s.list = append(s.list, Miss{Type: "fp", Kind: kind, CallID: c.CallID, ParticipantID: is.ParticipantID,
				Start: is.Start, End: is.End, Detail: is.Kind + ": " + is.Summary})
		}
	}
}

// explained reports whether some injected cause accounts for the issue.
func explained(is model.Issue, faults []simulate.Fault) bool {
	for _, f := range faults {
		if explains(f, is.Kind) && touches(is, f.ParticipantID) && overlaps(is, f) {
			return true
		}
	}
	return false
}

// claimedCause is the injected cause a detection stands for, "" when it is
// of a kind the simulator never injects. Stream issues blamed on something
// other than an uplink, downlink or shared network count as network-other.
func claimedCause(is model.Issue) string {
	kinds := make([]string, 0, len(causeKinds))
	for k := range causeKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	network := false
	for _, k := range kinds {
		if !slices.Contains(causeKinds[k], is.Kind) {
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

// faultDetail describes an injected cause's magnitudes.
func faultDetail(f simulate.Fault, strict bool) string {
	var parts []string
	if f.Direction != "" {
		parts = append(parts, f.Direction)
	}
	if f.LossRate > 0 {
		parts = append(parts, fmt.Sprintf("loss %.1f%%", 100*f.LossRate))
	}
	if f.JitterMs > 0 {
		parts = append(parts, fmt.Sprintf("jitter %.0f ms", f.JitterMs))
	}
	if f.RTTMs > 0 {
		parts = append(parts, fmt.Sprintf("round trip +%.0f ms", f.RTTMs))
	}
	if f.UFD != "" {
		parts = append(parts, "ufd "+f.UFD)
	}
	if f.Code != nil {
		s := fmt.Sprintf("code %d", *f.Code)
		if f.SubCode != nil {
			s += fmt.Sprintf("/%d", *f.SubCode)
		}
		parts = append(parts, s)
	}
	if strict {
		parts = append(parts, "clearly past a stream rule")
	}
	return strings.Join(parts, ", ")
}

func finish(r *Row) {
	if r.TP+r.FP > 0 {
		r.Precision = float64(r.TP) / float64(r.TP+r.FP)
	}
	if r.TP+r.FN > 0 {
		r.Recall = float64(r.TP) / float64(r.TP+r.FN)
	}
}

// Report returns the scores so far: one row per cause kind that was
// injected or claimed, sorted by kind.
func (s *Scorer) Report() Report {
	rep := Report{Calls: s.calls, Culprit: s.culprit}
	for _, r := range s.rows {
		if r.TP+r.FP+r.FN == 0 {
			continue
		}
		row := *r
		finish(&row)
		rep.Kinds = append(rep.Kinds, row)
	}
	sort.Slice(rep.Kinds, func(i, j int) bool { return rep.Kinds[i].Kind < rep.Kinds[j].Kind })
	finish(&rep.Culprit)
	rep.Misses = slices.Clone(s.list)
	return rep
}
