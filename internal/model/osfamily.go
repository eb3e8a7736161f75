package model

import "strings"

// Operating-system families as OSFamily names them.
const (
	OSWindows  = "Windows"
	OSMacOS    = "macOS"
	OSiOS      = "iOS"
	OSAndroid  = "Android"
	OSLinux    = "Linux"
	OSChromeOS = "ChromeOS"
	OSOther    = "Other"
)

// OSFamilies returns every family OSFamily can return except "", in the
// order a list of them is shown.
func OSFamilies() []string {
	return []string{OSWindows, OSMacOS, OSiOS, OSAndroid, OSLinux, OSChromeOS, OSOther}
}

// OSFamily returns the operating-system family of a participant from the
// osVersion of its summary row ("Windows 10.0.19045 Arch: x64",
// "Darwin Kernel Version 23.4.0: …", "Android 13.0; Manufacturer: …") and
// the user agent of its client operations ("azsdk-ios-communication-calling/
// 2.12.1 (iOS 17.5; iPhone15,3)", "… Mozilla/5.0 (X11; CrOS x86_64 …) …").
//
// The user agent is read first when it names a family: macOS and iOS both
// report a Darwin kernel version, and only the agent tells them apart; a
// Darwin kernel with no agent counts as macOS. The result is one of the
// OS* constants: OSOther when either string is present but names no
// family, and "" when neither says anything (empty, "null" or "Redacted").
func OSFamily(osVersion, userAgent string) string {
	if f := osFamilyOf(userAgent); f != "" {
		return f
	}
	if f := osFamilyOf(osVersion); f != "" {
		return f
	}
	if knownText(osVersion) || knownText(userAgent) {
		return OSOther
	}
	return ""
}

// knownText reports whether s carries information: not empty, "null" or
// "Redacted".
func knownText(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && !strings.EqualFold(s, "null") && !strings.EqualFold(s, "Redacted")
}

// osFamilyOf returns the family one string names, "" when it names none.
// The string is read as lower-case words of letters only, so "Win64" is
// "win", "iPhone15,3" is "iphone" and "x86_64" is "x". Families are tried
// from the most specific: Android and ChromeOS agents also say Linux, and
// iPhone agents say "like Mac OS X".
func osFamilyOf(s string) string {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r < 'a' || r > 'z' }) {
		words[w] = true
	}
	has := func(ws ...string) bool {
		for _, w := range ws {
			if words[w] {
				return true
			}
		}
		return false
	}
	switch {
	case len(words) == 0:
		return ""
	case has("cros", "chromeos"):
		return OSChromeOS
	case has("android"):
		return OSAndroid
	case has("ios", "ipados", "iphone", "ipad", "ipod"):
		return OSiOS
	case has("windows", "win"):
		return OSWindows
	case has("darwin", "macintosh", "macos", "mac", "osx"):
		return OSMacOS
	case has("linux", "ubuntu"):
		return OSLinux
	}
	return ""
}
