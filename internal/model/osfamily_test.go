package model

import (
	"slices"
	"testing"
)

func TestOSFamily(t *testing.T) {
	const (
		webUA     = "azure-communication-services/1.3.1-beta.1 azsdk-js-communication-calling/1.19.2-beta.2 (javascript_calling_sdk;#clientTag:904f667c-5f25-4729-9ee8-6968b0eaa40b). "
		darwinM1  = "Darwin Kernel Version 23.4.0: Fri Mar 15 00:10:42 PDT 2024; root:xnu-10063.101.17~1/RELEASE_ARM64_T6000"
		darwinOld = "Darwin Kernel Version 18.7.0: Mon Nov 9 15:07:15 PST 2020; root:xnu-4903.272.3~3/RELEASE_ARM64_S5L8960X"
	)
	tests := []struct {
		name, os, ua, want string
	}{
		{"windows os", "Windows 10.0.19045 Arch: x64", "", OSWindows},
		{"windows native agent", "Windows 10.0.17763 Arch: x64", "azsdk-windows-communication-calling/1.6.0 (Windows 10.0.17763; x64)", OSWindows},
		{"windows browser", "", webUA + "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", OSWindows},
		{"darwin kernel alone is macOS", darwinM1, "", OSMacOS},
		{"darwin kernel of an old iPhone without agent", darwinOld, "", OSMacOS},
		{"mac browser", darwinM1, webUA + "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", OSMacOS},
		{"ios native agent beats the darwin kernel", darwinM1, "azsdk-ios-communication-calling/2.12.1 (iOS 17.5; iPhone15,3)", OSiOS},
		{"iphone safari says like Mac OS X", "", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", OSiOS},
		{"ipad", "", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X)", OSiOS},
		{"android os", "Android 11.0; Manufacturer: Google; Product: redfin; Model: Pixel 5; Hardware: redfin", "", OSAndroid},
		{"android native agent", "Android 13.0; Manufacturer: samsung", "azsdk-android-communication-calling/2.11.0 (Android 13; samsung SM-S901B)", OSAndroid},
		{"android browser says Linux too", "", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/126.0.0.0 Mobile Safari/537.36", OSAndroid},
		{"linux os", "Linux 6.5.0-41-generic Arch: x64", "", OSLinux},
		{"linux browser", "", webUA + "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", OSLinux},
		{"chromebook", "", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", OSChromeOS},
		{"case does not matter", "WINDOWS 11", "", OSWindows},
		{"agent without a platform falls back to the os", "Windows 10", "azsdk-js-communication-calling/1.30.1", OSWindows},
		{"unknown text is other", "PlayStation 5", "", OSOther},
		{"sdk-only agent is other", "", "azsdk-js-communication-calling/1.30.1", OSOther},
		{"redacted", "Redacted", "", ""},
		{"null", "null", " ", ""},
		{"nothing", "", "", ""},
		{"redacted os, known agent", "Redacted", "azsdk-android-communication-calling/2.11.0 (Android 11; Google Pixel 5)", OSAndroid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := OSFamily(tc.os, tc.ua)
			if got != tc.want {
				t.Errorf("OSFamily(%q, %q) = %q, want %q", tc.os, tc.ua, got, tc.want)
			}
			if got != "" && !slices.Contains(OSFamilies(), got) {
				t.Errorf("OSFamily returned %q, which OSFamilies does not list", got)
			}
		})
	}
}
