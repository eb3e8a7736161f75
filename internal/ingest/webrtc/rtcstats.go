package webrtc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// maxLine bounds one rtcstats line. A getStats record of a large call is a
// few hundred kilobytes; a longer line is reported and skipped rather than
// held.
const maxLine = 32 << 20

// rtcstatsParser holds the state of reading one rtcstats dump.
type rtcstatsParser struct {
	p       fastjson.Parser
	dump    *Dump
	pcs     map[string]*rtcstatsPC
	errs    []LineError
	records int       // lines read successfully
	last    time.Time // the latest record time, for records written without one
	media   mediaMatcher
}

// rtcstatsPC is a peer connection being read.
type rtcstatsPC struct {
	pc    *PeerConnection
	stats *snapshotBuilder
}

func parseRTCStats(r *bufio.Reader, name string) (*Dump, []LineError, error) {
	p := &rtcstatsParser{
		dump: &Dump{Format: FormatRTCStats},
		pcs:  make(map[string]*rtcstatsPC),
	}
	var buf []byte
	for n := 1; ; n++ {
		line, tooLong, err := readLine(r, &buf, maxLine)
		if tooLong {
			p.fail(n, fmt.Sprintf("line longer than %d bytes", maxLine))
		} else if len(line) > 0 {
			p.line(n, line)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, p.errs, fmt.Errorf("read %s line %d: %w", name, n, err)
		}
	}
	if p.records == 0 {
		return nil, p.errs, fmt.Errorf("%s: no readable rtcstats records (%d bad lines)", name, len(p.errs))
	}
	p.dump.Media = p.media.requests
	finishIdentity(p.dump)
	return p.dump, p.errs, nil
}

// readLine returns the next line without its line break or surrounding
// blanks, reusing buf. A line over limit bytes is consumed and reported as
// tooLong. err is io.EOF after the last line.
func readLine(r *bufio.Reader, buf *[]byte, limit int) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(chunk) > limit {
				tooLong = true
				*buf = (*buf)[:0]
			} else {
				*buf = append(*buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		return bytes.TrimSpace(*buf), false, err
	}
}

func (p *rtcstatsParser) fail(n int, reason string) {
	p.errs = append(p.errs, LineError{Line: n, Reason: reason})
}

// line reads one record: [method, pcId|null, value, timestampMs?].
func (p *rtcstatsParser) line(n int, b []byte) {
	v, err := p.p.ParseBytes(b)
	if err != nil {
		p.fail(n, "invalid JSON: "+err.Error())
		return
	}
	rec, err := v.Array()
	if err != nil {
		p.fail(n, "not a JSON array")
		return
	}
	if len(rec) < 2 {
		p.fail(n, "a record needs at least a method and a peer connection id")
		return
	}
	if rec[0].Type() != fastjson.TypeString {
		p.fail(n, "the method is not a string")
		return
	}
	method := string(rec[0].GetStringBytes())
	var pcID string
	switch rec[1].Type() {
	case fastjson.TypeString:
		pcID = string(rec[1].GetStringBytes())
	case fastjson.TypeNull:
	case fastjson.TypeNumber:
		pcID = strconv.FormatFloat(rec[1].GetFloat64(), 'f', -1, 64)
	default:
		p.fail(n, "the peer connection id is neither a string nor null")
		return
	}
	var value *fastjson.Value
	if len(rec) > 2 {
		value = rec[2]
	}
	t, timed := p.last, false
	if len(rec) > 3 && rec[3].Type() != fastjson.TypeNull {
		ts, ok := valueTime(rec[3])
		if !ok {
			p.fail(n, "the timestamp is not a time in milliseconds")
			return
		}
		t, timed = ts, true
	}

	if pcID != "" {
		if !p.peerRecord(n, pcID, method, value, t) {
			return
		}
	} else {
		p.pageRecord(method, value, t)
	}
	p.records++
	if timed {
		if t.After(p.last) {
			p.last = t
		}
		if method != "connectionInfo" && method != "identity" {
			if p.dump.Start.IsZero() || t.Before(p.dump.Start) {
				p.dump.Start = t
			}
			if t.After(p.dump.End) {
				p.dump.End = t
			}
		}
	}
}

// peerRecord handles a record of one peer connection; false means the line
// was bad (and has been reported).
func (p *rtcstatsParser) peerRecord(n int, pcID, method string, value *fastjson.Value, t time.Time) bool {
	st := p.pcs[pcID]
	if st == nil {
		st = &rtcstatsPC{pc: &PeerConnection{ID: pcID}, stats: newSnapshotBuilder()}
		p.pcs[pcID] = st
		p.dump.PeerConnections = append(p.dump.PeerConnections, st.pc)
	}
	switch method {
	case "getstats", "getStats":
		snap, reason := applyStats(st.stats, value, t)
		if reason != "" {
			p.fail(n, reason)
			return false
		}
		st.pc.Snapshots = append(st.pc.Snapshots, snap)
		return true
	case "create":
		st.pc.Config = redactConfig(value)
		st.pc.Events = append(st.pc.Events, Event{Time: t, Name: method, Value: shortText(st.pc.Config, maxEventValue)})
		return true
	case "constraints":
		st.pc.Constraints = valueText(value)
		p.constraintIdentity(value)
	}
	st.pc.Events = append(st.pc.Events, Event{Time: t, Name: method, Value: eventValue(value)})
	return true
}

