// Package api serves calldiag's JSON API under /api/v1. Success bodies are
// exactly the objects the CLI prints with --json; every error is one envelope
// {"error":{"kind","message","details"}} whose kind comes from a fixed list.
//
// It imports store, pipeline, detect and model; it must not import web,
// server or cli.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/pipeline"
	"calldiag/internal/source"
	"calldiag/internal/store"
)

// Reader is the part of the store the API reads from.
type Reader interface {
	SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error)
	Call(ctx context.Context, id string) (model.Call, error)
	Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error)
	Record(ctx context.Context, id string) (store.StoredRecord, error)
	Detection(ctx context.Context, callID string) (store.Detection, error)
	Facets(ctx context.Context) (store.Facets, error)
}

// Error kinds of the error envelope.
const (
	KindBadRequest      = "bad_request"
	KindUnauthorized    = "unauthorized"
	KindForbidden       = "forbidden"
	KindNotFound        = "not_found"
	KindPayloadTooLarge = "payload_too_large"
	KindUnprocessable   = "unprocessable"
	KindTooManyRequests = "too_many_requests"
	KindUnavailable     = "unavailable"
	KindInternal        = "internal"
)

// Error is an API error: an HTTP status, a kind and a message for the user.
type Error struct {
	Status  int
	Kind    string
	Message string
	Details any
	Err     error // internal cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Config configures the API.
type Config struct {
	Store    Reader
	Pipeline *pipeline.Pipeline
	Logger   *slog.Logger
	// Registry receives the API's metrics; nil disables them.
	Registry prometheus.Registerer
	// MaxBodyBytes bounds an ingest upload (default 32 MiB).
	MaxBodyBytes int64
	// QueueDepth is the number of uploads ingested at once; further uploads
	// are answered 429 (default 4).
	QueueDepth int
	// Now returns the current time (for relative --since values).
	Now func() time.Time
	// Rules are the detection rules in force; nil means the defaults.
	Rules *detect.RuleSet
	// Assistant answers POST /api/v1/ask; nil answers 503.
	Assistant Asker
	// Pinner serves PUT and DELETE /api/v1/calls/{id}/pin; nil answers 503.
	Pinner Pinner
	// Sources lists the continuous sources the server follows, for GET
	// /api/v1/sources; nil means none.
	Sources func() []source.Snapshot
	// CollectKey is the write-only key browser collectors send as ?key= to
	// POST /api/v1/collect; empty turns that endpoint off (404).
	CollectKey string
	// CollectOrigins are the origins (scheme://host[:port], or "*" for any)
	// whose pages may post to /api/v1/collect; a browser request from any
	// other origin is refused.
	CollectOrigins []string
	// Collector receives the batches /api/v1/collect accepts; nil hands
	// them to Pipeline.
	Collector Ingester
}

// Handler serves the API.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	queue   chan struct{}
	metrics *metrics
}

// New returns the API handler.
func New(cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.QueueDepth <= 0 {
		cfg.QueueDepth = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rules == nil {
		cfg.Rules = detect.NewRuleSet(detect.DefaultRules())
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, log: log.With("component", "api"), queue: make(chan struct{}, cfg.QueueDepth)}
	h.metrics = newMetrics(cfg.Registry, h.queue)
	return h
}

// Register mounts the API routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/calls", h.wrap(h.listCalls))
	mux.Handle("GET /api/v1/calls/{id}", h.wrap(h.getCall))
	mux.Handle("GET /api/v1/calls/{id}/timeline", h.wrap(h.getTimeline))
	mux.Handle("GET /api/v1/calls/{id}/issues", h.wrap(h.getIssues))
	mux.Handle("PUT /api/v1/calls/{id}/pin", h.wrap(h.putPin))
	mux.Handle("DELETE /api/v1/calls/{id}/pin", h.wrap(h.deletePin))
	mux.Handle("GET /api/v1/records/{id}", h.wrap(h.getRecord))
	mux.Handle("GET /api/v1/facets", h.wrap(h.getFacets))
	mux.Handle("GET /api/v1/sources", h.wrap(h.getSources))
	mux.Handle("POST /api/v1/ingest", h.wrap(h.postIngest))
	mux.Handle("POST /api/v1/collect", h.wrap(h.postCollect))
	mux.Handle("OPTIONS /api/v1/collect", h.wrap(h.optionsCollect))
	mux.Handle("POST /api/v1/ask", h.wrap(h.postAsk))
	mux.Handle("/api/", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusNotFound, Kind: KindNotFound, Message: "no such API endpoint: " + r.Method + " " + r.URL.Path}
	}))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// wrap turns a handler's error into the envelope and one log line.
func (h *Handler) wrap(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		WriteError(w, h.log, r, err)
	})
}

// WriteError writes err as the error envelope. Errors that are not *Error
// become 500s (not found and bad cursors are recognised).
func WriteError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	var ae *Error
	var pe *callview.ParamError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &pe):
		ae = &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: pe.Error(),
			Details: map[string]string{"parameter": pe.Name}}
	case errors.Is(err, store.ErrNotFound):
		ae = &Error{Status: http.StatusNotFound, Kind: KindNotFound, Message: "not found"}
	case errors.Is(err, store.ErrBadCursor):
		ae = &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "invalid cursor", Err: err}
	case errors.Is(err, context.Canceled):
		ae = &Error{Status: http.StatusServiceUnavailable, Kind: KindUnavailable, Message: "request cancelled", Err: err}
	default:
		ae = &Error{Status: http.StatusInternalServerError, Kind: KindInternal, Message: "internal error", Err: err}
	}
	if ae.Status >= 500 && log != nil {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "err", ae.Error())
	}
	body := map[string]any{"error": map[string]any{"kind": ae.Kind, "message": ae.Message, "details": ae.Details}}
	writeJSON(w, ae.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"kind":"internal","message":"encode response"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}
