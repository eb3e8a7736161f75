package assist

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"calldiag/internal/catalog"
	"calldiag/internal/detect"
	"calldiag/internal/model"
)

// Intent is what a question asks for.
type Intent string

// Intents, in the order they are tried: a question about a call's
// participant dropping wins over a general "why".
const (
	IntentSummary Intent = "summary" // summarize what went wrong in a call
	IntentDrop    Intent = "drop"    // why a participant dropped or could not join
	IntentAudio   Intent = "audio"   // why audio was bad, or someone could not be heard
	IntentVideo   Intent = "video"   // why video was bad, or someone could not be seen
	IntentRating  Intent = "rating"  // why a participant rated the call poorly
	IntentFix     Intent = "fix"     // how to fix, avoid or improve something
	IntentCauses  Intent = "causes"  // what causes something
	IntentMeaning Intent = "meaning" // what something is or means
)

// CodeRef is a code, subcode or pair named in a question. Code or SubCode
// is catalog.Absent when the question does not give it.
type CodeRef struct {
	Code    int
	SubCode int
}

// Recognized is what the recognisers found in a question.
type Recognized struct {
	// Codes are the codes, pairs and lone subcodes named, in order.
	Codes []CodeRef
	// UFDs and Kinds are knowledge-base ids (ufd-{name}, kind-{kind}).
	UFDs  []string
	Kinds []string
	// Metrics are canonical metric names: jitter, packet-loss,
	// round-trip, jitter-buffer, healed-data, mos, frame-rate, freeze,
	// resolution.
	Metrics []string
	// Participants are ids of the call in context the question names.
	Participants []string
	// IDs are other long identifiers in the question (call or participant
	// ids of calls not in context), for search.
	IDs []string
	// Intents found, in the order of the Intent constants.
	Intents []Intent
	// AboutCall is true when the question refers to "this call", a
	// participant, or asks what happened.
	AboutCall bool
}

// Has reports whether the question has intent i.
func (r Recognized) Has(i Intent) bool { return slices.Contains(r.Intents, i) }

var (
	// pairRE matches "410/3112", "410 / 3112" and "0/4521" (not dates
	// such as 9/14).
	pairRE = regexp.MustCompile(`\b(0|[1-9]\d\d)\s*/\s*(\d{1,6})\b`)
	// codeSubRE matches "code 410 subcode 3112" and "code 410 and subcode 3112".
	codeSubRE = regexp.MustCompile(`(?i)\b(?:code|error|status|reason)\s+(\d{1,3})\s*(?:,|and|with|/)?\s*(?:a\s+)?sub[- ]?code\s+(\d{1,6})\b`)
	// subRE matches "subcode 41048", "sub-code 41048", "subcodes 4521".
	subRE = regexp.MustCompile(`(?i)\bsub[- ]?codes?\s*(?:of\s+|=\s*|:\s*|#)?(\d{1,6})\b`)
	// codeRE matches "code 487", "error 403", "end reason 410", "status 408", "response 500", "SIP 486".
	codeRE = regexp.MustCompile(`(?i)\b(?:codes?|errors?|status|reason|response|sip|result)\s*(?:of\s+|=\s*|:\s*|#)?(\d{1,3})\b`)
	// numberRE finds other numbers; unitRE rejects measurements and
	// thresholds ("500 ms", "above 30").
	numberRE = regexp.MustCompile(`\b\d{3,6}\b`)
	unitRE   = regexp.MustCompile(`(?i)^\s*(?:ms|milliseconds?|s\b|sec|seconds?|%|percent|kbps|mbps|fps|frames|px|p\b|x\d|participants?|users?|calls?|minutes?|hours?)`)
	threshRE = regexp.MustCompile(`(?i)(?:above|below|over|under|than|exceeds?|of|at|to|about|around|~|>|<|=)\s*$`)
	// idRE finds long identifiers: GUIDs and other ids of 8+ characters
	// with a digit.
	idRE = regexp.MustCompile(`[0-9A-Za-z][0-9A-Za-z:_.-]{7,}`)
)

