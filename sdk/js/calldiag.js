// calldiag browser collector.
//
// Records what a page's WebRTC peer connections do (API calls, callbacks,
// getStats snapshots) and what it asks of the camera, microphone and
// screen, and sends it to a calldiag server in batches of rtcstats lines,
// where it is stored and diagnosed with the call's other logs.
//
//   import {start} from "https://calldiag.example/sdk/calldiag.js";
//   const c = start({endpoint: "https://calldiag.example", key: "COLLECT_KEY",
//                    callId: "…", participantId: "…"});
//
// By default nothing personal leaves the page: no device labels, no IP
// addresses (candidate addresses are replaced by "x.x.x.x"), no SDP.
// collectDeviceLabels, collectAddresses and collectSdp turn each on.
//
// The wire format (one JSON array a line, [method, pcId|null, value, ms])
// is read by calldiag's rtcstats parser; every batch stands alone: it
// starts with the page's identity, repeats each peer connection's creation
// and state changes so far, and delta-compresses getStats results only
// against snapshots of the same batch.
//
// No dependencies and no build step: this file is what browsers load.

const FORMAT_VERSION = 1;
const MASKED_ADDRESS = "x.x.x.x";
const ADDRESS_FIELDS = ["address", "ip", "relatedAddress", "url"];
const STATE_CALLBACKS = [
  "signalingstatechange",
  "iceconnectionstatechange",
  "icegatheringstatechange",
  "connectionstatechange",
];
const STATE_OF = {
  signalingstatechange: "signalingState",
  iceconnectionstatechange: "iceConnectionState",
  icegatheringstatechange: "iceGatheringState",
  connectionstatechange: "connectionState",
};
// A beacon or keepalive fetch may carry this much; browsers refuse more.
const KEEPALIVE_BYTES = 60 * 1024;
// A peer connection's history of state changes repeated in every batch is
// cut to its latest entries beyond this, so that a flapping connection
// cannot grow batches without bound.
const MAX_HISTORY = 500;
// Without a call and participant id batches cannot be sent; until they
// come (setCall), at most this many snapshots per peer connection wait.
const MAX_WAITING_SNAPSHOTS = 12;
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 60000;

// The page load: every collector of the page reports under one session,
// whose batches are numbered from 1.
const session = {id: randomId(), start: Math.round(performance.timeOrigin || Date.now()), seq: 0};

function randomId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * start begins recording and sending. Options:
 *   endpoint        the calldiag server's base URL (required)
 *   key             the collect key the server was started with (required)
 *   callId, participantId  who is recording (batches wait until both are set)
 *   userLabel       a name to show for the participant (optional)
 *   statsInterval   ms between getStats calls (5000)
 *   batchInterval   ms between batches (10000)
 *   maxBuffered     bytes of unsent batches kept while the server is unreachable (2 MB)
 *   collectAddresses, collectSdp, collectDeviceLabels   opt in to personal data (false)
 *   wrap            record every RTCPeerConnection the page creates (true)
 *   remoteParticipantId  the participant at the far end of the page's peer
 *                   connections, when each talks to one other participant
 *                   (a P2P call); attach(pc, {remoteParticipantId}) names it
 *                   per connection instead. calldiag then knows which
 *                   sender each received stream comes from, and whose
 *                   network to blame.
 * It returns {attach(pc, {remoteParticipantId}), setCall(callId, participantId), flush(), stop()}.
 */
export function start(options) {
  return new Collector(options || {}).api();
}

