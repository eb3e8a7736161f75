package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"calldiag/internal/pipeline"
)

// Ingester reads one source into the store, as a pipeline.Pipeline does.
type Ingester interface {
	Ingest(ctx context.Context, r io.Reader, name string) (pipeline.Result, error)
}

// collectSource names collector batches in ingest results.
const collectSource = "collect"

// postCollect accepts one batch of the browser collector (sdk/js): rtcstats
// lines whose first line is the page's identity. It is open to web pages,
// so it takes no bearer token; instead the request carries the write-only
// collect key as ?key=, and a browser's request must come from one of the
// configured origins. A body is text/plain (what a page can send without a
// CORS preflight), application/json or untyped, gzip-compressed or not
// (told by its magic bytes), at most MaxBodyBytes both as sent and
// decompressed. Anything but a collector batch is refused, so the key
// cannot be used to upload other logs. The answer is 204 once the batch is
// stored, 422 with the ingest result when some of its lines were rejected.
func (h *Handler) postCollect(w http.ResponseWriter, r *http.Request) error {
	if err := h.collectEnabled(); err != nil {
		return err
	}
	if err := h.allowOrigin(w, r); err != nil {
		return err
	}
	if !validCollectKey(r.URL.Query().Get("key"), h.cfg.CollectKey) {
		return &Error{Status: http.StatusUnauthorized, Kind: KindUnauthorized,
			Message: "missing or wrong collect key: pass the key calldiag serve was started with as ?key="}
	}
	if err := collectContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	release, err := h.enterQueue(w)
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	batch, err := gunzipBounded(body, h.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	if err := checkCollectorBatch(batch); err != nil {
		return err
	}
	res, err := h.collector().Ingest(r.Context(), bytes.NewReader(batch), collectSource)
	if err != nil {
		return err
	}
	h.metrics.observe(res, time.Since(start))
	if res.Rejected > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, res)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// optionsCollect answers a CORS preflight: a page sending its batches as
// text/plain needs none, but one sending application/json does.
func (h *Handler) optionsCollect(w http.ResponseWriter, r *http.Request) error {
	if err := h.collectEnabled(); err != nil {
		return err
	}
	if err := h.allowOrigin(w, r); err != nil {
		return err
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) collectEnabled() error {
	if h.cfg.CollectKey == "" {
		return &Error{Status: http.StatusNotFound, Kind: KindNotFound,
			Message: "the browser collector endpoint is off: start calldiag serve with --collect-key (or CALLDIAG_COLLECT_KEY) " +
				"and name the pages' origins with --collect-origin"}
	}
	return nil
}

func (h *Handler) collector() Ingester {
	if h.cfg.Collector != nil {
		return h.cfg.Collector
	}
	return h.cfg.Pipeline
}

// allowOrigin lets a browser's request through when its Origin is one of
// CollectOrigins, and sets the CORS headers that let the page read the
// answer. A request without an Origin does not come from a web page's
// script (curl, a server) and passes. Browsers send simple POSTs (and
// beacons) without asking first, so the origin check here, not the
// browser's, is what keeps other sites out.
func (h *Handler) allowOrigin(w http.ResponseWriter, r *http.Request) error {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	listed := slices.ContainsFunc(h.cfg.CollectOrigins, func(o string) bool {
		return o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
	if !listed {
		return &Error{Status: http.StatusForbidden, Kind: KindForbidden,
			Message: "pages of " + origin + " may not send to this server: add the origin with --collect-origin (CALLDIAG_COLLECT_ORIGIN)",
			Details: map[string]string{"origin": origin}}
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
	return nil
}

func validCollectKey(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func collectContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "text/plain" || mt == "application/json") {
		return nil
	}
	return &Error{Status: http.StatusUnsupportedMediaType, Kind: KindBadRequest,
		Message: "a collector batch is sent as text/plain or application/json, not " + ct}
}

// enterQueue takes a place in the ingest queue shared with /api/v1/ingest,
// or answers 429 when it is full.
func (h *Handler) enterQueue(w http.ResponseWriter) (release func(), err error) {
	select {
	case h.queue <- struct{}{}:
		return func() { <-h.queue }, nil
	default:
		w.Header().Set("Retry-After", "1")
		h.metrics.throttled()
		return nil, &Error{Status: http.StatusTooManyRequests, Kind: KindTooManyRequests,
			Message: fmt.Sprintf("the ingest queue is full (%d uploads in progress); retry shortly", cap(h.queue))}
	}
}

// gunzipBounded returns body decompressed when it starts with the gzip
// magic bytes, else body itself; a decompressed batch over limit is
// refused like an upload over it.
func gunzipBounded(body []byte, limit int64) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "the body starts like gzip but is not gzip", Err: err}
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Kind: KindBadRequest, Message: "the gzip body does not decompress", Err: err}
	}
	if int64(len(out)) > limit {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Kind: KindPayloadTooLarge,
			Message: "the batch exceeds " + strconv.FormatInt(limit, 10) + " bytes once decompressed",
			Details: map[string]int64{"maxBytes": limit}}
	}
	return out, nil
}

