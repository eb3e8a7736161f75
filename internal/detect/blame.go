package detect

import (
	"fmt"
	"slices"
	"strings"

	"calldiag/internal/model"
)

// addBlame raises the poor-stream issue of one cross-participant finding,
// with the episodes it explains as evidence.
func (d *run) addBlame(b *blame, group []string) {
	var ev []model.Evidence
	var streams []string
	for _, e := range b.eps {
		if e.ref.pid == b.pid && !slices.Contains(streams, e.ref.stream) {
			streams = append(streams, e.ref.stream)
		}
		for _, x := range e.evidence {
			x.Text = strings.TrimSpace(fmt.Sprintf("%s %s: %s", e.ref.pid, e.ref.stream, x.Text))
			ev = append(ev, x)
		}
	}
	slices.Sort(streams)
	if b.culprit == "" {
		b.culprit = model.CulpritPath
	}
	from, to := b.window.from, b.window.to
	is := model.Issue{Kind: KindPoorStream, ParticipantID: b.pid, Start: from, End: to, Rule: "series.attribution." + b.culprit}
	var parts []string
	if b.up {
		if len(b.ofUp) > 0 {
			parts = append(parts, fmt.Sprintf("media sent by this participant was poor at %d of its %d receivers", len(b.sawUp), len(b.ofUp)))
		} else {
			parts = append(parts, "media sent by this participant degraded")
		}
	}
	if b.down {
		if len(b.ofDown) > 0 && len(b.sawDown) > 0 {
			parts = append(parts, fmt.Sprintf("this participant received poor media from %d of its %d senders", len(b.sawDown), len(b.ofDown)))
		} else {
			parts = append(parts, "media received by this participant degraded")
		}
	}
	is.Summary = strings.Join(parts, "; ")
	if len(streams) > 0 {
		is.Summary += " (" + strings.Join(streams, ", ") + ")"
	}
	switch {
	case len(streams) == 1:
		is.StreamID = streams[0]
	case b.up && !b.down:
		is.StreamID = "outbound"
	case b.down && !b.up:
		is.StreamID = "inbound"
	}
	ids := []string{b.pid}
	switch b.culprit {
	case model.CulpritSharedNetwork:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: group,
			Summary: "these participants degraded together, which points at a network they share or at the service"}
		is.Summary += fmt.Sprintf(", at the same time as %d other participant(s)", len(group)-1)
	case model.CulpritUplink:
		text := "this participant's uplink"
		if len(b.sawUp) > 0 {
			text += ": " + strings.Join(b.sawUp, ", ") + " received poor media from it"
		}
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: ids, Summary: text}
	case model.CulpritDownlink:
		text := "this participant's downlink"
		if len(b.sawDown) > 0 {
			text += ": media from " + strings.Join(b.sawDown, ", ") + " was poor only here"
		}
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: ids, Summary: text}
	default:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: ids, Summary: "this participant's own connection, in both directions"}
	}
	w := b.window
	if b.up && len(b.ofUp) > 0 {
		ev = append(ev, model.Evidence{Metric: "receivers seeing poor media", Value: ptr(float64(len(b.sawUp))), Op: ">",
			Threshold: ptr(d.rules.AttributionShare * float64(len(b.ofUp))),
			Text:      "saw it: " + strings.Join(b.sawUp, ", ") + "; receivers: " + strings.Join(b.ofUp, ", "),
			Source:    srcSeries, RecordIDs: []string{}, From: &w.from, To: &w.to})
	}
	if b.down && len(b.ofDown) > 0 && len(b.sawDown) > 0 {
		ev = append(ev, model.Evidence{Metric: "senders seen poor", Value: ptr(float64(len(b.sawDown))), Op: ">",
			Threshold: ptr(d.rules.AttributionShare * float64(len(b.ofDown))),
			Text:      "poor: " + strings.Join(b.sawDown, ", ") + "; senders: " + strings.Join(b.ofDown, ", "),
			Source:    srcSeries, RecordIDs: []string{}, From: &w.from, To: &w.to})
	}
	is.Evidence = ev
	d.add(is)
}
