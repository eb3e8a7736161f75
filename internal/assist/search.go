package assist

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"

	"calldiag/internal/catalog"
)

// Ranking is BM25 over each entry's title, text and id. The title and
// the id's words say what an entry is about, so they count more than a
// word of the body; a query term also pulls in its synonyms at a lower
// weight, so that a question in the user's words ("I can't hear anyone")
// finds entries written in the logs' words (speaker, audio, incoming).
const (
	bm25K1      = 1.2
	bm25B       = 0.75
	titleWeight = 3
	idWeight    = 2
	// synonymWeight is the weight of a term added by the synonym table
	// relative to a term the user wrote.
	synonymWeight = 0.5
	// codeDiscount scales code entries when the query holds no number:
	// the ~200 code entries share a dozen explanations, and a question in
	// words is almost always about a symptom, not one code.
	codeDiscount = 0.5
	// guideBonus favours guides slightly: they answer the complaints users
	// phrase in their own words.
	guideBonus = 1.2
)

// synonyms maps a stemmed word users write to stemmed words the knowledge
// base uses for the same thing. Lookups go one way: from the question.
var synonyms = map[string][]string{}

// conceptEntries maps a stemmed word or two-word phrase of a question to
// the entries that are about it, whatever words they use. A match adds a
// bonus to the entry's score in proportion to the best text score.
var conceptEntries = map[string][]string{}

func init() {
	add := func(from string, to ...string) {
		for _, f := range strings.Split(from, ",") {
			key := strings.Join(stemmedWords(f), " ")
			for _, t := range to {
				synonyms[key] = append(synonyms[key], strings.Join(stemmedWords(t), " "))
			}
		}
	}
	// Hearing and speaking.
	add("hear,heard,listen,sound,sounds,voice,voices", "audio", "microphone", "speaker")
	add("silent,silence,quiet,mute", "muted", "audio", "hear", "speaker", "microphone")
	add("talk,talking,speak,spoke,say,said", "speaking", "voice", "microphone")
	add("mic,mics", "microphone")
	add("headphones,headphone,headset,earbuds,speakers,output", "speaker", "output", "device")
	// Seeing.
	add("see,seen,visible,show,picture,image,webcam,face", "video", "camera")
	add("stall,stalls,stalling,stuck,stutter,laggy,lag,jerky", "freeze", "frozen", "choppy", "stutter")
	add("blurry,pixelated,fuzzy,grainy", "resolution", "poor", "video")
	add("present,presenting,presentation,desktop,slides", "screen", "share", "sharing")
	// Connecting and dropping.
	add("connect,join,enter,start,dial", "setup", "join", "connect", "start")
	add("drop,dropped,disconnect,disconnected,kicked,cut,ended", "dropped", "drop", "disconnect", "lost", "ended")
	add("reconnect,reconnecting", "reconnect", "network")
	add("offline,internet", "network", "connectivity", "offline")
	add("wifi,wi-fi,wireless,broadband,cellular,4g,5g,bandwidth,link,connection", "network", "wifi")
	add("slow,weak,bad,terrible,awful,unstable,flaky", "poor", "degraded", "quality")
	add("improve,optimize,optimise,better,boost", "fix", "quality", "network")
	add("latency,lag,delay,ping", "round", "trip", "delay")
	add("rtt", "round", "trip")
	add("loss,lost,losing", "loss", "packet")
	add("robot,robotic,metallic,garbled,distorted,crackling", "robotic", "concealment", "choppy")
	add("echo,feedback,hear myself", "echo")
	// Networks and devices.
	add("port,ports,gateway,corporate,company,proxy,vpn,blocked,blocking,block,allowlist,whitelist",
		"firewall", "proxy", "relay", "udp", "blocked")
	add("turn,relay,relays", "relay", "turn")
	add("tcp,udp", "tcp", "udp", "transport")
	add("permission,permissions,allow,allowed,prompt,privacy,blocked,denied,refused", "permission", "denied", "privacy")
	add("busy,taken,occupied,another app,other app", "busy", "another", "program")
	add("browser,chrome,edge,firefox,safari,webview", "browser", "support")
	add("version,versions,library,release,outdated,old,update", "sdk", "version", "support")
	add("rating,rated,stars,score,survey,feedback", "rating", "survey")
	add("telemetry,logs,data,missing", "telemetry", "missing")
	add("frame rate,fps,framerate", "frame", "rate")

	concept := func(from string, ids ...string) {
		for _, f := range strings.Split(from, ",") {
			key := strings.Join(stemmedWords(f), " ")
			conceptEntries[key] = append(conceptEntries[key], ids...)
		}
	}
	concept("echo,hear myself,own voice,bounce back,bouncing back,metallic,robotic", "guide-echo-or-robotic-audio")
	concept("optimize,optimise,weak network,poor network,bad network,wifi,wi-fi", "guide-poor-network")
	concept("firewall,proxy,ports,gateway,corporate network", "guide-turn-and-firewall")
	concept("browser,safari,firefox,chrome,supported,library version,sdk version", "guide-browser-and-sdk-support")
	concept("permission,permissions,privacy,blocked", "guide-device-permissions")
	concept("dropped,cut off,disconnected,kicked out,fell out", "guide-call-dropped")
	concept("can't join,cannot join,never connects,won't connect,never starts,get into,unable to join", "guide-call-wont-connect")
	concept("presenting,present my,share my screen,desktop,screen share,screen sharing", "guide-screen-share-fails")
	concept("nobody hears me,can't hear me,my voice,hear me", "guide-others-cant-hear-me")
	concept("can't hear anyone,can't hear them,hear nothing,nothing comes out,headphones", "guide-cant-hear-others")
	concept("can't see me,my camera,my webcam,my video", "guide-others-cant-see-me")
	concept("frozen video,video freezes,choppy video,picture,stalling,stutter", "guide-choppy-or-frozen-video")
}

