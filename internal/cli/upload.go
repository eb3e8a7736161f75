package cli

import (
	"context"
	"io"

	"calldiag/internal/pipeline"
	"calldiag/internal/web"
)

// pipelineUploader ingests the files of the web upload form.
type pipelineUploader struct{ p *pipeline.Pipeline }

func (u pipelineUploader) Upload(ctx context.Context, r io.Reader, name, callID, participant string) (web.UploadResult, error) {
	res, err := u.p.IngestDump(ctx, r, name, pipeline.WebRTCOptions{CallID: callID, ParticipantID: participant})
	out := web.UploadResult{Read: res.Read, Stored: res.Stored, Duplicates: res.Duplicates, Rejected: res.Rejected,
		Calls: res.Calls}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, e.Error())
	}
	return out, err
}
