package simulate

import (
	"strconv"
	"time"
)

// clientOp is one CallClientOperations row.
type clientOp struct {
	at      time.Time
	name    string
	durMs   float64
	result  string
	sig     int
	payload string
	preCall bool // logged before the call existed: no CallId, no ParticipantId
	opID    string
}

// codePayload closes a JSON payload prefix with the code and subcode an
// operation failed with.
func codePayload(prefix string, code, sub int) string {
	p := prefix
	if p != "{" {
		p += ","
	}
	p += `"Code":` + strconv.Itoa(code)
	if sub >= 0 {
		p += `,"SubCode":` + strconv.Itoa(sub)
	}
	return p + "}"
}

// pointName spells a state-change event the way one SDK build does.
func (c *call) pointName(name string) string {
	if chance(c.r, 0.2) {
		return variant(name, true)
	}
	return name
}

// clientOps lists the operations a VoIP client logs: set-up before the
// call, the join, device and view changes, the UFDs its causes raise, and
// the hang-up.
func (c *call) clientOps(l *leg) []clientOp {
	r := c.r
	var ops []clientOp
	add := func(op clientOp) {
		if op.result == "" {
			op.result, op.sig = "Succeeded", 200
		}
		op.opID = guid(r)
		ops = append(ops, op)
	}
	point := func(at time.Time, name, payload string) {
		add(clientOp{at: at, name: c.pointName(name), payload: payload})
	}
	if !l.rejoin {
		add(clientOp{at: l.initAt, name: "CallAgentInit", durMs: uniform(r, 300, 1800), preCall: true})
		ask := clientOp{at: l.askAt, name: "AskDevicePermission", durMs: uniform(r, 50, 3500), preCall: true,
			payload: `{"Audio":` + strconv.FormatBool(l.permAudio) + `,"Video":` + strconv.FormatBool(l.permVideo) + `}`}
		if !l.permAudio || !l.permVideo {
			ask.result, ask.sig = "ExpectedError", permCode
			ask.payload = codePayload(ask.payload[:len(ask.payload)-1], permCode, permSub)
		}
		add(ask)
	}
	join := clientOp{at: l.join, name: l.joinOp, durMs: float64(l.start.Sub(l.join).Milliseconds())}
	switch l.joinOp {
	case "EnterCall":
		join.payload = `{"CallDirection":"Outgoing"}`
	case "AcceptIncomingCall":
		join.payload = `{"CallDirection":"Incoming"}`
	}
	if l.setupFailed {
		join.durMs = float64(l.end.Sub(l.join).Milliseconds())
		join.result, join.sig = "Failed", l.endCode
		join.payload = codePayload("{", l.endCode, l.endSub)
	}
	add(join)
	point(l.join.Add(time.Millisecond), "State-changed", `{"State":"Connecting"}`)
	if !l.setupFailed {
		point(l.start, "State-changed", `{"State":"Connected"}`)
	}
	for _, v := range l.video {
		add(clientOp{at: v.from, name: "StartVideo", durMs: uniform(r, 300, 1500), payload: `{"StreamType":"Video","Source":"local"}`})
		add(clientOp{at: v.from.Add(secs(uniform(r, 0.5, 2))), name: "CreateView", durMs: uniform(r, 100, 600), payload: `{"StreamType":"Video","Source":"local"}`})
		if v.to.Before(l.end) {
			add(clientOp{at: v.to, name: "StopVideo", durMs: uniform(r, 50, 400), payload: `{"StreamType":"Video","Source":"local"}`})
		}
	}
	for _, s := range l.screen {
		add(clientOp{at: s.from, name: "StartScreenShare", durMs: uniform(r, 800, 6000), payload: `{"StreamType":"ScreenSharing","Source":"local"}`})
		if s.to.Before(l.end) {
			add(clientOp{at: s.to, name: "StopScreenShare", durMs: uniform(r, 50, 400), payload: `{"StreamType":"ScreenSharing","Source":"local"}`})
		}
	}
	for _, m := range l.muted {
		add(clientOp{at: m.from, name: "MuteMicrophone", durMs: uniform(r, 5, 60)})
		point(m.from.Add(20*time.Millisecond), "IsMuted-changed", `{"IsMuted":true}`)
		if m.to.Before(l.end) {
			add(clientOp{at: m.to, name: "UnmuteMicrophone", durMs: uniform(r, 5, 60)})
			point(m.to.Add(20*time.Millisecond), "IsMuted-changed", `{"IsMuted":false}`)
		}
	}
	for i, v := range l.views {
		typ := "Video"
		if v.media == mediaScreen {
			typ = "ScreenSharing"
		}
		payload := `{"StreamType":"` + typ + `","StreamId":"` + strconv.Itoa(v.remote.idx+1) + `.0","Source":"remote","RemoteParticipantId":"` + v.remote.key() + `"}`
		view := clientOp{at: v.from.Add(secs(uniform(r, 0.2, 1.5))), name: "CreateView", durMs: uniform(r, 150, 900), payload: payload}
		if i == 0 && l.benignViewError {
			// The remote turned its camera off while the view was being
			// created: an expected, harmless error.
			view.result, view.sig = "ExpectedError", 404
			view.payload = codePayload(payload[:len(payload)-1], 404, 43202)
			add(view)
			continue
		}
		add(view)
		end := v.to
		if !end.Before(l.end) {
			end = l.end.Add(-secs(uniform(r, 0.05, 0.3)))
		}
		add(clientOp{at: end, name: "DisposeView", durMs: uniform(r, 5, 80), payload: payload})
	}
	for _, o := range l.ops {
		add(clientOp{at: o.at, name: o.name, durMs: o.durMs, result: o.result, sig: o.sig, payload: o.payload})
	}
	for _, ev := range l.ufds {
		id := guid(r)
		alt := chance(r, 0.15)
		for _, ch := range ev.changes {
			ops = append(ops, clientOp{at: ch.at, name: "UserFacingDiagnostics", result: "Succeeded", sig: 200, opID: id,
				payload: `{"` + variant("DiagnosticChanged", alt) + `":"` + ev.name + `","` + variant("DiagnosticQuality", alt) + `":"` + ch.value + `"}`})
		}
	}
	if l.plat == platWeb && chance(r, 0.05) && !l.setupFailed {
		point(l.start.Add(secs(r.Float64()*l.dur().Seconds())), "PageHidden", "")
	}
	if l.hangup {
		d := uniform(r, 50, 600)
		add(clientOp{at: l.end.Add(-secs(d / 1000)), name: "Hangup", durMs: d})
	}
	point(l.end, "State-changed", `{"State":"Disconnected"}`)
	// A cause can end a leg early (a drop, or the peer's drop in P2P):
	// nothing is logged after the leg is over.
	kept := ops[:0]
	for _, op := range ops {
		if !op.at.After(l.end) {
			kept = append(kept, op)
		}
	}
	return kept
}

