package webrtc

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// maxInternalsSize bounds a webrtc-internals dump, which is one JSON
// document and so is read whole.
const maxInternalsSize = 1 << 30

// internalsParser holds the state of reading one webrtc-internals dump.
type internalsParser struct {
	dump   *Dump
	errs   []LineError
	values fastjson.Parser // for the JSON text inside "values" strings
	media  map[string]int  // "pid/rid/request_id" → index into dump.Media
}

func parseInternals(r *bufio.Reader, name string) (*Dump, []LineError, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInternalsSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxInternalsSize {
		return nil, nil, fmt.Errorf("%s: a webrtc-internals dump over %d bytes is not read", name, maxInternalsSize)
	}
	var p fastjson.Parser
	root, err := p.ParseBytes(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
	if root.Type() != fastjson.TypeObject {
		return nil, nil, fmt.Errorf("%s: a webrtc-internals dump is a JSON object: %w", name, ErrUnknownFormat)
	}
	pcs := root.Get("PeerConnections")
	if pcs == nil && root.Get("getUserMedia") == nil {
		return nil, nil, fmt.Errorf("%s: no PeerConnections or getUserMedia member: %w", name, ErrUnknownFormat)
	}
	ip := &internalsParser{
		dump:  &Dump{Format: FormatInternals, UserAgent: string(root.GetStringBytes("UserAgent"))},
		media: make(map[string]int),
	}
	for _, key := range []string{"getUserMedia", "getDisplayMedia"} {
		for i, e := range root.GetArray(key) {
			ip.mediaEntry(fmt.Sprintf("%s[%d]", key, i), e)
		}
	}
	if pcs != nil {
		o, err := pcs.Object()
		if err != nil {
			ip.fail("PeerConnections", "not an object")
		} else {
			var ids []string
			o.Visit(func(k []byte, _ *fastjson.Value) { ids = append(ids, string(k)) })
			slices.SortFunc(ids, comparePCIDs)
			for _, id := range ids {
				ip.peer(id, o.Get(id))
			}
		}
	}
	ip.finish()
	return ip.dump, ip.errs, nil
}

// comparePCIDs orders webrtc-internals peer connection ids ("pid-lid") by
// process and then creation order, numerically.
func comparePCIDs(a, b string) int {
	ap, al, _ := strings.Cut(a, "-")
	bp, bl, _ := strings.Cut(b, "-")
	if c := compareNumeric(ap, bp); c != 0 {
		return c
	}
	return compareNumeric(al, bl)
}

func compareNumeric(a, b string) int {
	an, aerr := strconv.ParseInt(a, 10, 64)
	bn, berr := strconv.ParseInt(b, 10, 64)
	if aerr == nil && berr == nil {
		return cmp.Compare(an, bn)
	}
	return strings.Compare(a, b)
}

func (ip *internalsParser) fail(entry, reason string) {
	ip.errs = append(ip.errs, LineError{Entry: entry, Reason: reason})
}

// finish sets the dump's time bounds and page URL.
func (ip *internalsParser) finish() {
	d := ip.dump
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if d.Start.IsZero() || t.Before(d.Start) {
			d.Start = t
		}
		if t.After(d.End) {
			d.End = t
		}
	}
	for _, m := range d.Media {
		see(m.Time)
		see(m.ResultTime)
	}
	for _, pc := range d.PeerConnections {
		for _, e := range pc.Events {
			see(e.Time)
		}
		for _, s := range pc.Snapshots {
			see(s.Time)
		}
	}
}

