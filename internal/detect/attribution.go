package detect

import (
	"fmt"
	"slices"
	"strings"

	"calldiag/internal/model"
)

// blame is one cross-participant finding: a participant whose network
// explains the poor media of several pairs of participants.
type blame struct {
	culprit string // model.CulpritUplink, CulpritDownlink, CulpritPath or CulpritSharedNetwork
	pid     string
	up      bool // the participant's sending side is at fault
	down    bool // the participant's receiving side is at fault
	window  span
	eps     []*episode
	// receivers that saw its media poor and senders whose media it saw
	// poor, out of how many.
	sawUp, ofUp, sawDown, ofDown []string
}

// pair is a receiver and a sender of media.
type pair struct{ recv, send string }

// series turns the media-stats series into poor-stream intervals and
// decides, across participants, whose network caused them. Each received
// stream that degraded is a poor pair (receiver, sender). A sender poor at
// more than AttributionShare of its receivers may have a poor uplink; a
// receiver seeing more than that share of its senders poor may have a poor
// downlink; both at once mean its whole connection. The fewest such
// explanations that cover the poor pairs are chosen greedily (a sender's
// own outbound measurements break ties), and when several participants
// are blamed for overlapping times they share a network problem. What no
// explanation covers stays an issue of the stream it was measured on.
// Receivers whose degradation an explanation covers get no issue of their
// own for it, not even from the whole-call aggregates.
func (d *run) series() {
	eps := d.episodes()
	share := d.rules.AttributionShare

	// Known pairs from the series present, poor pairs from the episodes.
	known := map[pair]bool{}
	recvOf := map[string][]string{} // sender -> receivers
	sendOf := map[string][]string{} // receiver -> senders
	for i := range d.in.Series {
		ref := parseStreamRef(d.in.Series[i].ParticipantID, d.in.Series[i].StreamID)
		if ref.dir != model.DirInbound || ref.remote == "" || ref.remote == ref.pid {
			continue
		}
		pr := pair{ref.pid, ref.remote}
		if !known[pr] {
			known[pr] = true
			recvOf[pr.send] = append(recvOf[pr.send], pr.recv)
			sendOf[pr.recv] = append(sendOf[pr.recv], pr.send)
		}
	}
	poor := map[pair]span{}
	outbound := map[string]bool{}
	for _, e := range eps {
		switch {
		case e.ref.dir == model.DirInbound && e.ref.remote != "" && known[pair{e.ref.pid, e.ref.remote}]:
			pr := pair{e.ref.pid, e.ref.remote}
			if w, ok := poor[pr]; ok {
				poor[pr] = w.union(e.span)
			} else {
				poor[pr] = e.span
			}
		case e.ref.dir == model.DirOutbound:
			outbound[e.ref.pid] = true
		}
	}
	qualifies := func(saw, of []string) bool {
		return len(of) >= 2 && float64(len(saw)) > share*float64(len(of))
	}
	var pids []string
	for p := range recvOf {
		pids = append(pids, p)
	}
	for p := range sendOf {
		if _, ok := recvOf[p]; !ok {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	var cands []*blame
	for _, p := range pids {
		b := &blame{pid: p, ofUp: sortedCopy(recvOf[p]), ofDown: sortedCopy(sendOf[p])}
		for _, r := range b.ofUp {
			if _, ok := poor[pair{r, p}]; ok {
				b.sawUp = append(b.sawUp, r)
			}
		}
		for _, s := range b.ofDown {
			if _, ok := poor[pair{p, s}]; ok {
				b.sawDown = append(b.sawDown, s)
			}
		}
		up, down := qualifies(b.sawUp, b.ofUp), qualifies(b.sawDown, b.ofDown)
		if up {
			c := *b
			c.up = true
			cands = append(cands, &c)
		}
		if down {
			c := *b
			c.down = true
			cands = append(cands, &c)
		}
		if up && down {
			c := *b
			c.up, c.down = true, true
			cands = append(cands, &c)
		}
	}
	covers := func(b *blame, pr pair) bool {
		return b.up && pr.send == b.pid || b.down && pr.recv == b.pid
	}
	covered := map[pair]bool{}
	var chosen []*blame
	for {
		var best *blame
		bestGain := 0.0
		for _, c := range cands {
			if slices.ContainsFunc(chosen, func(x *blame) bool { return x.pid == c.pid }) {
				continue
			}
			n := 0
			for pr := range poor {
				if !covered[pr] && covers(c, pr) {
					n++
				}
			}
			if n < 2 {
				continue
			}
			gain := float64(n)
			if c.up && outbound[c.pid] {
				gain += 0.5
			}
			if gain > bestGain {
				best, bestGain = c, gain
			}
		}
		if best == nil {
			break
		}
		for pr, w := range poor {
			if covers(best, pr) {
				covered[pr] = true
				if best.window.from.IsZero() {
					best.window = w
				} else {
					best.window = best.window.union(w)
				}
			}
		}
		chosen = append(chosen, best)
	}
	// Participants blamed for overlapping times share a network problem.
	var group []string
	for i, a := range chosen {
		switch {
		case a.up && a.down:
			a.culprit = model.CulpritPath
		case a.up:
			a.culprit = model.CulpritUplink
		default:
			a.culprit = model.CulpritDownlink
		}
		for j, b := range chosen {
			if i != j && a.window.overlaps(b.window, 0) {
				a.culprit = model.CulpritSharedNetwork
				if !slices.Contains(group, a.pid) {
					group = append(group, a.pid)
				}
			}
		}
	}
	slices.Sort(group)
	// An explanation takes the episodes it accounts for: on the sending
	// side everything received from the participant, its own outbound
	// episodes and, in its window, others' mixed (sender-less) incoming
	// streams; on the receiving side everything it received.
	for _, b := range chosen {
		for _, e := range eps {
			own := e.ref.pid == b.pid
			in := e.ref.dir == model.DirInbound
			take := b.up && (e.ref.remote == b.pid ||
				own && e.ref.dir == model.DirOutbound ||
				!own && in && e.ref.remote == "" && e.span.overlaps(b.window, 0)) ||
				b.down && own && in
			if take {
				b.eps = append(b.eps, e)
				e.consumed = true
			}
		}
	}
	for _, b := range chosen {
		d.addBlame(b, group)
	}
	ownLeft := map[string]bool{}
	explained := map[string]bool{}
	for _, e := range eps {
		if e.consumed {
			if e.ref.dir == model.DirInbound {
				explained[e.ref.pid+"/"+string(e.ref.media)] = true
			}
			continue
		}
		ownLeft[e.ref.pid+"/"+string(e.ref.media)+"/"+string(e.ref.dir)] = true
		d.addEpisode(e)
	}
	// Whole-call aggregates give way to the series' intervals and to the
	// cross-participant findings.
	kept := d.issues[:0]
	for _, is := range d.issues {
		ref, agg := d.aggs[is.ID]
		if agg {
			own := ownLeft[ref.pid+"/"+string(ref.media)+"/"+string(ref.dir)]
			if is.Kind == KindPoorStream && d.covered(ref.pid, ref.media, ref.dir) {
				continue
			}
			if ref.dir == model.DirInbound && explained[ref.pid+"/"+string(ref.media)] && !own {
				continue
			}
		}
		kept = append(kept, is)
	}
	d.issues = kept
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func (d *run) addBlame(b *blame, group []string) {
	var ev []model.Evidence
	for _, e := range b.eps {
		for _, x := range e.evidence {
			x.Text = strings.TrimSpace(fmt.Sprintf("%s %s: %s", e.ref.pid, e.ref.stream, x.Text))
			ev = append(ev, x)
		}
	}
	from, to := b.window.from, b.window.to
	is := model.Issue{Kind: KindPoorStream, ParticipantID: b.pid, Start: from, End: to, Rule: "series.attribution." + b.culprit}
	upText := fmt.Sprintf("media sent by this participant was poor at %d of its %d receivers", len(b.sawUp), len(b.ofUp))
	downText := fmt.Sprintf("this participant received poor media from %d of its %d senders", len(b.sawDown), len(b.ofDown))
	switch {
	case b.culprit == model.CulpritSharedNetwork:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: group,
			Summary: "these participants degraded together, which points at a network they share or at the service"}
	case b.up && b.down:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: []string{b.pid},
			Summary: "this participant's own connection, in both directions"}
	case b.up:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: []string{b.pid},
			Summary: "this participant's uplink: " + strings.Join(b.sawUp, ", ") + " received poor media from it while their other streams were fine"}
	default:
		is.Culprit = model.Culprit{Type: b.culprit, ParticipantIDs: []string{b.pid},
			Summary: "this participant's downlink: media from " + strings.Join(b.sawDown, ", ") + " was poor here"}
	}
	switch {
	case b.up && b.down:
		is.StreamID, is.Summary = "", upText+"; "+downText
	case b.up:
		is.StreamID, is.Summary = "outbound", upText
	default:
		is.StreamID, is.Summary = "inbound", downText
	}
	if b.culprit == model.CulpritSharedNetwork {
		is.Summary += fmt.Sprintf(", at the same time as %d other participant(s)", len(group)-1)
	}
	w := b.window
	if b.up {
		ev = append(ev, model.Evidence{Metric: "receivers seeing poor media", Value: ptr(float64(len(b.sawUp))), Op: ">",
			Threshold: ptr(d.rules.AttributionShare * float64(len(b.ofUp))),
			Text:      "saw it: " + strings.Join(b.sawUp, ", ") + "; receivers: " + strings.Join(b.ofUp, ", "),
			Source:    srcSeries, RecordIDs: []string{}, From: &w.from, To: &w.to})
	}
	if b.down {
		ev = append(ev, model.Evidence{Metric: "senders seen poor", Value: ptr(float64(len(b.sawDown))), Op: ">",
			Threshold: ptr(d.rules.AttributionShare * float64(len(b.ofDown))),
			Text:      "poor: " + strings.Join(b.sawDown, ", ") + "; senders: " + strings.Join(b.ofDown, ", "),
			Source:    srcSeries, RecordIDs: []string{}, From: &w.from, To: &w.to})
	}
	is.Evidence = ev
	d.add(is)
}

