package mcp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// searchCallsArgs are the filters of GET /api/v1/calls, with the same
// names. Limit and has-issues take JSON numbers and booleans; the rest are
// strings exactly as the API takes them.
type searchCallsArgs struct {
	Q            string `json:"q,omitempty" jsonschema:"a call, participant or endpoint id or identifier: exactly, or a prefix of at least 8 characters"`
	Since        string `json:"since,omitempty" jsonschema:"only calls that started at or after this time: RFC 3339, or a duration back from now such as 24h or 7d"`
	Until        string `json:"until,omitempty" jsonschema:"only calls that started before this time: RFC 3339, or a duration back from now"`
	Issue        string `json:"issue,omitempty" jsonschema:"only calls with an issue of one of these kinds (comma-separated; the kinds are listed in the tool description)"`
	Severity     string `json:"severity,omitempty" jsonschema:"only calls with an issue of this severity or worse: critical, warning or info"`
	HasIssues    *bool  `json:"has-issues,omitempty" jsonschema:"true: only calls with at least one issue of severity warning or worse"`
	Quality      string `json:"quality,omitempty" jsonschema:"only calls of this media quality: Good, Poor or Unknown"`
	Rating       string `json:"rating,omitempty" jsonschema:"only calls of this user rating: Good, Average, Poor or Unknown"`
	CallType     string `json:"call-type,omitempty" jsonschema:"P2P or Group"`
	EndpointType string `json:"endpoint-type,omitempty" jsonschema:"only calls with a participant of this endpoint type"`
	SDK          string `json:"sdk,omitempty" jsonschema:"only calls with a participant of this SDK version"`
	OS           string `json:"os,omitempty" jsonschema:"only calls with a participant on this OS family (listed in the tool description)"`
	Resource     string `json:"resource,omitempty" jsonschema:"only calls of this ACS resource"`
	Sort         string `json:"sort,omitempty" jsonschema:"start (default), duration or participants"`
	Order        string `json:"order,omitempty" jsonschema:"desc (default) or asc"`
	Limit        *int   `json:"limit,omitempty" jsonschema:"calls per page: 1 to 1000, default 50"`
	Cursor       string `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page, to continue"`
}

// params gives the arguments to callview's parser under the API's names.
func (a searchCallsArgs) params() callview.Params {
	m := map[string]string{
		"q": a.Q, "since": a.Since, "until": a.Until, "issue": a.Issue, "severity": a.Severity,
		"quality": a.Quality, "rating": a.Rating, "call-type": a.CallType, "endpoint-type": a.EndpointType,
		"sdk": a.SDK, "os": a.OS, "resource": a.Resource, "sort": a.Sort, "order": a.Order, "cursor": a.Cursor,
	}
	if a.HasIssues != nil {
		m["has-issues"] = strconv.FormatBool(*a.HasIssues)
	}
	if a.Limit != nil {
		m["limit"] = strconv.Itoa(*a.Limit)
	}
	return func(name string) string { return m[name] }
}

// callArgs names one call.
type callArgs struct {
	CallID string `json:"callId" jsonschema:"the call's id (a GUID, as search_calls returns it)"`
}

// timelineArgs are the filters of GET /api/v1/calls/{id}/timeline.
type timelineArgs struct {
	CallID      string `json:"callId" jsonschema:"the call's id"`
	Participant string `json:"participant,omitempty" jsonschema:"only this participant's items"`
	From        string `json:"from,omitempty" jsonschema:"only items at or after this time: RFC 3339, or a duration back from now"`
	To          string `json:"to,omitempty" jsonschema:"only items before this time"`
	Kind        string `json:"kind,omitempty" jsonschema:"only these kinds (comma-separated): operation, ufd, join, leave, survey, service, metric"`
	Limit       *int   `json:"limit,omitempty" jsonschema:"items per page (events plus media samples): 1 to 50000, default 5000"`
	Cursor      string `json:"cursor,omitempty" jsonschema:"nextCursor of the previous page, to continue"`
}

func (a timelineArgs) params() callview.Params {
	m := map[string]string{"participant": a.Participant, "from": a.From, "to": a.To, "kind": a.Kind, "cursor": a.Cursor}
	if a.Limit != nil {
		m["limit"] = strconv.Itoa(*a.Limit)
	}
	return func(name string) string { return m[name] }
}

// readOnly marks a tool that changes nothing and reads only local data.
func readOnly(title string) *sdk.ToolAnnotations {
	closed := false
	return &sdk.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed}
}

