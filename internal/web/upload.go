package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Uploader ingests one uploaded file: ACS logs in any shape, or a WebRTC
// dump, whose call and participant callID and participantID name when
// set.
type Uploader interface {
	Upload(ctx context.Context, r io.Reader, name, callID, participantID string) (UploadResult, error)
}

// UploadResult is what the ingest of one file did.
type UploadResult struct {
	Read, Stored, Duplicates, Rejected int
	// Calls are the calls that received records.
	Calls []string
	// Errors describe the first rejected records (file, line and reason).
	Errors []string
}

// maxUploadErrors bounds the rejected records listed per file.
const maxUploadErrors = 20

type uploadPage struct {
	Layout
	Files []uploadedFile
	// Calls are all the calls the files touched, each once.
	Calls []string
}

type uploadedFile struct {
	Name string
	UploadResult
	Failed string
}

// upload ingests the files of the Search page's upload form, one by one as
// they stream in, and shows what each did with links to its calls.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) (string, any, error) {
	if err := crossOrigin.Check(r); err != nil {
		return "", nil, &HTTPError{Status: http.StatusForbidden, Message: "This form was sent from another site and is refused.", Err: err}
	}
	if h.cfg.Upload == nil {
		return "", nil, &HTTPError{Status: http.StatusNotFound, Message: "This server takes no uploads."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUploadBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, &HTTPError{Status: http.StatusBadRequest, Message: "Choose one or more files to upload.", Err: err}
	}
	v := uploadPage{Layout: h.layout(r, "Upload")}
	var callID, participant string
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", nil, &HTTPError{Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("The upload is larger than %d MB; ingest large files with calldiag ingest.", h.cfg.MaxUploadBytes>>20), Err: err}
		}
		if err != nil {
			return "", nil, &HTTPError{Status: http.StatusBadRequest, Message: "The upload was cut short; try again.", Err: err}
		}
		switch part.FormName() {
		case "call":
			callID = formValue(part)
			continue
		case "participant":
			participant = formValue(part)
			continue
		case "file":
		default:
			continue
		}
		name := part.FileName()
		if name == "" {
			continue
		}
		f := uploadedFile{Name: name}
		res, err := h.cfg.Upload.Upload(r.Context(), part, name, callID, participant)
		switch {
		case errors.As(err, new(*http.MaxBytesError)):
			return "", nil, &HTTPError{Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("The upload is larger than %d MB; ingest large files with calldiag ingest.", h.cfg.MaxUploadBytes>>20), Err: err}
		case err != nil:
			h.log.Warn("upload failed", "file", name, "err", err)
			f.Failed = "The file could not be stored: " + err.Error()
		default:
			f.UploadResult = res
			if len(f.Errors) > maxUploadErrors {
				f.Errors = f.Errors[:maxUploadErrors]
			}
			for _, c := range res.Calls {
				if !seen[c] {
					seen[c] = true
					v.Calls = append(v.Calls, c)
				}
			}
		}
		v.Files = append(v.Files, f)
	}
	if len(v.Files) == 0 {
		return "", nil, &HTTPError{Status: http.StatusBadRequest, Message: "Choose one or more files to upload."}
	}
	return "upload", v, nil
}

// formValue reads a small form field.
func formValue(p io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(p, 1024))
	return strings.TrimSpace(string(b))
}
