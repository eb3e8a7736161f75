package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

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
	quality := d.qualityUFDs()
	p2p := d.in.Call.CallType == model.CallTypeP2P

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
	measuresOut := map[string]bool{} // participants with outbound series
	for i := range d.in.Series {
		if ref := parseStreamRef(d.in.Series[i].ParticipantID, d.in.Series[i].StreamID); ref.dir == model.DirOutbound {
			measuresOut[ref.pid] = true
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
		// A sender whose own outbound statistics stayed clean is not
		// blamed for receivers whose clients reported their own trouble
		// receiving at the time.
		clean := measuresOut[p] && !outbound[p]
		for _, r := range b.ofUp {
			if w, ok := poor[pair{r, p}]; ok && !(clean && ufdRaised(quality, r, ufdReceiveQuality, w)) {
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
	// pairsOf lists the poor pairs a candidate explains.
	pairsOf := func(c *blame) []pair {
		var out []pair
		if c.up {
			for _, r := range c.sawUp {
				out = append(out, pair{r, c.pid})
			}
		}
		if c.down {
			for _, snd := range c.sawDown {
				out = append(out, pair{c.pid, snd})
			}
		}
		return out
	}
	// poorWindow spans the poor pairs a candidate explains.
	poorWindow := func(c *blame) span {
		var w span
		for _, pr := range pairsOf(c) {
			if w.from.IsZero() {
				w = poor[pr]
			} else {
				w = w.union(poor[pr])
			}
		}
		return w
	}
	// Greedy cover, keeping each candidate's count of poor pairs not yet
	// explained up to date as pairs get covered.
	gain := make([]int, len(cands))
	byPID := map[string][]int{}
	for i, c := range cands {
		gain[i] = len(pairsOf(c))
		byPID[c.pid] = append(byPID[c.pid], i)
	}
	// bonus favours a candidate its own client's diagnostics support.
	bonus := make([]float64, len(cands))
	if len(quality) > 0 {
		for i, c := range cands {
			if c.up && ufdRaised(quality, c.pid, ufdSendQuality, poorWindow(c)) ||
				c.down && ufdRaised(quality, c.pid, ufdReceiveQuality, poorWindow(c)) {
				bonus[i] = 0.25
			}
		}
	}
	covered := map[pair]bool{}
	taken := map[string]bool{}
	var chosen []*blame
	for {
		best, bestGain := -1, 0.0
		for i, c := range cands {
			if taken[c.pid] || gain[i] < 2 {
				continue
			}
			// Ties go to the explanation the participant's own view
			// supports: its outbound statistics degrading (or staying
			// clean), its client's network diagnostics.
			g := float64(gain[i])
			if c.up && outbound[c.pid] {
				g += 0.5
			} else if c.up && measuresOut[c.pid] {
				g -= 0.5
			}
			g += bonus[i]
			if g > bestGain {
				best, bestGain = i, g
			}
		}
		if best < 0 {
			break
		}
		b := cands[best]
		for _, pr := range pairsOf(b) {
			if b.window.from.IsZero() {
				b.window = poor[pr]
			} else {
				b.window = b.window.union(poor[pr])
			}
			if covered[pr] {
				continue
			}
			covered[pr] = true
			for _, i := range byPID[pr.send] {
				if cands[i].up {
					gain[i]--
				}
			}
			for _, i := range byPID[pr.recv] {
				if cands[i].down {
					gain[i]--
				}
			}
		}
		taken[b.pid] = true
		chosen = append(chosen, b)
	}
	// An explanation chosen from the pairs takes the episodes it accounts
	// for: on the sending side everything received from the participant
	// and its own outbound episodes, on the receiving side everything it
	// received.
	for _, b := range chosen {
		for _, e := range eps {
			own := e.ref.pid == b.pid
			in := e.ref.dir == model.DirInbound
			if b.up && (e.ref.remote == b.pid || own && !in) || b.down && own && in {
				b.eps = append(b.eps, e)
				e.consumed = true
			}
		}
	}
	// A participant's own outbound episodes that no pair explained still
	// show its sending side degrading.
	for _, e := range eps {
		if e.consumed || e.ref.dir != model.DirOutbound {
			continue
		}
		b := &blame{pid: e.ref.pid, up: true, window: e.span, eps: []*episode{e}}
		// A sender's outbound statistics also suffer from the receiver's
		// downlink (they come back in the receiver's reports): when the
		// sender's SDK saw nothing wrong with sending but another
		// participant's SDK reported poor receiving at the time, the
		// receiver's downlink is the better explanation.
		// In a P2P call the round trip is one path's, shared by both
		// ends' outbound statistics: when only the other end's client
		// reported trouble sending, it is that end's uplink.
		if !ufdRaised(quality, e.ref.pid, ufdSendQuality, e.span) {
			for _, r := range qualityPIDs(quality, ufdReceiveQuality) {
				if r != e.ref.pid && ufdRaised(quality, r, ufdReceiveQuality, e.span) {
					b.pid, b.up, b.down = r, false, true
					break
				}
			}
			if p2p && b.pid == e.ref.pid {
				for _, o := range qualityPIDs(quality, ufdSendQuality) {
					if o != e.ref.pid && ufdRaised(quality, o, ufdSendQuality, e.span) {
						b.pid = o
						break
					}
				}
			}
		}
		chosen = append(chosen, b)
		e.consumed = true
	}
	chosen = mergeBlames(chosen)
	// Participants degrading at overlapping times in both directions —
	// each side found in the media stats or reported by the participant's
	// own client — share a network problem: they, and anything blamed on
	// them then, are one group. Two uplinks (or two downlinks) that fail
	// at once while the other direction is fine are two problems, and in
	// a P2P call the two ends see one path, so there is no group to find.
	sharing := func(b *blame) bool {
		return !p2p && (b.up || ufdRaised(quality, b.pid, ufdSendQuality, b.window)) &&
			(b.down || ufdRaised(quality, b.pid, ufdReceiveQuality, b.window))
	}
	var group []string
	// regroup finds the group among the findings so far and names each
	// finding's culprit.
	regroup := func() {
		group = nil
		inGroup := map[string]bool{}
		var groupWindow span
		for i, a := range chosen {
			for j, b := range chosen {
				if i != j && sharing(a) && sharing(b) && a.pid != b.pid && a.window.overlaps(b.window, 0) {
					if !inGroup[a.pid] {
						inGroup[a.pid] = true
						group = append(group, a.pid)
					}
					if groupWindow.from.IsZero() {
						groupWindow = a.window
					}
					groupWindow = groupWindow.union(a.window)
					break
				}
			}
		}
		slices.Sort(group)
		for _, b := range chosen {
			switch {
			case inGroup[b.pid] && b.window.overlaps(groupWindow, 0):
				b.culprit = model.CulpritSharedNetwork
			case b.culprit == model.CulpritSharedNetwork:
				b.culprit = ""
			}
			if b.culprit != "" {
				continue
			}
			switch {
			case b.up && b.down:
				b.culprit = model.CulpritPath
			case b.up:
				b.culprit = model.CulpritUplink
			default:
				b.culprit = model.CulpritDownlink
			}
		}
	}
	regroup()
	// A sending side explains, in its window, what others received from it
	// and others' mixed (sender-less) incoming streams; a shared problem
	// also explains its members' own incoming media. An incoming interval
	// that mostly lies outside the window has a cause of its own.
	for _, b := range chosen {
		if !b.up {
			continue
		}
		for _, e := range eps {
			if e.consumed || e.ref.dir != model.DirInbound || e.span.coveredBy(b.window) < 0.5 {
				continue
			}
			own := e.ref.pid == b.pid
			// A mixed stream names no sender: it is the receiver's own
			// when its client reported poor receiving for most of it.
			mixed := !own && e.ref.remote == "" && ufdCover(quality, e.ref.pid, ufdReceiveQuality, e.span) < 0.5
			if e.ref.remote == b.pid || mixed || own && b.culprit == model.CulpritSharedNetwork {
				b.eps = append(b.eps, e)
				e.consumed = true
			}
		}
	}
	// What a participant received poorly that nothing else explains is its
	// downlink, one finding per participant and overlapping window —
	// unless the stream names its sender and the sender's client reported
	// trouble sending for most of that time while, in a group call, the receiver's
	// reported none receiving. (In a P2P call both clients see the one
	// path, so a poor uplink makes the receiver report poor receiving too;
	// the sender's own report is what tells its side apart.)
	for _, e := range eps {
		if e.consumed || e.ref.dir != model.DirInbound {
			continue
		}
		b := &blame{pid: e.ref.pid, down: true, culprit: model.CulpritDownlink, window: e.span, eps: []*episode{e}}
		if s := e.ref.remote; s != "" && s != e.ref.pid && ufdCover(quality, s, ufdSendQuality, e.span) >= 0.5 &&
			(p2p || !ufdRaised(quality, e.ref.pid, ufdReceiveQuality, e.span)) {
			b = &blame{pid: s, up: true, culprit: model.CulpritUplink, window: e.span, eps: []*episode{e},
				sawUp: []string{e.ref.pid}, ofUp: sortedCopy(recvOf[s])}
		}
		chosen = append(chosen, b)
		e.consumed = true
	}
	chosen = mergeBlames(chosen)
	// Findings of the receiving sides may complete a group.
	regroup()
	for _, b := range chosen {
		d.addBlame(b, group)
	}
	// Whole-call aggregates give way to the series' intervals: a
	// poor-stream aggregate wherever series measure the same media, and
	// any aggregate on incoming media that a finding (the participant's
	// own or another's) already accounts for.
	found := map[string]bool{}
	for _, b := range chosen {
		for _, e := range b.eps {
			found[e.ref.pid+"/"+string(e.ref.media)+"/"+string(e.ref.dir)] = true
		}
	}
	kept := d.issues[:0]
	for _, is := range d.issues {
		if ref, agg := d.aggs[is.ID]; agg {
			if is.Kind == KindPoorStream && d.covered(ref.pid, ref.media, ref.dir) {
				continue
			}
			if ref.dir == model.DirInbound && found[ref.pid+"/"+string(ref.media)+"/"+string(ref.dir)] {
				continue
			}
		}
		kept = append(kept, is)
	}
	d.issues = kept
}

// mergeBlames joins the findings of one participant whose windows
// overlap, so that a participant gets one issue per stretch of trouble.
func mergeBlames(bs []*blame) []*blame {
	slices.SortStableFunc(bs, func(a, b *blame) int {
		if c := strings.Compare(a.pid, b.pid); c != 0 {
			return c
		}
		return a.window.from.Compare(b.window.from)
	})
	var out []*blame
	for _, b := range bs {
		if n := len(out); n > 0 && out[n-1].pid == b.pid && out[n-1].window.overlaps(b.window, 0) {
			m := out[n-1]
			m.window = m.window.union(b.window)
			m.up, m.down = m.up || b.up, m.down || b.down
			m.eps = append(m.eps, b.eps...)
			if len(b.ofUp) > len(m.ofUp) || len(b.sawUp) > len(m.sawUp) {
				m.sawUp, m.ofUp = b.sawUp, b.ofUp
			}
			if len(b.ofDown) > len(m.ofDown) || len(b.sawDown) > len(m.sawDown) {
				m.sawDown, m.ofDown = b.sawDown, b.ofDown
			}
			if m.culprit != b.culprit {
				switch {
				case m.culprit == model.CulpritSharedNetwork || b.culprit == model.CulpritSharedNetwork:
					m.culprit = model.CulpritSharedNetwork
				default:
					m.culprit = ""
				}
			}
			continue
		}
		out = append(out, b)
	}
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
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

// UFD names the attribution consults (lower-cased).
const (
	ufdSendQuality    = "networksendquality"
	ufdReceiveQuality = "networkreceivequality"
)

// qualityUFDs collects, per participant and lower-cased UFD name, the
// intervals in which the network quality UFDs were raised.
func (d *run) qualityUFDs() map[string]map[string][]span {
	if d.quality != nil {
		return d.quality
	}
	out := map[string]map[string][]span{}
	defer func() { d.quality = out }()
	open := map[[2]string]time.Time{}
	for i := range d.in.Events {
		e := &d.in.Events[i]
		if e.Kind != model.KindUFD {
			continue
		}
		name := strings.ToLower(e.Name)
		if name != ufdSendQuality && name != ufdReceiveQuality {
			continue
		}
		k := [2]string{e.ParticipantID, name}
		start, raised := open[k]
		switch {
		case !clears(ufdValue(e)) && !raised:
			open[k] = e.Time
		case clears(ufdValue(e)) && raised:
			addSpan(out, k, span{start, e.Time})
			delete(open, k)
		}
	}
	for k, start := range open {
		_, end := d.legSpan(k[0])
		if end.Before(start) {
			end = start
		}
		addSpan(out, k, span{start, end})
	}
	return out
}

func addSpan(m map[string]map[string][]span, k [2]string, s span) {
	if m[k[0]] == nil {
		m[k[0]] = map[string][]span{}
	}
	m[k[0]][k[1]] = append(m[k[0]][k[1]], s)
}

// ufdRaised reports whether participant pid had the UFD raised at some
// time in w (give or take the UFD's reporting delay).
func ufdRaised(q map[string]map[string][]span, pid, name string, w span) bool {
	for _, s := range q[pid][name] {
		if s.overlaps(w, 15*time.Second) {
			return true
		}
	}
	return false
}

// ufdCover returns the share of w during which participant pid had the
// UFD raised (give or take the UFD's reporting delay).
func ufdCover(q map[string]map[string][]span, pid, name string, w span) float64 {
	const delay = 15 * time.Second
	var spans []span
	for _, s := range q[pid][name] {
		spans = append(spans, span{s.from.Add(-delay), s.to.Add(delay)})
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	total := 0.0
	var cur span
	for i, s := range spans {
		if i > 0 && s.overlaps(cur, 0) {
			cur = cur.union(s)
			continue
		}
		if i > 0 {
			total += w.coveredBy(cur) * float64(w.to.Sub(w.from))
		}
		cur = s
	}
	if len(spans) > 0 {
		total += w.coveredBy(cur) * float64(w.to.Sub(w.from))
	}
	if w.to.Sub(w.from) <= 0 {
		if total > 0 || ufdRaised(q, pid, name, w) {
			return 1
		}
		return 0
	}
	return total / float64(w.to.Sub(w.from))
}

// qualityPIDs lists, sorted, the participants that raised the UFD.
func qualityPIDs(q map[string]map[string][]span, name string) []string {
	var out []string
	for pid, m := range q {
		if len(m[name]) > 0 {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}
