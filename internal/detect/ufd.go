package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/model"
)

const srcUFD = "CallClientOperations (UserFacingDiagnostics)"

// clears reports whether a UFD value means the condition is over.
func clears(value string) bool {
	return strings.EqualFold(value, "Good") || strings.EqualFold(value, "false")
}

// ufds turns UFD value changes into raise-to-clear intervals per
// participant and diagnostic, each an issue of the mapped kind.
func (d *run) ufds() {
	type key struct{ pid, name string }
	byKey := map[key][]*model.TimelineEvent{}
	var order []key
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind != model.KindUFD || e.Name == "" {
			continue
		}
		k := key{e.ParticipantID, strings.ToLower(e.Name)}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], e)
	}
	for _, k := range order {
		es := byKey[k]
		kind := ufdKind(es[0].Name)
		if kind == "" {
			continue
		}
		slices.SortStableFunc(es, func(a, b *model.TimelineEvent) int { return a.Time.Compare(b.Time) })
		var open []*model.TimelineEvent
		flush := func(end time.Time, clear *model.TimelineEvent) {
			if len(open) == 0 {
				return
			}
			d.addUFD(kind, k.pid, open, end, clear)
			open = nil
		}
		for _, e := range es {
			value := ufdValue(e)
			if clears(value) {
				flush(e.Time, e)
				continue
			}
			open = append(open, e)
		}
		_, legEnd := d.legSpan(k.pid)
		if len(open) > 0 && legEnd.Before(open[len(open)-1].Time) {
			legEnd = open[len(open)-1].Time
		}
		flush(legEnd, nil)
	}
}

func ufdValue(e *model.TimelineEvent) string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Result
}

func (d *run) addUFD(kind, pid string, raised []*model.TimelineEvent, end time.Time, clear *model.TimelineEvent) {
	first := raised[0]
	worst := ufdValue(first)
	ids := []string{}
	for _, e := range raised {
		if strings.EqualFold(ufdValue(e), "Bad") {
			worst = ufdValue(e)
		}
		ids = append(ids, e.RecordID)
	}
	if clear != nil {
		ids = append(ids, clear.RecordID)
	}
	from, to := first.Time, end
	is := model.Issue{Kind: kind, ParticipantID: pid, Start: first.Time, End: end,
		Summary:  fmt.Sprintf("%s: the client reported %s = %s", ufdSummary(kind), first.Name, worst),
		Evidence: []model.Evidence{{Metric: first.Name, Text: worst, Op: "!=", Source: srcUFD, RecordIDs: recordIDs(ids...), From: &from, To: &to}},
		Rule:     "ufd." + kind,
		Culprit:  ufdCulprit(kind, pid)}
	if strings.EqualFold(first.Name, "speakerMuted") {
		is.Severity = model.SeverityInfo
	}
	d.add(is, ufdKB(first.Name))
}

func ufdSummary(kind string) string {
	switch kind {
	case KindNetworkReconnect:
		return "the client lost its connection and reconnected"
	case KindNetworkSendQuality:
		return "outgoing network quality degraded"
	case KindNetworkReceiveQuality:
		return "incoming network quality degraded"
	case KindNoNetwork:
		return "the device had no network"
	case KindRelaysUnreachable:
		return "the media relays could not be reached"
	case KindSpeakingWhileMuted:
		return "the user spoke while muted"
	}
	return strings.ReplaceAll(kind, "-", " ")
}

func ufdCulprit(kind, pid string) model.Culprit {
	ids := []string{pid}
	switch kind {
	case KindNetworkSendQuality:
		return model.Culprit{Type: model.CulpritUplink, ParticipantIDs: ids, Summary: "this participant's outgoing network"}
	case KindNetworkReceiveQuality:
		return model.Culprit{Type: model.CulpritDownlink, ParticipantIDs: ids, Summary: "this participant's incoming network"}
	case KindNetworkReconnect, KindNoNetwork:
		return model.Culprit{Type: model.CulpritPath, ParticipantIDs: ids, Summary: "this participant's network connection"}
	case KindRelaysUnreachable:
		return model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: ids, Summary: "a firewall or proxy on this participant's network"}
	case KindSpeakingWhileMuted:
		return model.Culprit{Type: model.CulpritUser, ParticipantIDs: ids, Summary: "the user was muted"}
	case KindMicPermissionDenied, KindCameraPermissionDenied, KindSharePermissionDenied:
		return model.Culprit{Type: model.CulpritConfiguration, ParticipantIDs: ids, Summary: "device permissions on this participant's system"}
	}
	return model.Culprit{Type: model.CulpritDevice, ParticipantIDs: ids, Summary: "a device on this participant's system"}
}

// foldOperations merges a failed client operation into the device issue
// the same participant's UFD raised around the same time (a StartVideo
// that failed while the camera UFD fired is one problem, not two), and a
// stream that carried no packets into the device issue of its media (a
// microphone that did not work explains a dry outgoing audio stream):
// their evidence and knowledge-base ids join the UFD issue.
func (d *run) foldOperations() {
	slack := seconds(d.rules.RelatedGapSeconds)
	kept := d.issues[:0]
	for i := range d.issues {
		is := d.issues[i]
		if is.Kind == KindOperationFailed || is.Kind == KindNoMediaFlow {
			if j := d.deviceIssue(is, slack); j >= 0 {
				host := &d.issues[j]
				host.Evidence = append(host.Evidence, is.Evidence...)
				for _, id := range is.Recommendation.KB {
					if id != "kind-"+is.Kind && id != "" && !slices.Contains(host.Recommendation.KB, id) {
						host.Recommendation.KB = append(host.Recommendation.KB, id)
					}
				}
				for _, k := range is.TimelineFilter.Kind {
					host.TimelineFilter.Kind = appendNew(host.TimelineFilter.Kind, k)
				}
				continue
			}
		}
		kept = append(kept, is)
	}
	d.issues = kept
}

// deviceIssue finds the UFD-raised device issue of op's participant
// within slack of op, or -1.
func (d *run) deviceIssue(op model.Issue, slack time.Duration) int {
	for j := range d.issues {
		is := &d.issues[j]
		if is.ParticipantID != op.ParticipantID || !strings.HasPrefix(is.Rule, "ufd.") {
			continue
		}
		switch is.Category {
		case model.CategoryDevice, model.CategoryVideo, model.CategoryScreenShare:
		default:
			continue
		}
		if op.Kind == KindNoMediaFlow {
			// A dry stream is a whole-call aggregate: it belongs to a
			// device issue of the same media at any time of the leg.
			if deviceMedia(is.Kind) == mediaOfStream(op.StreamID) {
				return j
			}
			continue
		}
		if !op.Start.After(is.End.Add(slack)) && !is.Start.After(op.End.Add(slack)) {
			return j
		}
	}
	return -1
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(slices.Clone(list), v)
}

// deviceMedia is the media a device kind affects, or "".
func deviceMedia(kind string) model.MediaType {
	switch kind {
	case KindMicNotFunctioning, KindMicMutedUnexpectedly, KindNoMicrophone, KindMicPermissionDenied, KindMicBusy:
		return model.MediaAudio
	case KindCameraStartFailed, KindCameraStartTimedOut, KindCameraPermissionDenied, KindCameraStopped, KindCameraFreeze:
		return model.MediaVideo
	case KindSharePermissionDenied, KindCapturerFailed:
		return model.MediaScreenshare
	}
	return ""
}

// mediaOfStream is the media named at the start of a stream id.
func mediaOfStream(id string) model.MediaType {
	media, _, _ := strings.Cut(id, "-")
	return model.MediaType(media)
}
