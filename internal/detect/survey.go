package detect

import (
	"fmt"
	"math"

	"calldiag/internal/model"
)

const srcSurvey = "CallSurvey"

// surveys scales every overall rating to 5 points (UpperBound, 5 when
// missing), buckets the call's average, and raises poor-rating for each
// participant whose own rating falls in the Poor bucket.
func (d *run) surveys() (string, *float64) {
	var sum float64
	var count int
	for _, s := range d.in.Call.Surveys {
		if s.Overall.Score == nil {
			continue
		}
		upper := 5.0
		if s.Overall.UpperBound != nil && *s.Overall.UpperBound > 0 {
			upper = *s.Overall.UpperBound
		}
		score := *s.Overall.Score * 5 / upper
		if math.IsNaN(score) || math.IsInf(score, 0) {
			continue
		}
		sum += score
		count++
		if d.bucket(score) == RatingPoor {
			at := s.Time
			d.add(model.Issue{Kind: KindPoorRating, ParticipantID: s.ParticipantID, StreamID: s.SurveyID, Start: at, End: at,
				Summary: fmt.Sprintf("the participant rated the call %g out of %g", *s.Overall.Score, upper),
				Evidence: []model.Evidence{{Metric: "OverallRatingScore", Value: ptr(score), Op: "<", Threshold: ptr(d.rules.RatingAverageMin),
					Text: s.OverallIssues, Source: srcSurvey, RecordIDs: recordIDs(s.RecordID), From: &at, To: &at}},
				Rule:    "survey.rating",
				Culprit: model.Culprit{Type: model.CulpritUnknown, ParticipantIDs: []string{}}})
		}
	}
	if count == 0 {
		return RatingUnknown, nil
	}
	avg := sum / float64(count)
	return d.bucket(avg), &avg
}

func (d *run) bucket(score float64) string {
	switch {
	case score >= d.rules.RatingGoodMin:
		return RatingGood
	case score >= d.rules.RatingAverageMin:
		return RatingAverage
	}
	return RatingPoor
}
