package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"calldiag/internal/pipeline"
	"calldiag/internal/store/sqlite"
	"calldiag/internal/web"
)

// pipelineUploader uploads through the ingest pipeline, as the server does.
type pipelineUploader struct{ p *pipeline.Pipeline }

func (u pipelineUploader) Upload(ctx context.Context, r io.Reader, name, callID, participant string) (web.UploadResult, error) {
	res, err := u.p.IngestDump(ctx, r, name, pipeline.WebRTCOptions{CallID: callID, ParticipantID: participant})
	out := web.UploadResult{Read: res.Read, Stored: res.Stored, Duplicates: res.Duplicates, Rejected: res.Rejected, Calls: res.Calls}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	return out, err
}

func uploadServer(t *testing.T, withUpload bool) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := web.Config{Store: st}
	if withUpload {
		cfg.Upload = pipelineUploader{pipeline.New(st, pipeline.Options{Detector: st})}
	}
	h, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// multipartBody builds the upload form: the fields, then the files.
func multipartBody(t *testing.T, fields map[string]string, files map[string][]byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, data := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestUploadForm(t *testing.T) {
	srv := uploadServer(t, true)
	mustContain(t, "search page", get(t, srv, "/").body, `action="/upload"`, `type="file"`, "webrtc-internals")
	dump, err := os.ReadFile("../ingest/webrtc/testdata/internals/chromium-148-loopback.json")
	if err != nil {
		t.Fatal(err)
	}
	acs, err := os.ReadFile("../cli/testdata/p2p-call.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	body, ctype := multipartBody(t, map[string]string{"call": "loopback-call", "participant": "tester"},
		map[string][]byte{"webrtc_internals_dump.txt": dump, "p2p-call.jsonl": acs, "notes.txt": []byte("not a log\n")})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/upload", body)
	req.Header.Set("Content-Type", ctype)
	res := do(t, req)
	if res.status != http.StatusOK {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	mustContain(t, "upload result", res.body, "3 files ingested", "webrtc_internals_dump.txt", `href="/calls/loopback-call"`,
		"p2p-call.jsonl", "notes.txt")
	call := get(t, srv, "/calls/loopback-call")
	if call.status != http.StatusOK {
		t.Fatalf("call page: %d", call.status)
	}
	mustContain(t, "call page", call.body, "Peer connections", "tester", "connected")

	// A form posted from another site's page is refused.
	body, ctype = multipartBody(t, nil, map[string][]byte{"p2p-call.jsonl": acs})
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/upload", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := do(t, req); res.status != http.StatusForbidden {
		t.Errorf("cross-site upload: %d, want 403", res.status)
	}
	// No file chosen.
	body, ctype = multipartBody(t, map[string]string{"call": "x"}, nil)
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/upload", body)
	req.Header.Set("Content-Type", ctype)
	if res := do(t, req); res.status != http.StatusBadRequest {
		t.Errorf("upload without files: %d, want 400", res.status)
	}
}

func TestNoUploadForm(t *testing.T) {
	srv := uploadServer(t, false)
	if body := get(t, srv, "/").body; bytes.Contains([]byte(body), []byte(`action="/upload"`)) {
		t.Error("the search page offers an upload this server does not take")
	}
	body, ctype := multipartBody(t, nil, map[string][]byte{"a.json": []byte("{}")})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/upload", body)
	req.Header.Set("Content-Type", ctype)
	if res := do(t, req); res.status != http.StatusNotFound {
		t.Errorf("upload: %d, want 404", res.status)
	}

}