// peer reads one peer connection's entry.
func (ip *internalsParser) peer(id string, v *fastjson.Value) {
	if v.Type() != fastjson.TypeObject {
		ip.fail(id, "the peer connection is not an object")
		return
	}
	pc := &PeerConnection{ID: id}
	ip.dump.PeerConnections = append(ip.dump.PeerConnections, pc)
	if u := v.GetStringBytes("url"); len(u) > 0 && ip.dump.URL == "" {
		ip.dump.URL = string(u)
	}
	pc.Config = redactConfig(v.Get("rtcConfiguration"))
	pc.Constraints = valueText(v.Get("constraints"))

	var last time.Time
	for i, e := range v.GetArray("updateLog") {
		entry := fmt.Sprintf("%s updateLog[%d]", id, i)
		name := e.GetStringBytes("type")
		if e.Type() != fastjson.TypeObject || len(name) == 0 {
			ip.fail(entry, "not an object with a type")
			continue
		}
		// Recent versions write "timestamp" in milliseconds, older ones
		// "time", as milliseconds or as a date in text.
		tv := e.Get("timestamp")
		if tv == nil {
			tv = e.Get("time")
		}
		t, ok := valueTime(tv)
		if !ok {
			ip.fail(entry, fmt.Sprintf("time %s not understood; the previous entry's time is used", valueText(tv)))
			t = last
		}
		last = t
		pc.Events = append(pc.Events, Event{Time: t, Name: string(name), Value: internalsValue(e.Get("value"))})
	}

	if stats := v.Get("stats"); stats != nil {
		o, err := stats.Object()
		if err != nil {
			ip.fail(id+" stats", "not an object")
			return
		}
		pc.Snapshots = ip.snapshots(id, o)
	}
}

// internalsValue renders an update log value. Recent versions write each
// value as JSON text ("\"connected\"", "{\"sdpMid\":…}"); a JSON string is
// unquoted so that a state reads the same in both formats.
func internalsValue(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return eventValue(v)
	}
	s := string(v.GetStringBytes())
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var u string
		if json.Unmarshal([]byte(s), &u) == nil {
			s = u
		}
	}
	return shortText(s, maxEventValue)
}

// mediaEntry reads one entry of the getUserMedia list. Recent versions
// list each call and, as separate entries with the same pid, rid and
// request_id, its answer: tracks or an error. Older versions list calls
// only.
func (ip *internalsParser) mediaEntry(entry string, e *fastjson.Value) {
	if e.Type() != fastjson.TypeObject {
		ip.fail(entry, "not an object")
		return
	}
	t, _ := valueTime(e.Get("timestamp"))
	display := strings.Contains(string(e.GetStringBytes("request_type")), "DisplayMedia") || strings.Contains(entry, "DisplayMedia")
	key := ""
	if e.Get("request_id") != nil {
		key = valueText(e.Get("pid")) + "/" + valueText(e.Get("rid")) + "/" + valueText(e.Get("request_id"))
	}
	isAnswer := e.Get("error") != nil || e.Get("stream_id") != nil ||
		e.Get("audio_track_info") != nil || e.Get("video_track_info") != nil
	d := ip.dump
	if !isAnswer {
		req := MediaRequest{Time: t, Display: display}
		asked := map[string]string{}
		for _, kind := range []string{"audio", "video"} {
			if c := e.Get(kind); c != nil {
				asked[kind] = valueText(c)
			}
		}
		_, req.Audio = asked["audio"]
		_, req.Video = asked["video"]
		if display && !req.Audio && !req.Video {
			req.Video = true
		}
		if len(asked) > 0 {
			b, _ := json.Marshal(asked)
			req.Constraints = string(b)
		}
		d.Media = append(d.Media, req)
		if key != "" {
			ip.media[key] = len(d.Media) - 1
		}
		return
	}
	i, ok := ip.media[key]
	if !ok || key == "" {
		d.Media = append(d.Media, MediaRequest{Display: display})
		i = len(d.Media) - 1
	}
	req := &d.Media[i]
	req.ResultTime = t
	if errName := e.Get("error"); errName != nil {
		req.Outcome = MediaFailure
		req.Error = valueText(errName)
		req.ErrorMessage = valueText(e.Get("error_message"))
		return
	}
	req.Outcome = MediaSuccess
	for _, kind := range []string{"audio", "video"} {
		if info := e.Get(kind + "_track_info"); info != nil {
			req.Tracks = append(req.Tracks, trackInfo(kind, valueText(info)))
		}
	}
}

// trackInfo reads a track description of the getUserMedia list: JSON with
// id and label in recent versions, plain text before.
func trackInfo(kind, s string) MediaTrack {
	var info struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	}
	if json.Unmarshal([]byte(s), &info) == nil {
		return MediaTrack{ID: info.ID, Kind: kind, Label: info.Label}
	}
	return MediaTrack{Kind: kind, Label: s}
}
