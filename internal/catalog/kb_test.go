package catalog

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestKBEntriesWellFormed(t *testing.T) {
	entries := KB()
	if len(entries) < 250 {
		t.Fatalf("KB() has %d entries, want 250+ (codes, UFDs, kinds, guides)", len(entries))
	}
	seen := map[string]bool{}
	types := map[string]int{}
	for i, e := range entries {
		if seen[e.ID] {
			t.Errorf("id %q appears twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && entries[i-1].ID >= e.ID {
			t.Errorf("entries not sorted: %q before %q", entries[i-1].ID, e.ID)
		}
		types[e.Type]++
		if !strings.HasPrefix(e.ID, e.Type+"-") {
			t.Errorf("%s: type %q does not match the id prefix", e.ID, e.Type)
		}
		if strings.TrimSpace(e.Title) == "" || strings.TrimSpace(e.Text) == "" || strings.TrimSpace(e.Source) == "" {
			t.Errorf("%s: empty title, text or source: %+v", e.ID, e)
		}
		if n := sentences(e.Text); e.Type != EntryGuide && (n < 2 || n > 6) {
			t.Errorf("%s: text has %d sentences, want 2 to 6", e.ID, n)
		}
		if e.Type == EntryGuide && len(e.Text) < 400 {
			t.Errorf("%s: guide text only %d bytes, want steps", e.ID, len(e.Text))
		}
	}
	for _, e := range entries {
		if len(e.Related) == 0 && e.Type != EntryCode {
			t.Errorf("%s: no related entries", e.ID)
		}
		for _, r := range e.Related {
			if !seen[r] {
				t.Errorf("%s: related id %q does not exist", e.ID, r)
			}
		}
	}
	for _, typ := range []string{EntryCode, EntryUFD, EntryKind, EntryGuide} {
		if types[typ] == 0 {
			t.Errorf("no entries of type %q", typ)
		}
	}
	if len(types) != 4 {
		t.Errorf("types = %v, want exactly 4", types)
	}
}

// sentences counts sentence ends roughly: a full stop, question mark or
// exclamation mark followed by a space or the end of the text.
func sentences(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' || s[i] == '?' || s[i] == '!' {
			if i == len(s)-1 || s[i+1] == ' ' {
				n++
			}
		}
	}
	return n
}

func TestKBCoversCodeTable(t *testing.T) {
	for _, c := range Codes() {
		if c.Code == Absent {
			continue // generic subcodes listed without a code have no pair
		}
		id := CodeEntryID(c.Code, c.SubCode)
		e, ok := LookupKB(id)
		if !ok {
			t.Errorf("no entry %s for %+v", id, c)
			continue
		}
		wantPrefix := strconv.Itoa(c.Code)
		if c.SubCode != Absent {
			wantPrefix += "/" + strconv.Itoa(c.SubCode)
		}
		if !strings.HasPrefix(e.Title, wantPrefix+": ") {
			t.Errorf("%s: title %q does not start with %q", id, e.Title, wantPrefix+": ")
		}
		if e.Type != EntryCode || !strings.Contains(e.Source, c.Source) {
			t.Errorf("%s: type %q source %q, want code entry citing %q", id, e.Type, e.Source, c.Source)
		}
	}
	// Every code entry corresponds to a pair of the table.
	for _, e := range KB() {
		if e.Type != EntryCode {
			continue
		}
		code, sub := parseCodeID(t, e.ID)
		if len(Lookup(code, sub)) == 0 {
			t.Errorf("%s: pair not in the code table", e.ID)
		}
	}
}

func parseCodeID(t *testing.T, id string) (code, sub int) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(id, "code-"), "-")
	code, err := strconv.Atoi(parts[0])
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	sub = Absent
	if len(parts) == 2 {
		if sub, err = strconv.Atoi(parts[1]); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	return code, sub
}

func TestCodeEntryID(t *testing.T) {
	tests := []struct {
		code, sub int
		want      string
	}{
		{410, 3112, "code-410-3112"},
		{0, 0, "code-0-0"},
		{487, Absent, "code-487"},
	}
	for _, tt := range tests {
		if got := CodeEntryID(tt.code, tt.sub); got != tt.want {
			t.Errorf("CodeEntryID(%d, %d) = %q, want %q", tt.code, tt.sub, got, tt.want)
		}
	}
}