class Collector {
  constructor(o) {
    if (!o.endpoint) throw new TypeError("calldiag: start needs an endpoint");
    if (!o.key) throw new TypeError("calldiag: start needs a key");
    this.url = String(o.endpoint).replace(/\/+$/, "") + "/api/v1/collect?key=" + encodeURIComponent(o.key);
    this.callId = o.callId || "";
    this.participantId = o.participantId || "";
    this.userLabel = o.userLabel || "";
    this.statsInterval = positive(o.statsInterval, 5000);
    this.batchInterval = positive(o.batchInterval, 10000);
    this.maxBuffered = positive(o.maxBuffered, 2 * 1024 * 1024);
    this.collectAddresses = !!o.collectAddresses;
    this.collectSdp = !!o.collectSdp;
    this.collectDeviceLabels = !!o.collectDeviceLabels;
    this.remoteParticipantId = o.remoteParticipantId ? String(o.remoteParticipantId) : "";

    this.pcs = []; // recorded peer connections, in creation order
    this.pcCount = 0;
    this.entries = []; // what happened since the last batch: {line} or {pc, time, stats}
    this.lastStats = {}; // the last snapshot sent of each pc: {stats, time}
    this.queue = []; // built batches not yet delivered: {body, size, drops}
    this.queued = 0; // their bytes
    this.dropped = 0; // batches dropped since the last identity line said so
    this.retryMs = 0;
    this.retryTimer = 0;
    this.inFlight = null; // the queue item being sent
    this.pumping = null;
    this.stopped = false;
    this.undo = []; // restores what start changed

    this.watchMedia();
    if (o.wrap !== false) this.wrapConstructor();
    const onHide = () => this.sendOnHide();
    const onVisibility = () => {
      if (document.visibilityState === "hidden") this.sendOnHide();
    };
    addEventListener("pagehide", onHide);
    document.addEventListener("visibilitychange", onVisibility);
    this.undo.push(() => {
      removeEventListener("pagehide", onHide);
      document.removeEventListener("visibilitychange", onVisibility);
    });
    const statsTimer = setInterval(() => this.pollStats(), this.statsInterval);
    const batchTimer = setInterval(() => this.flush(), this.batchInterval);
    this.undo.push(() => {
      clearInterval(statsTimer);
      clearInterval(batchTimer);
      clearTimeout(this.retryTimer);
    });
  }

  api() {
    return {
      attach: (pc, opts) => this.observe(pc, undefined, opts),
      setCall: (callId, participantId) => this.setCall(callId, participantId),
      flush: () => this.flush(),
      stop: () => this.stop(),
    };
  }

  // ---- recording ----

  record(method, pcId, value, time) {
    const line = [method, pcId, value === undefined ? null : value, time || Date.now()];
    if (!this.stopped) this.entries.push({line});
    return line;
  }

  wrapConstructor() {
    const Native = globalThis.RTCPeerConnection;
    if (!Native) return;
    const collector = this;
    class RecordedPeerConnection extends Native {
      constructor(config, ...rest) {
        super(config, ...rest);
        collector.observe(this, config);
      }
    }
    globalThis.RTCPeerConnection = RecordedPeerConnection;
    const legacy = globalThis.webkitRTCPeerConnection;
    if (legacy === Native) globalThis.webkitRTCPeerConnection = RecordedPeerConnection;
    this.undo.push(() => {
      if (globalThis.RTCPeerConnection === RecordedPeerConnection) globalThis.RTCPeerConnection = Native;
      if (legacy === Native && globalThis.webkitRTCPeerConnection === RecordedPeerConnection) {
        globalThis.webkitRTCPeerConnection = Native;
      }
    });
  }

  // observe records pc from now on; config is what it was created with
  // (else its current configuration). opts.remoteParticipantId names the
  // participant at its far end, also for a pc recorded already.
  observe(pc, config, opts) {
    const remote = opts && opts.remoteParticipantId ? String(opts.remoteParticipantId) : "";
    const known = pc && this.pcs.find((s) => s.pc === pc);
    if (known && remote) known.remote = remote;
    if (this.stopped || !pc || known) return;
    if (config === undefined && typeof pc.getConfiguration === "function") {
      try {
        config = pc.getConfiguration();
      } catch (e) {
        config = null;
      }
    }
    const state = {
      pc,
      id: "pc-" + ++this.pcCount,
      history: [], // create and state-change lines, repeated in every batch
      repeat: 0, // how many history lines earlier batches carried
      rttSum: 0,
      rttCount: 0,
      remote, // the far end's participant id, when told
      closed: false,
      undo: [],
    };
    this.pcs.push(state);
    state.history.push(this.record("create", state.id, publicConfig(config)));
    this.wrapMethods(state);
    this.listen(state);
  }

