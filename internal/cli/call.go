package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"calldiag/internal/callview"
	"calldiag/internal/model"
)

func (a *app) callCommand() *cobra.Command {
	return callViewCommand(a, "call [flags] CALL_ID",
		"Show a call's overview: participants, their streams and key metrics", "",
		callview.Overview, printCall)
}

func printCall(w io.Writer, c model.Call) {
	fmt.Fprintf(w, "Call %s\n", c.ID)
	fmt.Fprintf(w, "  start     %s\n", c.StartTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  end       %s\n", c.EndTime.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  duration  %s\n", fmtDuration(c.DurationSeconds))
	fmt.Fprintf(w, "  type      %s\n", orDash(string(c.CallType)))
	fmt.Fprintf(w, "  resources %s\n", strings.Join(c.ResourceIDs, ", "))
	ratingText := c.Rating
	if c.RatingScore != nil {
		ratingText += fmt.Sprintf(" (%.1f/5)", *c.RatingScore)
	}
	fmt.Fprintf(w, "  quality   %s   rating %s\n", c.Quality, ratingText)
	if len(c.Issues) > 0 {
		fmt.Fprintf(w, "\nIssues (%d; details: calldiag issues %s)\n", len(c.Issues), c.ID)
		for _, is := range c.Issues {
			fmt.Fprintf(w, "  %-8s %-28s %s  %s\n", strings.ToUpper(string(is.Severity)), is.Kind, orDash(is.ParticipantID), is.Summary)
		}
	}
	fmt.Fprintf(w, "\nParticipants (%d)\n", len(c.Participants))
	for _, p := range c.Participants {
		fmt.Fprintf(w, "\n  %s  %s", p.ID, p.EndpointType)
		if p.Identifier != "" {
			fmt.Fprintf(w, "  %s", p.Identifier)
		}
		fmt.Fprintln(w)
		var facts []string
		if p.StartTime != nil {
			facts = append(facts, "joined "+p.StartTime.UTC().Format(time.RFC3339))
		}
		if p.DurationSeconds != nil {
			facts = append(facts, "stayed "+fmtDuration(*p.DurationSeconds))
		}
		if p.EndReason != nil {
			facts = append(facts, fmt.Sprintf("ended %s/%s", fmtInt(p.EndReason), fmtInt(p.EndSubCode)))
		}
		if p.ResultCategory != "" {
			facts = append(facts, p.ResultCategory)
		}
		if p.RejoinOf != "" {
			facts = append(facts, "rejoin of "+p.RejoinOf)
		}
		if p.OtherResource {
			facts = append(facts, "reported only by another resource")
		}
		if p.SDKVersion != "" {
			facts = append(facts, "SDK "+p.SDKVersion)
		}
		if p.OSVersion != "" {
			facts = append(facts, p.OSVersion)
		}
		if len(facts) > 0 {
			fmt.Fprintf(w, "    %s\n", strings.Join(facts, " · "))
		}
		if len(p.Streams) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    STREAM\tCODEC\tTRANSPORT\tJITTER avg/max\tLOSS avg/max\tRTT avg/max\tMOS\tFPS\tHEIGHT\tFREEZE ms/min")
		for _, s := range p.Streams {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s/%s\t%s/%s\t%s/%s\t%s\t%s\t%s\t%s\n", s.StreamID, orDash(s.Codec), orDash(s.TransportType),
				fmtFloat(s.JitterAvgMs, "ms"), fmtFloat(s.JitterMaxMs, "ms"),
				fmtPercent(s.PacketLossRateAvg), fmtPercent(s.PacketLossRateMax),
				fmtFloat(s.RoundTripTimeAvgMs, "ms"), fmtFloat(s.RoundTripTimeMaxMs, "ms"), fmtRound(s.MOS, 2, ""),
				fmtRound(s.VideoFrameRateAvg, 1, ""), fmtFloat(s.RecvResolutionHeight, ""), fmtRound(s.RecvFreezeMsPerMin, 0, ""))
		}
		tw.Flush()
	}
	if len(c.Surveys) > 0 {
		fmt.Fprintf(w, "\nSurveys (%d)\n", len(c.Surveys))
		for _, s := range c.Surveys {
			fmt.Fprintf(w, "  %s  overall %s  audio %s  video %s  screenshare %s", s.ParticipantID,
				rating(s.Overall), rating(s.Audio), rating(s.Video), rating(s.Screenshare))
			if issues := strings.Trim(strings.Join([]string{s.OverallIssues, s.AudioIssues, s.VideoIssues, s.ScreenshareIssues}, ","), ","); issues != "" {
				fmt.Fprintf(w, "  issues: %s", issues)
			}
			fmt.Fprintln(w)
		}
	}
}

func rating(r model.Rating) string {
	if r.Score == nil {
		return "-"
	}
	upper := 5.0
	if r.UpperBound != nil {
		upper = *r.UpperBound
	}
	return fmt.Sprintf("%s/%s", fmtFloat(r.Score, ""), fmtFloat(&upper, ""))
}
