package catalog

import (
	"slices"
	"strings"
	"testing"
)

func TestCodesLoad(t *testing.T) {
	codes := Codes()
	if len(codes) < 300 {
		t.Fatalf("Codes() returned %d rows, want the whole table (300+)", len(codes))
	}
	sources := map[string]int{}
	for _, c := range codes {
		sources[c.Source]++
		if c.Code == Absent && c.SubCode == Absent {
			t.Errorf("row %+v has neither code nor subcode", c)
		}
	}
	for _, s := range []string{SourceCallingSDK, SourceCallEnd, SourcePSTN, SourceCallAutomation,
		SourceCallAutomationGenericSubcode, SourceCallAutomationGenericCode, SourceCallDiagnosticsKQL} {
		if sources[s] == 0 {
			t.Errorf("no rows from source %q", s)
		}
	}
	if len(sources) != 7 {
		t.Errorf("sources = %v, want exactly the 7 known ones", sources)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name            string
		code, subcode   int
		wantCategory    string
		wantSource      string
		wantUngraceful  bool
		wantAtLeastRows int
	}{
		{"camera start during setup", 410, 41048, ResultUnexpectedClientError, SourceCallingSDK, true, 1},
		{"normal end", 0, 0, ResultSuccess, SourceCallEnd, false, 2},
		{"relays blocked", 410, 3112, ResultExpectedError, SourceCallEnd, true, 1},
		{"camera busy", 412, 43000, ResultExpectedError, SourceCallingSDK, true, 1},
		{"device permission denied", 400, 40613, ResultExpectedError, SourceCallingSDK, true, 1},
		{"mid-call media loss", 410, 301005, ResultUnexpectedClientError, SourceCallEnd, true, 1},
		{"code without subcode", 430, Absent, "", SourceCallEnd, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lookup(tt.code, tt.subcode)
			if len(got) < tt.wantAtLeastRows {
				t.Fatalf("Lookup(%d, %d) = %d rows %+v, want at least %d", tt.code, tt.subcode, len(got), got, tt.wantAtLeastRows)
			}
			found := false
			for _, c := range got {
				if c.Code != tt.code || c.SubCode != tt.subcode {
					t.Errorf("Lookup(%d, %d) returned non-matching row %+v", tt.code, tt.subcode, c)
				}
				if c.Source == tt.wantSource {
					found = true
					if c.ResultCategory != tt.wantCategory || c.UngracefulDrop != tt.wantUngraceful {
						t.Errorf("Lookup(%d, %d) from %s = %+v, want category %q ungraceful %v",
							tt.code, tt.subcode, tt.wantSource, c, tt.wantCategory, tt.wantUngraceful)
					}
				}
			}
			if !found {
				t.Errorf("Lookup(%d, %d) = %+v, no row from source %q", tt.code, tt.subcode, got, tt.wantSource)
			}
		})
	}
	if got := Lookup(999, 999999); len(got) != 0 {
		t.Errorf("Lookup of an unknown pair = %+v, want none", got)
	}
}

func TestLookupSubCodeSeveralCodes(t *testing.T) {
	// 510403 is listed under 403 by several sources; 4521 under 0 and 200.
	codes := map[int]bool{}
	for _, c := range LookupSubCode(4521) {
		codes[c.Code] = true
	}
	if !codes[0] || !codes[200] {
		t.Errorf("LookupSubCode(4521) codes = %v, want both 0 and 200", codes)
	}
}

