package assist

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"calldiag/internal/catalog"
	"calldiag/internal/model"
)

// retrieval is what the knowledge base holds for a question.
type retrieval struct {
	// exact are the entries the question names: codes, pairs, subcodes
	// (every code a lone subcode occurs under), UFDs and kinds.
	exact []catalog.Entry
	// subcodes groups, per lone subcode named, the codes it occurs under.
	subcodes []subcodeGroup
	// unknown lists the codes the question names that have no entry.
	unknown []CodeRef
	// metric are the entries that explain the metrics named.
	metric []catalog.Entry
	// ranked is the full-text ranking, best first.
	ranked []scored
}

type subcodeGroup struct {
	sub     int
	entries []catalog.Entry
}

// retrieve gathers the entries for a question.
func retrieve(q string, rec Recognized) retrieval {
	var r retrieval
	add := func(id string) bool {
		e, ok := catalog.LookupKB(id)
		if ok && !slices.ContainsFunc(r.exact, func(x catalog.Entry) bool { return x.ID == id }) {
			r.exact = append(r.exact, e)
		}
		return ok
	}
	for _, c := range rec.Codes {
		switch {
		case c.Code != catalog.Absent && c.SubCode != catalog.Absent:
			if add(catalog.CodeEntryID(c.Code, c.SubCode)) {
				continue
			}
			r.unknown = append(r.unknown, c)
			add(catalog.CodeEntryID(c.Code, catalog.Absent))
			if g := subcodeEntries(c.SubCode); len(g) > 0 {
				r.subcodes = append(r.subcodes, subcodeGroup{c.SubCode, g})
				for _, e := range g {
					add(e.ID)
				}
			}
		case c.Code != catalog.Absent:
			if add(catalog.CodeEntryID(c.Code, catalog.Absent)) {
				continue
			}
			pairs := codePairs(c.Code)
			if len(pairs) == 0 {
				r.unknown = append(r.unknown, c)
			}
			for _, id := range pairs[:min(len(pairs), 3)] {
				add(id)
			}
		default:
			g := subcodeEntries(c.SubCode)
			if len(g) == 0 {
				r.unknown = append(r.unknown, c)
				continue
			}
			r.subcodes = append(r.subcodes, subcodeGroup{c.SubCode, g})
			for _, e := range g {
				add(e.ID)
			}
		}
	}
	for _, id := range rec.UFDs {
		add(id)
	}
	for _, id := range rec.Kinds {
		add(id)
	}
	for _, m := range rec.Metrics {
		for _, id := range metricEntries[m] {
			if e, ok := catalog.LookupKB(id); ok && !slices.ContainsFunc(r.metric, func(x catalog.Entry) bool { return x.ID == id }) {
				r.metric = append(r.metric, e)
			}
		}
	}
	r.ranked = index().rank(q)
	return r
}

// subcodeEntries returns the entry of every code a subcode occurs under,
// in code order.
func subcodeEntries(sub int) []catalog.Entry {
	var out []catalog.Entry
	for _, c := range catalog.LookupSubCode(sub) {
		if c.Code == catalog.Absent {
			continue
		}
		id := catalog.CodeEntryID(c.Code, sub)
		if slices.ContainsFunc(out, func(e catalog.Entry) bool { return e.ID == id }) {
			continue
		}
		if e, ok := catalog.LookupKB(id); ok {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b catalog.Entry) int { return codeNumber(a.ID) - codeNumber(b.ID) })
	return out
}

// codeNumber is the code of a code-{code}[-{subcode}] id.
func codeNumber(id string) int {
	s, _, _ := strings.Cut(strings.TrimPrefix(id, "code-"), "-")
	n, _ := strconv.Atoi(s)
	return n
}

// entries is every entry retrieved, exact ones first, then the best
// ranked ones: the context a model gets.
func (r retrieval) entries() []catalog.Entry {
	out := slices.Clone(r.exact)
	add := func(e catalog.Entry) {
		if !slices.ContainsFunc(out, func(x catalog.Entry) bool { return x.ID == e.ID }) {
			out = append(out, e)
		}
	}
	for _, e := range r.metric {
		add(e)
	}
	for _, s := range r.ranked[:min(len(r.ranked), 5)] {
		add(s.entry)
	}
	return out
}

// supportRatio is the share of the best score under which a ranked entry
// is not worth offering as a "see also".
const supportRatio = 0.45

