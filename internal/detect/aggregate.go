package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"calldiag/internal/model"
)

// aggregates re-attributes the stream issues raised from whole-call
// aggregates that no series interval superseded. A CallDiagnostics row
// does not name the far end of a stream, so on its own an incoming stream
// is blamed on the receiver's downlink and an outgoing one on the sender's
// uplink. The clients' own network diagnostics often say better:
//   - An incoming stream degraded at a receiver whose client reported no
//     trouble receiving, while exactly one other participant's client
//     reported trouble sending at the time: that sender's uplink. The
//     receivers' issues are folded into one issue of the sender's, so the
//     receivers get none of their own. With several such senders the
//     receiver keeps its issue, blamed on their uplinks (or on the network
//     they share, when series attribution found that).
//   - In a P2P call an outgoing stream's statistics come back in the other
//     client's reports and so include its downlink: when the sender's
//     client reported no trouble sending but the other reported trouble
//     receiving, the other's downlink; when a series finding already
//     blames that downlink, the aggregate issue is dropped as the same
//     symptom.
//
// Issues no diagnostic speaks to keep their first attribution.
func (d *run) aggregates() {
	quality := d.qualityUFDs()
	p2p := d.in.Call.CallType == model.CallTypeP2P
	type foldKey struct{ sender, kind string }
	folds := map[foldKey][]model.Issue{}
	var order []foldKey
	kept := d.issues[:0]
	for _, is := range d.issues {
		ref, agg := d.aggs[is.ID]
		if !agg || !aggregateNetworkKind(is.Kind) {
			kept = append(kept, is)
			continue
		}
		w := span{is.Start, is.End}
		switch ref.dir {
		case model.DirInbound:
			if ufdRaised(quality, ref.pid, ufdReceiveQuality, w) {
				break
			}
			senders := othersRaised(quality, ufdSendQuality, ref.pid, w)
			if len(senders) == 0 {
				break
			}
			if len(senders) > 1 {
				// Several senders had trouble: which one this receiver's
				// degradation came from, a whole-call row cannot say.
				is.Culprit = model.Culprit{Type: model.CulpritUplink, ParticipantIDs: senders,
					Summary: "the uplink of one of " + strings.Join(senders, ", ") + ": their clients reported trouble sending, this one none receiving"}
				if d.sharedGroup(senders, w) {
					is.Culprit.Type = model.CulpritSharedNetwork
					is.Culprit.Summary = strings.Join(senders, ", ") + " degraded together, which points at a network they share or at the service"
				}
				break
			}
			k := foldKey{senders[0], is.Kind}
			if _, ok := folds[k]; !ok {
				order = append(order, k)
			}
			folds[k] = append(folds[k], is)
			delete(d.aggs, is.ID)
			continue
		case model.DirOutbound:
			if !p2p || ufdRaised(quality, ref.pid, ufdSendQuality, w) {
				break
			}
			if rttOnly(is.Evidence) {
				// The round trip is the one path's, in both directions:
				// when only the peer reported trouble sending, it is the
				// peer's, and the peer's own issue shows it.
				if peers := othersRaised(quality, ufdSendQuality, ref.pid, w); len(peers) > 0 {
					if d.uplinkFound(peers, w) {
						delete(d.aggs, is.ID)
						continue
					}
					is.Culprit = model.Culprit{Type: model.CulpritUplink, ParticipantIDs: peers,
						Summary: strings.Join(peers, ", ") + "'s uplink: the round trip is the one P2P path's, and only that client reported trouble sending"}
					break
				}
			}
			receivers := othersRaised(quality, ufdReceiveQuality, ref.pid, w)
			if len(receivers) == 0 {
				break
			}
			if d.downlinkFound(receivers, w) {
				delete(d.aggs, is.ID)
				continue
			}
			is.Culprit = model.Culprit{Type: model.CulpritDownlink, ParticipantIDs: receivers,
				Summary: fmt.Sprintf("%s's downlink: in a P2P call these statistics come back from the other client, which reported poor receiving while this one reported no trouble sending",
					strings.Join(receivers, ", "))}
		}
		kept = append(kept, is)
	}
	d.issues = kept
	for _, k := range order {
		d.foldOnSender(k.sender, k.kind, folds[k], quality)
	}
}

// downlinkFound reports whether a series finding already blames the
// downlink of one of pids at some time in w.
func (d *run) downlinkFound(pids []string, w span) bool {
	for _, is := range d.issues {
		if is.Kind == KindPoorStream && is.Culprit.Type == model.CulpritDownlink &&
			slices.Contains(pids, is.ParticipantID) && (span{is.Start, is.End}).overlaps(w, 0) {
			if _, agg := d.aggs[is.ID]; !agg {
				return true
			}
		}
	}
	return false
}