// pageRecord handles a record that belongs to no peer connection.
func (p *rtcstatsParser) pageRecord(method string, value *fastjson.Value, t time.Time) {
	switch method {
	case "identity":
		mergeIdentity(p.dump, value)
		return
	case "connectionInfo":
		info := value
		if info != nil && info.Type() == fastjson.TypeString {
			// Some clients send it as a string of JSON.
			if parsed, err := fastjson.ParseBytes(info.GetStringBytes()); err == nil {
				info = parsed
			}
		}
		if s := info.GetStringBytes("userAgent"); len(s) > 0 {
			p.dump.UserAgent = string(s)
		}
		if s := info.GetStringBytes("url"); len(s) > 0 {
			p.dump.URL = string(s)
		}
		return
	case "userAgent":
		p.dump.UserAgent = valueText(value)
		return
	}
	if p.media.record(method, value, t) {
		return
	}
	p.dump.Events = append(p.dump.Events, Event{Time: t, Name: method, Value: eventValue(value)})
}

// constraintIdentity picks up the identifiers the original rtcstats client
// asks pages to pass as legacy peer connection constraints.
func (p *rtcstatsParser) constraintIdentity(v *fastjson.Value) {
	for _, opt := range v.GetArray("optional") {
		o, err := opt.Object()
		if err != nil {
			continue
		}
		o.Visit(func(k []byte, val *fastjson.Value) {
			key := string(k)
			switch key {
			case "rtcStatsClientId", "rtcStatsPeerId", "rtcStatsConferenceId":
				if s, ok := scalarText(val); ok {
					setIdentity(p.dump, key, s)
				}
			}
		})
	}
}

// applyStats applies one getstats value to a peer connection's reports and
// returns the resulting complete snapshot, or why the value is unusable.
//
// The rtcstats client delta-compresses: the value's own "timestamp" member
// is the time of the getStats call; a report it does not mention has not
// changed; a mentioned report lists only the fields that changed; and a
// report's "timestamp" of 0 means "the call's time". A value without the
// top-level timestamp is a full snapshot, and replaces the previous one.
// An array of reports (each with its "id") is a full snapshot as well.
func applyStats(b *snapshotBuilder, v *fastjson.Value, lineTime time.Time) (Snapshot, string) {
	if v == nil {
		return Snapshot{}, "getstats record without a value"
	}
	switch v.Type() {
	case fastjson.TypeObject:
	case fastjson.TypeArray:
		return applyStatsArray(b, v, lineTime)
	default:
		return Snapshot{}, "getstats value is not an object"
	}
	o, _ := v.Object()
	snapTime, delta := time.Time{}, false
	if ts := o.Get("timestamp"); ts != nil && ts.Type() == fastjson.TypeNumber {
		delta = true
		snapTime, _ = msTime(ts.GetFloat64())
	}
	if snapTime.IsZero() {
		snapTime = lineTime
	}
	var bad string
	o.Visit(func(k []byte, r *fastjson.Value) {
		if bad == "" && string(k) != "timestamp" && r.Type() != fastjson.TypeObject {
			bad = "getstats report " + strconv.Quote(string(k)) + " is not an object"
		}
	})
	if bad != "" {
		return Snapshot{}, bad
	}
	if !delta {
		b.reset()
	}
	o.Visit(func(k []byte, r *fastjson.Value) {
		if string(k) != "timestamp" {
			applyReport(b, string(k), r, snapTime)
		}
	})
	if snapTime.IsZero() {
		for _, s := range b.cur {
			if s.Time.After(snapTime) {
				snapTime = s.Time
			}
		}
	}
	return b.commit(snapTime, !delta), ""
}

// applyStatsArray reads a full snapshot given as an array of reports.
func applyStatsArray(b *snapshotBuilder, v *fastjson.Value, lineTime time.Time) (Snapshot, string) {
	reports := v.GetArray()
	for i, r := range reports {
		if r.Type() != fastjson.TypeObject || len(r.GetStringBytes("id")) == 0 {
			return Snapshot{}, fmt.Sprintf("getstats report %d is not an object with an id", i)
		}
	}
	b.reset()
	snapTime := lineTime
	for _, r := range reports {
		applyReport(b, string(r.GetStringBytes("id")), r, lineTime)
	}
	if snapTime.IsZero() {
		for _, s := range b.cur {
			if s.Time.After(snapTime) {
				snapTime = s.Time
			}
		}
	}
	return b.commit(snapTime, true), ""
}

// applyReport applies one report (complete or a delta) to the builder.
func applyReport(b *snapshotBuilder, id string, r *fastjson.Value, snapTime time.Time) {
	s, _ := b.report(id, snapTime)
	o, _ := r.Object()
	o.Visit(func(k []byte, f *fastjson.Value) {
		field := string(k)
		switch field {
		case "id":
			return
		case "type":
			s.Type = valueText(f)
			return
		case "timestamp":
			// 0 stands for the snapshot's own time.
			if f.Type() == fastjson.TypeNumber && f.GetFloat64() == 0 {
				s.Time = snapTime
			} else if t, ok := valueTime(f); ok {
				s.Time = t
			}
			return
		}
		setField(b, s, field, f)
	})
}

// setField stores one stats field by its JSON type.
func setField(b *snapshotBuilder, s *reportState, field string, f *fastjson.Value) {
	switch f.Type() {
	case fastjson.TypeNumber:
		b.setNum(s, field, f.GetFloat64())
	case fastjson.TypeString:
		b.setStr(s, field, string(f.GetStringBytes()))
	case fastjson.TypeTrue:
		b.setStr(s, field, "true")
	case fastjson.TypeFalse:
		b.setStr(s, field, "false")
	case fastjson.TypeNull:
		// A field the browser has no value for yet; nothing to keep.
	default:
		b.setStr(s, field, string(f.MarshalTo(nil)))
	}
}