// recognizeCodes finds the codes, code/subcode pairs and lone subcodes a
// question names. A bare three-digit number counts as a code, and a bare
// longer number as a subcode, only when the catalog knows it and nothing
// marks it as a measurement.
func recognizeCodes(q string) []CodeRef {
	var out []CodeRef
	add := func(c CodeRef) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	used := make([]bool, len(q)) // bytes consumed by an earlier pattern
	mark := func(loc []int) {
		for i := loc[0]; i < loc[1]; i++ {
			used[i] = true
		}
	}
	free := func(loc []int) bool { return !slices.Contains(used[loc[0]:loc[1]], true) }
	for _, m := range codeSubRE.FindAllStringSubmatchIndex(q, -1) {
		add(CodeRef{atoi(q[m[2]:m[3]]), atoi(q[m[4]:m[5]])})
		mark(m[:2])
	}
	for _, m := range pairRE.FindAllStringSubmatchIndex(q, -1) {
		if free(m[:2]) {
			add(CodeRef{atoi(q[m[2]:m[3]]), atoi(q[m[4]:m[5]])})
			mark(m[:2])
		}
	}
	for _, m := range subRE.FindAllStringSubmatchIndex(q, -1) {
		if free(m[:2]) {
			add(CodeRef{catalog.Absent, atoi(q[m[2]:m[3]])})
			mark(m[:2])
		}
	}
	for _, m := range codeRE.FindAllStringSubmatchIndex(q, -1) {
		if free(m[2:4]) {
			add(CodeRef{atoi(q[m[2]:m[3]]), catalog.Absent})
			mark(m[:2])
		}
	}
	for _, m := range numberRE.FindAllStringIndex(q, -1) {
		if !free(m) || unitRE.MatchString(q[m[1]:]) || threshRE.MatchString(q[:m[0]]) {
			continue
		}
		// Skip digits inside a longer identifier (a GUID block).
		if (m[0] > 0 && isIDChar(q[m[0]-1])) || (m[1] < len(q) && isIDChar(q[m[1]])) {
			continue
		}
		n := atoi(q[m[0]:m[1]])
		switch {
		case n >= 100 && n < 700 && len(catalog.Lookup(n, catalog.Absent))+len(codePairs(n)) > 0:
			add(CodeRef{n, catalog.Absent})
		case n >= 1000 && len(catalog.LookupSubCode(n)) > 0:
			add(CodeRef{catalog.Absent, n})
		}
	}
	return out
}

func isIDChar(b byte) bool {
	return b == '-' || b == '_' || b == '.' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return catalog.Absent
	}
	return n
}

// codePairs returns the KB ids of every code entry with this code and a
// subcode, in id order.
func codePairs(code int) []string {
	prefix := "code-" + strconv.Itoa(code) + "-"
	var out []string
	for _, e := range index().docs {
		if strings.HasPrefix(e.entry.ID, prefix) {
			out = append(out, e.entry.ID)
		}
	}
	return out
}

// phrase is a stemmed word sequence that names a KB entry.
type phrase struct {
	words []string
	id    string
}

// namePhrases are the phrases that name UFDs and issue kinds: a UFD's
// name and its words ("networkReconnect", "network reconnect"), a kind's
// name and its words ("speaking-while-muted", "speaking while muted")
// and the kind's title. Longer phrases come first, so that
// "networkReconnectionQuality" is not read as "networkReconnect".
var namePhrases = sync.OnceValue(func() []phrase {
	var out []phrase
	for _, d := range index().docs {
		e := d.entry
		switch e.Type {
		case catalog.EntryUFD:
			out = append(out, phrase{stemmedWords(strings.TrimPrefix(e.ID, "ufd-")), e.ID})
		case catalog.EntryKind:
			name := strings.TrimPrefix(e.ID, "kind-")
			out = append(out, phrase{stemmedWords(name), e.ID})
			if t := stemmedWords(e.Title); len(t) >= 2 {
				out = append(out, phrase{t, e.ID})
			}
		}
	}
	// A few kinds are named differently in speech than in their id.
	for alias, id := range map[string]string{
		"poor screen share":       "kind-poor-screenshare",
		"poor screen-share":       "kind-poor-screenshare",
		"poor media stream":       "kind-poor-stream",
		"poor streams":            "kind-poor-stream",
		"audio concealment":       "kind-poor-audio-concealment",
		"talking while muted":     "kind-speaking-while-muted",
		"spoke while muted":       "kind-speaking-while-muted",
		"speaking while muted":    "kind-speaking-while-muted",
		"media over tcp":          "kind-media-over-tcp",
		"dropped ungracefully":    "kind-dropped-ungracefully",
		"ungraceful drop":         "kind-dropped-ungracefully",
		"call setup failed":       "kind-call-setup-failed",
		"setup failure":           "kind-call-setup-failed",
		"missing telemetry":       "kind-missing-telemetry",
		"no media flow":           "kind-no-media-flow",
		"relays unreachable":      "kind-relays-unreachable",
		"camera permission":       "kind-camera-permission-denied",
		"microphone permission":   "kind-microphone-permission-denied",
		"screen share permission": "kind-screenshare-permission-denied",
	} {
		out = append(out, phrase{stemmedWords(alias), id})
	}
	slices.SortStableFunc(out, func(a, b phrase) int { return len(b.words) - len(a.words) })
	return out
})