// sharedGroup reports whether series attribution found every one of pids
// in a shared network problem at some time in w.
func (d *run) sharedGroup(pids []string, w span) bool {
	for _, p := range pids {
		found := false
		for _, is := range d.issues {
			if is.Culprit.Type == model.CulpritSharedNetwork && slices.Contains(is.Culprit.ParticipantIDs, p) &&
				(span{is.Start, is.End}).overlaps(w, 0) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// uplinkFound reports whether an issue other than an aggregate already
// blames the uplink of one of pids at some time in w.
func (d *run) uplinkFound(pids []string, w span) bool {
	for _, is := range d.issues {
		if aggregateNetworkKind(is.Kind) && is.Culprit.Type == model.CulpritUplink &&
			slices.Contains(pids, is.ParticipantID) && (span{is.Start, is.End}).overlaps(w, 0) {
			if _, agg := d.aggs[is.ID]; !agg {
				return true
			}
		}
	}
	return false
}

// rttOnly reports whether round trip is the only rule that fired.
func rttOnly(ev []model.Evidence) bool {
	for _, e := range ev {
		if e.Metric != "RoundTripTimeAvg" {
			return false
		}
	}
	return len(ev) > 0
}

// aggregateNetworkKind reports whether an aggregate issue of this kind is
// a network symptom that attribution may move.
func aggregateNetworkKind(kind string) bool {
	switch kind {
	case KindPoorStream, KindPoorVideo, KindPoorScreenshare, KindPoorAudioConcealment:
		return true
	}
	return false
}

// othersRaised lists, sorted, the participants other than pid that had
// the UFD raised at some time in w.
func othersRaised(q map[string]map[string][]span, name, pid string, w span) []string {
	var out []string
	for _, p := range qualityPIDs(q, name) {
		if p != pid && ufdRaised(q, p, name, w) {
			out = append(out, p)
		}
	}
	return out
}

// foldOnSender raises one issue on sender for the receivers' aggregate
// issues of one kind that its uplink explains. Its interval is the time
// the sender's client reported trouble sending, within the receivers'.
func (d *run) foldOnSender(sender, kind string, recv []model.Issue, quality map[string]map[string][]span) {
	var within span
	var receivers []string
	var ev []model.Evidence
	for i, is := range recv {
		if i == 0 {
			within = span{is.Start, is.End}
		} else {
			within = within.union(span{is.Start, is.End})
		}
		if !slices.Contains(receivers, is.ParticipantID) {
			receivers = append(receivers, is.ParticipantID)
		}
		for _, x := range is.Evidence {
			x.Text = strings.TrimSpace(fmt.Sprintf("%s %s: %s", is.ParticipantID, is.StreamID, x.Text))
			ev = append(ev, x)
		}
	}
	slices.Sort(receivers)
	var when span
	for _, s := range quality[sender][ufdSendQuality] {
		if !s.overlaps(within, 15*time.Second) {
			continue
		}
		if when.from.IsZero() {
			when = s
		} else {
			when = when.union(s)
		}
	}
	if when.from.Before(within.from) {
		when.from = within.from
	}
	if when.to.After(within.to) {
		when.to = within.to
	}
	if when.to.Before(when.from) {
		when = within
	}
	media := "media"
	switch kind {
	case KindPoorVideo:
		media = "video"
	case KindPoorScreenshare:
		media = "screen share"
	case KindPoorAudioConcealment:
		media = "audio"
	}
	ev = append(ev, model.Evidence{Metric: "networkSendQuality", Text: "raised by " + sender + "; not networkReceiveQuality by " + strings.Join(receivers, ", "),
		Op: "=", Source: srcUFD, RecordIDs: []string{}, From: &when.from, To: &when.to})
	is := model.Issue{Kind: kind, ParticipantID: sender, StreamID: "outbound", Start: when.from, End: when.to,
		Rule: "aggregate.attribution.uplink", Evidence: ev}
	is.Summary = fmt.Sprintf("%s sent by this participant was poor at %d receiver(s) while its client reported trouble sending", media, len(receivers))
	is.Culprit = model.Culprit{Type: model.CulpritUplink, ParticipantIDs: []string{sender},
		Summary: "this participant's uplink: " + strings.Join(receivers, ", ") + " received poor " + media + " and reported no trouble receiving"}
	d.add(is)
}

// outageFreezes folds a receiver's frozen video into the outage of the
// participant that sent it. While a client reconnects, nothing it sends
// arrives, so every receiver's picture of it freezes; over a short leg
// that alone can push the whole-call freeze rate past its threshold. A
// received video or screen-share issue raised only by the freeze rule,
// (with, at most, the frame-rate rule) at a receiver whose client
// reported no trouble receiving, is folded into another participant's
// network-reconnect issue when that outage accounts for at least half of
// the frozen time while both were in the call: the
// receiver gets no issue of its own, and the outage's issue gains the
// freeze as evidence.
func (d *run) outageFreezes() {
	quality := d.qualityUFDs()
	var outages []int
	for i := range d.issues {
		if d.issues[i].Kind == KindNetworkReconnect {
			outages = append(outages, i)
		}
	}
	if len(outages) == 0 {
		return
	}
	drop := map[string]bool{}
	for _, is := range d.issues {
		ref, agg := d.aggs[is.ID]
		if !agg || ref.dir != model.DirInbound || (is.Kind != KindPoorVideo && is.Kind != KindPoorScreenshare) ||
			!freezeOnly(is.Evidence) || ufdRaised(quality, is.ParticipantID, ufdReceiveQuality, span{is.Start, is.End}) {
			continue
		}
		rate := freezeRate(is.Evidence)
		recv := span{is.Start, is.End}
		first := -1
		for _, oi := range outages {
			o := d.issues[oi]
			if o.ParticipantID == is.ParticipantID {
				continue
			}
			// The stream from the sender lasted at most while both were
			// in the call, so this bounds the frozen time from above;
			// the receiver's media stats of that stream, when there are
			// any, say how long it really lasted.
			from, to := d.legSpan(o.ParticipantID)
			both := span{from, to}
			if w, ok := d.seriesSpan(is.ParticipantID, string(ref.media)+"-"+string(model.DirInbound)+"-"+o.ParticipantID); ok {
				both = w
			}
			if from.Before(recv.from) {
				both.from = recv.from
			}
			if to.After(recv.to) {
				both.to = recv.to
			}
			if !both.to.After(both.from) {
				continue
			}
			frozen := rate / 60000 * float64(both.to.Sub(both.from))
			outage := (span{o.Start, o.End}).coveredBy(both) * float64(o.End.Sub(o.Start))
			if frozen > 0 && outage >= 0.5*frozen {
				first = oi
				break
			}
		}
		if first < 0 {
			continue
		}
		frozen := time.Duration(rate / 60000 * float64(recv.to.Sub(recv.from)))
		drop[is.ID] = true
		delete(d.aggs, is.ID)
		o := &d.issues[first]
		for _, x := range is.Evidence {
			x.Text = strings.TrimSpace(fmt.Sprintf("%s %s froze (at most %.0f s in all) while this participant was reconnecting: %s",
				is.ParticipantID, is.StreamID, frozen.Seconds(), x.Text))
			o.Evidence = append(o.Evidence, x)
		}
	}
	if len(drop) == 0 {
		return
	}
	kept := d.issues[:0]
	for _, is := range d.issues {
		if !drop[is.ID] {
			kept = append(kept, is)
		}
	}
	d.issues = kept
}

// seriesSpan is the time from the first to the last point of the
// participant's series of one stream.
func (d *run) seriesSpan(pid, stream string) (span, bool) {
	var w span
	found := false
	for i := range d.in.Series {
		s := &d.in.Series[i]
		if s.ParticipantID != pid || s.StreamID != stream || len(s.Points) == 0 {
			continue
		}
		sw := span{s.Points[0].Time, s.Points[len(s.Points)-1].Time}
		if !found {
			w, found = sw, true
		} else {
			w = w.union(sw)
		}
	}
	return w, found
}

// freezeOnly reports whether the rules that fired are the freeze rule and
// at most the frame-rate rule: what a stream that stopped arriving shows.
func freezeOnly(ev []model.Evidence) bool {
	freeze := false
	for _, e := range ev {
		switch {
		case e.Metric == metricFreeze && e.Value != nil:
			freeze = true
		case e.Metric == "VideoFrameRateAvg":
		default:
			return false
		}
	}
	return freeze
}

const metricFreeze = "RecvFreezeDurationPerMinuteInMs"

// freezeRate is the freeze rule's measured value, ms per minute.
func freezeRate(ev []model.Evidence) float64 {
	for _, e := range ev {
		if e.Metric == metricFreeze && e.Value != nil {
			return *e.Value
		}
	}
	return 0
}
