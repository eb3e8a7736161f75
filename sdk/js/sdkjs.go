// Package sdkjs holds calldiag's browser collector, calldiag.js: the
// dependency-free ES module web apps load to record their WebRTC peer
// connections and send them to calldiag's /api/v1/collect. The server
// serves it at /sdk/calldiag.js; the file is the source, there is no build
// step.
//
// It imports nothing of calldiag's.
package sdkjs

import _ "embed"

// Collector is the source of calldiag.js.
//
//go:embed calldiag.js
var Collector []byte
