package catalog

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The knowledge base is kept as text files under kb/ so that wording can
// change without touching code:
//
//   - kinds.txt, ufds.txt and guides.txt hold one record per entry;
//   - codes.txt holds the explanation of each group of codes that mean the
//     same thing, written once;
//   - codemap.tsv gives every code/subcode pair its group and its title.
//
// A record is a run of "key: value" lines ended by a blank line; a line that
// starts with a space or tab continues the previous value, and a line
// starting with # is a comment. See parseRecords.
//
//go:embed kb
var kbFiles embed.FS

// Entry types (Entry.Type values).
const (
	EntryCode  = "code"
	EntryUFD   = "ufd"
	EntryKind  = "kind"
	EntryGuide = "guide"
)

// Entry is one article of the knowledge base that detection results and the
// assistant point users to.
type Entry struct {
	// ID is the entry's stable id: code-{code}-{subcode}, code-{code},
	// ufd-{name}, kind-{kind} or guide-{slug}.
	ID string
	// Type is EntryCode, EntryUFD, EntryKind or EntryGuide.
	Type string
	// Title is a short heading, e.g. "410/3112: media relays unreachable".
	Title string
	// Text explains what the entry means, its likely causes and what to do.
	Text string
	// Related lists the ids of related entries.
	Related []string
	// Source says where the facts behind the entry come from.
	Source string
}

// kb is everything built from kb/ once.
type kb struct {
	entries []Entry           // sorted by ID
	byID    map[string]int    // index into entries
	kinds   []string          // kind names in kinds.txt order
	ufdKind map[string]string // UFD name, either first-letter case, to kind
}

var kbData = sync.OnceValue(func() *kb {
	k, err := buildKB(kbFiles, "kb")
	if err != nil {
		panic("BUG: catalog: embedded knowledge base: " + err.Error())
	}
	return k
})

// KB returns every knowledge-base entry, sorted by ID.
func KB() []Entry {
	src := kbData().entries
	out := make([]Entry, len(src))
	for i, e := range src {
		e.Related = slices.Clone(e.Related)
		out[i] = e
	}
	return out
}

// LookupKB returns the entry with the given id.
func LookupKB(id string) (Entry, bool) {
	k := kbData()
	i, ok := k.byID[id]
	if !ok {
		return Entry{}, false
	}
	e := k.entries[i]
	e.Related = slices.Clone(e.Related)
	return e, true
}

// KindIDs returns the detection issue kinds (without the "kind-" prefix) in
// a stable order. Each has a kind-{kind} entry.
func KindIDs() []string {
	return slices.Clone(kbData().kinds)
}

// UFDKind returns the detection issue kind a user-facing diagnostic maps
// to. The name match ignores the case of the first letter, because logs
// spell UFD names both ways.
func UFDKind(ufdName string) (kind string, ok bool) {
	kind, ok = kbData().ufdKind[ufdName]
	return kind, ok
}

// ufdSpellings returns name with its first letter in lower and in upper
// case, the two spellings logs use.
func ufdSpellings(name string) [2]string {
	return [2]string{strings.ToLower(name[:1]) + name[1:], strings.ToUpper(name[:1]) + name[1:]}
}

// CodeEntryID returns the id of the knowledge-base entry for a code and
// subcode pair; pass Absent as subcode for a code listed alone. It does not
// check that the entry exists.
func CodeEntryID(code, subcode int) string {
	if subcode == Absent {
		return "code-" + strconv.Itoa(code)
	}
	return "code-" + strconv.Itoa(code) + "-" + strconv.Itoa(subcode)
}

// record is one parsed record: its fields and the line each field starts on.
type record struct {
	file   string
	line   int // first line of the record
	fields map[string]string
	lines  map[string]int
}

func (r record) pos(key string) string {
	if l, ok := r.lines[key]; ok {
		return fmt.Sprintf("%s:%d", r.file, l)
	}
	return fmt.Sprintf("%s:%d", r.file, r.line)
}