  wrapMethods(state) {
    const pc = state.pc;
    const self = this;
    const described = (d) => this.description(d);
    // Methods written at their call, with their argument.
    const calls = {
      setLocalDescription: described,
      setRemoteDescription: described,
      addIceCandidate: (c) => this.candidate(c),
      addTrack: (track, ...streams) => trackInfo(track, streams),
      close: () => null,
    };
    // Methods written when they succeed, with the description they made.
    const results = {createOffer: described, createAnswer: described};
    const wrap = (name, fn) => {
      const original = pc[name];
      if (typeof original !== "function") return;
      pc[name] = fn(original);
      state.undo.push(() => {
        pc[name] = original;
      });
    };
    for (const [name, value] of Object.entries(calls)) {
      wrap(name, (original) =>
        function (...args) {
          self.record(name, state.id, safe(() => value(...args)));
          if (name === "close") self.closed(state);
          let out;
          try {
            out = original.apply(this, args);
          } catch (e) {
            self.record(name + "OnFailure", state.id, errorText(e));
            throw e;
          }
          if (out && typeof out.then === "function") {
            out.then(undefined, (e) => self.record(name + "OnFailure", state.id, errorText(e)));
          }
          return out;
        });
    }
    for (const [name, value] of Object.entries(results)) {
      wrap(name, (original) =>
        function (...args) {
          let out;
          try {
            out = original.apply(this, args);
          } catch (e) {
            self.record(name + "OnFailure", state.id, errorText(e));
            throw e;
          }
          if (out && typeof out.then === "function") {
            out.then(
              (d) => self.record(name, state.id, safe(() => value(d))),
              (e) => self.record(name + "OnFailure", state.id, errorText(e)),
            );
          } else {
            // The legacy callback form: the call is all there is to write.
            self.record(name, state.id, null);
          }
          return out;
        });
    }
  }

  listen(state) {
    const pc = state.pc;
    const on = (type, value) => {
      const handler = (ev) => {
        const line = this.record("on" + type, state.id, safe(() => value(ev)));
        if (STATE_OF[type]) {
          state.history.push(line);
          if (state.history.length > MAX_HISTORY) {
            // Keep the create line and the latest changes.
            const cut = state.history.length - MAX_HISTORY;
            state.history.splice(1, cut);
            if (state.repeat > 0) state.repeat = Math.max(1, state.repeat - cut);
          }
          if (type === "connectionstatechange" && pc.connectionState === "closed") this.closed(state);
        }
      };
      pc.addEventListener(type, handler);
      state.undo.push(() => pc.removeEventListener(type, handler));
    };
    on("icecandidate", (ev) => this.candidate(ev.candidate));
    on("track", (ev) => trackInfo(ev.track, ev.streams));
    for (const type of STATE_CALLBACKS) on(type, () => pc[STATE_OF[type]]);
    on("datachannel", (ev) => ({label: ev.channel.label, id: ev.channel.id, protocol: ev.channel.protocol}));
    on("negotiationneeded", () => null);
  }

  closed(state) {
    state.closed = true;
  }

  description(d) {
    if (!d) return null;
    const out = {type: d.type};
    if (this.collectSdp && d.sdp !== undefined) out.sdp = d.sdp;
    return out;
  }

  // candidate describes an ICE candidate by its type, protocol and
  // component; the full candidate (with its address) only when allowed.
  candidate(c) {
    if (!c) return null;
    const text = typeof c === "string" ? c : c.candidate;
    if (!text) return null; // end of candidates
    if (this.collectAddresses) {
      return {candidate: text, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex};
    }
    const parsed = parseCandidate(text);
    return {
      type: c.type || parsed.type,
      protocol: c.protocol || parsed.protocol,
      component: c.component || parsed.component,
    };
  }

  // ---- media ----

  watchMedia() {
    const md = globalThis.navigator && navigator.mediaDevices;
    if (!md) return;
    for (const name of ["getUserMedia", "getDisplayMedia"]) {
      const original = md[name];
      if (typeof original !== "function") continue;
      const method = "navigator.mediaDevices." + name;
      const self = this;
      md[name] = function (constraints, ...rest) {
        self.record(method, null, safe(() => JSON.parse(JSON.stringify(constraints === undefined ? null : constraints))));
        const out = original.call(this, constraints, ...rest);
        return out.then(
          (stream) => {
            self.record(method + "OnSuccess", null, safe(() => self.streamInfo(stream)));
            for (const track of stream.getTracks()) self.watchTrack(track);
            return stream;
          },
          (e) => {
            self.record(method + "OnFailure", null, {name: e && e.name, message: e && e.message});
            throw e;
          },
        );
      };
      this.undo.push(() => {
        md[name] = original;
      });
    }
    const onDeviceChange = () => this.deviceChange();
    if (typeof md.addEventListener === "function") {
      md.addEventListener("devicechange", onDeviceChange);
      this.undo.push(() => md.removeEventListener("devicechange", onDeviceChange));
    }
  }

  streamInfo(stream) {
    return {
      id: stream.id,
      tracks: stream.getTracks().map((t) => {
        const info = {id: t.id, kind: t.kind, enabled: t.enabled, muted: t.muted, readyState: t.readyState};
        if (this.collectDeviceLabels) info.label = t.label;
        return info;
      }),
    };
  }

