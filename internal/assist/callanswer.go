package assist

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/catalog"
	"calldiag/internal/detect"
	"calldiag/internal/model"
)

// callCtx indexes the call in context for composing an answer.
type callCtx struct {
	call   model.Call
	byPID  map[string]*model.Participant
	short  map[string]string // participant id → its label in answers
	issues map[string]model.Issue
}

func newCallCtx(call model.Call) callCtx {
	cc := callCtx{call: call, byPID: map[string]*model.Participant{}, short: map[string]string{}, issues: map[string]model.Issue{}}
	blocks := map[string]int{}
	for i := range call.Participants {
		p := &call.Participants[i]
		cc.byPID[p.ID] = p
		b, _, _ := strings.Cut(p.ID, "-")
		blocks[b]++
	}
	for _, p := range call.Participants {
		b, _, ok := strings.Cut(p.ID, "-")
		if ok && len(b) >= 4 && blocks[b] == 1 {
			cc.short[p.ID] = b
		} else {
			cc.short[p.ID] = p.ID
		}
	}
	for _, is := range call.Issues {
		cc.issues[is.ID] = is
	}
	return cc
}

// label names a participant in running text.
func (cc callCtx) label(pid string) string {
	if pid == "" {
		return "the call"
	}
	if s, ok := cc.short[pid]; ok {
		return "participant " + s
	}
	return "participant " + pid
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

// describe is one issue in a sentence: who, when, what, and the
// strongest evidence.
func (cc callCtx) describe(is model.Issue) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s, %s–%s UTC: %s", cc.label(is.ParticipantID), clock(is.Start), clock(is.End), is.Summary)
	if ev := evidenceText(is.Evidence); ev != "" {
		fmt.Fprintf(&s, " (%s)", ev)
	}
	s.WriteString(".")
	if is.Culprit.Type != "" && is.Culprit.Type != model.CulpritUnknown && is.Culprit.Summary != "" {
		fmt.Fprintf(&s, " Likely culprit: %s.", is.Culprit.Summary)
	}
	return s.String()
}

// evidenceText states up to two measured facts of an issue.
func evidenceText(evs []model.Evidence) string {
	var parts []string
	for _, e := range evs {
		if len(parts) == 2 {
			break
		}
		if e.Value == nil || e.Threshold == nil || e.Op == "" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %s", metricName(e.Metric), fmtNum(*e.Value), e.Op, fmtNum(*e.Threshold)))
	}
	return strings.Join(parts, ", ")
}

// metricName spells an evidence metric for people.
func metricName(m string) string {
	switch m {
	case "PacketLossRate", "packetLossRateAvg":
		return "packet loss"
	case "JitterAvgMs", "jitterAvgMs", "Jitter", "JitterInMs":
		return "jitter (ms)"
	case "RoundTripTimeAvgMs", "roundTripTimeAvgMs", "RoundTripTime", "RoundTripTimeInMs":
		return "round trip (ms)"
	case "JitterBufferAvgMs", "JitterBufferDelayInMs":
		return "jitter buffer (ms)"
	case "HealedDataRatioAvg", "HealedDataRatio":
		return "healed-data ratio"
	}
	return m
}