// parseRecords parses the record format described at kbFiles. allowed lists
// the keys a record may have; required those it must have. Continuation
// lines are joined to their value with a single space. Errors carry
// file:line.
func parseRecords(file string, b []byte, allowed, required []string) ([]record, error) {
	var (
		out  []record
		cur  *record
		last string
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		for _, k := range required {
			if strings.TrimSpace(cur.fields[k]) == "" {
				return fmt.Errorf("%s:%d: record lacks %q", file, cur.line, k)
			}
		}
		out = append(out, *cur)
		cur, last = nil, ""
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \t\r")
		switch {
		case text == "":
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(text, "#"):
			continue
		case text[0] == ' ' || text[0] == '\t':
			if cur == nil || last == "" {
				return nil, fmt.Errorf("%s:%d: continuation line outside a field", file, line)
			}
			cur.fields[last] += " " + strings.TrimSpace(text)
			continue
		}
		key, val, ok := strings.Cut(text, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want \"key: value\", got %q", file, line, text)
		}
		key = strings.TrimSpace(key)
		if !slices.Contains(allowed, key) {
			return nil, fmt.Errorf("%s:%d: unknown key %q", file, line, key)
		}
		if cur == nil {
			cur = &record{file: file, line: line, fields: map[string]string{}, lines: map[string]int{}}
		}
		if _, dup := cur.fields[key]; dup {
			return nil, fmt.Errorf("%s:%d: key %q repeated in one record", file, line, key)
		}
		cur.fields[key] = strings.TrimSpace(val)
		cur.lines[key] = line
		last = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: read: %w", file, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no records", file)
	}
	return out, nil
}