func (s *Server) addCallTools() {
	sdk.AddTool(s.srv, &sdk.Tool{
		Name: "search_calls",
		Description: fmt.Sprintf("Search the stored calls, newest first, one page at a time. Returns the JSON of GET /api/v1/calls: "+
			"{calls, total, totalCapped, nextCursor}, each call summary with its id, start and end, duration, participant count, quality, rating and issue kinds; "+
			"totalCapped true means total stopped counting and at least that many calls match; "+
			"continue with nextCursor. Issue kinds: %s. OS families: %s.",
			strings.Join(detect.Kinds(), ", "), strings.Join(model.OSFamilies(), ", ")),
		Annotations: readOnly("Search calls"),
	}, s.searchCalls)
	sdk.AddTool(s.srv, &sdk.Tool{
		Name:        "get_call",
		Description: "A call's overview: participants with their endpoints, SDKs, networks and streams (with estimated MOS), quality, rating, telemetry completeness and detected issues. Returns the JSON of GET /api/v1/calls/{id}.",
		Annotations: readOnly("Get a call"),
	}, s.getCall)
	sdk.AddTool(s.srv, &sdk.Tool{
		Name:        "get_call_issues",
		Description: "A call's detected issues, most severe first, each with its evidence, the rule and threshold that fired, the likely culprit, a recommendation and the knowledge-base entries that explain it. Returns the JSON of GET /api/v1/calls/{id}/issues.",
		Annotations: readOnly("Get a call's issues"),
	}, s.getCallIssues)
	sdk.AddTool(s.srv, &sdk.Tool{
		Name:        "get_timeline",
		Description: "A page of a call's timeline in time order: client operations, user-facing diagnostics, joins and leaves, surveys, service events and media-stats samples. Returns the JSON of GET /api/v1/calls/{id}/timeline; continue with its nextCursor.",
		Annotations: readOnly("Get a call's timeline"),
	}, s.getTimeline)
}

func (s *Server) searchCalls(ctx context.Context, _ *sdk.CallToolRequest, args searchCallsArgs) (*sdk.CallToolResult, any, error) {
	q, err := callview.ParseCallQuery(args.params(), s.cfg.Now())
	if err != nil {
		return nil, nil, err
	}
	page, err := s.cfg.Store.SearchCalls(ctx, q)
	if err != nil {
		return nil, nil, s.storeError(ctx, "search_calls", err, "")
	}
	return nil, page, nil
}

func (s *Server) getCall(ctx context.Context, _ *sdk.CallToolRequest, args callArgs) (*sdk.CallToolResult, any, error) {
	return showCall(ctx, s, "get_call", args, callview.Overview)
}

func (s *Server) getCallIssues(ctx context.Context, _ *sdk.CallToolRequest, args callArgs) (*sdk.CallToolResult, any, error) {
	return showCall(ctx, s, "get_call_issues", args, callview.Issues)
}

// showCall answers a tool that shows one view of one call, as the API does.
func showCall[T any](ctx context.Context, s *Server, tool string, args callArgs,
	view func(context.Context, callview.Reader, string, detect.Rules) (T, error)) (*sdk.CallToolResult, any, error) {
	id, err := callID(args.CallID)
	if err != nil {
		return nil, nil, err
	}
	v, err := view(ctx, s.cfg.Store, id, s.cfg.Rules.Load())
	if err != nil {
		return nil, nil, s.storeError(ctx, tool, err, id)
	}
	return nil, v, nil
}

func (s *Server) getTimeline(ctx context.Context, _ *sdk.CallToolRequest, args timelineArgs) (*sdk.CallToolResult, any, error) {
	id, err := callID(args.CallID)
	if err != nil {
		return nil, nil, err
	}
	q, err := callview.ParseTimelineQuery(id, args.params(), s.cfg.Now())
	if err != nil {
		return nil, nil, err
	}
	tl, err := s.cfg.Store.Timeline(ctx, q)
	if err != nil {
		return nil, nil, s.storeError(ctx, "get_timeline", err, id)
	}
	return nil, tl, nil
}

// callID checks that a call id was given.
func callID(s string) (string, error) {
	id := strings.TrimSpace(s)
	if id == "" {
		return "", errors.New("callId is required")
	}
	return id, nil
}

// storeError turns a store failure into the message of a tool error: the
// same words the API uses for an unknown call or a bad cursor. Anything
// else is logged here, once, and reported as a failure to read the store.
func (s *Server) storeError(ctx context.Context, tool string, err error, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("call %s not found", id)
	case errors.Is(err, store.ErrBadCursor):
		return errors.New("invalid cursor")
	case ctx.Err() != nil:
		return fmt.Errorf("%s cancelled: %w", tool, ctx.Err())
	}
	s.log.Error("tool failed", "tool", tool, "call_id", id, "err", err)
	return fmt.Errorf("read store: %w", err)
}