// ufdTokenRE finds words written as one identifier, as UFD names are.
var ufdTokenRE = regexp.MustCompile(`[A-Za-z]{6,}`)

// recognizeNames finds the UFDs and issue kinds a question names, each
// once, in the order of the question. A UFD name written as one word
// ("microphoneBusy") names that UFD alone; names written as words
// ("microphone busy") match every UFD and kind spelt so. Words covered by
// a longer name are not matched again by a shorter one.
func recognizeNames(q string) (ufds, kinds []string) {
	type hit struct {
		pos int
		id  string
	}
	var hits []hit
	rest := ufdTokenRE.ReplaceAllStringFunc(q, func(tok string) string {
		for _, d := range index().docs {
			if d.entry.Type == catalog.EntryUFD && strings.EqualFold(strings.TrimPrefix(d.entry.ID, "ufd-"), tok) {
				hits = append(hits, hit{-1, d.entry.ID})
				return " . "
			}
		}
		return tok
	})
	sw := stemmedWords(rest)
	used := make([]bool, len(sw))
	type span struct{ i, n int }
	matched := map[span]bool{}
	for _, p := range namePhrases() {
		n := len(p.words)
		if n == 0 || n > len(sw) {
			continue
		}
		for i := 0; i+n <= len(sw); i++ {
			if !slices.Equal(sw[i:i+n], p.words) {
				continue
			}
			if slices.Contains(used[i:i+n], true) && !matched[span{i, n}] {
				continue
			}
			// A one-word name must be a distinctive word, not an
			// everyday one ("rejoined" is, "freeze" alone is not a UFD).
			if n == 1 && !oneWordName(p.id) {
				continue
			}
			for j := i; j < i+n; j++ {
				used[j] = true
			}
			matched[span{i, n}] = true
			hits = append(hits, hit{i, p.id})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.pos - b.pos })
	for _, h := range hits {
		switch {
		case strings.HasPrefix(h.id, "ufd-") && !slices.Contains(ufds, h.id):
			ufds = append(ufds, h.id)
		case strings.HasPrefix(h.id, "kind-") && !slices.Contains(kinds, h.id):
			kinds = append(kinds, h.id)
		}
	}
	return ufds, kinds
}

// oneWordName reports whether a single-word name is specific enough to
// recognise on its own.
func oneWordName(id string) bool {
	return id == "kind-rejoined"
}

// metricWords maps words and phrases people use for a metric (and the
// metric names of the logs) to canonical metric names.
var metricWords = map[string]string{
	"jitter":                      "jitter",
	"jitter buffer":               "jitter-buffer",
	"jitterBuffer":                "jitter-buffer",
	"packet loss":                 "packet-loss",
	"loss":                        "packet-loss",
	"packetLossRate":              "packet-loss",
	"round trip":                  "round-trip",
	"round-trip":                  "round-trip",
	"roundtrip":                   "round-trip",
	"roundTripTime":               "round-trip",
	"rtt":                         "round-trip",
	"latency":                     "round-trip",
	"ping":                        "round-trip",
	"mos":                         "mos",
	"mean opinion score":          "mos",
	"healed":                      "healed-data",
	"healedDataRatio":             "healed-data",
	"concealment":                 "healed-data",
	"frame rate":                  "frame-rate",
	"framerate":                   "frame-rate",
	"videoFrameRate":              "frame-rate",
	"fps":                         "frame-rate",
	"freeze":                      "freeze",
	"freezes":                     "freeze",
	"frozen":                      "freeze",
	"recvFreezeDurationPerMinute": "freeze",
	"resolution":                  "resolution",
	"recvResolutionHeight":        "resolution",
	"bitrate":                     "bitrate",
	"bit rate":                    "bitrate",
	"packetUtilization":           "packet-utilization",
}

// metricIndex is metricWords keyed by stemmed words.
var metricIndex = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for k, v := range metricWords {
		out[strings.Join(stemmedWords(k), " ")] = v
	}
	return out
})

