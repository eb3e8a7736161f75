package webrtc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Format names a kind of WebRTC dump.
type Format string

// The formats Parse reads.
const (
	// FormatRTCStats is an rtcstats dump: one JSON array
	// [method, pcId|null, value, timestampMs?] per line.
	FormatRTCStats Format = "rtcstats"
	// FormatInternals is the JSON document chrome://webrtc-internals saves.
	FormatInternals Format = "webrtc-internals"
)

// ErrUnknownFormat is returned by Parse for input that is neither an
// rtcstats nor a webrtc-internals dump.
var ErrUnknownFormat = errors.New("not an rtcstats or webrtc-internals dump")

// Dump is one parsed dump file.
type Dump struct {
	Format    Format
	UserAgent string
	URL       string // the page that made the calls

	// Who recorded the dump, when the dump says (rtcstats identity records
	// and peer connection constraints; webrtc-internals dumps carry none).
	ConferenceID  string
	ConferenceURL string
	ClientID      string
	SessionID     string
	UserID        string
	DisplayName   string
	// Identity holds every scalar field of the page's identity records as
	// written, for what the named fields above do not cover.
	Identity map[string]string

	// Start and End bound the dump's timed records (page metadata records,
	// which clients log whenever they reconnect, are left out).
	Start, End time.Time

	Media           []MediaRequest // getUserMedia and getDisplayMedia calls, in order
	Events          []Event        // page-level records that belong to no peer connection
	PeerConnections []*PeerConnection
}

// PeerConnection is one RTCPeerConnection of the page.
type PeerConnection struct {
	ID string // as the dump names it: "PC_0" in rtcstats, "12345-1" in webrtc-internals
	// Config is the configuration the connection was created with, as JSON
	// when the dump has JSON (ICE server URLs are kept, usernames and
	// credentials dropped); old webrtc-internals dumps give Chrome's own
	// text form, which is kept as it is.
	Config string
	// Constraints are the legacy (Chrome) constraints passed at creation.
	Constraints string
	Events      []Event    // every API call and callback, in order
	Snapshots   []Snapshot // getStats results in time order, each complete
}

// Event is one API call or callback.
type Event struct {
	Time  time.Time
	Name  string // as the dump names it: "createOffer", "oniceconnectionstatechange", "iceconnectionstatechange"…
	Value string // its argument or result: a string as is, anything else as compact JSON; cut at 8 KiB
}

// Snapshot is one getStats result with every report in it.
type Snapshot struct {
	Time    time.Time
	Reports map[string]Report // by report id
}

// Report is one stats report (an RTCStats dictionary, or a legacy goog*
// report). Its maps are shared between snapshots while the report does not
// change: treat them as read-only.
type Report struct {
	Type string
	Time time.Time
	Num  map[string]float64 // numeric fields
	// Str holds the other fields: strings as they are, booleans as "true"
	// and "false", objects and arrays as compact JSON. Legacy stats write
	// every value as a string, so their numbers are here too (see Number).
	Str map[string]string
}

// Number returns a numeric field, reading a legacy report's numeric
// strings as numbers.
func (r Report) Number(field string) (float64, bool) {
	if v, ok := r.Num[field]; ok {
		return v, true
	}
	if s, ok := r.Str[field]; ok {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v, true
		}
	}
	return 0, false
}

// Text returns a field as text, formatting a number if the field is one.
func (r Report) Text(field string) string {
	if s, ok := r.Str[field]; ok {
		return s
	}
	if v, ok := r.Num[field]; ok {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// MediaOutcome is how a getUserMedia or getDisplayMedia call ended.
type MediaOutcome string

// The outcomes of a media request.
const (
	MediaPending MediaOutcome = ""        // no answer in the dump
	MediaSuccess MediaOutcome = "success" // the page got tracks
	MediaFailure MediaOutcome = "failure" // the call was rejected
)

// MediaRequest is one getUserMedia or getDisplayMedia call.
type MediaRequest struct {
	Time        time.Time
	Display     bool // getDisplayMedia (screen capture) rather than getUserMedia
	Audio       bool // audio was asked for
	Video       bool // video (or the screen) was asked for
	Constraints string

	Outcome    MediaOutcome
	ResultTime time.Time
	Tracks     []MediaTrack // on success
	// Error is the error's name on failure, such as NotAllowedError or
	// NotFoundError, and ErrorMessage its message when the dump has one.
	Error        string
	ErrorMessage string
}

// MediaTrack is a track a media request returned.
type MediaTrack struct {
	ID    string
	Kind  string // "audio" or "video"
	Label string // the device, e.g. "Built-in Microphone"
}

// LineError is a line (rtcstats) or entry (webrtc-internals) that could not
// be read. It was skipped, unless Reason says what was kept instead (an
// update log entry whose time is unreadable keeps the previous entry's).
type LineError struct {
	Line   int    // 1-based line number in an rtcstats dump; 0 for webrtc-internals
	Entry  string // webrtc-internals: the peer connection and the log entry or stats series
	Reason string
}

func (e LineError) Error() string {
	if e.Entry != "" {
		return e.Entry + ": " + e.Reason
	}
	return "line " + strconv.Itoa(e.Line) + ": " + e.Reason
}

// maxEventValue bounds an Event's Value. Descriptions (SDP) run to some
// kilobytes; anything longer than this is cut.
const maxEventValue = 8 << 10

// headSize is how much of the input Parse looks at to tell the format.
const headSize = 4 << 10

// Detect tells the format of a dump from its first bytes.
func Detect(head []byte) (Format, bool) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return "", false
	}
	switch head[0] {
	case '[':
		// An rtcstats line starts with its method name.
		rest := bytes.TrimLeft(head[1:], " \t")
		if len(rest) > 0 && rest[0] == '"' {
			return FormatRTCStats, true
		}
	case '{':
		// The dump's own keys, as keys: an ACS client operation may well
		// carry a "UserAgent" field or name getUserMedia in a value.
		if isKey(head, `"PeerConnections"`, '{') || isKey(head, `"getUserMedia"`, '[') {
			return FormatInternals, true
		}
	}
	return "", false
}

// isKey reports whether head has key followed by a colon and a value that
// opens with open.
func isKey(head []byte, key string, open byte) bool {
	for rest := head; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return false
		}
		rest = rest[i+len(key):]
		v := bytes.TrimLeft(rest, " \t\r\n")
		if len(v) > 0 && v[0] == ':' {
			v = bytes.TrimLeft(v[1:], " \t\r\n")
			if len(v) > 0 && v[0] == open {
				return true
			}
		}
	}
}

// Parse reads a dump of either format, gzip-compressed or not (recent
// Chrome versions compress the dumps webrtc-internals saves); name names
// the input in errors. Lines or entries that cannot be read come back as
// LineErrors and are skipped. The error is for input of which nothing is
// usable: another format, an empty file, a read failure.
func Parse(r io.Reader, name string) (*Dump, []LineError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(headSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
		head, err = br.Peek(headSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, fmt.Errorf("read %s: gzip: %w", name, err)
		}
	}
	format, ok := Detect(head)
	if !ok {
		if len(bytes.TrimSpace(head)) == 0 {
			return nil, nil, fmt.Errorf("%s: empty input: %w", name, ErrUnknownFormat)
		}
		return nil, nil, fmt.Errorf("%s: %w", name, ErrUnknownFormat)
	}
	switch format {
	case FormatRTCStats:
		return parseRTCStats(br, name)
	default:
		return parseInternals(br, name)
	}
}