func (d *run) addEpisode(e *episode) {
	is := model.Issue{Kind: KindPoorStream, ParticipantID: e.ref.pid, StreamID: e.ref.stream,
		Start: e.span.from, End: e.span.to, Evidence: e.evidence, Rule: "series." + ruleNames(e.evidence)}
	is.Summary = fmt.Sprintf("%s %s stream was poor for %s (%s)", dirWord(e.ref.dir), e.ref.media,
		e.span.to.Sub(e.span.from).Round(1e9), evidenceNames(e.evidence))
	switch {
	case e.ref.dir == model.DirOutbound:
		is.Culprit = model.Culprit{Type: model.CulpritUplink, ParticipantIDs: []string{e.ref.pid}, Summary: "this participant's outgoing network path"}
	case e.ref.remote != "":
		is.Culprit = model.Culprit{Type: model.CulpritPath, ParticipantIDs: []string{e.ref.remote, e.ref.pid},
			Summary: "the path from the sender to this participant; no other receiver or sender confirms either end"}
	default:
		is.Culprit = model.Culprit{Type: model.CulpritDownlink, ParticipantIDs: []string{e.ref.pid}, Summary: "this participant's incoming network path"}
	}
	d.add(is)
}

func ruleNames(ev []model.Evidence) string {
	names := make([]string, len(ev))
	for i, e := range ev {
		names[i] = e.Metric
	}
	return strings.Join(names, ",")
}

func evidenceNames(ev []model.Evidence) string {
	parts := make([]string, len(ev))
	for i, e := range ev {
		parts[i] = fmt.Sprintf("%s %g > %g", e.Metric, *e.Value, *e.Threshold)
	}
	return strings.Join(parts, "; ")
}