  watchTrack(track) {
    for (const type of ["mute", "unmute", "ended"]) {
      const handler = () => {
        const info = {id: track.id, kind: track.kind};
        if (this.collectDeviceLabels) info.label = track.label;
        this.record("track.on" + type, null, info);
      };
      track.addEventListener(type, handler);
      this.undo.push(() => track.removeEventListener(type, handler));
    }
  }

  async deviceChange() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch (e) {
      this.record("ondevicechange", null, {error: errorText(e)});
      return;
    }
    const value = {audioinput: 0, audiooutput: 0, videoinput: 0};
    const labels = {audioinput: [], audiooutput: [], videoinput: []};
    for (const d of devices) {
      if (!(d.kind in value)) continue;
      value[d.kind]++;
      labels[d.kind].push(d.label);
    }
    if (this.collectDeviceLabels) value.labels = labels;
    this.record("ondevicechange", null, value);
  }

  // ---- stats ----

  pollStats() {
    for (const state of this.pcs) {
      if (state.closed || state.polling) continue;
      state.polling = true;
      let p;
      try {
        p = state.pc.getStats();
      } catch (e) {
        state.polling = false;
        continue;
      }
      Promise.resolve(p)
        .then((report) => {
          if (this.stopped) return;
          const stats = this.plainStats(report);
          this.addRtt(state, stats);
          this.entries.push({pc: state.id, time: Date.now(), stats});
        })
        .catch(() => {})
        .finally(() => {
          state.polling = false;
        });
    }
  }

  // plainStats turns an RTCStatsReport into an object keyed by report id,
  // each report without its id, null and non-finite fields left out (a
  // delta cannot say "gone", so absent is the one way to say it), candidate
  // addresses masked unless allowed.
  plainStats(report) {
    const out = {};
    report.forEach((r, id) => {
      const copy = {};
      for (const k in r) {
        if (k === "id") continue;
        const v = r[k];
        if (v === null || v === undefined || typeof v === "function") continue;
        if (typeof v === "number" && !Number.isFinite(v)) continue;
        copy[k] = v;
      }
      if (!this.collectAddresses && (r.type === "local-candidate" || r.type === "remote-candidate")) {
        for (const f of ADDRESS_FIELDS) if (f in copy) copy[f] = MASKED_ADDRESS;
      }
      out[id] = copy;
    });
    return out;
  }

  // addRtt adds the selected candidate pair's round trip to the peer
  // connection's running mean.
  addRtt(state, stats) {
    let pair;
    for (const id in stats) {
      const r = stats[id];
      if (r.type === "transport" && r.selectedCandidatePairId && stats[r.selectedCandidatePairId]) {
        pair = stats[r.selectedCandidatePairId];
        break;
      }
    }
    if (!pair) {
      for (const id in stats) {
        const r = stats[id];
        if (r.type === "candidate-pair" && (r.selected === true || (r.nominated && r.state === "succeeded"))) {
          pair = r;
          break;
        }
      }
    }
    const rtt = pair && pair.currentRoundTripTime;
    if (typeof rtt === "number" && rtt > 0) {
      state.rttSum += rtt * 1000;
      state.rttCount++;
    }
  }

  // ---- batches ----

  ready() {
    return !!(this.callId && this.participantId);
  }

  // build turns what happened since the last batch into a batch's text, or
  // returns "" when nothing did.
  build() {
    if (this.entries.length === 0) return "";
    if (!this.ready()) {
      this.thinWaiting();
      return "";
    }
    const now = Date.now();
    const identity = {
      calldiag: FORMAT_VERSION,
      callId: this.callId,
      participantId: this.participantId,
      sessionId: session.id,
      sessionStart: session.start,
      seq: ++session.seq,
      userAgent: navigator.userAgent,
      url: location.origin + location.pathname,
    };
    if (this.userLabel) identity.userLabel = this.userLabel;
    if (this.dropped > 0) identity.dropped = this.dropped;
    const lines = [JSON.stringify(["identity", null, identity, now])];
    for (const state of this.pcs) {
      for (let i = 0; i < state.repeat; i++) lines.push(JSON.stringify(state.history[i]));
    }
    const previous = {}; // the last snapshot of each pc in this batch
    // Each pc's stats in this batch start from the last snapshot of the
    // batch before, sent whole, so that the interval between the two is
    // measured too.
    const fresh = {};
    for (const e of this.entries) if (!e.line) fresh[e.pc] = true;
    for (const pc in fresh) {
      const last = this.lastStats[pc];
      if (!last) continue;
      lines.push(JSON.stringify(["getstats", pc, last.stats, last.time]));
      previous[pc] = last.stats;
    }
    for (const e of this.entries) {
      if (e.line) {
        lines.push(JSON.stringify(e.line));
        continue;
      }
      lines.push(JSON.stringify(["getstats", e.pc, encodeStats(previous[e.pc], e.stats), e.time]));
      previous[e.pc] = e.stats;
      this.lastStats[e.pc] = {stats: e.stats, time: e.time};
    }
    for (const state of this.pcs) {
      lines.push(JSON.stringify(["calldiag.rtt", state.id, {sumMs: state.rttSum, count: state.rttCount}, now]));
      const remote = state.remote || this.remoteParticipantId;
      if (remote) lines.push(JSON.stringify(["calldiag.peer", state.id, {remoteParticipantId: remote}, now]));
      state.repeat = state.history.length;
    }
    this.entries = [];
    return lines.join("\n") + "\n";
  }

  // thinWaiting bounds what waits for a call id: the oldest snapshots of
  // each peer connection go first.
  thinWaiting() {
    const seen = {};
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (!e.stats) continue;
      seen[e.pc] = (seen[e.pc] || 0) + 1;
      if (seen[e.pc] > MAX_WAITING_SNAPSHOTS) this.entries.splice(i, 1);
    }
  }

  // enqueue keeps a batch for sending, dropping the oldest whole batches
  // beyond maxBuffered bytes.
  enqueue(item) {
    this.queue.push(item);
    this.queued += item.size;
    for (let i = 0; this.queued > this.maxBuffered && i < this.queue.length - 1; ) {
      const old = this.queue[i];
      if (old === this.inFlight) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.queued -= old.size;
      this.dropped += 1 + old.drops;
    }
  }

  // flush sends what happened since the last batch, then every batch still
  // waiting; it resolves to true when all were delivered.
  async flush() {
    const text = this.build();
    if (text) {
      const drops = this.dropped;
      this.dropped = 0;
      const body = await compress(text);
      this.enqueue({body, size: body.byteLength, drops});
    }
    return this.pump();
  }

  pump() {
    if (!this.pumping) {
      this.pumping = this.sendAll().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  async sendAll() {
    clearTimeout(this.retryTimer);
    while (this.queue.length > 0) {
      const item = this.queue[0];
      this.inFlight = item;
      let outcome;
      try {
        outcome = await this.send(item);
      } finally {
        this.inFlight = null;
      }
      if (outcome === "retry") {
        this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs ? this.retryMs * 2 : MIN_RETRY_MS);
        if (!this.stopped) this.retryTimer = setTimeout(() => this.pump(), this.retryMs);
        return false;
      }
      this.retryMs = 0;
      const at = this.queue.indexOf(item);
      if (at >= 0) {
        this.queue.splice(at, 1);
        this.queued -= item.size;
      }
      if (outcome === "refused") this.dropped += 1 + item.drops;
    }
    return true;
  }

  // send posts one batch: "sent", "retry" (network failure, busy or failing
  // server) or "refused" (the server will never take it: wrong key, not
  // allowed, too large).
  async send(item) {
    let res;
    try {
      res = await fetch(this.url, {
        method: "POST",
        body: item.body,
        headers: {"Content-Type": "text/plain"},
        keepalive: item.size <= KEEPALIVE_BYTES,
        mode: "cors",
        credentials: "omit",
      });
    } catch (e) {
      return "retry";
    }
    if (res.ok || res.status === 422) return "sent";
    if (res.status === 408 || res.status === 429 || res.status >= 500) return "retry";
    if (!this.warned) {
      this.warned = true;
      console.warn("calldiag: the server refused a batch (HTTP " + res.status + "); check the endpoint, key and allowed origins");
    }
    return "refused";
  }

  // sendOnHide hands what is left to the browser as beacons when the page
  // goes away or is hidden: the page may get no further chance to run.
  sendOnHide() {
    if (this.stopped || typeof navigator.sendBeacon !== "function") return;
    const text = this.build();
    if (text) {
      const body = new TextEncoder().encode(text);
      this.enqueue({body, size: body.byteLength, drops: this.dropped});
      this.dropped = 0;
    }
    for (const item of this.queue.slice()) {
      if (item === this.inFlight) continue;
      if (item.size > KEEPALIVE_BYTES) continue;
      if (!navigator.sendBeacon(this.url, new Blob([item.body], {type: "text/plain"}))) break;
      this.queue.splice(this.queue.indexOf(item), 1);
      this.queued -= item.size;
    }
    if (this.queue.length > 0 && !this.inFlight) this.pump();
  }

  setCall(callId, participantId) {
    if (callId === this.callId && participantId === this.participantId) return;
    // What happened so far belongs to the call it happened in.
    if (this.ready()) this.flush();
    else this.entries = [];
    this.callId = callId || "";
    this.participantId = participantId || "";
    for (const s of this.pcs) if (s.closed) this.undo.push(...s.undo);
    this.pcs = this.pcs.filter((s) => !s.closed);
    // The next batch, the new call's first, repeats every open connection's
    // creation and state changes, whether or not a batch carried them.
    for (const s of this.pcs) s.repeat = s.history.length;
  }

  async stop() {
    if (this.stopped) return true;
    const delivered = this.flush();
    this.stopped = true;
    for (const undo of this.undo.reverse()) undo();
    for (const s of this.pcs) for (const undo of s.undo) undo();
    return delivered;
  }
}