// answerKB composes an answer from the knowledge base. call, when set, is
// the call in context: issues of the kinds or codes discussed are pointed
// out.
func answerKB(b *builder, q string, rec Recognized, kb retrieval, call *model.Call) {
	for _, c := range kb.unknown {
		b.unknown("%s is not in calldiag's knowledge base, which lists the codes Microsoft documents for ACS calls", codeLabel(c))
	}
	heads := slices.Clone(kb.exact)
	if len(heads) == 0 && len(kb.unknown) > 0 {
		// The question is about a code the knowledge base lacks; other
		// entries that share its words would only mislead.
		var names []string
		for _, c := range kb.unknown {
			names = append(names, codeLabel(c))
		}
		b.para("calldiag's knowledge base has no entry for %s. It explains the call-end, SDK, PSTN and Call Automation codes and subcodes Microsoft documents for ACS; a code outside those lists may come from another system on the call's path (a SIP trunk or session border controller) or from the application. If it is a participant's end reason, the call's issues and the events just before the leg ended are the next place to look.", joinAnd(names))
		return
	}
	if len(heads) == 0 {
		switch {
		case len(kb.metric) > 0:
			heads = kb.metric[:1]
		case len(kb.ranked) > 0:
			heads = []catalog.Entry{kb.ranked[0].entry}
		}
	}
	if len(heads) == 0 {
		b.para("calldiag's knowledge base has nothing that matches this question. It covers ACS call end codes and subcodes, the SDK's user-facing diagnostics, the issue kinds calldiag detects and troubleshooting guides for common complaints; try naming a code, a diagnostic or the symptom.")
		b.unknown("the knowledge base has no entry about this question")
		return
	}
	if len(kb.unknown) > 0 {
		var names []string
		for _, c := range kb.unknown {
			names = append(names, codeLabel(c))
		}
		b.para("calldiag's knowledge base has no entry for %s; here is the closest it has.", joinAnd(names))
	}
	// Paragraphs: lone subcodes first (they explain why several codes
	// follow), then every head entry; entries that share one explanation
	// (codes of one group) show it once.
	shown := map[string]bool{} // texts already shown
	for _, g := range kb.subcodes {
		if len(g.entries) < 2 {
			continue
		}
		var names []string
		for _, e := range g.entries {
			names = append(names, e.Title)
		}
		b.list(fmt.Sprintf("Subcode %d occurs under %d codes, and the code changes what it means:", g.sub, len(g.entries)), names)
	}
	for _, e := range heads {
		b.cite(KBCitation(e.ID))
		if shown[e.Text] {
			b.para("%s has the same explanation.", entryName(e))
			continue
		}
		shown[e.Text] = true
		b.para("%s", excerpt(e, rec, q))
	}
	// Supporting entries. For entries the question named, the ones they
	// list as related (guides and kinds first) are better than what the
	// question's other words rank; otherwise the next best ranked ones.
	var cands []catalog.Entry
	if len(kb.exact) > 0 {
		var rel []catalog.Entry
		for _, h := range heads {
			for _, id := range h.Related {
				if e, ok := catalog.LookupKB(id); ok {
					rel = append(rel, e)
				}
			}
		}
		slices.SortStableFunc(rel, func(x, y catalog.Entry) int { return typeRank(x.Type) - typeRank(y.Type) })
		cands = append(cands, rel...)
	}
	if len(kb.ranked) > 0 {
		var ranked []catalog.Entry
		top := kb.ranked[0].score
		for _, s := range kb.ranked[:min(len(kb.ranked), 8)] {
			if s.score < supportRatio*top {
				break
			}
			ranked = append(ranked, s.entry)
		}
		if len(kb.exact) == 0 {
			// The subject's own related entries go first among the
			// ranked ones.
			rel := map[string]bool{}
			for _, id := range heads[0].Related {
				rel[id] = true
			}
			slices.SortStableFunc(ranked, func(x, y catalog.Entry) int {
				return boolRank(rel[y.ID]) - boolRank(rel[x.ID])
			})
		}
		cands = append(cands, ranked...)
	}
	cands = append(cands, kb.metric...)
	// The call's own issues of what was asked about come before any "see
	// also".
	if call != nil {
		noteCall(b, *call, heads)
	}
	var seeAlso []string
	for _, e := range cands {
		if shown[e.Text] || slices.ContainsFunc(heads, func(h catalog.Entry) bool { return h.ID == e.ID }) {
			continue
		}
		if len(b.support) >= maxSupport {
			break
		}
		shown[e.Text] = true
		b.supportBy(KBCitation(e.ID))
		seeAlso = append(seeAlso, fmt.Sprintf("%s (%s)", entryName(e), e.ID))
	}
	if len(seeAlso) > 0 {
		b.para("See also: %s.", strings.Join(seeAlso, "; "))
	}
}

func boolRank(v bool) int {
	if v {
		return 1
	}
	return 0
}

// typeRank orders related entries for a "see also": guides, then kinds,
// then the rest.
func typeRank(t string) int {
	switch t {
	case catalog.EntryGuide:
		return 0
	case catalog.EntryKind:
		return 1
	}
	return 2
}

// noteCall points out the issues of the call in context that the entries
// discussed are about.
func noteCall(b *builder, call model.Call, entries []catalog.Entry) {
	cc := newCallCtx(call)
	var lines []string
	for _, is := range call.Issues {
		for _, e := range entries {
			if matchesEntry(is, e) {
				lines = append(lines, cc.label(is.ParticipantID)+": "+is.Summary)
				b.supportBy(IssueCitation(call.ID, is.ID))
				break
			}
		}
	}
	if len(lines) > 0 {
		b.list("In call "+call.ID+":", lines[:min(len(lines), 4)])
	}
}

