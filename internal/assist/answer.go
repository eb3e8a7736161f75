package assist

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

// maxSupport is how many supporting citations an answer adds beyond its
// headline facts (the entries and issues it is about). A reader follows
// a few links, not a dozen; the rest stays reachable from those pages.
const maxSupport = 2

// builder accumulates a deterministic answer.
type builder struct {
	paras    []string
	head     []Citation
	support  []Citation
	unknowns []string
}

func (b *builder) para(format string, args ...any) {
	b.paras = append(b.paras, fmt.Sprintf(format, args...))
}

func (b *builder) list(intro string, items []string) {
	if len(items) == 0 {
		return
	}
	var s strings.Builder
	if intro != "" {
		s.WriteString(intro)
		s.WriteString("\n")
	}
	for i, it := range items {
		if i > 0 {
			s.WriteString("\n")
		}
		s.WriteString("- ")
		s.WriteString(it)
	}
	b.paras = append(b.paras, s.String())
}

func (b *builder) unknown(format string, args ...any) {
	u := fmt.Sprintf(format, args...)
	if !slices.Contains(b.unknowns, u) {
		b.unknowns = append(b.unknowns, u)
	}
}

func (b *builder) has(c Citation) bool {
	return slices.ContainsFunc(b.head, func(x Citation) bool { return x.ID == c.ID && x.Type == c.Type }) ||
		slices.ContainsFunc(b.support, func(x Citation) bool { return x.ID == c.ID && x.Type == c.Type })
}

// cite adds a headline citation; a citation already given as support is
// promoted.
func (b *builder) cite(c Citation) {
	if c.ID == "" {
		return
	}
	b.support = slices.DeleteFunc(b.support, func(x Citation) bool { return x.ID == c.ID && x.Type == c.Type })
	if !b.has(c) {
		b.head = append(b.head, c)
	}
}

// supportBy adds a supporting citation; they are kept in the order added
// and only the first maxSupport make it into the answer.
func (b *builder) supportBy(c Citation) {
	if c.ID != "" && !b.has(c) {
		b.support = append(b.support, c)
	}
}

// citations is the answer's citation list: the headline ones, then the
// first supporting ones.
func (b *builder) citations() []Citation {
	out := slices.Clone(b.head)
	out = append(out, b.support[:min(len(b.support), maxSupport)]...)
	if out == nil {
		out = []Citation{}
	}
	return out
}

func (b *builder) answer() Answer {
	u := b.unknowns
	if u == nil {
		u = []string{}
	}
	return Answer{Answer: strings.Join(b.paras, "\n\n"), Citations: b.citations(), Unknowns: u}
}

// facts is the deterministic pipeline's outcome: the answer and what it
// found, which the model path reuses.
type facts struct {
	answer  Answer
	rec     Recognized
	call    *model.Call
	entries []catalog.Entry // KB entries retrieved for the question
}

// deterministic answers q without a model.
func (a *Assistant) deterministic(ctx context.Context, q Question) facts {
	b := &builder{}
	var call *model.Call
	if q.CallID != "" {
		call = a.loadCall(ctx, b, q.CallID)
	}
	rec := Recognize(q.Question, call)
	// No call in context, but the question names an id: look it up.
	if call == nil && q.CallID == "" && len(rec.IDs) > 0 && a.calls != nil {
		call = a.findCall(ctx, b, rec.IDs)
		if call != nil {
			rec = Recognize(q.Question, call)
		}
	}
	if q.ParticipantID != "" {
		if call == nil {
			if q.CallID == "" {
				b.unknown("participant %s was given without a call, so its data cannot be read", q.ParticipantID)
			}
		} else if pid, ok := findParticipant(call, q.ParticipantID); ok {
			rec.Participants = append([]string{pid}, slices.DeleteFunc(rec.Participants, func(s string) bool { return s == pid })...)
		} else {
			b.unknown("participant %s is not in call %s", q.ParticipantID, call.ID)
		}
	}
	f := facts{rec: rec, call: call}
	kb := retrieve(q.Question, rec)
	f.entries = kb.entries()
	switch {
	case call != nil && (callQuestion(rec, kb) || connectionQuestion(q.Question, rec, kb, *call)):
		answerCall(ctx, a.calls, b, rec, *call, kb)
	case call == nil && rec.Has(IntentSummary) && len(kb.exact) == 0:
		// Nothing in the knowledge base summarizes a call.
		if q.CallID != "" {
			b.para("Call %s could not be read, so there is nothing to summarize.", q.CallID)
		} else {
			b.para("This asks about a call, but no call is in context. Ask again with the call's id (calldiag ask --call CALL_ID, or from the call's page), or name a participant or call id in the question.")
			b.unknown("no call is in context, so there is nothing to summarize")
		}
	default:
		if call == nil && rec.AboutCall && (len(rec.Participants) > 0 || rec.Has(IntentDrop) ||
			rec.Has(IntentAudio) || rec.Has(IntentVideo)) && q.CallID == "" {
			b.unknown("no call is in context, so this answer comes from the knowledge base only; ask about a call (its id) to have its data read")
		}
		answerKB(b, q.Question, rec, kb, call)
	}
	f.answer = b.answer()
	return f
}