// recognizeMetrics finds the metrics a question names, each once.
func recognizeMetrics(q string) []string {
	sw := stemmedWords(q)
	var out []string
	used := make([]bool, len(sw))
	for n := 5; n >= 1; n-- {
		for i := 0; i+n <= len(sw); i++ {
			if slices.Contains(used[i:i+n], true) {
				continue
			}
			m, ok := metricIndex()[strings.Join(sw[i:i+n], " ")]
			if !ok {
				continue
			}
			for j := i; j < i+n; j++ {
				used[j] = true
			}
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// intentCues are the patterns that signal each intent, matched against
// the question in lower case with every run of other characters made one
// space ("couldn't" reads "couldn t").
var intentCues = []struct {
	intent Intent
	re     *regexp.Regexp
}{
	{IntentSummary, regexp.MustCompile(`\b(summar(y|i[sz]e\w*)|went wrong|what happened|what was wrong|overview|recap|diagnose|(problems?|issues?) (in|with|during|of) (this|the) call)\b`)},
	{IntentDrop, regexp.MustCompile(`\b(drop(ped|s|ping)?|disconnect\w*|kicked|cut off|fell out|lost (the |its |their )?connection|leave|left|leaving|(couldn t|could not|can t|cannot|unable to|fail(ed|s)? to|never|not|didn t|did not|won t)( \S+){0,7}? (join|connect)\w*|hung up|hang up|call end(ed)?)\b`)},
	{IntentAudio, regexp.MustCompile(`\b(audio|hear\w*|sound\w*|voices?|mic(rophones?|s)?|mut(e|ed|ing)|echo\w*|robotic|speakers?|talk\w*|speak(ing)?)\b`)},
	{IntentVideo, regexp.MustCompile(`\b(video\w*|see|seen|cameras?|webcam|screen\w*|picture|image|frozen|freez\w*)\b`)},
	{IntentRating, regexp.MustCompile(`\b(rated|rate|ratings?|surveys?|stars?)\b`)},
	{IntentFix, regexp.MustCompile(`\b(fix\w*|how (do|can|should|to|would)|resolv\w*|solv\w*|avoid\w*|prevent\w*|what (should|can) (i|we)|what to do|optimi[sz]\w*|improv\w*|troubleshoot\w*|get rid|work ?around|mitigat\w*|better)\b`)},
	{IntentCauses, regexp.MustCompile(`\b(caus\w*|why|reasons?|leads? to|trigger\w*|root|source of)\b`)},
	{IntentMeaning, regexp.MustCompile(`\b(what (is|are|does|do)|mean\w*|defin\w*|stand for|explain\w*)\b`)},
}

var metricRateRE = regexp.MustCompile(`\b(frame|loss|bit|error|sample|refresh|data) rates?\b`)

var nonWordRE = regexp.MustCompile(`[^a-z0-9]+`)

// plain is q in lower case with every run of other characters one space.
func plain(q string) string {
	return " " + strings.TrimSpace(nonWordRE.ReplaceAllString(strings.ToLower(q), " ")) + " "
}

// recognizeIntents finds every intent whose cues occur in q.
func recognizeIntents(q string) []Intent {
	p := plain(q)
	// "Frame rate" and "loss rate" are metrics, not ratings.
	unrated := metricRateRE.ReplaceAllString(p, " ")
	var out []Intent
	for _, ic := range intentCues {
		text := p
		if ic.intent == IntentRating {
			text = unrated
		}
		if ic.re.MatchString(text) {
			out = append(out, ic.intent)
		}
	}
	return out
}

// callRE finds words that tie a question to the call in context.
var callRE = regexp.MustCompile(`\b(this|the|that|my|our) (call|meeting)\b|\b(participants?|went wrong|happen\w*|who|everyone|anyone|somebody|nobody)\b`)

// participantRefs returns the participants of call the question names:
// by participant id, endpoint id or identifier, whole or by their first
// block (the part before the first dash) when that is unique in the call.
func participantRefs(q string, call *model.Call) []string {
	if call == nil {
		return nil
	}
	first := map[string][]string{} // first block → participant ids
	for _, p := range call.Participants {
		for _, id := range []string{p.ID, p.EndpointID} {
			if b, _, ok := strings.Cut(id, "-"); ok && len(b) >= 4 && !slices.Contains(first[strings.ToLower(b)], p.ID) {
				first[strings.ToLower(b)] = append(first[strings.ToLower(b)], p.ID)
			}
		}
	}
	var out []string
	add := func(id string) {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, tok := range idRE.FindAllString(q, -1) {
		tok = strings.TrimRight(tok, ".:-_")
		low := strings.ToLower(tok)
		matched := false
		for _, p := range call.Participants {
			for _, id := range []string{p.ID, p.EndpointID, p.Identifier} {
				if id != "" && strings.EqualFold(id, tok) {
					add(p.ID)
					matched = true
				}
			}
		}
		if matched {
			continue
		}
		if ids := first[low]; len(ids) == 1 {
			add(ids[0])
		}
	}
	// Identifiers with characters idRE stops at (8:acs:…) are matched as
	// substrings.
	lowQ := strings.ToLower(q)
	for _, p := range call.Participants {
		if len(p.Identifier) >= 8 && strings.Contains(lowQ, strings.ToLower(p.Identifier)) {
			add(p.ID)
		}
	}
	return out
}

// longIDs returns the GUID-like tokens of q (for looking a call up when
// none is in context).
func longIDs(q string) []string {
	var out []string
	for _, tok := range idRE.FindAllString(q, -1) {
		tok = strings.TrimRight(tok, ".:-_")
		if len(tok) < 8 || !strings.ContainsAny(tok, "0123456789") || isNumber(tok) {
			continue
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// Recognize runs every recogniser over a question; call, when not nil, is
// the call in context, whose participants the question may name.
func Recognize(question string, call *model.Call) Recognized {
	r := Recognized{
		Codes:   recognizeCodes(question),
		Metrics: recognizeMetrics(question),
		Intents: recognizeIntents(question),
	}
	r.UFDs, r.Kinds = recognizeNames(question)
	r.Participants = participantRefs(question, call)
	for _, id := range longIDs(question) {
		known := false
		if call != nil {
			if strings.EqualFold(id, call.ID) {
				known = true
			}
			for _, p := range call.Participants {
				if strings.EqualFold(id, p.ID) || strings.EqualFold(id, p.EndpointID) || strings.EqualFold(id, p.Identifier) {
					known = true
				}
			}
		}
		if !known {
			r.IDs = append(r.IDs, id)
		}
	}
	if callRE.MatchString(plain(question)) || len(r.Participants) > 0 || r.Has(IntentSummary) {
		r.AboutCall = true
	}
	return r
}

// metricEntries are the entries that explain a metric's limits.
var metricEntries = map[string][]string{
	"jitter":             {"kind-poor-stream"},
	"jitter-buffer":      {"kind-poor-stream"},
	"packet-loss":        {"kind-poor-stream"},
	"round-trip":         {"kind-poor-stream"},
	"healed-data":        {"kind-poor-audio-concealment"},
	"mos":                {"kind-poor-stream"},
	"frame-rate":         {"kind-poor-video"},
	"freeze":             {"kind-poor-video"},
	"resolution":         {"kind-poor-video"},
	"bitrate":            {"kind-poor-video"},
	"packet-utilization": {"kind-no-media-flow"},
}

// audioKinds are issue kinds that explain bad or missing audio; the
// first group are measured or device facts, which head an answer, the
// second the clients' own network ratings, which support it.
var (
	audioHeadKinds = []string{detect.KindPoorStream, detect.KindPoorAudioConcealment, detect.KindNoMediaFlow,
		detect.KindMediaOverTCP, detect.KindSpeakingWhileMuted, detect.KindMicNotFunctioning,
		detect.KindMicMutedUnexpectedly, detect.KindNoMicrophone, detect.KindMicPermissionDenied, detect.KindMicBusy,
		detect.KindNoSpeaker, detect.KindSpeakerMutedOrZero, detect.KindSpeakerBusy, detect.KindSpeakerNotFunctioning,
		detect.KindRelaysUnreachable}
	networkKinds = []string{detect.KindNetworkSendQuality, detect.KindNetworkReceiveQuality, detect.KindNetworkReconnect,
		detect.KindNoNetwork}
	videoHeadKinds = []string{detect.KindPoorVideo, detect.KindPoorScreenshare, detect.KindPoorStream,
		detect.KindCameraStartFailed, detect.KindCameraStartTimedOut, detect.KindCameraPermissionDenied,
		detect.KindCameraStopped, detect.KindCameraFreeze, detect.KindSharePermissionDenied, detect.KindCapturerFailed,
		detect.KindNoMediaFlow, detect.KindMediaOverTCP, detect.KindRelaysUnreachable}
	dropHeadKinds = []string{detect.KindDropped, detect.KindCallSetupFailed}
)
