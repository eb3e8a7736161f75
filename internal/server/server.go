// Package server runs calldiag's HTTP server: it mounts the JSON API (and,
// later, the web UI), adds the middleware every request goes through
// (request id, access log, panic recovery, bearer-token check, security
// headers), serves /healthz and /metrics, and shuts down gracefully so that
// no accepted upload is lost.
//
// It also serves the browser collector's script (package sdkjs) at
// /sdk/calldiag.js.
//
// It imports api, web and sdkjs; it must not import store implementations,
// cli or pipeline internals.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"calldiag/internal/api"
	"calldiag/internal/web"
	sdkjs "calldiag/sdk/js"
)

// Config configures a Server.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:8080).
	Addr string
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// every /api/ and /metrics request but /api/v1/collect, which web pages
	// post to with the API's own collect key instead.
	Token string
	API   *api.Handler
	// Web serves the user interface; nil serves the API only.
	Web *web.Handler
	// Gatherer serves /metrics; nil disables the endpoint.
	Gatherer prometheus.Gatherer
	// Ready reports whether the server can serve (for /healthz).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful shutdown (default 30 s).
	ShutdownTimeout time.Duration
}

// Server is the HTTP server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	http *http.Server
}

// New validates cfg and returns a server. It refuses a non-loopback address
// without a token: the API would otherwise be open to the network.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Token == "" && !IsLoopback(cfg.Addr) {
		return nil, fmt.Errorf("refusing to listen on %s without a token: set CALLDIAG_TOKEN, or listen on a loopback address such as 127.0.0.1:8080", cfg.Addr)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log.With("component", "server")}
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	return s, nil
}

// IsLoopback reports whether addr (host:port) names only loopback interfaces.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.cfg.API != nil {
		s.cfg.API.Register(mux)
	}
	if s.cfg.Web != nil {
		s.cfg.Web.Register(mux)
	}
	mux.HandleFunc("GET /sdk/calldiag.js", serveCollector)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(r.Context()); err != nil {
				http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	if s.cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	return s.middleware(mux)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID()
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "request_id", id, "path", r.URL.Path, "panic", fmt.Sprint(p))
				if !rec.wrote {
					api.WriteError(rec, nil, r, errors.New("internal error"))
				}
			}
			s.log.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
		}()
		if s.cfg.Token != "" && needsToken(r.URL.Path) && !validToken(r, s.cfg.Token) && !browserRead(r, s.cfg.Token) {
			rec.Header().Set("WWW-Authenticate", `Bearer realm="calldiag"`)
			api.WriteError(rec, nil, r, &api.Error{Status: http.StatusUnauthorized, Kind: api.KindUnauthorized,
				Message: "missing or wrong bearer token"})
			return
		}
		next.ServeHTTP(rec, r)
	})
}

func needsToken(path string) bool {
	if path == collectPath {
		return false // the API checks the collect key and the page's origin
	}
	return strings.HasPrefix(path, "/api/") || path == "/metrics"
}

// collectPath is where browser collectors send their batches.
const collectPath = "/api/v1/collect"

// collectorETag identifies this build's calldiag.js.
var collectorETag = func() string {
	sum := sha256.Sum256(sdkjs.Collector)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// serveCollector serves the browser collector. It is public code that
// pages of other origins import as a module, hence CORS for all; browsers
// keep it an hour and then revalidate it by its ETag.
func serveCollector(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("ETag", collectorETag)
	http.ServeContent(w, r, "calldiag.js", time.Time{}, bytes.NewReader(sdkjs.Collector))
}

// browserRead lets a signed-in browser read the JSON API (the UI links to
// it, e.g. for a record's raw data) with its session cookie; writes still
// need the bearer token.
func browserRead(r *http.Request, token string) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && web.ValidSession(r, token)
}

func validToken(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.wrote = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Listen opens the listener, so the caller knows the address before Serve.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return ln, nil
}

// Serve serves on ln until ctx is done, then stops accepting connections and
// waits (up to ShutdownTimeout) for in-flight requests — uploads included —
// to finish, so every acknowledged record is stored.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