// loadCall reads the call in context, noting in b why it could not.
func (a *Assistant) loadCall(ctx context.Context, b *builder, callID string) *model.Call {
	if a.calls == nil {
		b.unknown("no call store is available, so nothing about call %s can be read", callID)
		return nil
	}
	c, err := a.calls.Overview(ctx, callID)
	switch {
	case err == nil:
		return &c
	case IsNotFound(err):
		b.unknown("call %s was not found in the store", callID)
	case ctx.Err() != nil:
	default:
		a.log.Warn("read call", "call_id", callID, "err", err)
		b.unknown("call %s could not be read (%v)", callID, err)
	}
	return nil
}

// findCall looks the question's ids up and loads the one call they name.
func (a *Assistant) findCall(ctx context.Context, b *builder, ids []string) *model.Call {
	for _, id := range ids {
		sums, err := a.calls.Search(ctx, id, 2)
		if err != nil || len(sums) == 0 {
			continue
		}
		if len(sums) > 1 {
			b.unknown("%s matches several calls; ask again with the call id", id)
			return nil
		}
		return a.loadCall(ctx, b, sums[0].ID)
	}
	return nil
}

// findParticipant resolves a participant reference (participant id,
// endpoint id, identifier, or a unique first block of one) in call.
func findParticipant(call *model.Call, ref string) (string, bool) {
	for _, p := range call.Participants {
		if strings.EqualFold(p.ID, ref) || strings.EqualFold(p.EndpointID, ref) || (p.Identifier != "" && strings.EqualFold(p.Identifier, ref)) {
			return p.ID, true
		}
	}
	if ids := participantRefs(ref, call); len(ids) == 1 {
		return ids[0], true
	}
	return "", false
}

// connectionRE spots a question about how WebRTC connections fared.
var connectionRE = regexp.MustCompile(`\b(peer ?connections?|pcs?|ice|connect\w*|turn|relay\w*|candidates?|connectivity)\b`)

// connectionQuestion reports whether a question asked with a WebRTC call in
// context is about that call's connections ("why did the peer connections
// fail?"): its answer is in the call's issues, not only in the knowledge
// base. A question naming a code or kind, or asking what something means,
// stays a knowledge-base question.
func connectionQuestion(q string, rec Recognized, kb retrieval, call model.Call) bool {
	return len(call.PeerConnections) > 0 && len(kb.exact) == 0 && !rec.Has(IntentMeaning) &&
		connectionRE.MatchString(plain(q))
}

// callQuestion decides whether a question about the call in context is
// about the call's data or a general one: a question that names a code,
// UFD or kind and asks how to fix it or what it means, without pointing
// at the call or a participant, gets the knowledge-base answer.
func callQuestion(rec Recognized, kb retrieval) bool {
	if rec.AboutCall || len(rec.Participants) > 0 {
		return true
	}
	general := len(kb.exact) > 0 || rec.Has(IntentFix) || rec.Has(IntentMeaning) || rec.Has(IntentCauses) && !rec.Has(IntentAudio) && !rec.Has(IntentVideo) && !rec.Has(IntentDrop)
	return !general
}