func TestKBUFDs(t *testing.T) {
	ufds := UFDs()
	for _, u := range ufds {
		if _, ok := LookupKB("ufd-" + u.Name); !ok {
			t.Errorf("no entry ufd-%s", u.Name)
		}
		kind, ok := UFDKind(u.Name)
		if !ok {
			t.Errorf("UFD %s maps to no kind", u.Name)
			continue
		}
		if _, ok := LookupKB("kind-" + kind); !ok {
			t.Errorf("UFD %s maps to kind %q, which has no entry", u.Name, kind)
		}
		if !slices.Contains(KindIDs(), kind) {
			t.Errorf("UFD %s maps to kind %q, which KindIDs lacks", u.Name, kind)
		}
		upper := strings.ToUpper(u.Name[:1]) + u.Name[1:]
		if k2, ok := UFDKind(upper); !ok || k2 != kind {
			t.Errorf("UFDKind(%q) = %q, %v; want %q like %q", upper, k2, ok, kind, u.Name)
		}
	}
	n := 0
	for _, e := range KB() {
		if e.Type == EntryUFD {
			n++
			if _, ok := LookupUFD(strings.TrimPrefix(e.ID, "ufd-")); !ok {
				t.Errorf("%s: not a UFD of the table", e.ID)
			}
		}
	}
	if n != len(ufds) {
		t.Errorf("%d UFD entries, want %d (one per UFD)", n, len(ufds))
	}
}

