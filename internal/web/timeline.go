package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/chart"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Lane and chart limits that keep a 250-participant call readable.
const (
	// maxLanes is the most participant lanes drawn one by one; beyond it
	// the participants without issues collapse into group lanes.
	maxLanes = 40
	// groupSize is how many participants one group lane holds.
	groupSize = 25
	// maxChartParticipants is how many participants' streams the metric
	// charts draw when no participant is picked.
	maxChartParticipants = 6
	// maxListedEvents caps the event table under the lanes.
	maxListedEvents = 500
	timelineWidth   = 1200.0
)

type timelinePage struct {
	Layout
	callHeader
	Form         url.Values
	From, To     time.Time
	Participants []option
	Categories   []option
	Severities   []option
	EventKinds   []option
	SVG          template.HTML
	Charts       []template.HTML
	ChartNote    string
	ChartHelp    []metricInfo
	Events       []eventRow
	MoreEvents   int
	Selected     *eventDetail
	Issue        *model.Issue
	Nav          timelineNav
	LaneCount    int
	GroupNote    string
	Truncated    bool
}

type timelineNav struct {
	ZoomIn, ZoomOut, Left, Right, Whole string
}

type eventRow struct {
	model.TimelineEvent
	Short string
	URL   string
	Fail  bool
}

type eventDetail struct {
	model.TimelineEvent
	Record string
}

// eventKinds are the timeline's event kinds a user can filter on.
var eventKinds = []string{model.KindJoin, model.KindLeave, model.KindOperation, model.KindUFD, model.KindSurvey, model.KindService}

