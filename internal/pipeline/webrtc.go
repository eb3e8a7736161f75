package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"calldiag/internal/ingest"
	"calldiag/internal/ingest/webrtc"
	"calldiag/internal/ingest/webrtcmap"
)

// sniffWebRTC looks at the start of a source, gzip or not, and tells
// whether it is a WebRTC dump. The reader it returns reads the source from
// its start (decompressed when it is a dump); past the bytes looked at, it
// reads the source directly, so that ACS logs, the bulk of what is
// ingested, are not copied once more on their way in.
func sniffWebRTC(r io.Reader) (io.Reader, bool, error) {
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, false, fmt.Errorf("read: %w", err)
	}
	head = head[:n]
	whole := io.MultiReader(bytes.NewReader(head), r)
	if len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		_, ok := webrtc.Detect(head[:min(len(head), 8<<10)])
		return whole, ok, nil
	}
	// A gzip source: look inside its first bytes.
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return whole, false, nil // not really gzip: the reader will say so
	}
	inner := make([]byte, 8<<10)
	m, _ := io.ReadFull(zr, inner)
	if _, ok := webrtc.Detect(inner[:m]); !ok {
		return whole, false, nil
	}
	full, err := gzip.NewReader(whole)
	if err != nil {
		return nil, false, fmt.Errorf("gzip: %w", err)
	}
	return full, true, nil
}

// readWebRTC parses a WebRTC dump whole and sends its records, with the
// lines or entries that could not be read as record errors.
func (p *Pipeline) readWebRTC(ctx context.Context, src source, r io.Reader, send func(chunk) bool) bool {
	data, err := io.ReadAll(r)
	if err != nil {
		return send(chunk{source: src.name, errs: []ingest.RecordError{{Source: src.name, Reason: "read: " + err.Error()}}})
	}
	d, lineErrs, err := webrtc.Parse(bytes.NewReader(data), src.name)
	var errs []ingest.RecordError
	for _, e := range lineErrs {
		errs = append(errs, ingest.RecordError{Source: src.name, Line: e.Line, Field: e.Entry, Reason: e.Reason})
	}
	if err != nil {
		errs = append(errs, ingest.RecordError{Source: src.name, Reason: err.Error()})
		return send(chunk{source: src.name, errs: errs})
	}
	sum := sha256.Sum256(data)
	opts := webrtcmap.Options{CallID: p.opts.WebRTC.CallID, ParticipantID: p.opts.WebRTC.ParticipantID,
		Source: src.name, Digest: hex.EncodeToString(sum[:])}
	id := webrtcmap.Resolve(d, opts)
	recs, err := webrtcmap.Records(d, id, opts)
	if err != nil {
		errs = append(errs, ingest.RecordError{Source: src.name, Reason: err.Error()})
		return send(chunk{source: src.name, errs: errs})
	}
	c := chunk{source: src.name, errs: errs}
	for len(recs) > 0 {
		n := min(len(recs), chunkSize)
		c.records = recs[:n:n]
		recs = recs[n:]
		if !send(c) {
			return false
		}
		c = chunk{source: src.name}
	}
	if len(c.errs) > 0 && !send(c) {
		return false
	}
	p.log.Info("read source", "source", src.name, "format", string(d.Format), "call", id.CallID,
		"participant", id.ParticipantID, "unreadable", len(lineErrs))
	return ctx.Err() == nil
}
