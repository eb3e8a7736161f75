package acs

import "calldiag/internal/model"

// surveyAlloc holds a Survey and the storage its ratings point into.
type surveyAlloc struct {
	s model.Survey
	f [16]float64
}

// survey maps a CallSurvey row. Each rated dimension has a score and the
// scale it was given on (lower and upper bound, and the threshold above
// which the score counts as good).
func (r *rec) survey() *model.Survey {
	a := new(surveyAlloc)
	s := &a.s
	s.SurveyID = r.text(slotSurveyID)
	s.ParticipantID = r.text(slotParticipantID)
	s.Overall = r.rating(slotOverallScore, slotOverallLower, slotOverallUpper, slotOverallThreshold, a.f[0:4])
	s.Audio = r.rating(slotAudioScore, slotAudioLower, slotAudioUpper, slotAudioThreshold, a.f[4:8])
	s.Video = r.rating(slotVideoScore, slotVideoLower, slotVideoUpper, slotVideoThreshold, a.f[8:12])
	s.Screenshare = r.rating(slotScreenshareScore, slotScreenshareLower, slotScreenshareUpper, slotScreenshareThreshold, a.f[12:16])
	s.OverallIssues = r.text(slotOverallIssues)
	s.AudioIssues = r.text(slotAudioIssues)
	s.VideoIssues = r.text(slotVideoIssues)
	s.ScreenshareIssues = r.text(slotScreenshareIssues)
	return s
}

func (r *rec) rating(score, lower, upper, threshold slot, f []float64) model.Rating {
	return model.Rating{
		Score:      r.number(score, &f[0]),
		LowerBound: r.number(lower, &f[1]),
		UpperBound: r.number(upper, &f[2]),
		Threshold:  r.number(threshold, &f[3]),
	}
}