func (h *Handler) callTimeline(w http.ResponseWriter, r *http.Request) (string, any, error) {
	id := r.PathValue("id")
	rules := h.cfg.Rules.Load()
	c, err := callview.Overview(r.Context(), h.cfg.Store, id, rules)
	if err != nil {
		return "", nil, notFound(err, "call", id)
	}
	qv := r.URL.Query()
	form := url.Values{}
	for _, k := range []string{"participant", "from", "to", "kind", "category", "severity", "text", "issue", "group"} {
		if v := strings.TrimSpace(qv.Get(k)); v != "" {
			form.Set(k, v)
		}
	}
	if qv.Has("kf") {
		// The filter form's checkboxes: every kind ticked, or all when none is.
		form.Del("kind")
		if ks := qv["k"]; len(ks) > 0 && len(ks) < len(eventKinds) {
			form.Set("kind", strings.Join(ks, ","))
		}
	}
	v := timelinePage{Layout: h.layout(r, "Timeline · call "+shortID(c.ID)), callHeader: newCallHeader(c, "timeline"), Form: form}
	v.Section = "search"

	// The window: the URL's, else the call's (with a little margin).
	callFrom, callTo := c.StartTime, c.EndTime
	if !callTo.After(callFrom) {
		callTo = callFrom.Add(time.Minute)
	}
	margin := callTo.Sub(callFrom) / 50
	v.From, v.To = callFrom.Add(-margin), callTo.Add(margin)
	now := h.cfg.Now()
	if s := form.Get("from"); s != "" {
		if v.From, err = callview.ParseTime(s, now); err != nil {
			return "", nil, badRequest(fmt.Errorf("from: %w", err))
		}
	}
	if s := form.Get("to"); s != "" {
		if v.To, err = callview.ParseTime(s, now); err != nil {
			return "", nil, badRequest(fmt.Errorf("to: %w", err))
		}
	}
	if !v.To.After(v.From) {
		return "", nil, badRequest(fmt.Errorf("the window ends (%s) before it starts (%s)", fmtTime(v.To), fmtTime(v.From)))
	}
	pid := form.Get("participant")
	kinds := eventKinds
	if k := form.Get("kind"); k != "" {
		kinds = nil
		for _, x := range strings.Split(k, ",") {
			x = strings.TrimSpace(x)
			if x == model.KindMetric {
				continue
			}
			if !slices.Contains(eventKinds, x) {
				return "", nil, badRequest(fmt.Errorf("kind %q is not one of %s", x, strings.Join(eventKinds, ", ")))
			}
			kinds = append(kinds, x)
		}
	}
	if sev := form.Get("severity"); sev != "" && model.Severity(sev).Rank() == 0 {
		return "", nil, badRequest(fmt.Errorf("severity %q is not critical, warning or info", sev))
	}
	v.APILink = "/api/v1/calls/" + url.PathEscape(c.ID) + "/timeline?" + apiTimelineQuery(form, v.From, v.To)

	// Events in the window (metric samples are drawn as charts).
	var events []model.TimelineEvent
	if len(kinds) > 0 {
		q := store.TimelineQuery{CallID: c.ID, ParticipantID: pid, From: v.From, To: v.To, Kinds: kinds, Limit: store.MaxTimelineLimit}
		tl, err := h.cfg.Store.Timeline(r.Context(), q)
		if err != nil {
			return "", nil, notFound(err, "call", c.ID)
		}
		events = tl.Events
		v.Truncated = tl.NextCursor != ""
	}
	text := strings.ToLower(form.Get("text"))
	if text != "" {
		kept := events[:0]
		for _, e := range events {
			if strings.Contains(strings.ToLower(e.Name+" "+e.Result+" "+e.Detail+" "+e.ParticipantID), text) {
				kept = append(kept, e)
			}
		}
		events = kept
	}

	// Issues shown: the filters' severity and category; the selected one.
	var issues []model.Issue
	for _, is := range c.Issues {
		if pid != "" && is.ParticipantID != pid && !slices.Contains(is.Culprit.ParticipantIDs, pid) {
			continue
		}
		if s := form.Get("severity"); s != "" && is.Severity.Rank() < model.Severity(s).Rank() {
			continue
		}
		if cat := form.Get("category"); cat != "" && string(is.Category) != cat {
			continue
		}
		issues = append(issues, is)
		if is.ID == form.Get("issue") {
			sel := is
			v.Issue = &sel
		}
	}
	if v.Issue == nil && form.Get("issue") != "" {
		for _, is := range c.Issues {
			if is.ID == form.Get("issue") {
				sel := is
				v.Issue = &sel
			}
		}
	}

	axis := chart.Axis{From: v.From, To: v.To, Width: timelineWidth}
	self := func(mod func(url.Values)) string {
		q := cloneValues(form)
		q.Del("event")
		mod(q)
		return v.Base + "/timeline?" + q.Encode()
	}
	lanes, note := h.lanes(c, events, issues, pid, form.Get("group"), self)
	v.LaneCount, v.GroupNote = len(lanes), note
	var hl []chart.Highlight
	if v.Issue != nil {
		hl = append(hl, chart.Highlight{From: v.Issue.Start, To: v.Issue.End, Class: "hl-issue sev-" + string(v.Issue.Severity),
			Label: v.Issue.Kind + ": " + v.Issue.Summary})
	}
	charts, chartNote, series, err := h.metricCharts(r, c, issues, pid, axis, rules)
	if err != nil {
		return "", nil, err
	}
	if pid != "" && len(lanes) == 1 {
		lanes = append(lanes, streamLanes(series, issues, self)...)
	}
	v.SVG = chart.Timeline(axis, lanes, hl)
	v.Charts, v.ChartNote = charts, chartNote
	v.ChartHelp = []metricInfo{
		{Label: "Jitter", Help: fmt.Sprintf("Variation in packet arrival time (ms) per sample; past %g ms a sample counts towards a poor interval, and it ends once samples stay at or below %g ms.", rules.SeriesJitterMs, rules.SeriesJitterReleaseMs)},
		{Label: "Packet loss", Help: fmt.Sprintf("Packets lost as a share of packets sent in each sample; past %g%% a sample counts towards a poor interval (released at %g%%).", rules.SeriesLoss*100, rules.SeriesLossRelease*100)},
		{Label: "Round trip", Help: fmt.Sprintf("Time for a packet to reach the far end and come back (ms); past %g ms a sample counts towards a poor interval (released at %g ms).", rules.SeriesRTTMs, rules.SeriesRTTReleaseMs)},
		{Label: "Bitrate", Help: "Media sent or received, in kilobits per second: a drop with no change of source often means the network or the sender cut quality."},
		{Label: "Frame rate received", Help: fmt.Sprintf("Frames per second of received video; below %g fps received video counts as poor.", rules.VideoFPSMin)},
	}

	// The event list and the selected event.
	for i, e := range events {
		if i == maxListedEvents {
			v.MoreEvents = len(events) - maxListedEvents
			break
		}
		v.Events = append(v.Events, eventRow{TimelineEvent: e, Short: shortID(e.ParticipantID), Fail: failed(e),
			URL: self(func(q url.Values) {}) + "&event=" + url.QueryEscape(e.ID) + "#details"})
	}
	if sel := qv.Get("event"); sel != "" {
		for _, e := range events {
			if e.ID == sel {
				v.Selected = &eventDetail{TimelineEvent: e, Record: "/api/v1/records/" + url.PathEscape(e.RecordID)}
			}
		}
		if v.Selected == nil {
			return "", nil, &HTTPError{Status: http.StatusNotFound, Message: "That event is not in this window or filter."}
		}
	}

	// Navigation: zoom around the window's middle, pan by half a window.
	span := v.To.Sub(v.From)
	mid := v.From.Add(span / 2)
	at := func(from, to time.Time) string {
		return self(func(q url.Values) {
			q.Set("from", from.UTC().Format(time.RFC3339Nano))
			q.Set("to", to.UTC().Format(time.RFC3339Nano))
		})
	}
	v.Nav = timelineNav{
		ZoomIn:  at(mid.Add(-span/4), mid.Add(span/4)),
		ZoomOut: at(mid.Add(-span), mid.Add(span)),
		Left:    at(v.From.Add(-span/2), v.To.Add(-span/2)),
		Right:   at(v.From.Add(span/2), v.To.Add(span/2)),
		Whole:   self(func(q url.Values) { q.Del("from"); q.Del("to") }),
	}
	v.Participants = append(v.Participants, option{"", "All participants", pid == ""})
	for _, p := range c.Participants {
		label := shortID(p.ID) + " · " + string(p.EndpointType)
		if p.Identifier != "" {
			label += " · " + p.Identifier
		}
		v.Participants = append(v.Participants, option{p.ID, label, p.ID == pid})
	}
	v.Categories = append(v.Categories, option{"", "All categories", form.Get("category") == ""})
	for _, cat := range []string{"network", "audio", "video", "screen-share", "device", "reliability", "feedback", "data"} {
		v.Categories = append(v.Categories, option{cat, cat, form.Get("category") == cat})
	}
	v.Severities = []option{{"", "Any severity", form.Get("severity") == ""},
		{"warning", "Warning or worse", form.Get("severity") == "warning"},
		{"critical", "Critical only", form.Get("severity") == "critical"}}
	for _, k := range eventKinds {
		v.EventKinds = append(v.EventKinds, option{k, k, slices.Contains(kinds, k)})
	}
	return "timeline", v, nil
}