// matchesEntry reports whether an issue is about a KB entry: its kind, or
// its participant's end code.
func matchesEntry(is model.Issue, e catalog.Entry) bool {
	switch e.Type {
	case catalog.EntryKind:
		return "kind-"+is.Kind == e.ID
	case catalog.EntryUFD:
		k, ok := catalog.UFDKind(strings.TrimPrefix(e.ID, "ufd-"))
		return ok && k == is.Kind
	case catalog.EntryCode:
		return slices.Contains(is.Recommendation.KB, e.ID)
	}
	return false
}

func codeLabel(c CodeRef) string {
	switch {
	case c.Code == catalog.Absent:
		return fmt.Sprintf("subcode %d", c.SubCode)
	case c.SubCode == catalog.Absent:
		return fmt.Sprintf("code %d", c.Code)
	}
	return fmt.Sprintf("%d/%d", c.Code, c.SubCode)
}

// entryName names an entry in running text.
func entryName(e catalog.Entry) string {
	if e.Type == catalog.EntryCode {
		return "Code " + e.Title
	}
	return "\"" + e.Title + "\""
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

var (
	stepRE = regexp.MustCompile(`\s\d\)\s`)
	// Sentences that say what to do, and sentences that say why.
	fixRE   = regexp.MustCompile(`(?i)\b(check|ask|make sure|allow|use|move|close|grant|verify|test|open|have (the|them)|reconnect|pick|restart|update|turn off|avoid|walk|confirm|fix|suggest|prefer|plug|stop|bypass|look at|look for|reproduce|record|rejoin|connect|raise|answer|exempt)\b`)
	causeRE = regexp.MustCompile(`(?i)\b(cause|causes|usually|typical|typically|because|common|commonly|suspect|often|trigger|due to|either|nearly always|almost always|points? at|comes? from|happens when)\b`)
)

// excerpt is the part of an entry that answers the question: its opening
// sentence, which says what it is, and the sentences that fit the
// question's intent (what to do, why it happens) or share its words.
// Guides keep their numbered steps as a list.
func excerpt(e catalog.Entry, rec Recognized, q string) string {
	head := e.Title + " (" + e.ID + ")"
	if e.Type == catalog.EntryCode {
		head = "Code " + e.Title
	}
	if e.Type == catalog.EntryGuide {
		parts := stepRE.Split(" "+e.Text, -1)
		intro := strings.TrimSpace(parts[0])
		var s strings.Builder
		fmt.Fprintf(&s, "%s (%s): %s", e.Title, e.ID, intro)
		for _, p := range parts[1:] {
			s.WriteString("\n- ")
			s.WriteString(strings.TrimSpace(p))
		}
		return s.String()
	}
	sents := sentences(e.Text)
	if len(sents) == 0 {
		return head + "."
	}
	qt := map[string]bool{}
	for _, t := range terms(q) {
		qt[t] = true
	}
	want := 3
	if rec.Has(IntentMeaning) && !rec.Has(IntentFix) && !rec.Has(IntentCauses) {
		want = 2
	}
	type cand struct {
		i     int
		score float64
	}
	var cands []cand
	for i, s := range sents[1:] {
		sc := 0.0
		if rec.Has(IntentFix) && fixRE.MatchString(s) {
			sc += 2
		}
		if (rec.Has(IntentCauses) || rec.Has(IntentDrop)) && causeRE.MatchString(s) {
			sc += 2
		}
		if !rec.Has(IntentFix) && !rec.Has(IntentCauses) {
			sc += 1 / float64(i+1) // in order when nothing else decides
		}
		for _, t := range terms(s) {
			if qt[t] {
				sc += 0.5
			}
		}
		cands = append(cands, cand{i + 1, sc})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	pick := []int{0}
	for _, c := range cands {
		if len(pick) == want+1 {
			break
		}
		pick = append(pick, c.i)
	}
	slices.Sort(pick)
	var out []string
	for _, i := range pick {
		out = append(out, sents[i])
	}
	return head + ". " + strings.Join(out, " ")
}

// sentences splits text after ".", "!" or "?" followed by a space and a
// capital letter, digit or quote.
func sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(text); i++ {
		c := text[i]
		if (c == '.' || c == '!' || c == '?') && text[i+1] == ' ' {
			n := text[i+2]
			if (n >= 'A' && n <= 'Z') || (n >= '0' && n <= '9') || n == '"' {
				// Not after an abbreviation such as "e.g." or "i.e.".
				if i >= 3 && (text[i-3:i+1] == "e.g." || text[i-3:i+1] == "i.e.") {
					continue
				}
				out = append(out, strings.TrimSpace(text[start:i+1]))
				start = i + 2
			}
		}
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
