package web

import (
	"fmt"
	"strings"

	"calldiag/internal/catalog"
	"calldiag/internal/detect"
)

// kindInfo is the one-line definition of an issue kind, for its info icon.
func kindInfo(kind string) string {
	if e, ok := catalog.LookupKB("kind-" + kind); ok {
		return e.Title
	}
	return kind
}

// kbTitle is a knowledge-base entry's title ("" when there is none).
func kbTitle(id string) string {
	if e, ok := catalog.LookupKB(id); ok {
		return e.Title
	}
	return ""
}

// metricInfo explains a stream metric and the threshold the rules in force
// apply to it, for the info icons of the overview's columns.
type metricInfo struct {
	Key, Label, Help string
}

func metricInfos(r detect.Rules) []metricInfo {
	return []metricInfo{
		{"jitter", "Jitter", fmt.Sprintf("Average variation in packet arrival time, in ms (the maximum after the slash). A stream is poor when the average is above %g ms.", r.JitterAvgMs)},
		{"loss", "Loss", fmt.Sprintf("Share of packets lost on the way (average, then maximum). A stream is poor when the average is above %g%%.", r.PacketLossAvg*100)},
		{"rtt", "Round trip", fmt.Sprintf("Average time for a packet to reach the other end and come back, in ms. A stream is poor when it is above %g ms.", r.RTTAvgMs)},
		{"mos", "MOS", "Estimated mean opinion score of an audio stream from its jitter, loss and round trip (a simplified ITU-T G.107 E-model): 4.3 and above sounds good, below 3.6 many listeners are unhappy, below 3.1 most are."},
		{"fps", "FPS", fmt.Sprintf("Average frames per second of a video or screen-share stream. Received video is poor below %g fps, a shared screen below %g fps.", r.VideoFPSMin, r.ShareFPSMin)},
		{"height", "Height", fmt.Sprintf("Height in pixels of the received picture. Received video is poor below %gp, a shared screen below %gp.", r.VideoHeightMin, r.ShareHeightMin)},
		{"freeze", "Freezes", fmt.Sprintf("Milliseconds per minute the received picture stood still. Video is poor above %g ms/min, a shared screen above %g ms/min.", r.VideoFreezeMsPerMin, r.ShareFreezeMsPerMin)},
	}
}

// endReason explains an end code and subcode from the catalog: its
// meaning and the knowledge-base entry to read.
type endReason struct {
	Code, SubCode string
	Meaning       string
	KB            string
	Success       bool
}

func explainEnd(code, sub *int, category string) endReason {
	if code == nil {
		return endReason{}
	}
	e := endReason{Code: fmt.Sprint(*code)}
	s := catalog.Absent
	if sub != nil {
		e.SubCode = fmt.Sprint(*sub)
		s = *sub
	}
	e.Success = *code == 0 || (*code == 200 && (sub == nil || *sub == 0))
	for _, id := range []string{catalog.CodeEntryID(*code, s), catalog.CodeEntryID(*code, catalog.Absent)} {
		if en, ok := catalog.LookupKB(id); ok {
			e.KB = id
			e.Meaning = en.Title
			if _, rest, ok := strings.Cut(en.Title, ": "); ok {
				e.Meaning = rest
			}
			break
		}
	}
	if e.Meaning == "" {
		e.Meaning = category
	}
	if e.Meaning == "" && e.Success {
		e.Meaning = "ended normally"
	}
	e.Meaning = strings.TrimSpace(e.Meaning)
	return e
}
