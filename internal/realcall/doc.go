// Package realcall holds an end-to-end test of the browser collector and
// of what calldiag makes of a real WebRTC call. It has no code of its own:
// the test makes a network namespace with only loopback in it, starts a
// calldiag server, a UDP relay and headless Chromium there, and lets two
// pages (alice and bob) call each other through the relay, once clean and
// then with the alice → bob direction impaired by the relay (delay,
// jitter, loss) or by an nftables rule (loss). It then checks the call,
// its peer connections, its streams and its issues on the JSON API.
//
// The test needs root (for the namespace and nftables) and Chromium; it
// skips without them unless CALLDIAG_REQUIRE_BROWSER=1. Set
// CALLDIAG_SAVE_REALCALL to a directory to keep the collector batches the
// browsers sent.
package realcall
