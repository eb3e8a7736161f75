package callview

import (
	"context"
	"sort"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// Reader is the part of the store the call views read.
type Reader interface {
	pipeline.CallReader
	Detection(ctx context.Context, callID string) (store.Detection, error)
}

// CallIssues is the detection result of one call as the API, the web UI
// and the CLI show it.
type CallIssues struct {
	CallID       string              `json:"callId"`
	Quality      string              `json:"quality"`
	Rating       string              `json:"rating"`
	RatingScore  *float64            `json:"ratingScore"`
	MOS          []StreamMOS         `json:"mos"`
	Completeness detect.Completeness `json:"completeness"`
	IssueCount   int                 `json:"issueCount"`
	Issues       []model.Issue       `json:"issues"`
}

// StreamMOS is the estimated MOS of one audio stream.
type StreamMOS struct {
	ParticipantID string  `json:"participantId"`
	StreamID      string  `json:"streamId"`
	MOS           float64 `json:"mos"`
}

// Issues reads a call and its whole timeline and runs detection on it.
// IssueCount counts the issues of severity warning and above; info issues
// are listed but not counted.
func Issues(ctx context.Context, st Reader, callID string, rules detect.Rules) (CallIssues, error) {
	call, err := Overview(ctx, st, callID, rules)
	if err != nil {
		return CallIssues{}, err
	}
	return IssuesOf(call), nil
}

// IssuesOf is the issues view of an overview Overview returned.
func IssuesOf(call model.Call) CallIssues {
	out := CallIssues{CallID: call.ID, Quality: call.Quality, Rating: call.Rating, RatingScore: call.RatingScore,
		Issues: call.Issues, MOS: []StreamMOS{}}
	if call.Completeness != nil {
		out.Completeness = *call.Completeness
	}
	for _, is := range out.Issues {
		if is.Severity.Rank() >= model.SeverityWarning.Rank() {
			out.IssueCount++
		}
	}
	for _, p := range call.Participants {
		for _, s := range p.Streams {
			if s.MOS != nil {
				out.MOS = append(out.MOS, StreamMOS{ParticipantID: p.ID, StreamID: s.StreamID, MOS: *s.MOS})
			}
		}
	}
	sort.SliceStable(out.MOS, func(i, j int) bool {
		if out.MOS[i].ParticipantID != out.MOS[j].ParticipantID {
			return out.MOS[i].ParticipantID < out.MOS[j].ParticipantID
		}
		return out.MOS[i].StreamID < out.MOS[j].StreamID
	})
	return out
}

// Overview is a call's overview with the outcome of detection filled in:
// quality, rating, completeness, per-stream MOS and the issues. It uses the
// detection stored with the call when that was made with the same rules
// and build from the call's current records (as ingest leaves it), and
// detects again otherwise — so reading a call never shows stale issues,
// and usually costs no detection at all.
func Overview(ctx context.Context, st Reader, callID string, rules detect.Rules) (model.Call, error) {
	call, err := st.Call(ctx, callID)
	if err != nil {
		return model.Call{}, err
	}
	det, err := st.Detection(ctx, callID)
	if err != nil {
		return model.Call{}, err
	}
	if det.Completeness == nil || det.Rules != rules.Fingerprint() || det.Records != pipeline.RecordTotal(call) {
		res, fresh, err := pipeline.DetectCall(ctx, st, callID, rules)
		if err != nil {
			return model.Call{}, err
		}
		comp := res.Completeness
		call = fresh
		det = store.Detection{Quality: res.Quality, Rating: res.Rating, RatingScore: res.RatingScore,
			Issues: res.Issues, MOS: res.MOS, Completeness: &comp}
	}
	return fill(call, det), nil
}

// fill puts a detection's outcome into the call's overview.
func fill(call model.Call, det store.Detection) model.Call {
	call.Quality, call.Rating, call.RatingScore = det.Quality, det.Rating, det.RatingScore
	call.Completeness = det.Completeness
	call.Issues = det.Issues
	if call.Issues == nil {
		call.Issues = []model.Issue{}
	}
	for i := range call.Participants {
		p := &call.Participants[i]
		for j := range p.Streams {
			if v, ok := det.MOS[p.ID+"/"+p.Streams[j].StreamID]; ok {
				p.Streams[j].MOS = &v
			}
		}
	}
	return call
}
