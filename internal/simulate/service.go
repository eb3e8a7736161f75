package simulate

import (
	"math"
	"strconv"
	"time"
)

// survey is an end-of-call survey a web user submitted.
type survey struct {
	at                        time.Time
	id                        string
	lower, upper, threshold   int
	overall, audio, video     int // audio and video are -1 when not rated
	overallIssue, audioIssue  string
	videoIssue, operationName string
}

// scoreLevel draws a rating on the 1–5 scale: users who lived through a
// cause rate low far more often, but a few rate low for no visible reason.
func (c *call) scoreLevel(bad bool) int {
	if bad {
		return 1 + weighted(c.r, []float64{15, 25, 30, 22, 8})
	}
	return 1 + weighted(c.r, []float64{0.5, 1.5, 9, 37, 52})
}

// onScale maps a 1–5 level to the survey's scale.
func (c *call) onScale(s *survey, level int) int {
	if s.upper == 5 {
		return level
	}
	return max(s.lower, min(s.upper, 2*level-c.r.IntN(2)))
}

// normalized is the overall score scaled to 1–5, as Call Diagnostics does.
func (s *survey) normalized() float64 {
	return math.Round(float64(s.overall)*5/float64(s.upper)*100) / 100
}

// planSurveys draws which web users submit the end-of-call survey and what
// they answer. A rating in Call Diagnostics' Poor bucket (below 3 of 5) is
// labelled as a poor-rating cause.
func (c *call) planSurveys() {
	r := c.r
	for _, l := range c.legs {
		if !l.hasClientLogs() || l.plat != platWeb || l.setupFailed {
			continue
		}
		p := 0.18
		if l.affected {
			p = 0.4
		}
		if !chance(r, p) {
			continue
		}
		s := &survey{at: l.end.Add(secs(uniform(r, 5, 90))), id: guid(r), lower: 1, upper: 5, threshold: 2,
			audio: -1, video: -1, operationName: "CallSurvey"}
		if chance(r, 0.2) {
			s.lower, s.upper, s.threshold = 0, 10, 5
		}
		if chance(r, 0.3) {
			s.operationName = "EndOfCallSurvey"
		}
		lvl := c.scoreLevel(l.affected)
		s.overall = c.onScale(s, lvl)
		if lvl <= 3 {
			s.overallIssue = l.overall
		}
		if chance(r, 0.6) {
			a := c.scoreLevel(l.audioBad)
			s.audio = c.onScale(s, a)
			if a <= 2 {
				s.audioIssue = l.audioIssue
				if s.audioIssue == "" {
					s.audioIssue = []string{"AudioInterruption", "DistortedSpeech", "NoRemoteAudio"}[r.IntN(3)]
				}
			}
		}
		if (len(l.video) > 0 || l.videoBad) && chance(r, 0.4) {
			v := c.scoreLevel(l.videoBad)
			s.video = c.onScale(s, v)
			if v <= 2 {
				s.videoIssue = l.videoIssue
				if s.videoIssue == "" {
					s.videoIssue = []string{"Freezes", "LowQuality"}[r.IntN(2)]
				}
			}
		}
		l.survey = s
		if n := s.normalized(); n < 3 {
			c.faults = append(c.faults, Fault{Kind: KindPoorRating, ParticipantID: l.key(), Culprit: CulpritUser,
				Start: s.at, End: s.at, Rating: &n})
		}
	}
}

func (c *call) emitSurvey(l *leg) error {
	s := l.survey
	w := c.begin(l.res, s.at, catSurvey, s.operationName, "0.0", l.key())
	w.strNums = false
	w.str("CallId", c.id)
	w.str("SurveyId", s.id)
	if l.participantID != "" {
		w.str("ParticipantId", l.participantID)
	} else {
		w.str("EndpointId", l.endpointID)
	}
	rating := func(prefix string, score int, issueKey, issue string) {
		if issue != "" {
			w.str(issueKey, issue)
		}
		w.integer(prefix+"RatingScore", int64(score))
		w.integer(prefix+"RatingScoreLowerBound", int64(s.lower))
		w.integer(prefix+"RatingScoreUpperBound", int64(s.upper))
		w.integer(prefix+"RatingScoreThreshold", int64(s.threshold))
	}
	rating("Overall", s.overall, "OverallCallIssues", s.overallIssue)
	if s.audio >= 0 {
		rating("Audio", s.audio, "AudioIssues", s.audioIssue)
	}
	if s.video >= 0 {
		rating("Video", s.video, "VideoIssues", s.videoIssue)
	}
	return c.emit(catSurvey, l.res, s.at)
}

// emitService writes the Call Automation requests of a call with a bot and
// the summary of its recording, if it was recorded.
func (c *call) emitService() error {
	b := c.bot
	if b == nil {
		return nil
	}
	r := c.r
	res := c.g.res[0]
	connID := guid(r)
	serverCallID := base64ish(r, 120)
	type req struct {
		at   time.Time
		name string
		sig  int
		sub  string
	}
	reqs := []req{{b.join, "AnswerCall", 200, ""}}
	t := b.start.Add(secs(uniform(r, 1, 5)))
	reqs = append(reqs, req{t, "Play", 202, []string{"File", "TextToSpeech"}[r.IntN(2)]})
	if chance(r, 0.5) {
		t = t.Add(secs(uniform(r, 5, 40)))
		reqs = append(reqs, req{t, "Recognize", 202, "Recognize DTMF"})
	}
	if c.record {
		reqs = append(reqs, req{b.start.Add(secs(uniform(r, 2, 10))), "StartRecording", 200, ""})
	}
	if chance(r, 0.4) {
		reqs = append(reqs, req{b.end.Add(-secs(uniform(r, 5, 30))), "Play", 202, "File"})
	}
	for _, q := range reqs {
		at := q.at.Add(secs(uniform(r, 0.2, 3)))
		w := c.begin(0, at, catAutomation, q.name, "2023-10-15", c.id)
		w.str("ResultType", "Succeeded")
		w.integer("ResultSignature", int64(q.sig))
		w.integer("DurationMs", int64(uniform(r, 40, 600)))
		w.str("CallerIpAddress", "20.42.6."+strconv.Itoa(between(r, 2, 250)))
		w.str("URI", res.host)
		w.str("CallConnectionId", connID)
		w.str("ServerCallId", serverCallID)
		w.str("SdkVersion", "1.3.0")
		w.str("SdkType", "dotnet")
		if q.sub != "" {
			w.str("SubOperationName", q.sub)
		}
		w.str("OperationId", guid(r))
		if err := c.emit(catAutomation, 0, at); err != nil {
			return err
		}
	}
	if !c.record {
		return nil
	}
	recStart := b.start.Add(secs(uniform(r, 3, 12)))
	at := c.end.Add(secs(uniform(r, 120, 600)))
	w := c.begin(0, at, catRecording, "RecordingSummary", "1.0", c.id)
	w.str("ResultType", "Succeeded")
	w.str("RecordingId", base64ish(r, 140))
	w.str("RecordingEndReason", "CallEnded")
	w.ts("RecordingStartTime", recStart)
	length := math.Round(c.end.Sub(recStart).Seconds()*100) / 100
	w.real("RecordingLength", length)
	w.integer("ChunkCount", int64(1+int(length)/(4*3600)))
	if chance(r, 0.5) {
		w.str("ContentType", "Audio - Video")
		w.str("FormatType", "mp4")
	} else {
		w.str("ContentType", "Audio")
		w.str("FormatType", "wav")
	}
	w.str("ChannelType", "mixed")
	w.integer("AudioChannelsCount", 1)
	return c.emit(catRecording, 0, at)
}
