package catalog

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// UFDSource names the pages the UFD table comes from.
const UFDSource = "ACS user-facing diagnostics pages for web, Windows and Android (azure-docs concepts/voice-video-calling/includes/user-facing-diagnostics-*.md)"

// UFD platforms (UFD.Platform values).
const (
	PlatformWeb       = "web"
	PlatformNative    = "native"
	PlatformWebNative = "web+native"
)

// UFD value types (UFD.ValueType values).
const (
	// ValueFlag UFDs change between true and false.
	ValueFlag = "DiagnosticFlag"
	// ValueQuality UFDs change between Good, Poor and Bad.
	ValueQuality = "DiagnosticQuality"
)

// UFD is one user-facing diagnostic the Calling SDKs raise.
type UFD struct {
	// Name is the diagnostic's name as the SDK reports it in
	// DiagnosticChanged, e.g. networkReceiveQuality.
	Name string
	// Platform is PlatformWeb, PlatformNative or PlatformWebNative.
	Platform string
	// Kind is network, device or media.
	Kind string
	// SubKind narrows Kind: connectivity, quality, audio-input,
	// audio-output, camera, video or screen-share.
	SubKind string
	// ValueType is ValueFlag or ValueQuality.
	ValueType string
	// Values lists the values the diagnostic takes.
	Values []string
	// Group is the area Azure's Call Diagnostics files it under: Network,
	// Audio, Video or ScreenSharing.
	Group string
}

// OnWeb reports whether the Web SDK raises the diagnostic.
func (u UFD) OnWeb() bool { return u.Platform == PlatformWeb || u.Platform == PlatformWebNative }

// OnNative reports whether the native SDKs raise the diagnostic.
func (u UFD) OnNative() bool {
	return u.Platform == PlatformNative || u.Platform == PlatformWebNative
}

var ufdTable = sync.OnceValue(func() []UFD {
	u, err := parseUFDs(ufdTSV)
	if err != nil {
		panic("BUG: catalog: embedded ufd.tsv: " + err.Error())
	}
	return u
})

// UFDs returns every user-facing diagnostic in file order.
func UFDs() []UFD {
	src := ufdTable()
	out := make([]UFD, len(src))
	for i, u := range src {
		u.Values = slices.Clone(u.Values)
		out[i] = u
	}
	return out
}

// LookupUFD returns the diagnostic called name. The match ignores case,
// because logs spell the first letter either way.
func LookupUFD(name string) (UFD, bool) {
	for _, u := range ufdTable() {
		if strings.EqualFold(u.Name, name) {
			u.Values = slices.Clone(u.Values)
			return u, true
		}
	}
	return UFD{}, false
}

func parseUFDs(b []byte) ([]UFD, error) {
	var out []UFD
	err := eachRow(b, 7, func(line int, f []string) error {
		switch f[1] {
		case PlatformWeb, PlatformNative, PlatformWebNative:
		default:
			return fmt.Errorf("line %d: platform: unknown %q", line, f[1])
		}
		switch f[4] {
		case ValueFlag, ValueQuality:
		default:
			return fmt.Errorf("line %d: value_type: unknown %q", line, f[4])
		}
		if f[0] == "" || f[5] == "" {
			return fmt.Errorf("line %d: name or values empty", line)
		}
		out = append(out, UFD{
			Name: f[0], Platform: f[1], Kind: f[2], SubKind: f[3],
			ValueType: f[4], Values: strings.Split(f[5], "/"), Group: f[6],
		})
		return nil
	})
	return out, err
}
