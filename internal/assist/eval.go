package assist

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"calldiag/internal/detect"
	"calldiag/internal/model"
)

// The evaluation measures whether answers cite what a correct answer must
// rest on. A question passes when its answer cites every required id and
// at most MaxExtraCitations others: an answer that buries the right
// entry among many is not a good answer.
const (
	// MaxExtraCitations is how many citations beyond the required ones a
	// passing answer may carry.
	MaxExtraCitations = 2
	// PassScore is the least share of passing questions the assistant
	// must reach.
	PassScore = 0.90
)

//go:embed testdata/eval.json
var evalJSON []byte

// EvalQuestion is one question of the evaluation set.
type EvalQuestion struct {
	// ID names the question in reports.
	ID string `json:"id"`
	// Topic is what it tests: code, subcode, ufd, kind, guide, metric or
	// call.
	Topic    string `json:"topic"`
	Question string `json:"question"`
	// CallID and ParticipantID put a call (and participant) in context.
	CallID        string `json:"callId,omitempty"`
	ParticipantID string `json:"participantId,omitempty"`
	// Require lists the ids (KB entries, issues, records) a correct
	// answer cites.
	Require []string `json:"require"`
	// Paraphrase marks a question that shares no word of four letters or
	// more with the titles of the entries it requires.
	Paraphrase bool `json:"paraphrase,omitempty"`
}

// KBEvalSet returns the knowledge-base questions of the evaluation set:
// codes, subcodes (one under several codes), UFDs, issue kinds, metrics
// and every guide, a part of them paraphrased.
func KBEvalSet() ([]EvalQuestion, error) {
	var qs []EvalQuestion
	if err := json.Unmarshal(evalJSON, &qs); err != nil {
		return nil, fmt.Errorf("read evaluation set: %w", err)
	}
	return qs, nil
}

// InjectedFault is a cause the simulator injected into a call (its
// labels), as the call questions of the evaluation are generated from.
type InjectedFault struct {
	CallID        string
	Kind          string // simulate's fault kind, e.g. "dropped", "poor-uplink"
	ParticipantID string
}

// faultQuestion is how a user would ask about an injected cause, and the
// issue kinds whose detection answers it.
type faultQuestion struct {
	question string // %s is the participant
	kinds    []string
	// media is set for network causes, asked about as bad audio (or,
	// when only video suffered, bad video).
	media model.MediaType
}

// streamIssueKinds are the kinds a network cause shows as on its streams.
var streamIssueKinds = []string{detect.KindPoorStream, detect.KindPoorVideo, detect.KindPoorScreenshare, detect.KindPoorAudioConcealment}

var faultQuestions = map[string]faultQuestion{
	"dropped":                      {question: "Why did participant %s drop?", kinds: []string{detect.KindDropped}},
	"setup-failed":                 {question: "Why couldn't participant %s join the call?", kinds: []string{detect.KindCallSetupFailed}},
	"speaking-while-muted":         {question: "Why couldn't the others hear participant %s?", kinds: []string{detect.KindSpeakingWhileMuted}},
	"microphone-permission-denied": {question: "Why could nobody hear participant %s?", kinds: []string{detect.KindMicPermissionDenied}},
	"microphone-not-functioning":   {question: "Why could nobody hear participant %s?", kinds: []string{detect.KindMicNotFunctioning}},
	"poor-uplink":                  {question: "Why was participant %s's audio bad?", kinds: streamIssueKinds, media: model.MediaAudio},
	"poor-downlink":                {question: "Why was the audio bad for participant %s?", kinds: streamIssueKinds, media: model.MediaAudio},
	"shared-network":               {question: "Why was participant %s's audio bad?", kinds: streamIssueKinds, media: model.MediaAudio},
	"camera-start-failed":          {question: "Why couldn't the others see participant %s?", kinds: []string{detect.KindCameraStartFailed}},
	"camera-permission-denied":     {question: "Why was there no video from participant %s?", kinds: []string{detect.KindCameraPermissionDenied}},
	"poor-rating":                  {question: "Why did participant %s rate the call poorly?", kinds: []string{detect.KindPoorRating}},
	"media-over-tcp":               {question: "Why was participant %s's audio bad?", kinds: []string{detect.KindMediaOverTCP}, media: model.MediaAudio},
}