// kbDoc is one entry prepared for ranking.
type kbDoc struct {
	entry catalog.Entry
	tf    map[string]float64 // weighted term frequencies
	len   float64
}

// kbIndex ranks the knowledge base.
type kbIndex struct {
	docs   []kbDoc
	byID   map[string]int
	df     map[string]int
	avgLen float64
}

// index is built once from the embedded knowledge base, which never
// changes while the program runs.
var index = sync.OnceValue(func() *kbIndex { return newIndex(catalog.KB()) })

func newIndex(entries []catalog.Entry) *kbIndex {
	ix := &kbIndex{byID: map[string]int{}, df: map[string]int{}}
	var total float64
	for _, e := range entries {
		d := kbDoc{entry: e, tf: map[string]float64{}}
		addTerms := func(ts []string, w float64) {
			for _, t := range ts {
				d.tf[t] += w
				d.len += w
			}
		}
		addTerms(terms(e.Title), titleWeight)
		addTerms(terms(e.Text), 1)
		addTerms(terms(e.ID), idWeight)
		for t := range d.tf {
			ix.df[t]++
		}
		total += d.len
		ix.byID[e.ID] = len(ix.docs)
		ix.docs = append(ix.docs, d)
	}
	if len(ix.docs) > 0 {
		ix.avgLen = total / float64(len(ix.docs))
	}
	return ix
}

// scored is an entry with its rank score.
type scored struct {
	entry catalog.Entry
	score float64
}

// queryTerms expands a query into weighted terms: its own terms at 1,
// and their synonyms (single words and two-word phrases) at
// synonymWeight.
func queryTerms(query string) map[string]float64 {
	out := map[string]float64{}
	own := terms(query)
	for _, t := range own {
		out[t] = 1
	}
	sw := stemmedWords(query)
	expand := func(key string) {
		for _, syn := range synonyms[key] {
			for _, t := range strings.Fields(syn) {
				if out[t] < synonymWeight {
					out[t] = synonymWeight
				}
			}
		}
	}
	for i := range sw {
		expand(sw[i])
		if i+1 < len(sw) {
			expand(sw[i] + " " + sw[i+1])
		}
	}
	return out
}

// rank scores every entry against query and returns those scoring above
// zero, best first.
func (ix *kbIndex) rank(query string) []scored {
	q := queryTerms(query)
	if len(q) == 0 {
		return nil
	}
	hasNumber := slices.ContainsFunc(words(query), isNumber)
	n := float64(len(ix.docs))
	scores := make([]float64, len(ix.docs))
	for t, w := range q {
		df := float64(ix.df[t])
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for i := range ix.docs {
			d := &ix.docs[i]
			tf := d.tf[t]
			if tf == 0 {
				continue
			}
			norm := tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*d.len/ix.avgLen))
			scores[i] += w * idf * norm
		}
	}
	best := 0.0
	for i := range ix.docs {
		switch ix.docs[i].entry.Type {
		case catalog.EntryCode:
			if !hasNumber {
				scores[i] *= codeDiscount
			}
		case catalog.EntryGuide:
			scores[i] *= guideBonus
		}
		best = max(best, scores[i])
	}
	// Concept matches: a bonus worth half the best text score, so they
	// lift an entry the words alone nearly found without letting a stray
	// word override a strong match.
	if best > 0 {
		for _, id := range conceptMatches(query) {
			if i, ok := ix.byID[id]; ok {
				scores[i] += best * 0.5
			}
		}
	}
	var out []scored
	for i, s := range scores {
		if s > 0 {
			out = append(out, scored{ix.docs[i].entry, s})
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.entry.ID, b.entry.ID)
	})
	return out
}

// conceptMatches returns the entries conceptEntries names for the words
// and two- or three-word phrases of query, each once.
func conceptMatches(query string) []string {
	sw := stemmedWords(query)
	var out []string
	seen := map[string]bool{}
	for n := 1; n <= 3; n++ {
		for i := 0; i+n <= len(sw); i++ {
			for _, id := range conceptEntries[strings.Join(sw[i:i+n], " ")] {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
	}
	return out
}

// SearchKB ranks knowledge-base entries for a free-text query and returns
// at most limit of them, best first (limit ≤ 0 means 10). Ranking is
// BM25 over each entry's title, text and id with light stemming and a
// small synonym table, so paraphrases that share no word with an entry's
// title can still find it.
func SearchKB(query string, limit int) []catalog.Entry {
	if limit <= 0 {
		limit = 10
	}
	var out []catalog.Entry
	for _, s := range index().rank(query) {
		if len(out) == limit {
			break
		}
		out = append(out, s.entry)
	}
	return out
}