// apiTimelineQuery is the JSON API query for the same window and filter.
func apiTimelineQuery(form url.Values, from, to time.Time) string {
	q := url.Values{}
	if p := form.Get("participant"); p != "" {
		q.Set("participant", p)
	}
	q.Set("from", from.UTC().Format(time.RFC3339Nano))
	q.Set("to", to.UTC().Format(time.RFC3339Nano))
	if k := form.Get("kind"); k != "" {
		q.Set("kind", k)
	}
	return q.Encode()
}

func failed(e model.TimelineEvent) bool {
	switch strings.ToLower(e.Result) {
	case "", "-", "succeeded", "success", "expectederror", "good":
		return false
	}
	if e.Kind == model.KindUFD {
		return true
	}
	return e.Kind == model.KindOperation
}

// lanes builds one lane per participant — states as bars, events as
// marks, issues as bars — collapsing participants without issues into
// group lanes when there are too many to draw one by one.
func (h *Handler) lanes(c model.Call, events []model.TimelineEvent, issues []model.Issue, pid, group string, self func(func(url.Values)) string) ([]chart.Lane, string) {
	byPID := map[string][]model.TimelineEvent{}
	for _, e := range events {
		byPID[e.ParticipantID] = append(byPID[e.ParticipantID], e)
	}
	issuesOf := map[string][]model.Issue{}
	for _, is := range issues {
		issuesOf[is.ParticipantID] = append(issuesOf[is.ParticipantID], is)
	}
	parts := c.Participants
	if pid != "" {
		parts = nil
		for _, p := range c.Participants {
			if p.ID == pid {
				parts = append(parts, p)
			}
		}
	}
	lane := func(p model.Participant) chart.Lane {
		l := chart.Lane{ID: p.ID, Label: shortID(p.ID) + " " + string(p.EndpointType),
			Title: p.ID + " · " + string(p.EndpointType) + " " + p.Identifier,
			Href:  self(func(q url.Values) { q.Set("participant", p.ID) })}
		l.Bars = stateBars(p, byPID[p.ID])
		for _, is := range issuesOf[p.ID] {
			if is.Severity == model.SeverityInfo {
				continue
			}
			l.Bars = append(l.Bars, chart.Bar{From: is.Start, To: is.End, Class: "bar-issue sev-" + string(is.Severity),
				Label: string(is.Severity) + " " + is.Kind + ": " + is.Summary,
				Href:  self(func(q url.Values) { q.Set("issue", is.ID) })})
		}
		l.Marks = marks(byPID[p.ID], self)
		return l
	}
	if len(parts) <= maxLanes {
		out := make([]chart.Lane, 0, len(parts))
		for _, p := range parts {
			out = append(out, lane(p))
		}
		return out, ""
	}
	// Too many: participants with issues get lanes; the rest form groups.
	var out []chart.Lane
	var rest []model.Participant
	for _, p := range parts {
		if hasProblem(issuesOf[p.ID]) {
			out = append(out, lane(p))
		} else {
			rest = append(rest, p)
		}
	}
	note := fmt.Sprintf("%s with issues %s a lane each; the other %d are grouped %d to a lane. Open a group to see its members.",
		plural(len(out), "participant"), map[bool]string{true: "has", false: "have"}[len(out) == 1], len(rest), groupSize)
	for g := 0; g*groupSize < len(rest); g++ {
		members := rest[g*groupSize : min(len(rest), (g+1)*groupSize)]
		if group == fmt.Sprint(g) {
			for _, p := range members {
				out = append(out, lane(p))
			}
			continue
		}
		gl := chart.Lane{ID: fmt.Sprintf("group-%d", g), Label: fmt.Sprintf("%d participants ▸", len(members)),
			Title: "Participants without issues, group " + fmt.Sprint(g+1) + ": open to see each one",
			Href:  self(func(q url.Values) { q.Set("group", fmt.Sprint(g)) })}
		var evs []model.TimelineEvent
		for _, p := range members {
			evs = append(evs, byPID[p.ID]...)
			if p.StartTime != nil && p.DurationSeconds != nil {
				gl.Bars = append(gl.Bars, chart.Bar{From: *p.StartTime, To: p.StartTime.Add(time.Duration(*p.DurationSeconds * float64(time.Second))),
					Class: "bar-connected bar-faint", Label: shortID(p.ID) + " in the call"})
			}
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		gl.Marks = marks(evs, self)
		out = append(out, gl)
	}
	return out, note
}

func hasProblem(issues []model.Issue) bool {
	for _, is := range issues {
		if is.Severity.Rank() >= model.SeverityWarning.Rank() {
			return true
		}
	}
	return false
}

// stateBars are a participant's states over time: in the call, muted,
// camera on, sharing the screen.
func stateBars(p model.Participant, evs []model.TimelineEvent) []chart.Bar {
	var bars []chart.Bar
	var joined, left time.Time
	if p.StartTime != nil {
		joined = *p.StartTime
		left = joined
		if p.DurationSeconds != nil {
			left = joined.Add(time.Duration(*p.DurationSeconds * float64(time.Second)))
		}
		bars = append(bars, chart.Bar{From: joined, To: left, Class: "bar-connected", Label: "in the call " + fmtClock(joined) + "–" + fmtClock(left)})
	}
	type state struct {
		class, label string
		on           bool
		since        time.Time
	}
	states := map[string]*state{
		"muted": {class: "bar-muted", label: "microphone muted"},
		"video": {class: "bar-video", label: "camera on"},
		"share": {class: "bar-share", label: "sharing the screen"},
	}
	set := func(name string, on bool, at time.Time) {
		s := states[name]
		switch {
		case on && !s.on:
			s.on, s.since = true, at
		case !on && s.on:
			s.on = false
			bars = append(bars, chart.Bar{From: s.since, To: at, Class: s.class, Label: s.label + " " + fmtClock(s.since) + "–" + fmtClock(at)})
		}
	}
	for _, e := range evs {
		if e.Kind != model.KindOperation || failed(e) {
			continue
		}
		name := strings.ToLower(e.Name)
		switch {
		case name == "mutemicrophone":
			set("muted", true, e.Time)
		case name == "unmutemicrophone":
			set("muted", false, e.Time)
		case name == "ismuted-changed":
			set("muted", strings.Contains(e.Detail, `"IsMuted":true`) || strings.Contains(e.Detail, `"isMuted":true`), e.Time)
		case name == "startvideo":
			set("video", true, e.Time)
		case name == "stopvideo":
			set("video", false, e.Time)
		case name == "startscreenshare" || name == "startscreensharing":
			set("share", true, e.Time)
		case name == "stopscreenshare" || name == "stopscreensharing":
			set("share", false, e.Time)
		}
	}
	end := left
	for _, name := range []string{"muted", "video", "share"} {
		if s := states[name]; s.on && end.After(s.since) {
			bars = append(bars, chart.Bar{From: s.since, To: end, Class: s.class, Label: s.label + " from " + fmtClock(s.since)})
		}
	}
	return bars
}

// marks turns events into marks whose shape says their kind.
func marks(evs []model.TimelineEvent, self func(func(url.Values)) string) []chart.Mark {
	base := self(func(url.Values) {})
	out := make([]chart.Mark, 0, len(evs))
	for _, e := range evs {
		m := chart.Mark{At: e.Time, ID: e.ID, Href: base + "&event=" + url.QueryEscape(e.ID) + "#details"}
		if i := strings.IndexByte(m.Href, '?'); i >= 0 {
			m.Href = m.Href[i:]
		}
		label := fmtClock(e.Time) + " " + e.Kind + " " + e.Name
		if e.Result != "" && e.Result != "-" {
			label += " → " + e.Result
		}
		if e.Code != nil {
			label += fmt.Sprintf(" (%d", *e.Code)
			if e.SubCode != nil {
				label += fmt.Sprintf("/%d", *e.SubCode)
			}
			label += ")"
		}
		m.Label = label
		switch {
		case failed(e):
			m.Class, m.Shape = "mark-fail", "triangle"
		case e.Kind == model.KindUFD:
			m.Class, m.Shape = "mark-ufd", "diamond"
		case e.Kind == model.KindJoin:
			m.Class, m.Shape = "mark-join", "square"
		case e.Kind == model.KindLeave:
			m.Class, m.Shape = "mark-leave", "square"
		case e.Kind == model.KindSurvey:
			m.Class, m.Shape = "mark-survey", "diamond"
		default:
			m.Class, m.Shape = "mark-op", "dot"
		}
		out = append(out, m)
	}
	return out
}

// metricDef is one chart under the lanes.
type metricDef struct {
	title, unit string
	scale       float64
	threshold   func(detect.Rules) *float64
	below       bool
	// value gives the value of a bucket of one stream from its metrics.
	metrics []string
	ratio   bool // metrics[0] / metrics[1]
}

var metricDefs = []metricDef{
	{title: "Jitter (ms)", unit: " ms", metrics: []string{"JitterInMs"}, threshold: func(r detect.Rules) *float64 { return &r.SeriesJitterMs }},
	{title: "Packet loss (%)", unit: "%", scale: 100, metrics: []string{"PacketsLostPerSecond", "PacketsPerSecond"}, ratio: true,
		threshold: func(r detect.Rules) *float64 { return &r.SeriesLoss }},
	{title: "Round trip (ms)", unit: " ms", metrics: []string{"RttInMs"}, threshold: func(r detect.Rules) *float64 { return &r.SeriesRTTMs }},
	{title: "Bitrate (kbit/s)", unit: "", scale: 0.001, metrics: []string{"Bitrate"}},
	{title: "Frame rate received (fps)", unit: "", metrics: []string{"FrameRateReceived"}, below: true,
		threshold: func(r detect.Rules) *float64 { return &r.VideoFPSMin }},
}

// metricCharts draws the metric charts for the participant picked, or for
// the participants most involved in issues (then the first to join) that
// sent media stats.
func (h *Handler) metricCharts(r *http.Request, c model.Call, issues []model.Issue, pid string, axis chart.Axis, rules detect.Rules) ([]template.HTML, string, []model.Series, error) {
	var cands []string
	if pid != "" {
		cands = []string{pid}
	} else {
		seen := map[string]bool{}
		add := func(p string) {
			if p != "" && !seen[p] {
				seen[p] = true
				cands = append(cands, p)
			}
		}
		for _, is := range issues {
			add(is.ParticipantID)
			for _, p := range is.Culprit.ParticipantIDs {
				add(p)
			}
		}
		for _, p := range c.Participants {
			if p.EndpointType != model.EndpointPSTN {
				add(p.ID)
			}
		}
	}
	var series []model.Series
	shown, asked := 0, 0
	for _, p := range cands {
		if shown == maxChartParticipants || asked == 3*maxChartParticipants {
			break
		}
		asked++
		q := store.TimelineQuery{CallID: c.ID, ParticipantID: p, From: axis.From, To: axis.To, Kinds: []string{model.KindMetric}, Limit: store.MaxTimelineLimit}
		tl, err := h.cfg.Store.Timeline(r.Context(), q)
		if err != nil {
			return nil, "", nil, err
		}
		if len(tl.Series) > 0 {
			shown++
			series = append(series, mergeSeries(tl.Series)...)
		}
	}
	note := ""
	switch {
	case pid != "" && shown == 0:
		note = "This participant sent no media stats in this window."
	case pid == "" && shown < len(c.Participants):
		note = fmt.Sprintf("Charts show the media stats of %d of %d participants (those in issues first); pick a participant to see theirs.", shown, len(c.Participants))
	}
	var out []template.HTML
	for _, def := range metricDefs {
		lc := chart.LineChart{Title: def.title, Unit: def.unit, Scale: def.scale, Below: def.below}
		if def.threshold != nil {
			t := *def.threshold(rules)
			lc.Threshold = &t
		}
		byStream := map[string]map[string][]model.Point{}
		var order []string
		for _, s := range series {
			if !slices.Contains(def.metrics, s.Metric) {
				continue
			}
			k := s.ParticipantID + "\x00" + s.StreamID
			if byStream[k] == nil {
				byStream[k] = map[string][]model.Point{}
				order = append(order, k)
			}
			byStream[k][s.Metric] = s.Points
		}
		for i, k := range order {
			pidPart, stream, _ := strings.Cut(k, "\x00")
			pts := byStream[k][def.metrics[0]]
			if def.ratio {
				pts = ratioPoints(byStream[k][def.metrics[0]], byStream[k][def.metrics[1]])
			}
			if len(pts) == 0 {
				continue
			}
			cs := chart.Series{Label: shortID(pidPart) + " " + streamLabel(stream), Class: fmt.Sprintf("s%d", i%8)}
			for _, p := range pts {
				cs.Points = append(cs.Points, chart.Point{T: p.Time, V: p.Value})
			}
			lc.Series = append(lc.Series, cs)
		}
		out = append(out, chart.Lines(axis, lc))
	}
	return out, note, series, nil
}

// streamLanes are the sub-lanes of one participant: one per media stream
// its media stats describe, a bar for each stretch the stream reported
// (a pause of more than three sampling steps splits it), and the issues
// measured on that stream.
func streamLanes(series []model.Series, issues []model.Issue, self func(func(url.Values)) string) []chart.Lane {
	type acc struct {
		pid    string
		points []time.Time
	}
	byStream := map[string]*acc{}
	var order []string
	for _, s := range series {
		a := byStream[s.StreamID]
		if a == nil {
			a = &acc{pid: s.ParticipantID}
			byStream[s.StreamID] = a
			order = append(order, s.StreamID)
		}
		for _, p := range s.Points {
			a.points = append(a.points, p.Time)
		}
	}
	sort.Strings(order)
	var out []chart.Lane
	for _, id := range order {
		a := byStream[id]
		slices.SortFunc(a.points, func(x, y time.Time) int { return x.Compare(y) })
		a.points = slices.CompactFunc(a.points, func(x, y time.Time) bool { return x.Equal(y) })
		l := chart.Lane{ID: a.pid + "-" + id, Label: streamLabel(id), Title: "stream " + id, Sub: true}
		step := medianStep(a.points)
		for i := 0; i < len(a.points); {
			j := i
			for j+1 < len(a.points) && a.points[j+1].Sub(a.points[j]) <= 3*step {
				j++
			}
			to := a.points[j]
			if j == i {
				to = to.Add(step)
			}
			l.Bars = append(l.Bars, chart.Bar{From: a.points[i], To: to, Class: "bar-stream",
				Label: "media stats reported " + fmtClock(a.points[i]) + "–" + fmtClock(to)})
			i = j + 1
		}
		for _, is := range issues {
			if is.ParticipantID == a.pid && is.StreamID != "" && (is.StreamID == id || strings.HasPrefix(id, is.StreamID)) && is.Severity != model.SeverityInfo {
				l.Bars = append(l.Bars, chart.Bar{From: is.Start, To: is.End, Class: "bar-issue sev-" + string(is.Severity),
					Label: string(is.Severity) + " " + is.Kind + ": " + is.Summary,
					Href:  self(func(q url.Values) { q.Set("issue", is.ID) })})
			}
		}
		out = append(out, l)
	}
	return out
}

// medianStep is the usual time between samples (10 s when unknown).
func medianStep(ts []time.Time) time.Duration {
	if len(ts) < 2 {
		return 10 * time.Second
	}
	d := make([]time.Duration, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		d = append(d, ts[i].Sub(ts[i-1]))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// mergeSeries joins the pages of one series.
func mergeSeries(in []model.Series) []model.Series {
	idx := map[[3]string]int{}
	var out []model.Series
	for _, s := range in {
		k := [3]string{s.ParticipantID, s.StreamID, s.Metric}
		if i, ok := idx[k]; ok {
			out[i].Points = append(out[i].Points, s.Points...)
			continue
		}
		idx[k] = len(out)
		out = append(out, s)
	}
	return out
}

// ratioPoints divides two series sample by sample (matched by time).
func ratioPoints(num, den []model.Point) []model.Point {
	d := map[int64]float64{}
	for _, p := range den {
		d[p.Time.UnixMilli()] = p.Value
	}
	var out []model.Point
	for _, p := range num {
		if v, ok := d[p.Time.UnixMilli()]; ok && v+p.Value > 0 {
			out = append(out, model.Point{Time: p.Time, Value: p.Value / (v + p.Value)})
		}
	}
	return out
}

// streamLabel shortens "audio-inbound-<remote id>" to "audio in ← remote".
func streamLabel(s string) string {
	parts := strings.SplitN(s, "-", 3)
	if len(parts) < 2 {
		return s
	}
	dir := map[string]string{"inbound": "in", "outbound": "out"}[parts[1]]
	if dir == "" {
		dir = parts[1]
	}
	out := parts[0] + " " + dir
	if len(parts) == 3 {
		out += " ← " + shortID(parts[2])
	}
	return out
}

// plural writes a count with its noun: "1 participant", "3 participants".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