// encodeStats writes a getStats result for the wire. The first snapshot of
// a peer connection in a batch goes whole: an object of reports with no
// top-level timestamp, which the parser reads as a full snapshot. Later
// ones carry a top-level timestamp (the newest report's) and only what
// changed since prev: a report that did not change at all is sent with its
// timestamp alone, a report's timestamp equal to the top-level one is sent
// as 0. A delta cannot say that a report or field is gone, so a snapshot
// that lost one goes whole.
function encodeStats(prev, cur) {
  if (!prev || lostSomething(prev, cur)) return cur;
  let top = -Infinity;
  for (const id in cur) {
    const ts = cur[id].timestamp;
    if (typeof ts === "number" && ts > top) top = ts;
  }
  const out = {};
  for (const id in cur) {
    const r = cur[id];
    const p = prev[id];
    let d;
    if (!p) {
      d = Object.assign({}, r);
    } else {
      d = {};
      for (const k in r) {
        if (k !== "timestamp" && !same(r[k], p[k])) d[k] = r[k];
      }
      if (typeof r.timestamp === "number") d.timestamp = r.timestamp;
    }
    if (d.timestamp === top) d.timestamp = 0;
    out[id] = d;
  }
  if (top === -Infinity) top = Date.now();
  out.timestamp = top;
  return out;
}

