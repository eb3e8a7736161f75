package detect

import (
	"cmp"
	"slices"
)

// storyRank orders the members of a story: connectivity loss first (it
// is usually the root), then degraded media, then everything else, and
// the drop or rejoin it led to last.
func storyRank(kind string) int {
	switch kind {
	case KindNetworkReconnect, KindNoNetwork, KindRelaysUnreachable, KindICEFailed:
		return 0
	case KindNetworkSendQuality, KindNetworkReceiveQuality, KindPoorStream, KindPoorAudioConcealment,
		KindPoorVideo, KindPoorScreenshare, KindMediaOverTCP, KindNoMediaFlow, KindQualityLimited:
		return 1
	case KindDropped, KindCallSetupFailed, KindRejoined:
		return 3
	}
	return 2
}

// relate links the issues of one endpoint (a leg and the legs that
// rejoined it) whose intervals overlap or lie within RelatedGapSeconds of
// each other into one story; each member lists the others, root first.
// Informational kinds, ratings and operation failures stay alone.
func (d *run) relate() {
	root := func(pid string) string {
		seen := map[string]bool{}
		for !seen[pid] {
			seen[pid] = true
			p := d.legs[pid]
			if p == nil || p.RejoinOf == "" {
				break
			}
			pid = p.RejoinOf
		}
		return pid
	}
	byEndpoint := map[string][]int{}
	var order []string
	for i := range d.issues {
		is := &d.issues[i]
		switch is.Kind {
		case KindMissingTelemetry, KindPoorRating, KindSpeakingWhileMuted, KindOperationFailed, KindRelayUsed:
			continue
		}
		if is.ParticipantID == "" {
			continue
		}
		k := root(is.ParticipantID)
		if byEndpoint[k] == nil {
			order = append(order, k)
		}
		byEndpoint[k] = append(byEndpoint[k], i)
	}
	gap := seconds(d.rules.RelatedGapSeconds)
	for _, k := range order {
		idx := byEndpoint[k]
		slices.SortFunc(idx, func(a, b int) int { return d.issues[a].Start.Compare(d.issues[b].Start) })
		var cluster []int
		flush := func() {
			if len(cluster) > 1 {
				members := slices.Clone(cluster)
				slices.SortFunc(members, func(a, b int) int {
					x, y := &d.issues[a], &d.issues[b]
					if c := cmp.Compare(storyRank(x.Kind), storyRank(y.Kind)); c != 0 {
						return c
					}
					if c := x.Start.Compare(y.Start); c != 0 {
						return c
					}
					return cmp.Compare(x.ID, y.ID)
				})
				for _, m := range members {
					rel := []string{}
					for _, o := range members {
						if o != m {
							rel = append(rel, d.issues[o].ID)
						}
					}
					d.issues[m].Related = rel
				}
			}
			cluster = cluster[:0]
		}
		var end = d.issues[idx[0]].End
		for _, i := range idx {
			is := &d.issues[i]
			if len(cluster) > 0 && is.Start.Sub(end) > gap {
				flush()
			}
			if len(cluster) == 0 || is.End.After(end) {
				end = is.End
			}
			cluster = append(cluster, i)
		}
		flush()
	}
}