func (c *call) emitClientOps(l *leg) error {
	r := c.r
	for _, op := range c.clientOps(l) {
		at := op.at.Add(l.uploadLag + secs(uniform(r, 0, 20)))
		if chance(r, 0.01) {
			at = at.Add(secs(uniform(r, 3600, 6*3600))) // a client that uploaded hours later
		}
		corr, callID := c.id, c.id
		if op.preCall {
			corr, callID = "", ""
		}
		w := c.begin(l.res, at, catClientOps, op.name, "1.0", corr)
		w.ts("CallClientTimeStamp", op.at)
		w.str("CallId", callID)
		if op.preCall {
			w.str("ParticipantId", "")
		} else {
			c.participantField(w, "ParticipantId", l, false)
		}
		w.str("OperationType", "client-api-request")
		w.str("OperationId", op.opID)
		w.integer("DurationMs", int64(op.durMs))
		w.str("ResultType", op.result)
		w.integer("ResultSignature", int64(op.sig))
		w.str("SdkVersion", l.sdk)
		w.str("UserAgent", l.ua)
		w.str("ClientInstanceId", l.clientID)
		w.str("EndpointId", l.endpointID)
		if op.payload != "" {
			w.str("OperationPayload", op.payload)
		}
		if err := c.emit(catClientOps, l.res, at); err != nil {
			return err
		}
	}
	return nil
}
