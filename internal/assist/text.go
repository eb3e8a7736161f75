package assist

import (
	"strings"
	"unicode"
)

// words splits s into lower-case words of letters and digits. A
// lower-to-upper case change starts a new word, so the UFD name
// "networkReconnect" gives "network" and "reconnect", as a user would
// write it; an apostrophe is dropped with the letters after it ("can't"
// gives "can").
func words(s string) []string {
	var out []string
	var cur []rune
	prevLower := false // the previous letter, as written, was lower case
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\'' || r == '’':
			flush()
			// Skip the contraction's tail (n't, 's, 're, 'll).
			for i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
				i++
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if unicode.IsUpper(r) && len(cur) > 0 && prevLower {
				flush()
			}
			prevLower = unicode.IsLower(r)
			cur = append(cur, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// stem reduces an English word to a crude stem so that "drops",
// "dropped" and "dropping", or "connection" and "connecting", meet. It
// only strips common suffixes; it need not produce a real word, only the
// same string for the forms of one word.
func stem(w string) string {
	if len(w) <= 3 || isNumber(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ied") && len(w) > 4:
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ness") && len(w) > 6:
		w = w[:len(w)-4]
	case strings.HasSuffix(w, "ings") && len(w) > 6:
		w = undouble(w[:len(w)-4])
	case strings.HasSuffix(w, "ing") && len(w) > 5:
		w = undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "edly") && len(w) > 6:
		w = undouble(w[:len(w)-4])
	case strings.HasSuffix(w, "ly") && len(w) > 5:
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ed") && len(w) > 4:
		w = undouble(w[:len(w)-2])
	case strings.HasSuffix(w, "es") && len(w) > 4 && strings.ContainsAny(w[len(w)-3:len(w)-2], "sxz"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case strings.HasSuffix(w, "ions") && len(w) > 7:
		w = w[:len(w)-4]
	case strings.HasSuffix(w, "ion") && len(w) > 6:
		w = w[:len(w)-3]
	}
	if strings.HasSuffix(w, "e") && len(w) > 3 {
		w = w[:len(w)-1]
	}
	return w
}

// undouble drops one of two equal final consonants ("dropp" → "drop").
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func isNumber(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

// stopwords carry no meaning for retrieval.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the of to in on for is are was were be been being it its this that these those
		with as at by from or and but do does did doing i my me mine we our us you your they them their he she his her
		what which who whom how why when where can could should would will shall may might must there here have has had
		about into onto get gets got so if than then just also some any all very too out up off over again more most
		s t ll re ve d m am not no nor own same such only other others else one ones thing things something anything
		please help tell explain happen happened happens going want need way ways mean means meaning`) {
		stopwords[w] = true
	}
}

// terms is the retrieval form of s: its words without stopwords, stemmed.
func terms(s string) []string {
	var out []string
	for _, w := range words(s) {
		if len(w) < 2 || stopwords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// stemmedWords is every word of s stemmed, stopwords kept, for phrase
// matching.
func stemmedWords(s string) []string {
	ws := words(s)
	for i, w := range ws {
		ws[i] = stem(w)
	}
	return ws
}
