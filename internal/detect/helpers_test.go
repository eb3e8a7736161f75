package detect

import (
	"fmt"
	"time"

	"calldiag/internal/model"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }
func n(v int) *int         { return &v }

// leg is a participant present for the whole 10-minute call.
func leg(id string, streams ...model.Stream) model.Participant {
	for i := range streams {
		streams[i].ParticipantID = id
		if streams[i].StreamID == "" {
			streams[i].StreamID = fmt.Sprintf("%s-%s-%d", streams[i].MediaType, streams[i].Direction, i)
		}
		if streams[i].RecordID == "" {
			streams[i].RecordID = "rec-" + id + "-" + streams[i].StreamID
		}
	}
	return model.Participant{ID: id, EndpointID: "ep-" + id, EndpointType: model.EndpointVoIP,
		StartTime: ptr(t0), DurationSeconds: f(600), EndReason: n(0), Source: "summary", Streams: streams}
}

// goodAudio is a healthy audio stream.
func goodAudio(dir model.Direction) model.Stream {
	return model.Stream{MediaType: model.MediaAudio, Direction: dir, TransportType: "UDP",
		JitterAvgMs: f(5), PacketLossRateAvg: f(0.001), RoundTripTimeAvgMs: f(60),
		JitterBufferAvgMs: f(40), HealedDataRatioAvg: f(0.01), PacketUtilization: f(900)}
}

func call(parts ...model.Participant) Input {
	return Input{Call: model.Call{ID: "call-1", StartTime: t0, EndTime: t0.Add(10 * time.Minute),
		DurationSeconds: 600, Participants: parts,
		RecordCounts: map[model.Category]int{model.CatCallSummary: len(parts)}}}
}

// problems are the issues other than missing-telemetry, which most tests'
// minimal inputs raise because they lack diagnostics or media stats.
func problems(res Result) []model.Issue {
	var out []model.Issue
	for _, is := range res.Issues {
		if is.Kind != KindMissingTelemetry {
			out = append(out, is)
		}
	}
	return out
}

func kinds(res Result) []string {
	var out []string
	for _, is := range problems(res) {
		out = append(out, is.Kind+"@"+is.ParticipantID)
	}
	return out
}

func countKind(res Result, kind string) int {
	c := 0
	for _, is := range problems(res) {
		if is.Kind == kind {
			c++
		}
	}
	return c
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
