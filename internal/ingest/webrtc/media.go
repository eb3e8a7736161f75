package webrtc

import (
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// mediaMatcher pairs getUserMedia and getDisplayMedia calls with their
// answers. rtcstats logs a call ("navigator.mediaDevices.getUserMedia") and
// later its answer ("…OnSuccess" or "…OnFailure") without an id; answers
// come in the order of the calls, so each goes to the oldest open call of
// its kind.
type mediaMatcher struct {
	requests []MediaRequest
	open     [2][]int // indexes into requests of unanswered calls: [0] user media, [1] display media
}

// record handles a page record if it is a media call or answer.
func (m *mediaMatcher) record(method string, v *fastjson.Value, t time.Time) bool {
	display := strings.Contains(method, "getDisplayMedia")
	if !display && !strings.Contains(method, "getUserMedia") {
		return false
	}
	kind := 0
	if display {
		kind = 1
	}
	switch {
	case strings.HasSuffix(method, "OnSuccess"):
		req := m.answer(kind, display, t)
		req.Outcome = MediaSuccess
		req.Tracks = mediaTracks(v)
	case strings.HasSuffix(method, "OnFailure"):
		req := m.answer(kind, display, t)
		req.Outcome = MediaFailure
		req.Error, req.ErrorMessage = mediaError(v)
	default:
		req := MediaRequest{Time: t, Display: display, Constraints: valueText(v)}
		req.Audio, req.Video = askedKinds(v, display)
		m.requests = append(m.requests, req)
		m.open[kind] = append(m.open[kind], len(m.requests)-1)
	}
	return true
}

// answer returns the oldest open call of a kind, or a new request standing
// for a call the dump does not have.
func (m *mediaMatcher) answer(kind int, display bool, t time.Time) *MediaRequest {
	if len(m.open[kind]) == 0 {
		m.requests = append(m.requests, MediaRequest{Time: t, Display: display})
		m.open[kind] = append(m.open[kind], len(m.requests)-1)
	}
	i := m.open[kind][0]
	m.open[kind] = m.open[kind][1:]
	req := &m.requests[i]
	req.ResultTime = t
	return req
}

// askedKinds reads which media a call's constraints ask for: a kind is
// asked when its member is present and not false. getDisplayMedia without
// constraints asks for the screen.
func askedKinds(v *fastjson.Value, display bool) (audio, video bool) {
	asked := func(key string) bool {
		m := v.Get(key)
		return m != nil && m.Type() != fastjson.TypeFalse && m.Type() != fastjson.TypeNull
	}
	audio, video = asked("audio"), asked("video")
	if display && v.Get("video") == nil {
		video = true
	}
	return audio, video
}

// mediaTracks reads the tracks of a successful call: {"id", "tracks": [...]}.
func mediaTracks(v *fastjson.Value) []MediaTrack {
	var tracks []MediaTrack
	for _, t := range v.GetArray("tracks") {
		tracks = append(tracks, MediaTrack{
			ID:    string(t.GetStringBytes("id")),
			Kind:  string(t.GetStringBytes("kind")),
			Label: string(t.GetStringBytes("label")),
		})
	}
	return tracks
}

// mediaError reads a failed call's error: its name as a string, an object
// with name and message, or "Name: message".
func mediaError(v *fastjson.Value) (name, message string) {
	if v == nil {
		return "", ""
	}
	if v.Type() == fastjson.TypeObject {
		return string(v.GetStringBytes("name")), string(v.GetStringBytes("message"))
	}
	s := valueText(v)
	if n, msg, ok := strings.Cut(s, ": "); ok && strings.HasSuffix(n, "Error") && !strings.Contains(n, " ") {
		return n, msg
	}
	return s, ""
}
