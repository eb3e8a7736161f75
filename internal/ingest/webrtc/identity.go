package webrtc

import (
	"strings"

	"github.com/valyala/fastjson"
)

// identityKeys lists, for each of the Dump's identity fields, the keys that
// carry it, most specific first. Clients name things differently: the
// original rtcstats client takes rtcStats* constraints, Jitsi Meet sends
// confName, confID, endpointId and displayName in "identity" records.
var identityKeys = []struct {
	keys []string
	set  func(d *Dump, v string)
}{
	{[]string{"conferenceId", "confName", "conferenceName", "roomName", "rtcStatsConferenceId", "meetingUniqueId"}, func(d *Dump, v string) { d.ConferenceID = v }},
	{[]string{"conferenceUrl", "confID", "confUrl"}, func(d *Dump, v string) { d.ConferenceURL = v }},
	{[]string{"clientId", "rtcStatsClientId", "endpointId"}, func(d *Dump, v string) { d.ClientID = v }},
	{[]string{"statsSessionId", "sessionId"}, func(d *Dump, v string) { d.SessionID = v }},
	{[]string{"userId", "rtcStatsPeerId"}, func(d *Dump, v string) { d.UserID = v }},
	{[]string{"displayName"}, func(d *Dump, v string) { d.DisplayName = v }},
}

// setIdentity records one identity field; later records win.
func setIdentity(d *Dump, key, value string) {
	if value == "" {
		return
	}
	if d.Identity == nil {
		d.Identity = make(map[string]string)
	}
	d.Identity[key] = value
}

// mergeIdentity records the scalar members of an identity record. Clients
// send several, each with some of the fields.
func mergeIdentity(d *Dump, v *fastjson.Value) {
	switch kind(v) {
	case fastjson.TypeObject:
	case fastjson.TypeString:
		parsed, err := fastjson.ParseBytes(v.GetStringBytes())
		if err != nil {
			return
		}
		v = parsed
	default:
		return
	}
	o, err := v.Object()
	if err != nil {
		return
	}
	o.Visit(func(k []byte, val *fastjson.Value) {
		if s, ok := scalarText(val); ok {
			setIdentity(d, string(k), s)
		}
	})
}

// finishIdentity fills the Dump's named identity fields from Identity.
func finishIdentity(d *Dump) {
	for _, f := range identityKeys {
		for _, k := range f.keys {
			if v := d.Identity[k]; v != "" {
				f.set(d, v)
				break
			}
		}
	}
	if d.ConferenceID == "" && d.ConferenceURL != "" {
		// Jitsi's confID is "host/room": the room is the conference.
		u := strings.TrimRight(d.ConferenceURL, "/")
		d.ConferenceID = u[strings.LastIndexByte(u, '/')+1:]
	}
}