func fmtNum(v float64) string {
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v < 1 && v > -1:
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// story is a group of related issues (detect links a reconnect, the poor
// stream around it and the drop after it), with the issue that heads the
// story in an answer.
type story struct {
	head    model.Issue
	members []model.Issue // root cause first
}

// headRank orders the issues of a story for its headline: the outcome a
// user felt (a drop, a failed join), then measured media problems, then
// device and user problems, then the clients' own network ratings.
func headRank(kind string) int {
	switch kind {
	case detect.KindDropped, detect.KindCallSetupFailed:
		return 0
	case detect.KindPoorStream, detect.KindPoorAudioConcealment, detect.KindPoorVideo, detect.KindPoorScreenshare,
		detect.KindNoMediaFlow, detect.KindMediaOverTCP:
		return 1
	case detect.KindNetworkSendQuality, detect.KindNetworkReceiveQuality, detect.KindNetworkReconnect, detect.KindNoNetwork:
		return 3
	case detect.KindRejoined:
		return 4
	}
	return 2
}

// rootRank orders the members of a story by cause: connectivity first,
// then media, then everything else, the drop or rejoin last.
func rootRank(kind string) int {
	switch kind {
	case detect.KindNetworkReconnect, detect.KindNoNetwork, detect.KindRelaysUnreachable:
		return 0
	case detect.KindNetworkSendQuality, detect.KindNetworkReceiveQuality, detect.KindPoorStream, detect.KindPoorAudioConcealment,
		detect.KindPoorVideo, detect.KindPoorScreenshare, detect.KindMediaOverTCP, detect.KindNoMediaFlow:
		return 1
	case detect.KindDropped, detect.KindCallSetupFailed, detect.KindRejoined:
		return 3
	}
	return 2
}

// stories groups issues by their Related links, most severe story first.
func stories(issues []model.Issue, all map[string]model.Issue) []story {
	seen := map[string]bool{}
	var out []story
	for _, is := range issues {
		if seen[is.ID] {
			continue
		}
		members := []model.Issue{is}
		seen[is.ID] = true
		for _, id := range is.Related {
			if r, ok := all[id]; ok && !seen[id] {
				seen[id] = true
				members = append(members, r)
			}
		}
		slices.SortStableFunc(members, func(a, b model.Issue) int {
			if c := cmp.Compare(rootRank(a.Kind), rootRank(b.Kind)); c != 0 {
				return c
			}
			return a.Start.Compare(b.Start)
		})
		head := members[0]
		for _, m := range members[1:] {
			if m.Severity.Rank() > head.Severity.Rank() ||
				m.Severity.Rank() == head.Severity.Rank() && headRank(m.Kind) < headRank(head.Kind) {
				head = m
			}
		}
		out = append(out, story{head: head, members: members})
	}
	slices.SortStableFunc(out, func(a, b story) int {
		return cmp.Compare(b.head.Severity.Rank(), a.head.Severity.Rank())
	})
	return out
}

// tell is a story in a sentence or two, root cause first: when the
// story's root is a cause of its headline issue (a reconnect before a
// drop), the root is told first and the headline after it.
func (cc callCtx) tell(st story) string {
	root := st.members[0]
	var s string
	rest := st.members
	if root.ID != st.head.ID && rootRank(root.Kind) < rootRank(st.head.Kind) {
		s = fmt.Sprintf("%s, %s–%s UTC: %s; then, at %s: %s", cc.label(root.ParticipantID), clock(root.Start), clock(root.End),
			root.Summary, clock(st.head.Start), st.head.Summary)
		if ev := evidenceText(st.head.Evidence); ev != "" {
			s += " (" + ev + ")"
		}
		s += "."
		if c := st.head.Culprit; c.Type != "" && c.Type != model.CulpritUnknown && c.Summary != "" {
			s += " Likely culprit: " + c.Summary + "."
		}
		rest = st.members[1:]
	} else {
		s = cc.describe(st.head)
	}
	var related []string
	for _, m := range rest {
		if m.ID == st.head.ID {
			continue
		}
		related = append(related, fmt.Sprintf("%s (%s–%s)", m.Summary, clock(m.Start), clock(m.End)))
	}
	if len(related) > 0 {
		s += " Related: " + strings.Join(related, "; ") + "."
	}
	return s
}

// answerCall composes an answer from the call in context.
func answerCall(ctx context.Context, calls Calls, b *builder, rec Recognized, call model.Call, kb retrieval) {
	cc := newCallCtx(call)
	pids := rec.Participants
	switch {
	case len(pids) > 0 && rec.Has(IntentDrop):
		for _, pid := range pids {
			answerDrop(ctx, calls, b, cc, pid)
		}
	case rec.Has(IntentAudio) && !rec.Has(IntentSummary):
		answerMedia(b, cc, pids, model.MediaAudio)
	case rec.Has(IntentVideo) && !rec.Has(IntentSummary):
		answerMedia(b, cc, pids, model.MediaVideo)
	case len(pids) == 0 && rec.Has(IntentDrop) && !rec.Has(IntentSummary):
		dropped := false
		for _, is := range call.Issues {
			if slices.Contains(dropHeadKinds, is.Kind) {
				dropped = true
				answerDrop(ctx, calls, b, cc, is.ParticipantID)
			}
		}
		if !dropped {
			b.para("No participant of call %s dropped or failed to join: every leg that has an end code ended without an error calldiag counts as a drop.", call.ID)
			summarize(b, cc, nil)
		}
	case rec.Has(IntentRating):
		answerRating(b, cc, pids)
	case len(rec.Metrics) > 0 && !rec.Has(IntentSummary):
		// A question about a metric is about the medium it measures.
		answerMedia(b, cc, pids, metricMedia(rec.Metrics))
	default:
		summarize(b, cc, pids)
	}
	// Codes, UFDs or kinds named in the question are cited as support.
	for _, e := range kb.exact {
		b.supportBy(KBCitation(e.ID))
	}
	telemetryUnknowns(b, cc, pids)
}

// metricMedia is the medium the metrics measure: video for frame rate,
// freezes, resolution and bitrate, else audio.
func metricMedia(metrics []string) model.MediaType {
	for _, m := range metrics {
		switch m {
		case "frame-rate", "freeze", "resolution", "bitrate":
		default:
			return model.MediaAudio
		}
	}
	return model.MediaVideo
}

// callHeadline is the opening sentence about a call.
func callHeadline(call model.Call) string {
	typ := "call"
	switch call.CallType {
	case model.CallTypeP2P:
		typ = "peer-to-peer call"
	case model.CallTypeGroup:
		typ = "group call"
	}
	dur := time.Duration(call.DurationSeconds * float64(time.Second)).Round(time.Second)
	s := fmt.Sprintf("Call %s was a %s with %d participants lasting %s, starting %s UTC.", call.ID, typ,
		len(call.Participants), dur, call.StartTime.UTC().Format("2006-01-02 15:04:05"))
	verdict := []string{}
	if call.Quality != "" {
		verdict = append(verdict, "media quality "+call.Quality)
	}
	if call.Rating != "" && call.Rating != detect.RatingUnknown {
		r := "user rating " + call.Rating
		if call.RatingScore != nil {
			r += fmt.Sprintf(" (%.1f out of 5)", *call.RatingScore)
		}
		verdict = append(verdict, r)
	}
	if len(verdict) > 0 {
		s += " Detection rates its " + strings.Join(verdict, " and its ") + "."
	}
	return s
}

// shown reports whether an issue belongs in an answer about what went
// wrong: missing telemetry is said as an unknown instead.
func shown(is model.Issue) bool { return is.Kind != detect.KindMissingTelemetry }

// involves reports whether an issue is about participant pid: raised on
// its leg or blaming it.
func involves(is model.Issue, pid string) bool {
	return is.ParticipantID == pid || slices.Contains(is.Culprit.ParticipantIDs, pid)
}

// summarize tells what went wrong in the call, or with the participants
// pids, as stories, root causes first.
func summarize(b *builder, cc callCtx, pids []string) {
	var issues []model.Issue
	for _, is := range cc.call.Issues {
		if !shown(is) {
			continue
		}
		if len(pids) > 0 && !slices.ContainsFunc(pids, func(p string) bool { return involves(is, p) }) {
			continue
		}
		issues = append(issues, is)
	}
	who := "call " + cc.call.ID
	if len(pids) > 0 {
		var names []string
		for _, p := range pids {
			names = append(names, cc.label(p))
		}
		who = joinAnd(names)
	}
	b.para("%s", callHeadline(cc.call))
	if len(issues) == 0 {
		b.para("calldiag detected no problem for %s: no stream crossed a quality threshold, no diagnostic was raised and no leg ended in an error.", who)
		return
	}
	sts := stories(issues, cc.issues)
	const maxStories = 6
	var lines []string
	for i, st := range sts {
		if i == maxStories {
			lines = append(lines, fmt.Sprintf("%d more problems are listed on the call's issues page.", len(sts)-maxStories))
			break
		}
		lines = append(lines, cc.tell(st))
		b.cite(IssueCitation(cc.call.ID, st.head.ID))
	}
	intro := fmt.Sprintf("What went wrong for %s, most severe first (%d %s):", who, len(sts), plural(len(sts), "problem", "problems"))
	b.list(intro, lines)
	// Support: the other members of the worst stories. A summary cites
	// issues, not explanations: each issue's page links its entries.
	for _, st := range sts[:min(len(sts), maxStories)] {
		for _, m := range st.members {
			if m.ID != st.head.ID {
				b.supportBy(IssueCitation(cc.call.ID, m.ID))
			}
		}
	}
	if rec := sts[0].head.Recommendation.Text; rec != "" {
		b.para("What to do first: %s", rec)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// endOf is when a participant's leg ended, if known.
func endOf(p *model.Participant) (time.Time, bool) {
	if p == nil || p.StartTime == nil || p.DurationSeconds == nil {
		return time.Time{}, false
	}
	return p.StartTime.Add(time.Duration(*p.DurationSeconds * float64(time.Second))), true
}

// endCodeEntry returns the KB entry explaining a participant's end code
// and subcode (falling back to the code alone).
func endCodeEntry(p *model.Participant) (catalog.Entry, string, bool) {
	if p == nil || p.EndReason == nil {
		return catalog.Entry{}, "", false
	}
	sub := catalog.Absent
	label := fmt.Sprintf("%d", *p.EndReason)
	if p.EndSubCode != nil {
		sub = *p.EndSubCode
		label += fmt.Sprintf("/%d", sub)
	}
	if e, ok := catalog.LookupKB(catalog.CodeEntryID(*p.EndReason, sub)); ok {
		return e, label, true
	}
	e, ok := catalog.LookupKB(catalog.CodeEntryID(*p.EndReason, catalog.Absent))
	return e, label, ok
}

// ufdBad reports whether a timeline event is a user-facing diagnostic
// raised with a bad value.
func ufdBad(ev model.TimelineEvent) bool {
	if ev.Kind != model.KindUFD {
		return false
	}
	v := strings.ToLower(ev.Detail)
	return strings.Contains(v, "bad") || strings.Contains(v, "poor") || strings.Contains(v, "true")
}

// dropWindow is how far before a leg's end its events are read to explain
// a drop.
const dropWindow = 2 * time.Minute

// answerDrop explains why participant pid dropped or could not join: its
// drop or setup issue, the end code's meaning, and the network events
// before the end.
func answerDrop(ctx context.Context, calls Calls, b *builder, cc callCtx, pid string) {
	p := cc.byPID[pid]
	var heads []model.Issue
	for _, is := range cc.call.Issues {
		if is.ParticipantID == pid && slices.Contains(dropHeadKinds, is.Kind) {
			heads = append(heads, is)
		}
	}
	code, codeLabel, hasCode := endCodeEntry(p)
	if len(heads) == 0 {
		switch {
		case hasCode:
			b.para("%s did not drop: its leg ended with code %s, %s, which calldiag does not count as an ungraceful end.",
				upperFirst(cc.label(pid)), codeLabel, codeDesc(code))
			b.cite(KBCitation(code.ID))
		case p != nil && p.EndReason == nil:
			b.para("%s has no end code on record, so how its leg ended cannot be told.", upperFirst(cc.label(pid)))
			b.unknown("no CallSummary row gives the end code of %s, so how its leg ended is unknown", cc.label(pid))
		default:
			b.para("calldiag found no drop for %s.", cc.label(pid))
		}
		if others := participantIssues(cc, pid); len(others) > 0 {
			var lines []string
			for _, st := range stories(others, cc.issues) {
				lines = append(lines, cc.tell(st))
				b.supportBy(IssueCitation(cc.call.ID, st.head.ID))
			}
			b.list("Other problems of "+cc.label(pid)+":", lines)
		}
		return
	}
	for _, is := range heads {
		b.cite(IssueCitation(cc.call.ID, is.ID))
		b.cite(KBCitation("kind-" + is.Kind))
		verb := "dropped out of the call without hanging up"
		if is.Kind == detect.KindCallSetupFailed {
			verb = "never got connected to the call"
		}
		s := fmt.Sprintf("%s %s at %s UTC", upperFirst(cc.label(pid)), verb, clock(is.Start))
		if hasCode {
			s += fmt.Sprintf(", ending with code %s: %s", codeLabel, codeDesc(code))
		}
		s += "."
		if is.Culprit.Summary != "" && is.Culprit.Type != model.CulpritUnknown {
			s += " Likely culprit: " + is.Culprit.Summary + "."
		}
		if hasCode {
			if sent := sentences(code.Text); len(sent) > 0 {
				s += " " + strings.Join(sent[:min(len(sent), 2)], " ")
			}
		}
		b.para("%s", s)
	}
	if hasCode {
		b.supportBy(KBCitation(code.ID))
	}
	// What led up to it: the issues linked to the drop, and the network
	// diagnostics of the last minutes.
	var before []string
	for _, is := range heads {
		for _, id := range is.Related {
			r, ok := cc.issues[id]
			if !ok || slices.Contains(dropHeadKinds, r.Kind) {
				continue
			}
			before = append(before, cc.describe(r))
			b.supportBy(IssueCitation(cc.call.ID, r.ID))
		}
	}
	// UFDs the related issues already state are not repeated as events.
	stated := map[string]bool{}
	for _, is := range heads {
		for _, id := range is.Related {
			for _, e := range cc.issues[id].Evidence {
				stated[e.Metric] = true
			}
		}
	}
	if calls != nil {
		end := heads[0].End
		if e, ok := endOf(p); ok && e.After(end) {
			end = e
		}
		evs, err := calls.Events(ctx, cc.call.ID, pid, heads[0].Start.Add(-dropWindow), end.Add(time.Second))
		if err == nil {
			var seen []string
			for _, ev := range evs {
				if !ufdBad(ev) || slices.Contains(seen, ev.Name) || stated[ev.Name] {
					continue
				}
				seen = append(seen, ev.Name)
				before = append(before, fmt.Sprintf("%s UTC: the client reported %s = %s", clock(ev.Time), ev.Name, ev.Detail))
				if ev.RecordID != "" {
					b.supportBy(RecordCitation(ev.RecordID))
				}
			}
		} else if ctx.Err() == nil {
			b.unknown("the timeline of %s could not be read, so the events before the end are not shown", cc.label(pid))
		}
	}
	switch {
	case len(before) > 0:
		b.list("What led up to it:", before)
	case heads[0].Kind == detect.KindCallSetupFailed:
		b.para("No network diagnostic or related issue was recorded for %s while it tried to join, so the end code is the only clue.", cc.label(pid))
	default:
		b.para("No network diagnostic or related issue was recorded for %s in the %d minutes before, so the logs do not show a network cause; a closed app, a sleeping device or a crash leave no trace but the end code.",
			cc.label(pid), int(dropWindow.Minutes()))
	}
	for _, o := range cc.call.Participants {
		if o.RejoinOf == pid {
			b.para("The same endpoint joined again as %s.", cc.label(o.ID))
		}
	}
	if rec := heads[0].Recommendation.Text; rec != "" {
		b.para("What to do: %s", rec)
	}
}

// codeDesc is the short meaning of a code entry ("media connectivity lost
// mid-call").
func codeDesc(e catalog.Entry) string {
	_, desc, ok := strings.Cut(e.Title, ": ")
	if !ok {
		return e.Title
	}
	return desc
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// participantIssues returns the shown issues involving pid.
func participantIssues(cc callCtx, pid string) []model.Issue {
	var out []model.Issue
	for _, is := range cc.call.Issues {
		if shown(is) && involves(is, pid) {
			out = append(out, is)
		}
	}
	return out
}

// aboutMedia reports whether an issue concerns the media type (audio,
// or video including screen sharing): device kinds belong to one of
// them, stream kinds name their streams, network kinds concern both.
func aboutMedia(is model.Issue, media model.MediaType) bool {
	switch is.Kind {
	case detect.KindPoorVideo, detect.KindPoorScreenshare, detect.KindCameraStartFailed, detect.KindCameraStartTimedOut,
		detect.KindCameraPermissionDenied, detect.KindCameraStopped, detect.KindCameraFreeze, detect.KindSharePermissionDenied,
		detect.KindCapturerFailed:
		return media == model.MediaVideo
	case detect.KindPoorAudioConcealment, detect.KindSpeakingWhileMuted, detect.KindMicNotFunctioning,
		detect.KindMicMutedUnexpectedly, detect.KindNoMicrophone, detect.KindMicPermissionDenied, detect.KindMicBusy,
		detect.KindNoSpeaker, detect.KindSpeakerMutedOrZero, detect.KindSpeakerBusy, detect.KindSpeakerNotFunctioning:
		return media == model.MediaAudio
	case detect.KindPoorStream, detect.KindNoMediaFlow, detect.KindMediaOverTCP:
		text := strings.ToLower(is.StreamID + " " + is.Summary)
		hasAudio := strings.Contains(text, "audio")
		hasVideo := strings.Contains(text, "video") || strings.Contains(text, "screen")
		if !hasAudio && !hasVideo {
			return true
		}
		if media == model.MediaAudio {
			return hasAudio
		}
		return hasVideo
	}
	return true
}

// answerMedia explains bad audio or video for participants pids (every
// participant when none is named): the measured and device issues head
// the answer, the clients' network ratings support it, and the streams'
// metrics are stated.
func answerMedia(b *builder, cc callCtx, pids []string, media model.MediaType) {
	headKinds := audioHeadKinds
	what := "audio"
	if media == model.MediaVideo {
		headKinds, what = videoHeadKinds, "video"
	}
	all := len(pids) == 0
	// Issues on the participants' own legs come first; issues of other
	// legs that blame them (a sender's uplink) only when their own legs
	// show nothing.
	collect := func(match func(model.Issue) bool) (heads, support []model.Issue) {
		for _, is := range cc.call.Issues {
			if !shown(is) || !aboutMedia(is, media) || !match(is) {
				continue
			}
			switch {
			case slices.Contains(headKinds, is.Kind):
				heads = append(heads, is)
			case slices.Contains(networkKinds, is.Kind):
				support = append(support, is)
			}
		}
		if len(heads) == 0 {
			heads, support = support, nil
		}
		return heads, support
	}
	heads, support := collect(func(is model.Issue) bool { return all || slices.Contains(pids, is.ParticipantID) })
	if len(heads) == 0 && !all {
		heads, support = collect(func(is model.Issue) bool {
			return slices.ContainsFunc(pids, func(p string) bool { return involves(is, p) })
		})
	}
	// Nothing on the participant's own leg: what others sent it may have
	// been bad at the source.
	if len(heads) == 0 && !all {
		for _, is := range cc.call.Issues {
			if shown(is) && aboutMedia(is, media) && slices.Contains(headKinds, is.Kind) &&
				(is.Culprit.Type == model.CulpritUplink || is.Culprit.Type == model.CulpritSharedNetwork) {
				heads = append(heads, is)
			}
		}
	}
	who := "this call"
	if !all {
		var names []string
		for _, p := range pids {
			names = append(names, cc.label(p))
		}
		who = joinAnd(names)
	}
	if len(heads) == 0 {
		b.para("calldiag detected no %s problem for %s: no %s stream crossed a quality threshold and no device, permission or network diagnostic was raised.", what, who, what)
	} else {
		var lines []string
		for _, st := range stories(heads, cc.issues) {
			lines = append(lines, cc.tell(st))
		}
		b.list(fmt.Sprintf("Why the %s of %s was affected:", what, who), lines)
		for _, is := range heads {
			b.cite(IssueCitation(cc.call.ID, is.ID))
		}
		kinds := []string{}
		for _, is := range heads {
			if !slices.Contains(kinds, is.Kind) {
				kinds = append(kinds, is.Kind)
				b.cite(KBCitation("kind-" + is.Kind))
			}
		}
		for _, is := range support {
			b.supportBy(IssueCitation(cc.call.ID, is.ID))
		}
		if rec := heads[0].Recommendation.Text; rec != "" {
			b.para("What to do: %s", rec)
		}
	}
	// The streams' own numbers.
	var lines []string
	for _, pid := range pids {
		p := cc.byPID[pid]
		if p == nil {
			continue
		}
		for _, s := range p.Streams {
			if s.MediaType != media {
				continue
			}
			if m := streamMetrics(s); m != "" {
				lines = append(lines, fmt.Sprintf("%s %s %s: %s", cc.label(pid), s.Direction, s.MediaType, m))
				if s.RecordID != "" {
					b.supportBy(RecordCitation(s.RecordID))
				}
			}
		}
	}
	if len(lines) > 0 {
		b.list("End-of-call stream measurements (averages):", lines[:min(len(lines), 6)])
	}
}

// streamMetrics states a stream's averages that were reported.
func streamMetrics(s model.Stream) string {
	var parts []string
	add := func(name string, v *float64, unit string, scale float64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s %s%s", name, fmtNum(*v*scale), unit))
		}
	}
	add("jitter", s.JitterAvgMs, " ms", 1)
	if v := s.PacketLossRateAvg; v != nil {
		parts = append(parts, fmt.Sprintf("packet loss %.2g%%", *v*100))
	}
	add("round trip", s.RoundTripTimeAvgMs, " ms", 1)
	add("healed-data ratio", s.HealedDataRatioAvg, "", 1)
	add("frame rate", s.VideoFrameRateAvg, " fps", 1)
	add("received height", s.RecvResolutionHeight, " px", 1)
	add("freezes", s.RecvFreezeMsPerMin, " ms/min", 1)
	add("MOS", s.MOS, "", 1)
	if s.TransportType != "" {
		parts = append(parts, "transport "+s.TransportType)
	}
	return strings.Join(parts, ", ")
}

// answerRating explains a poor survey rating.
func answerRating(b *builder, cc callCtx, pids []string) {
	var heads []model.Issue
	for _, is := range cc.call.Issues {
		if is.Kind == detect.KindPoorRating && (len(pids) == 0 || slices.Contains(pids, is.ParticipantID)) {
			heads = append(heads, is)
		}
	}
	if len(heads) == 0 {
		b.para("No participant of call %s rated it poorly in the end-of-call survey.", cc.call.ID)
		if len(cc.call.Surveys) == 0 {
			b.unknown("call %s has no survey responses", cc.call.ID)
		}
		return
	}
	var lines []string
	for _, is := range heads {
		lines = append(lines, cc.describe(is))
		b.cite(IssueCitation(cc.call.ID, is.ID))
	}
	b.cite(KBCitation("kind-" + detect.KindPoorRating))
	b.list("Poor ratings:", lines)
	var causes []string
	for _, h := range heads {
		for _, is := range participantIssues(cc, h.ParticipantID) {
			if is.Kind != detect.KindPoorRating {
				causes = append(causes, cc.describe(is))
				b.supportBy(IssueCitation(cc.call.ID, is.ID))
			}
		}
	}
	if len(causes) > 0 {
		b.list("What that participant went through:", causes)
	} else {
		b.para("No other problem was detected for that participant, so the logs do not explain the rating; ask the user what they noticed.")
	}
}

// telemetryUnknowns says what telemetry is missing for the participants
// the answer is about (every participant when none is named).
func telemetryUnknowns(b *builder, cc callCtx, pids []string) {
	comp := cc.call.Completeness
	if comp == nil {
		b.unknown("calldiag has no record of which telemetry call %s has, so missing data cannot be told from good data", cc.call.ID)
		return
	}
	if !comp.Diagnostics {
		b.unknown("call %s has no end-of-call stream diagnostics, so its media quality verdict is unknown", cc.call.ID)
	}
	for _, pc := range comp.Participants {
		if len(pids) > 0 && !slices.Contains(pids, pc.ParticipantID) {
			continue
		}
		l := cc.label(pc.ParticipantID)
		if pc.OtherResource {
			b.unknown("%s was reported by another ACS resource, so only limited data about it exists here", l)
			continue
		}
		// Phones, bots and servers log no client telemetry at all.
		client := true
		if p := cc.byPID[pc.ParticipantID]; p != nil {
			switch p.EndpointType {
			case model.EndpointPSTN, model.EndpointBot, model.EndpointServer:
				client = false
			}
		}
		if !pc.Summary {
			b.unknown("%s has no CallSummary row, so how its leg ended is unknown", l)
		}
		if client && comp.MediaStats && !pc.MediaStats {
			b.unknown("%s sent no media stats, so its audio and video quality over time is unknown", l)
		}
		if comp.Diagnostics && !pc.Diagnostics {
			b.unknown("%s has no stream diagnostics, so its end-of-call stream averages are unknown", l)
		}
		if client && !pc.ClientOperations {
			b.unknown("%s logged no client operations, so its device, permission and network diagnostics are unknown", l)
		}
		if pc.SeriesGaps > 0 {
			b.unknown("%s's media stats have %d gaps, so its quality during them is unknown", l, pc.SeriesGaps)
		}
	}
	for _, pid := range pids {
		if slices.ContainsFunc(comp.Participants, func(pc model.ParticipantCompleteness) bool { return pc.ParticipantID == pid }) {
			continue
		}
		if _, ok := cc.byPID[pid]; ok {
			b.unknown("calldiag has no telemetry summary for %s", cc.label(pid))
		}
	}
}