function lostSomething(prev, cur) {
  for (const id in prev) {
    const c = cur[id];
    if (!c) return true;
    for (const k in prev[id]) if (!(k in c)) return true;
  }
  return false;
}

function same(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

// publicConfig is a peer connection's configuration without secrets: ICE
// servers keep their URLs, lose their username and credential.
function publicConfig(config) {
  if (!config || typeof config !== "object") return null;
  const out = {};
  for (const k in config) {
    const v = config[k];
    if (k === "certificates" || typeof v === "function") continue;
    if (k === "iceServers" && Array.isArray(v)) {
      out.iceServers = v.map((s) => ({urls: s && (s.urls !== undefined ? s.urls : s.url)}));
      continue;
    }
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) out[k] = v;
  }
  return out;
}

// parseCandidate reads type, protocol and component from a candidate line:
// "candidate:FOUNDATION COMPONENT PROTOCOL PRIORITY ADDRESS PORT typ TYPE …".
function parseCandidate(text) {
  const f = text.replace(/^a=/, "").split(/\s+/);
  const typ = f.indexOf("typ");
  const component = {1: "rtp", 2: "rtcp"}[f[1]] || f[1];
  return {type: typ >= 0 ? f[typ + 1] : undefined, protocol: f[2] && f[2].toLowerCase(), component};
}

function trackInfo(track, streams) {
  if (!track) return null;
  return {kind: track.kind, id: track.id, streams: Array.from(streams || [], (s) => s.id)};
}

function errorText(e) {
  if (!e) return String(e);
  return e.name ? e.name + ": " + e.message : String(e);
}

function safe(fn) {
  try {
    return fn();
  } catch (e) {
    return null;
  }
}

function positive(v, fallback) {
  return typeof v === "number" && v > 0 ? v : fallback;
}

// compress gzips a batch when the browser can (the server tells gzip by its
// magic bytes); else the batch goes as UTF-8 text.
async function compress(text) {
  const plain = new TextEncoder().encode(text);
  if (typeof CompressionStream !== "function") return plain;
  try {
    const stream = new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    return plain;
  }
}