func TestUFDKind(t *testing.T) {
	tests := []struct {
		name   string
		want   string
		wantOK bool
	}{
		{"networkReconnect", "network-reconnect", true},
		{"NetworkReconnect", "network-reconnect", true},
		{"networkReconnectionQuality", "network-reconnect", true},
		{"SpeakingWhileMicrophoneIsMuted", "speaking-while-muted", true},
		{"speakerMuted", "speaker-muted-or-zero-volume", true},
		{"capturerStoppedUnexpectedly", "capturer-failed", true},
		{"screenshareRecordingDisabled", "screenshare-permission-denied", true},
		{"microphoneBusy", "microphone-busy", true},
		{"NETWORKRECONNECT", "", false},
		{"noSuchDiagnostic", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := UFDKind(tt.name)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("UFDKind(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestKindIDs(t *testing.T) {
	kinds := KindIDs()
	required := []string{"poor-stream", "network-reconnect", "network-send-quality", "network-receive-quality",
		"no-network", "relays-unreachable", "media-over-tcp", "no-media-flow", "speaking-while-muted",
		"microphone-not-functioning", "microphone-muted-unexpectedly", "no-microphone",
		"microphone-permission-denied", "no-speaker", "speaker-muted-or-zero-volume", "poor-audio-concealment",
		"camera-start-failed", "camera-start-timed-out", "camera-permission-denied", "camera-stopped-unexpectedly",
		"camera-freeze", "screenshare-permission-denied", "capturer-failed", "poor-video", "poor-screenshare",
		"call-setup-failed", "dropped-ungracefully", "operation-failed", "rejoined", "poor-rating", "missing-telemetry"}
	for _, k := range required {
		if !slices.Contains(kinds, k) {
			t.Errorf("KindIDs lacks %q", k)
		}
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		if seen[k] {
			t.Errorf("kind %q listed twice", k)
		}
		seen[k] = true
		e, ok := LookupKB("kind-" + k)
		if !ok || e.Type != EntryKind {
			t.Errorf("kind %q has no kind entry", k)
		}
	}
	nKind := 0
	for _, e := range KB() {
		if e.Type == EntryKind {
			nKind++
		}
	}
	if nKind != len(kinds) {
		t.Errorf("%d kind entries, %d KindIDs; want equal", nKind, len(kinds))
	}
	if !slices.Equal(KindIDs(), kinds) {
		t.Error("KindIDs order is not stable")
	}
}

func TestKBGuides(t *testing.T) {
	for _, slug := range []string{"others-cant-hear-me", "cant-hear-others", "echo-or-robotic-audio",
		"choppy-or-frozen-video", "others-cant-see-me", "screen-share-fails", "call-wont-connect",
		"call-dropped", "poor-network", "turn-and-firewall", "device-permissions", "browser-and-sdk-support"} {
		e, ok := LookupKB("guide-" + slug)
		if !ok {
			t.Errorf("no guide-%s", slug)
			continue
		}
		if !strings.Contains(e.Text, "1)") || !strings.Contains(e.Text, "2)") {
			t.Errorf("guide-%s has no numbered steps", slug)
		}
	}
}

func TestLookupKB(t *testing.T) {
	tests := []struct {
		id        string
		wantOK    bool
		wantType  string
		wantTitle string
	}{
		{"code-410-3112", true, EntryCode, "410/3112: media relays unreachable"},
		{"code-487", true, EntryCode, "487: call canceled or declined before connecting"},
		{"ufd-networkReconnect", true, EntryUFD, "Media reconnect (web)"},
		{"kind-poor-stream", true, EntryKind, "Poor media stream"},
		{"guide-call-dropped", true, EntryGuide, "The call dropped"},
		{"code-999-1", false, "", ""},
		{"", false, "", ""},
	}
	for _, tt := range tests {
		e, ok := LookupKB(tt.id)
		if ok != tt.wantOK || e.Type != tt.wantType || e.Title != tt.wantTitle {
			t.Errorf("LookupKB(%q) = %q %q, %v; want %q %q, %v", tt.id, e.Type, e.Title, ok, tt.wantType, tt.wantTitle, tt.wantOK)
		}
	}
	// The result is a copy: changing it leaves the knowledge base alone.
	e, _ := LookupKB("kind-poor-stream")
	want := e.Related[0]
	e.Related[0] = "changed"
	all := KB()
	all[0].Related = append(all[0].Related, "changed")
	if again, _ := LookupKB("kind-poor-stream"); again.Related[0] != want {
		t.Errorf("LookupKB shares Related with the caller: got %q", again.Related[0])
	}
	if first := KB()[0]; slices.Contains(first.Related, "changed") {
		t.Error("KB shares Related with the caller")
	}
}

func TestParseRecordsErrors(t *testing.T) {
	allowed := []string{"id", "title", "text", "related", "source"}
	required := []string{"id", "title", "text", "source"}
	tests := []struct {
		file, want string
	}{
		{"missing-colon.bad.txt", "missing-colon.bad.txt:8: want \"key: value\""},
		{"missing-text.bad.txt", "missing-text.bad.txt:1: record lacks \"text\""},
		{"stray-continuation.bad.txt", "stray-continuation.bad.txt:1: continuation line outside a field"},
		{"unknown-key.bad.txt", "unknown-key.bad.txt:4: unknown key \"colour\""},
		{"repeated-key.bad.txt", "repeated-key.bad.txt:3: key \"title\" repeated"},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "kb-bad", "*.bad.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("testdata/kb-bad has %d bad files, the table %d; add every file to the table", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "kb-bad", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = parseRecords(tt.file, b, allowed, required)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseRecords error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseRecords(t *testing.T) {
	in := "# comment\nid: kind-a\ntitle:  A  \ntext: one\n  two\n\tthree\nsource: s\n\n\n\nid: kind-b\ntitle: B\ntext: t\nsource: s\n"
	recs, err := parseRecords("x.txt", []byte(in), []string{"id", "title", "text", "source"}, []string{"id"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	if got := recs[0].fields["text"]; got != "one two three" {
		t.Errorf("text = %q, want continuation lines joined", got)
	}
	if got := recs[0].fields["title"]; got != "A" {
		t.Errorf("title = %q, want trimmed", got)
	}
	if recs[1].line != 11 || recs[1].pos("title") != "x.txt:12" {
		t.Errorf("second record at line %d, title at %s; want 11 and x.txt:12", recs[1].line, recs[1].pos("title"))
	}
}

// kbFS returns the embedded knowledge-base files with some replaced; a
// replacement starting with "+" is appended instead.
func kbFS(t *testing.T, replace map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"kinds.txt", "ufds.txt", "guides.txt", "codes.txt", "codemap.tsv"} {
		b, err := kbFiles.ReadFile("kb/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := replace[name]; ok {
			if extra, ok := strings.CutPrefix(r, "+"); ok {
				b = append(slices.Clone(b), "\n"+extra...)
			} else {
				b = []byte(r)
			}
		}
		m["kb/"+name] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestBuildKBErrors(t *testing.T) {
	kind := "id: kind-a\ntitle: A\ntext: t. u.\nsource: s\nrelated: kind-b\n"
	kinds, err := kbFiles.ReadFile("kb/kinds.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Appended after a blank line, the related line is 6 lines past the end.
	relatedLine := bytes.Count(kinds, []byte("\n")) + 6
	tests := []struct {
		name    string
		replace map[string]string
		want    string
	}{
		{"unknown group", map[string]string{"codemap.tsv": "code\tsubcode\tgroup\ttitle\n410\t3112\tnope\tx\n"},
			"codemap.tsv:2: unknown group \"nope\""},
		{"pair not in table", map[string]string{"codemap.tsv": "code\tsubcode\tgroup\ttitle\n999\t1\tsuccess\tx\n"},
			"codemap.tsv:2: 999/1 is not in the code table"},
		{"wrong column count", map[string]string{"codemap.tsv": "code\tsubcode\tgroup\ttitle\n410\t3112\tsuccess\n"},
			"codemap.tsv:2: 3 columns, want 4"},
		{"dangling related", map[string]string{"kinds.txt": "+" + kind},
			fmt.Sprintf("kinds.txt:%d: kind-a: related id \"kind-b\" does not exist", relatedLine)},
		{"bad prefix", map[string]string{"guides.txt": "id: kind-x\ntitle: A\ntext: t\nsource: s\n"},
			"guides.txt:1: id \"kind-x\" must be guide-{name}"},
		{"duplicate id", map[string]string{"kinds.txt": "id: kind-a\ntitle: A\ntext: t\nsource: s\n\nid: kind-a\ntitle: A\ntext: t\nsource: s\n"},
			"kinds.txt:6: id \"kind-a\" already defined at kinds.txt:1"},
		{"ufd without kind", map[string]string{"ufds.txt": "id: ufd-noNetwork\ntitle: A\ntext: t\nsource: s\n"},
			"ufds.txt:1: record lacks \"kind\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := buildKB(kbFS(t, tt.replace), "kb")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("buildKB error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := buildKB(kbFS(t, nil), "kb"); err != nil {
		t.Fatalf("unchanged files: %v", err)
	}
}

// referenceDir is where the reference tables live: CALLDIAG_REFERENCE, as
// for gen.sh, else shared/reference beside the repository's root.
func referenceDir() string {
	if d := os.Getenv("CALLDIAG_REFERENCE"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared", "reference")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestKBTextNotCopied checks that no code entry repeats the reference
// table's meaning or advice column word for word.
func TestKBTextNotCopied(t *testing.T) {
	f, err := os.Open(filepath.Join(referenceDir(), "error-codes.tsv"))
	if err != nil {
		t.Skipf("reference table not available: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line, checked := 0, 0
	for sc.Scan() {
		line++
		c := strings.Split(sc.Text(), "\t")
		if line == 1 || len(c) < 5 || c[0] == "" {
			continue
		}
		code, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("error-codes.tsv:%d: code %q", line, c[0])
		}
		sub := Absent
		if c[1] != "" {
			if sub, err = strconv.Atoi(c[1]); err != nil {
				t.Fatalf("error-codes.tsv:%d: subcode %q", line, c[1])
			}
		}
		e, ok := LookupKB(CodeEntryID(code, sub))
		if !ok {
			t.Errorf("error-codes.tsv:%d: no entry for %d/%d", line, code, sub)
			continue
		}
		for _, col := range []string{c[3], c[4]} {
			if col = strings.TrimSpace(col); col != "" && strings.Contains(e.Text, col) {
				t.Errorf("%s: text contains reference wording %q (error-codes.tsv:%d)", e.ID, col, line)
			}
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 200 {
		t.Errorf("checked only %d rows", checked)
	}
}

// TestKBUFDTextNotCopied checks that no UFD entry, nor the entry of its
// kind, repeats the reference UFD table's when_raised or meaning column word
// for word.
func TestKBUFDTextNotCopied(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(referenceDir(), "ufd.tsv"))
	if err != nil {
		t.Skipf("reference table not available: %v", err)
	}
	checked := 0
	for i, row := range strings.Split(string(b), "\n") {
		c := strings.Split(row, "\t")
		if i == 0 || len(c) < 9 {
			continue
		}
		e, ok := LookupKB("ufd-" + c[0])
		if !ok {
			t.Errorf("ufd.tsv:%d: no entry for %s", i+1, c[0])
			continue
		}
		kind, _ := UFDKind(c[0])
		k, _ := LookupKB("kind-" + kind)
		for _, col := range []string{c[7], c[8]} {
			col = strings.TrimSpace(col)
			for _, text := range []string{e.Text, k.Text} {
				if col != "" && strings.Contains(text, col) {
					t.Errorf("%s or its kind: text contains reference wording %q (ufd.tsv:%d)", e.ID, col, i+1)
				}
			}
		}
		checked++
	}
	if checked != len(UFDs()) {
		t.Errorf("checked %d rows, want %d", checked, len(UFDs()))
	}
}

func FuzzParseRecords(f *testing.F) {
	for _, dir := range []string{"kb", "testdata/kb-bad"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	allowed := []string{"id", "title", "text", "related", "source"}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parseRecords("f.txt", b, allowed, []string{"id"})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.txt") {
				t.Fatalf("error %q lacks the file name", err)
			}
			return
		}
		for _, r := range recs {
			if r.fields["id"] == "" {
				t.Fatalf("record at line %d lacks its required id", r.line)
			}
			for k := range r.fields {
				if !slices.Contains(allowed, k) {
					t.Fatalf("record has key %q outside allowed", k)
				}
			}
		}
	})
}

func BenchmarkBuildKB(b *testing.B) {
	size := 0
	for _, name := range []string{"kinds.txt", "ufds.txt", "guides.txt", "codes.txt", "codemap.tsv"} {
		data, err := kbFiles.ReadFile("kb/" + name)
		if err != nil {
			b.Fatal(err)
		}
		size += len(data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildKB(kbFiles, "kb"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUFDKind(b *testing.B) {
	names := []string{"networkReconnect", "NetworkSendQuality", "speakerMuted", "unknownOne"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			UFDKind(n)
		}
	}
}

func BenchmarkLookupKB(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := LookupKB("code-410-3112"); !ok {
			b.Fatal("missing entry")
		}
	}
}
