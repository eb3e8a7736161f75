// Package web serves calldiag's user interface: server-rendered pages for
// call search, a call's overview, issues and timeline, and the knowledge
// base. Pages are html/template views filled from the same call views the
// JSON API returns (package callview), with charts drawn as SVG by package
// chart; a small script adds zoom, pan and keyboard shortcuts, and every
// page works without it. Templates and static files are embedded.
//
// It reads the store through the narrow interface it declares, and must
// not import api, server or cli.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"calldiag/internal/callview"
	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/source"
	"calldiag/internal/store"
)

// Reader is the part of the store the pages read.
type Reader interface {
	SearchCalls(ctx context.Context, q store.CallQuery) (store.CallPage, error)
	Call(ctx context.Context, id string) (model.Call, error)
	Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error)
	Record(ctx context.Context, id string) (store.StoredRecord, error)
	Detection(ctx context.Context, callID string) (store.Detection, error)
	Stats(ctx context.Context) (store.Stats, error)
}

var _ callview.Reader = Reader(nil)

// Config configures the web UI.
type Config struct {
	Store  Reader
	Rules  *detect.RuleSet
	Logger *slog.Logger
	// Token, when set, is asked for once on a login page; the browser then
	// keeps a session cookie derived from it.
	Token string
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Assistant answers the Ask page; nil shows it as not configured.
	Assistant Asker
	// Sources lists the continuous sources the server follows, for the
	// Sources page; nil means none.
	Sources func() []source.Snapshot
	// Upload ingests the files of the Search page's upload form; nil
	// leaves the form out. MaxUploadBytes bounds one upload (default
	// 256 MiB).
	Upload         Uploader
	MaxUploadBytes int64
}

// Handler serves the pages.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	pages  map[string]*template.Template
	static *staticFiles
}

// New parses the embedded templates and returns the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: no store")
	}
	if cfg.Rules == nil {
		cfg.Rules = detect.NewRuleSet(detect.DefaultRules())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 256 << 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st, err := loadStatic()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, log: log.With("component", "web"), static: st}
	if h.pages, err = parsePages(h.funcs()); err != nil {
		return nil, err
	}
	return h, nil
}

// Register mounts the pages on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", h.page(h.search))
	mux.Handle("GET /calls/{id}", h.page(h.callOverview))
	mux.Handle("GET /calls/{id}/issues", h.page(h.callIssues))
	mux.Handle("GET /calls/{id}/timeline", h.page(h.callTimeline))
	mux.Handle("GET /ask", h.page(h.ask))
	mux.Handle("GET /kb", h.page(h.kbIndex))
	mux.Handle("GET /sources", h.page(h.sources))
	mux.Handle("POST /upload", h.page(h.upload))
	mux.Handle("GET /kb/{id}", h.page(h.kbEntry))
	mux.Handle("GET /login", h.page(h.loginForm))
	mux.Handle("POST /login", h.page(h.login))
	mux.Handle("POST /logout", h.page(h.logout))
	mux.Handle("GET /static/{hash}/{file}", http.HandlerFunc(h.serveStatic))
}

// pageFunc handles one page: it returns the template name and its view,
// or an error that the wrapper turns into an error page.
type pageFunc func(w http.ResponseWriter, r *http.Request) (string, any, error)

// HTTPError is an error with a status and a message for the user.
type HTTPError struct {
	Status  int
	Message string
	Err     error
}

func (e *HTTPError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *HTTPError) Unwrap() error { return e.Err }

func badRequest(err error) error {
	return &HTTPError{Status: http.StatusBadRequest, Message: err.Error(), Err: err}
}

func notFound(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &HTTPError{Status: http.StatusNotFound, Message: fmt.Sprintf("No %s %q is stored.", what, id), Err: err}
	}
	return err
}

// page wraps a pageFunc: it renders into a buffer and writes only a
// complete page; an error becomes the error page with its status.
func (h *Handler) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) && r.URL.Path != "/login" {
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		name, view, err := fn(w, r)
		if err == nil && name == "" {
			return // the handler answered itself (a redirect)
		}
		status := http.StatusOK
		var keep *HTTPError
		if err != nil && name != "" && view != nil && errors.As(err, &keep) {
			// The page itself shows the problem (a form with its error).
			status, err = keep.Status, nil
		}
		if err != nil {
			var he *HTTPError
			var pe *callview.ParamError
			switch {
			case errors.As(err, &he):
				status = he.Status
			case errors.As(err, &pe):
				status, he = http.StatusBadRequest, &HTTPError{Status: http.StatusBadRequest, Message: pe.Error()}
			case errors.Is(err, store.ErrBadCursor):
				status, he = http.StatusBadRequest, &HTTPError{Status: http.StatusBadRequest, Message: "The page link is not valid any more; start again from the first page."}
			case errors.Is(err, context.Canceled):
				return
			default:
				status, he = http.StatusInternalServerError, &HTTPError{Status: 500, Message: "Something went wrong on the server; the log has the details."}
			}
			if status >= 500 {
				h.log.Error("page failed", "path", r.URL.Path, "err", err)
			}
			name, view = "error", errorPage{Layout: h.layout(r, "Error"), Status: status, Message: he.Message}
		}
		var buf bytes.Buffer
		if err := h.pages[name].ExecuteTemplate(&buf, "layout", view); err != nil {
			h.log.Error("render failed", "page", name, "err", err)
			http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(buf.Bytes())
	})
}

type errorPage struct {
	Layout
	Status  int
	Message string
}