// CallEvalSet generates the call questions of the evaluation from the
// causes injected into simulated calls: for each cause, a question about
// its participant ("why did participant X drop?") requiring the issues
// detected for it of the matching kind and the KB entry of that kind; and
// for each call with such issues, "summarize what went wrong in this
// call" requiring all of them. Causes detection missed make no question:
// the assistant cannot cite what was not found, and detection is scored
// on its own.
func CallEvalSet(ctx context.Context, calls Calls, faults []InjectedFault) ([]EvalQuestion, error) {
	byCall := map[string][]InjectedFault{}
	var order []string
	for _, f := range faults {
		if _, ok := faultQuestions[f.Kind]; !ok || f.ParticipantID == "" {
			continue
		}
		if byCall[f.CallID] == nil {
			order = append(order, f.CallID)
		}
		byCall[f.CallID] = append(byCall[f.CallID], f)
	}
	var out []EvalQuestion
	n := 0
	for _, callID := range order {
		call, err := calls.Overview(ctx, callID)
		if err != nil {
			return nil, fmt.Errorf("read call %s: %w", callID, err)
		}
		var summary []string
		asked := map[string]bool{}
		for _, f := range byCall[callID] {
			fq := faultQuestions[f.Kind]
			var req []string
			for _, is := range call.Issues {
				if is.ParticipantID == f.ParticipantID && slices.Contains(fq.kinds, is.Kind) {
					req = appendNew(req, is.ID)
					summary = appendNew(summary, is.ID)
				}
			}
			// A network cause is asked about as bad audio when it hurt
			// an audio stream, else as bad video, and an answer must cite
			// the issues of that medium.
			if fq.media != "" {
				media := model.MediaAudio
				if !slices.ContainsFunc(req, func(id string) bool { return aboutMedia(issueByID(call, id), media) }) {
					media, fq.question = model.MediaVideo, strings.Replace(fq.question, "audio", "video", 1)
				}
				req = slices.DeleteFunc(req, func(id string) bool { return !aboutMedia(issueByID(call, id), media) })
			}
			if len(req) == 0 {
				continue
			}
			for _, is := range call.Issues {
				if slices.Contains(req, is.ID) {
					req = appendNew(req, "kind-"+is.Kind)
				}
			}
			// Name the participant by the first block of its id in every
			// other question, as people do, and in full otherwise.
			ref := f.ParticipantID
			if b, _, ok := strings.Cut(ref, "-"); ok && n%2 == 0 {
				ref = b
			}
			n++
			q := fmt.Sprintf(fq.question, ref)
			if asked[q] {
				continue
			}
			asked[q] = true
			out = append(out, EvalQuestion{ID: fmt.Sprintf("call-%s-%s-%s", short(callID), f.Kind, short(f.ParticipantID)),
				Topic: "call", Question: q, CallID: callID, Require: req})
		}
		if len(summary) > 0 {
			out = append(out, EvalQuestion{ID: fmt.Sprintf("call-%s-summary", short(callID)), Topic: "call",
				Question: "Summarize what went wrong in this call.", CallID: callID, Require: summary})
		}
	}
	return out, nil
}

func issueByID(call model.Call, id string) model.Issue {
	for _, is := range call.Issues {
		if is.ID == id {
			return is
		}
	}
	return model.Issue{}
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func short(id string) string {
	b, _, _ := strings.Cut(id, "-")
	return b
}

// EvalResult is the outcome of one question.
type EvalResult struct {
	Question EvalQuestion `json:"question"`
	Answer   Answer       `json:"answer"`
	Pass     bool         `json:"pass"`
	// Missing lists required ids the answer did not cite; Extra the
	// citations beyond the required ones.
	Missing []string `json:"missing"`
	Extra   []string `json:"extra"`
}

// EvalReport is the outcome of an evaluation.
type EvalReport struct {
	Results []EvalResult `json:"results"`
	Passed  int          `json:"passed"`
	Total   int          `json:"total"`
	// Score is Passed/Total.
	Score float64 `json:"score"`
}

// Score judges one answer against a question's required citations.
func Score(q EvalQuestion, ans Answer) EvalResult {
	r := EvalResult{Question: q, Answer: ans, Missing: []string{}, Extra: []string{}}
	cited := map[string]bool{}
	for _, c := range ans.Citations {
		cited[c.ID] = true
		if !slices.Contains(q.Require, c.ID) && !slices.Contains(r.Extra, c.ID) {
			r.Extra = append(r.Extra, c.ID)
		}
	}
	for _, id := range q.Require {
		if !cited[id] {
			r.Missing = append(r.Missing, id)
		}
	}
	r.Pass = len(r.Missing) == 0 && len(r.Extra) <= MaxExtraCitations
	return r
}

// Evaluate asks every question and scores the answers.
func Evaluate(ctx context.Context, a *Assistant, qs []EvalQuestion) (EvalReport, error) {
	rep := EvalReport{Results: []EvalResult{}}
	for _, q := range qs {
		ans, err := a.Ask(ctx, Question{Question: q.Question, CallID: q.CallID, ParticipantID: q.ParticipantID})
		if err != nil {
			return rep, fmt.Errorf("question %s: %w", q.ID, err)
		}
		r := Score(q, ans)
		rep.Results = append(rep.Results, r)
		rep.Total++
		if r.Pass {
			rep.Passed++
		}
	}
	if rep.Total > 0 {
		rep.Score = float64(rep.Passed) / float64(rep.Total)
	}
	return rep, nil
}

// titleWords are the words of four letters or more of a title, lower
// case, as the paraphrase check compares them.
func titleWords(title string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	}) {
		w = strings.Trim(w, "'")
		if len([]rune(w)) >= 4 && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// SharedTitleWords returns the words of four letters or more that a
// question shares with a title (both lower-cased); a paraphrase has none.
func SharedTitleWords(question, title string) []string {
	qw := titleWords(question)
	var out []string
	for _, w := range titleWords(title) {
		if slices.Contains(qw, w) {
			out = append(out, w)
		}
	}
	return out
}