// collectIdentity is what the endpoint checks of a batch's identity line.
type collectIdentity struct {
	Calldiag      json.Number `json:"calldiag"`
	CallID        string      `json:"callId"`
	ParticipantID string      `json:"participantId"`
}

// checkCollectorBatch makes sure batch is what the collector sends: a
// first line ["identity", null, {"calldiag": 1, "callId", "participantId",
// …}, ts], and then nothing but JSON arrays, one a line.
func checkCollectorBatch(batch []byte) error {
	batch = bytes.TrimPrefix(batch, []byte("\xef\xbb\xbf"))
	first, rest, _ := bytes.Cut(bytes.TrimLeft(batch, " \t\r\n"), []byte("\n"))
	if err := checkIdentityLine(bytes.TrimSpace(first)); err != nil {
		return err
	}
	for n := 2; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimLeft(line, " \t\r")
		if len(line) > 0 && line[0] != '[' {
			return &Error{Status: http.StatusBadRequest, Kind: KindBadRequest,
				Message: "not a collector batch: line " + strconv.Itoa(n) + " is not a JSON array",
				Details: map[string]int{"line": n}}
		}
	}
	return nil
}

const identityShape = `["identity", null, {"calldiag": 1, "callId": "…", "participantId": "…", …}, timestampMs]`

func checkIdentityLine(line []byte) error {
	notBatch := func(why string, missing []string) error {
		e := &Error{Status: http.StatusBadRequest, Kind: KindBadRequest,
			Message: "not a collector batch: " + why + "; the first line must be " + identityShape}
		if len(missing) > 0 {
			e.Details = map[string][]string{"missing": missing}
		}
		return e
	}
	var rec []json.RawMessage
	if err := json.Unmarshal(line, &rec); err != nil {
		return notBatch("the first line is not a JSON array", nil)
	}
	var method string
	if len(rec) < 3 || json.Unmarshal(rec[0], &method) != nil || method != "identity" {
		return notBatch("the first line is not an identity record", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(rec[2]))
	dec.UseNumber()
	var id collectIdentity
	if err := dec.Decode(&id); err != nil {
		return notBatch("the identity is not an object of the expected fields ("+err.Error()+")", nil)
	}
	var missing []string
	if id.Calldiag != "1" {
		missing = append(missing, `"calldiag": 1`)
	}
	if strings.TrimSpace(id.CallID) == "" {
		missing = append(missing, "callId")
	}
	if strings.TrimSpace(id.ParticipantID) == "" {
		missing = append(missing, "participantId")
	}
	if len(missing) > 0 {
		return notBatch("the identity lacks "+strings.Join(missing, ", "), missing)
	}
	return nil
}
