// Package mcp serves calldiag over the Model Context Protocol, so that any
// MCP-capable assistant can search calls, read a call's overview, issues
// and timeline, and look things up in the knowledge base. Its tools take
// arguments named like the JSON API's parameters and answer with the API's
// JSON; the knowledge base is also offered as resources
// (calldiag://kb/{id}). Everything it offers is read-only.
//
// It reads the store through the narrow interface it declares and builds
// its views with callview; it imports callview, detect, catalog, store and
// model only, and must not import api, web, server, pipeline or cli.
package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"calldiag/internal/catalog"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// Reader is the part of the store the tools read: call search, and what
// callview needs to build a call's overview and issues.
type Reader interface {
	SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error)
	Call(ctx context.Context, id string) (model.Call, error)
	Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error)
	Detection(ctx context.Context, callID string) (store.Detection, error)
}

// Config configures the server.
type Config struct {
	// Store is read by the call tools; it is never written.
	Store Reader
	// Rules are the detection rules in force; nil means the defaults.
	Rules *detect.RuleSet
	// SearchKB ranks knowledge-base entries for a free-text query, best
	// first, at most limit of them. Nil falls back to entries that contain
	// every word of the query.
	SearchKB func(query string, limit int) []catalog.Entry
	// Version is the version the server reports to clients.
	Version string
	// Now returns the current time (for relative since, until, from and to
	// values); nil means time.Now.
	Now func() time.Time
	// Logger receives the server's own log lines; nil discards them. It
	// must not write to the protocol stream.
	Logger *slog.Logger
}

// Server is calldiag's MCP server: the SDK server with calldiag's tools
// and knowledge-base resources registered.
type Server struct {
	cfg Config
	log *slog.Logger
	srv *sdk.Server
}

// instructions tell a client's model how the tools fit together.
const instructions = `calldiag diagnoses Azure Communication Services calls from their logs.
Find calls with search_calls (filters such as since, issue, severity, quality), then read one
with get_call (participants, streams, quality) and get_call_issues (detected problems with
evidence and recommendations); get_timeline pages through its events and media samples.
lookup_code explains a code/subcode pair; search_kb searches the knowledge base, whose entries
are also resources at calldiag://kb/{id}. Issues name the knowledge-base entries that explain
them in recommendation.kb.`

// New builds the server with its tools and resources.
func New(cfg Config) *Server {
	if cfg.Rules == nil {
		cfg.Rules = detect.NewRuleSet(detect.DefaultRules())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SearchKB == nil {
		cfg.SearchKB = matchAllWords
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "mcp")
	srv := sdk.NewServer(&sdk.Implementation{Name: "calldiag", Title: "calldiag call diagnostics", Version: cfg.Version},
		&sdk.ServerOptions{Instructions: instructions, Logger: log})
	s := &Server{cfg: cfg, log: log, srv: srv}
	s.addCallTools()
	s.addKBTools()
	s.addKBResources()
	return s
}

// SDK returns the underlying SDK server, for connecting it to a transport
// of the caller's choice.
func (s *Server) SDK() *sdk.Server { return s.srv }

// Run serves one session over t until the client disconnects or ctx ends.
// A client that closes its end is a normal end, not an error; when ctx
// ends, Run closes the session and returns ctx's error.
func (s *Server) Run(ctx context.Context, t sdk.Transport) error {
	ss, err := s.srv.Connect(ctx, t, nil)
	if err != nil {
		return fmt.Errorf("start mcp session: %w", err)
	}
	ended := make(chan error, 1)
	go func() { ended <- ss.Wait() }()
	select {
	case <-ctx.Done():
		ss.Close()
		<-ended
		return ctx.Err()
	case err := <-ended:
		if err == nil || errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("mcp session: %w", err)
	}
}

// ServeStdio serves one session reading requests from in and writing
// responses to out, one JSON message a line, until in ends or ctx ends.
// Nothing else may write to out.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	return s.Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}})
}

// nopWriteCloser leaves closing the output to its owner.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
