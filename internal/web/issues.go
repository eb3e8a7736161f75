package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/chart"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

type issuesPage struct {
	Layout
	callHeader
	Groups []issueGroup
	// Info counts the info issues, shown but not counted as problems.
	Info int
}

// issueGroup is the issues of one severity and category.
type issueGroup struct {
	Severity model.Severity
	Category model.IssueCategory
	Issues   []issueView
}

type issueView struct {
	model.Issue
	Short       string
	Duration    time.Duration
	TimelineURL string
	KindInfo    string
	Evidence    []evidenceView
	KB          []kbLink
	Related     []relatedLink
	Culprits    []string
}

type evidenceView struct {
	model.Evidence
	Records []string
	Spark   template.HTML
}

type kbLink struct{ ID, Title string }

type relatedLink struct{ ID, Summary string }

func (h *Handler) callIssues(w http.ResponseWriter, r *http.Request) (string, any, error) {
	id := r.PathValue("id")
	c, err := callview.Overview(r.Context(), h.cfg.Store, id, h.cfg.Rules.Load())
	if err != nil {
		return "", nil, notFound(err, "call", id)
	}
	v := issuesPage{Layout: h.layout(r, "Issues · call "+shortID(c.ID)), callHeader: newCallHeader(c, "issues")}
	v.Section = "search"
	v.APILink = "/api/v1/calls/" + url.PathEscape(c.ID) + "/issues"
	byID := map[string]model.Issue{}
	for _, is := range c.Issues {
		byID[is.ID] = is
	}
	sparks := h.evidenceSparks(r, c)
	for _, is := range c.Issues {
		if is.Severity == model.SeverityInfo {
			v.Info++
		}
		iv := issueView{Issue: is, Short: shortID(is.ParticipantID), Duration: is.End.Sub(is.Start),
			TimelineURL: timelineURL(v.Base, is), KindInfo: kindInfo(is.Kind)}
		for i, e := range is.Evidence {
			ev := evidenceView{Evidence: e, Records: e.RecordIDs, Spark: sparks[sparkKey{is.ID, i}]}
			if len(ev.Records) > 5 {
				ev.Records = ev.Records[:5]
			}
			iv.Evidence = append(iv.Evidence, ev)
		}
		for _, k := range is.Recommendation.KB {
			iv.KB = append(iv.KB, kbLink{k, kbTitle(k)})
		}
		for _, rel := range is.Related {
			if o, ok := byID[rel]; ok {
				iv.Related = append(iv.Related, relatedLink{rel, o.Kind + ": " + o.Summary})
			}
		}
		iv.Culprits = is.Culprit.ParticipantIDs
		n := len(v.Groups)
		if n == 0 || v.Groups[n-1].Severity != is.Severity || v.Groups[n-1].Category != is.Category {
			// Issues arrive most severe first; keep each severity's
			// categories together in the order they first appear.
			placed := false
			for g := range v.Groups {
				if v.Groups[g].Severity == is.Severity && v.Groups[g].Category == is.Category {
					v.Groups[g].Issues = append(v.Groups[g].Issues, iv)
					placed = true
					break
				}
			}
			if !placed {
				v.Groups = append(v.Groups, issueGroup{Severity: is.Severity, Category: is.Category, Issues: []issueView{iv}})
			}
			continue
		}
		v.Groups[n-1].Issues = append(v.Groups[n-1].Issues, iv)
	}
	return "issues", v, nil
}

// timelineURL opens the timeline on an issue: its participant, interval
// and event kinds, with the interval highlighted.
func timelineURL(base string, is model.Issue) string {
	q := url.Values{}
	f := is.TimelineFilter
	if f.Participant != "" {
		q.Set("participant", f.Participant)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	if len(f.Kind) > 0 {
		q.Set("kind", strings.Join(f.Kind, ","))
	}
	q.Set("issue", is.ID)
	return base + "/timeline?" + q.Encode()
}

type sparkKey struct {
	issue string
	ev    int
}

// maxSparkIssues bounds how many issues get evidence charts, so that a
// call with hundreds of issues stays quick to show.
const maxSparkIssues = 30

// evidenceSparks draws a small chart for each piece of evidence measured
// on a media-stats series: the metric around the issue's interval, with
// its threshold.
func (h *Handler) evidenceSparks(r *http.Request, c model.Call) map[sparkKey]template.HTML {
	out := map[sparkKey]template.HTML{}
	cache := map[string][]model.Series{}
	n := 0
	for _, is := range c.Issues {
		if n == maxSparkIssues {
			break
		}
		drew := false
		for i, e := range is.Evidence {
			if e.Source != "CallClientMediaStatsTimeSeries" || e.Value == nil || e.From == nil {
				continue
			}
			pid, stream := is.ParticipantID, is.StreamID
			if p, rest, ok := strings.Cut(e.Text, " "); ok && strings.Contains(rest, ":") {
				if s, _, ok := strings.Cut(rest, ":"); ok && strings.Count(s, "-") >= 1 && !strings.Contains(s, " ") {
					pid, stream = p, s
				}
			}
			pad := is.End.Sub(is.Start)/4 + 30*time.Second
			from, to := is.Start.Add(-pad), is.End.Add(pad)
			key := pid + "|" + from.String() + "|" + to.String()
			series, ok := cache[key]
			if !ok {
				tl, err := h.cfg.Store.Timeline(r.Context(), store.TimelineQuery{CallID: c.ID, ParticipantID: pid, From: from, To: to,
					Kinds: []string{model.KindMetric}, Limit: store.MaxTimelineLimit})
				if err != nil {
					continue
				}
				series = mergeSeries(tl.Series)
				cache[key] = series
			}
			pts := evidencePoints(series, stream, e.Metric)
			if len(pts) < 2 {
				continue
			}
			below := e.Op == "<"
			out[sparkKey{is.ID, i}] = chart.Spark(pts, e.Threshold, below, 160, 32)
			drew = true
		}
		if drew {
			n++
		}
	}
	return out
}

// evidencePoints finds the series an evidence metric was measured on.
func evidencePoints(series []model.Series, stream, metric string) []chart.Point {
	find := func(m string) []model.Point {
		for _, s := range series {
			if s.Metric == m && (stream == "" || s.StreamID == stream || strings.HasPrefix(s.StreamID, stream)) {
				return s.Points
			}
		}
		return nil
	}
	var pts []model.Point
	if metric == "PacketLossRate" {
		pts = ratioPoints(find("PacketsLostPerSecond"), find("PacketsPerSecond"))
	} else {
		pts = find(metric)
	}
	out := make([]chart.Point, len(pts))
	for i, p := range pts {
		out[i] = chart.Point{T: p.Time, V: p.Value}
	}
	return out
}
