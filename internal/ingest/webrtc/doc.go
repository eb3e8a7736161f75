// Package webrtc reads the two kinds of file that people keep from a WebRTC
// call in a browser: an rtcstats dump (one JSON array per line, written by
// the rtcstats client library and its servers) and a webrtc-internals dump
// (the JSON document that Chrome's chrome://webrtc-internals page saves).
//
// Both become one [Dump]: the page's identity and media requests, and for
// each peer connection its configuration, every API call and callback in
// order, and its getStats results as complete snapshots. rtcstats dumps send
// each snapshot as a delta against the previous one, and webrtc-internals
// dumps keep one time series per stats field; the parser undoes both, so a
// [Snapshot] always holds every report as it stood at that moment.
// [PeerConnection.Features] then reduces a peer connection to the numbers a
// diagnosis starts from (did it connect, ICE reconnects, relay use, packet
// loss, round trip), the same way for standard and legacy (goog*) stats.
//
// A line or entry that cannot be read is reported as a [LineError] and
// skipped; the rest of the file is kept.
//
// The package is a parsing layer: it imports only the standard library, the
// model package and fastjson, and maps nothing onto calldiag's model yet.
package webrtc