func TestUngracefulEndReasons(t *testing.T) {
	want := []int{380, 400, 407, 408, 409, 410, 412, 417, 430, 439, 440, 481, 483, 488, 489, 493, 500, 502, 503, 504, 580}
	got := UngracefulEndReasons()
	if !slices.Equal(got, want) {
		t.Fatalf("UngracefulEndReasons() = %v, want %v", got, want)
	}
	got[0] = 1 // callers must not be able to change the package's copy
	if UngracefulEndReasons()[0] != 380 {
		t.Fatal("UngracefulEndReasons shares its backing array with callers")
	}
	// The table's flag for the Call Diagnostics rows must agree with the list.
	var flagged []int
	for _, c := range Codes() {
		if c.Source == SourceCallDiagnosticsKQL && c.UngracefulDrop {
			flagged = append(flagged, c.Code)
		}
	}
	slices.Sort(flagged)
	if !slices.Equal(flagged, want) {
		t.Errorf("call-diagnostics-kql rows flagged ungraceful = %v, want %v", flagged, want)
	}
	for _, c := range []struct {
		code int
		want bool
	}{{410, true}, {0, false}, {496, false}, {580, true}, {487, false}} {
		if got := IsUngracefulEndReason(c.code); got != c.want {
			t.Errorf("IsUngracefulEndReason(%d) = %v, want %v", c.code, got, c.want)
		}
	}
}

func TestUFDs(t *testing.T) {
	all := UFDs()
	if len(all) != 30 {
		t.Errorf("UFDs() = %d entries, want 30", len(all))
	}
	tests := []struct {
		name      string
		platform  string
		valueType string
		group     string
		web, nat  bool
	}{
		{"networkReceiveQuality", PlatformWebNative, ValueQuality, "Network", true, true},
		{"networkReconnect", PlatformWeb, ValueQuality, "Network", true, false},
		{"networkReconnectionQuality", PlatformNative, ValueQuality, "Network", false, true},
		{"microphoneNotFunctioning", PlatformWebNative, ValueFlag, "Audio", true, true},
		{"cameraStartFailed", PlatformWebNative, ValueFlag, "Video", true, true},
		{"networkRelaysNotReachable", PlatformWeb, ValueFlag, "Network", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := LookupUFD(strings.ToUpper(tt.name[:1]) + tt.name[1:])
			if !ok {
				t.Fatalf("LookupUFD(%q) not found", tt.name)
			}
			if u.Name != tt.name || u.Platform != tt.platform || u.ValueType != tt.valueType || u.Group != tt.group {
				t.Errorf("LookupUFD(%q) = %+v, want platform %s type %s group %s", tt.name, u, tt.platform, tt.valueType, tt.group)
			}
			if u.OnWeb() != tt.web || u.OnNative() != tt.nat {
				t.Errorf("%s OnWeb/OnNative = %v/%v, want %v/%v", tt.name, u.OnWeb(), u.OnNative(), tt.web, tt.nat)
			}
		})
	}
	q, _ := LookupUFD("networkSendQuality")
	if !slices.Equal(q.Values, []string{"Good", "Poor", "Bad"}) {
		t.Errorf("networkSendQuality values = %v", q.Values)
	}
	if _, ok := LookupUFD("noSuchDiagnostic"); ok {
		t.Error("LookupUFD found a name that does not exist")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"columns", "h\nx\ty\n", "line 2: 2 columns"},
		{"code", "h\nabc\t1\tSuccess\tcall-end\t\n", "line 2: code"},
		{"ungraceful", "h\n1\t1\tSuccess\tcall-end\tmaybe\n", "ungraceful"},
		{"empty", "", "empty table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCodes([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseCodes(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
	if _, err := parseUFDs([]byte("h\nx\tmars\tnetwork\tq\tDiagnosticFlag\ttrue/false\tNetwork\n")); err == nil {
		t.Error("parseUFDs accepted an unknown platform")
	}
}

func FuzzParseCodes(f *testing.F) {
	f.Add(codesTSV)
	f.Add([]byte("h\n1\t\tSuccess\tx\tyes\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		codes, err := parseCodes(b)
		if err != nil {
			if !strings.Contains(err.Error(), "line") && !strings.Contains(err.Error(), "empty") && !strings.Contains(err.Error(), "read") {
				t.Errorf("error %q names no line", err)
			}
			return
		}
		for _, c := range codes {
			if c.Source == "" {
				t.Errorf("accepted row without source: %+v", c)
			}
		}
	})
}