// buildKB reads the knowledge-base files under dir of fsys and builds the
// entries, checking ids, prefixes, UFD kinds and related ids. A pair of the
// code table that codemap.tsv lacks simply has no entry, so that
// regenerating codes.tsv cannot break the binary; the package tests insist
// on full coverage. Rows listing a subcode without a code are not pairs and
// get no entry.
func buildKB(fsys fs.FS, dir string) (*kb, error) {
	read := func(name string) ([]byte, error) {
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		return b, nil
	}
	k := &kb{byID: map[string]int{}, ufdKind: map[string]string{}}
	var entries []Entry
	where := map[string]string{} // id to file:line, for duplicate errors
	add := func(e Entry, pos string) error {
		if prev, dup := where[e.ID]; dup {
			return fmt.Errorf("%s: id %q already defined at %s", pos, e.ID, prev)
		}
		where[e.ID] = pos
		entries = append(entries, e)
		return nil
	}
	relPos := map[string]string{} // id to position of its related field

	// Kinds, UFDs and guides share one shape.
	type spec struct {
		file, typ string
		extra     []string
	}
	for _, s := range []spec{
		{"kinds.txt", EntryKind, nil},
		{"ufds.txt", EntryUFD, []string{"kind"}},
		{"guides.txt", EntryGuide, nil},
	} {
		b, err := read(s.file)
		if err != nil {
			return nil, err
		}
		allowed := append([]string{"id", "title", "text", "related", "source"}, s.extra...)
		required := append([]string{"id", "title", "text", "source"}, s.extra...)
		recs, err := parseRecords(s.file, b, allowed, required)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			id := r.fields["id"]
			if !strings.HasPrefix(id, s.typ+"-") || len(id) == len(s.typ)+1 || strings.ContainsAny(id, " \t") {
				return nil, fmt.Errorf("%s: id %q must be %s-{name}", r.pos("id"), id, s.typ)
			}
			e := Entry{ID: id, Type: s.typ, Title: r.fields["title"], Text: r.fields["text"],
				Related: strings.Fields(r.fields["related"]), Source: r.fields["source"]}
			if err := add(e, r.pos("id")); err != nil {
				return nil, err
			}
			relPos[id] = r.pos("related")
			switch s.typ {
			case EntryKind:
				k.kinds = append(k.kinds, strings.TrimPrefix(id, "kind-"))
			case EntryUFD:
				for _, key := range ufdSpellings(strings.TrimPrefix(id, "ufd-")) {
					if _, dup := k.ufdKind[key]; dup {
						return nil, fmt.Errorf("%s: UFD %q listed twice (names differ only in case)", r.pos("id"), id)
					}
					k.ufdKind[key] = r.fields["kind"]
				}
			}
		}
	}
	// Code groups and the pair map.
	b, err := read("codes.txt")
	if err != nil {
		return nil, err
	}
	recs, err := parseRecords("codes.txt", b, []string{"group", "text", "related"}, []string{"group", "text"})
	if err != nil {
		return nil, err
	}
	groups := map[string]record{}
	for _, r := range recs {
		g := r.fields["group"]
		if _, dup := groups[g]; dup {
			return nil, fmt.Errorf("%s: group %q defined twice", r.pos("group"), g)
		}
		groups[g] = r
	}
	b, err = read("codemap.tsv")
	if err != nil {
		return nil, err
	}
	sources := codeSources()
	used := map[string]bool{}
	err = eachTSVLine("codemap.tsv", b, 4, func(pos string, f []string) error {
		code, err := optInt(f[0])
		if err != nil || code == Absent {
			return fmt.Errorf("%s: code %q is not a number", pos, f[0])
		}
		sub, err := optInt(f[1])
		if err != nil {
			return fmt.Errorf("%s: subcode %q is not a number or empty", pos, f[1])
		}
		g, ok := groups[f[2]]
		if !ok {
			return fmt.Errorf("%s: unknown group %q", pos, f[2])
		}
		used[f[2]] = true
		if strings.TrimSpace(f[3]) == "" {
			return fmt.Errorf("%s: empty title", pos)
		}
		src, ok := sources[[2]int{code, sub}]
		if !ok {
			return fmt.Errorf("%s: %s is not in the code table", pos, pairLabel(code, sub))
		}
		id := CodeEntryID(code, sub)
		e := Entry{ID: id, Type: EntryCode, Title: pairLabel(code, sub) + ": " + f[3], Text: g.fields["text"],
			Related: strings.Fields(g.fields["related"]), Source: "error-codes.tsv: " + strings.Join(src, ", ")}
		relPos[id] = g.pos("related")
		return add(e, pos)
	})
	if err != nil {
		return nil, err
	}
	for name, r := range groups {
		if !used[name] {
			return nil, fmt.Errorf("%s: group %q is used by no code", r.pos("group"), name)
		}
	}

	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
	for i, e := range entries {
		k.byID[e.ID] = i
	}
	for _, e := range entries {
		for _, rel := range e.Related {
			if _, ok := k.byID[rel]; !ok {
				return nil, fmt.Errorf("%s: %s: related id %q does not exist", relPos[e.ID], e.ID, rel)
			}
			if rel == e.ID {
				return nil, fmt.Errorf("%s: %s: related to itself", relPos[e.ID], e.ID)
			}
		}
	}
	for key, kind := range k.ufdKind {
		if _, ok := k.byID["kind-"+kind]; !ok {
			return nil, fmt.Errorf("ufds.txt: UFD %q maps to kind %q, which has no kind entry", key, kind)
		}
	}
	k.entries = entries
	return k, nil
}

func pairLabel(code, sub int) string {
	if sub == Absent {
		return strconv.Itoa(code)
	}
	return strconv.Itoa(code) + "/" + strconv.Itoa(sub)
}

// codeSources maps every code/subcode pair that has a code to the sources
// listing it, in table order without repeats.
func codeSources() map[[2]int][]string {
	out := map[[2]int][]string{}
	for _, c := range codeTable() {
		if c.Code == Absent {
			continue
		}
		key := [2]int{c.Code, c.SubCode}
		if !slices.Contains(out[key], c.Source) {
			out[key] = append(out[key], c.Source)
		}
	}
	return out
}

// eachTSVLine calls fn for every data row of a TSV file with a header and
// exactly cols columns, passing the row's file:line position. Errors carry
// file:line.
func eachTSVLine(file string, b []byte, cols int, fn func(pos string, fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 || text == "" {
			continue
		}
		pos := fmt.Sprintf("%s:%d", file, line)
		f := strings.Split(text, "\t")
		if len(f) != cols {
			return fmt.Errorf("%s: %d columns, want %d", pos, len(f), cols)
		}
		if err := fn(pos, f); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: read: %w", file, err)
	}
	if line == 0 {
		return fmt.Errorf("%s: empty table", file)
	}
	return nil
}
