package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

const (
	srcSummary    = "CallSummary"
	srcOperations = "CallClientOperations"
)

// succeeded reports whether an operation result counts as a success: the
// ACS query treats Succeeded, Success and ExpectedError as fine.
func succeeded(result string) bool {
	switch strings.ToLower(result) {
	case "succeeded", "success", "expectederror", "":
		return true
	}
	return false
}

// explainedElsewhere reports whether an operation's result is judged by a
// rule of its own: a browser's media requests (permission and device
// kinds, getusermedia-failed) and an encoder's quality limitation changes,
// whose result is the new limitation, not a failure.
func explainedElsewhere(name string) bool {
	return isMediaRequest(name) || strings.EqualFold(name, "qualityLimitationChange")
}

// isJoin reports whether an operation starts a leg.
func isJoin(name string) bool {
	return strings.EqualFold(name, "Join") || strings.EqualFold(name, "EnterCall")
}

func codeText(code, sub *int) string {
	switch {
	case code == nil:
		return "no code"
	case sub == nil:
		return fmt.Sprintf("%d", *code)
	}
	return fmt.Sprintf("%d/%d", *code, *sub)
}

func intF(p *int) *float64 {
	if p == nil {
		return nil
	}
	return ptr(float64(*p))
}

// reliability finds legs that never connected, legs that ended badly,
// failed client operations and rejoins.
func (d *run) reliability() {
	failedOps := map[string][]*model.TimelineEvent{}
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind == model.KindOperation && !succeeded(e.Result) && !explainedElsewhere(e.Name) {
			failedOps[e.ParticipantID] = append(failedOps[e.ParticipantID], e)
		}
	}
	for i := range d.in.Call.Participants {
		p := &d.in.Call.Participants[i]
		d.leg(p, failedOps[p.ID])
		delete(failedOps, p.ID)
	}
	// Failed operations of participants without a summary row.
	ids := make([]string, 0, len(failedOps))
	for id := range failedOps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		d.leg(&model.Participant{ID: id}, failedOps[id])
	}
}

func (d *run) leg(p *model.Participant, ops []*model.TimelineEvent) {
	start, end := d.legSpan(p.ID)
	var joinFails, hangupFails, others []*model.TimelineEvent
	for _, e := range ops {
		switch {
		case isJoin(e.Name):
			joinFails = append(joinFails, e)
		case strings.EqualFold(e.Name, "Hangup"):
			hangupFails = append(hangupFails, e)
		default:
			others = append(others, e)
		}
	}
	// A leg ended badly when its end code is one Azure's Call Diagnostics
	// counts as ungraceful, or when the summary files the end under an
	// unexpected error (some drop codes, such as 496, are missing from
	// that list).
	endFailed := p.EndReason != nil && *p.EndReason != 0 &&
		(catalog.IsUngracefulEndReason(*p.EndReason) || strings.HasPrefix(p.ResultCategory, "Unexpected"))
	short := p.DurationSeconds != nil && *p.DurationSeconds < d.rules.SetupMaxSeconds
	var endEv []model.Evidence
	var endKB string
	if p.EndReason != nil && *p.EndReason != 0 {
		th := ""
		if catalog.IsUngracefulEndReason(*p.EndReason) {
			th = "ungraceful end reasons"
		}
		endEv = append(endEv, model.Evidence{Metric: "ParticipantEndReason", Value: intF(p.EndReason),
			Text: strings.TrimSpace(codeText(p.EndReason, p.EndSubCode) + " " + p.ResultCategory + " " + th),
			Op:   "in", Source: srcSummary, RecordIDs: []string{}})
		endKB = codeKB(p.EndReason, p.EndSubCode)
	}
	opEvidence := func(es []*model.TimelineEvent) ([]model.Evidence, []string) {
		var ev []model.Evidence
		var kb []string
		for _, e := range es {
			t := e.Time
			ev = append(ev, model.Evidence{Metric: e.Name, Value: intF(e.Code), Text: e.Result + " " + codeText(e.Code, e.SubCode),
				Op: "not success", Source: srcOperations, RecordIDs: recordIDs(e.RecordID), From: &t, To: &t})
			kb = append(kb, codeKB(e.Code, e.SubCode))
		}
		return ev, kb
	}
	switch {
	case len(joinFails) > 0 || (short && endFailed):
		ev, kb := opEvidence(joinFails)
		ev = append(endEv, ev...)
		s, e := start, end
		if len(joinFails) > 0 && (p.StartTime == nil || joinFails[0].Time.Before(s)) {
			s = joinFails[0].Time
		}
		d.add(model.Issue{Kind: KindCallSetupFailed, ParticipantID: p.ID, Start: s, End: e,
			Summary:  fmt.Sprintf("the participant never connected to the call (%s)", failureText(p, joinFails)),
			Evidence: ev, Rule: "reliability.setup",
			Culprit: endCulprit(p, joinFails)}, append([]string{endKB}, kb...)...)
	case endFailed || len(hangupFails) > 0 || p.EndReason != nil && *p.EndReason != 0 && d.cutOff(p.ID, end):
		culprit := endCulprit(p, hangupFails)
		if culprit.Type == model.CulpritUnknown && d.cutOff(p.ID, end) {
			culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{p.ID},
				Summary: "the participant's connection was lost while it was trying to reconnect"}
		}
		ev, kb := opEvidence(hangupFails)
		ev = append(endEv, ev...)
		s := end.Add(-10 * time.Second)
		if s.Before(start) {
			s = start
		}
		d.add(model.Issue{Kind: KindDropped, ParticipantID: p.ID, Start: s, End: end,
			Summary:  fmt.Sprintf("the participant dropped out of the call without hanging up (%s)", failureText(p, hangupFails)),
			Evidence: ev, Rule: "reliability.ungraceful_end",
			Culprit: culprit}, append([]string{endKB}, kb...)...)
	}
	// Other failed operations: one issue per operation name and code.
	type key struct{ name, code string }
	groups := map[key][]*model.TimelineEvent{}
	var order []key
	for _, e := range others {
		k := key{e.Name, codeText(e.Code, e.SubCode)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	for _, k := range order {
		es := groups[k]
		ev, kb := opEvidence(es)
		summary := fmt.Sprintf("%s failed (%s)", k.name, k.code)
		if len(es) > 1 {
			summary = fmt.Sprintf("%s failed %d times (%s)", k.name, len(es), k.code)
		}
		d.add(model.Issue{Kind: KindOperationFailed, ParticipantID: p.ID, StreamID: k.name + "/" + k.code,
			Start: es[0].Time, End: es[len(es)-1].Time, Summary: summary, Evidence: ev,
			Rule: "reliability.operation", Culprit: model.Culprit{Type: model.CulpritUnknown}}, kb...)
	}
	if p.RejoinOf != "" {
		d.add(model.Issue{Kind: KindRejoined, ParticipantID: p.ID, Start: start, End: start,
			Summary:  "the participant joined again after an earlier leg of the same endpoint ended",
			Evidence: []model.Evidence{{Metric: "RejoinOf", Text: p.RejoinOf, Source: srcSummary}},
			Rule:     "reliability.rejoin",
			Culprit:  model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{p.ID}}})
	}
}

func failureText(p *model.Participant, ops []*model.TimelineEvent) string {
	if p.EndReason != nil && *p.EndReason != 0 {
		return "end code " + codeText(p.EndReason, p.EndSubCode)
	}
	if len(ops) > 0 {
		return ops[0].Name + " " + ops[0].Result + " " + codeText(ops[0].Code, ops[0].SubCode)
	}
	return "no end code"
}

// endCulprit guesses the culprit from the result category of the end code:
// a server error is the service's, anything else points at the client.
func endCulprit(p *model.Participant, ops []*model.TimelineEvent) model.Culprit {
	cat := p.ResultCategory
	if cat == "" && len(ops) > 0 {
		cat = ops[0].Result
	}
	switch {
	case strings.Contains(cat, "Server"):
		return model.Culprit{Type: model.CulpritService, ParticipantIDs: []string{},
			Summary: "the end code is a service-side error"}
	case strings.Contains(cat, "Client"):
		return model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{p.ID},
			Summary: "the end code points at this participant's client or network"}
	}
	return model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{p.ID}}
}

// cutOff reports whether the participant's connection-loss UFD
// (networkReconnect and its kin) was still raised when its leg ended: a
// leg that ends in the middle of a reconnect was cut off, whatever its
// end code's category says.
func (d *run) cutOff(pid string, end time.Time) bool {
	if d.connUFDs == nil {
		d.connUFDs = map[string][]*model.TimelineEvent{}
		for i := range d.in.Events {
			e := &d.in.Events[i]
			if e.Kind != model.KindUFD {
				continue
			}
			switch ufdKind(e.Name) {
			case KindNetworkReconnect, KindNoNetwork:
				d.connUFDs[e.ParticipantID] = append(d.connUFDs[e.ParticipantID], e)
			}
		}
	}
	raised := false
	for _, e := range d.connUFDs[pid] {
		if !e.Time.After(end.Add(time.Second)) {
			raised = !clears(ufdValue(e))
		}
	}
	return raised
}
