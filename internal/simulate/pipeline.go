package simulate

import (
	"context"
	"time"
)

// Write overlaps generation with blob writing: the generator fills batches
// of records on one goroutine while the sink sorts and writes on another.
// Batches reach the sink in generation order, so the output is the same as
// with a single goroutine.

// batch is a run of generated records, or a marker that generation has
// reached a new call start.
type batch struct {
	recs    []batchRec
	data    []byte
	advance time.Time // set for a marker
}

type batchRec struct {
	cat      string
	res      int
	at       time.Time
	call     int
	seq      uint32
	off, end int
	dup      bool
}

const batchBytes = 4 << 20

// runPipelined runs g, handing its records to sink on the calling
// goroutine.
func (g *generator) runPipelined(ctx context.Context, sink *blobSink) (Labels, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *batch, 4)
	empty := make(chan *batch, 6)
	for i := 0; i < 6; i++ {
		empty <- &batch{data: make([]byte, 0, batchBytes+64<<10)}
	}
	var (
		labels Labels
		genErr error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(full)
		cur := <-empty
		send := func() error {
			select {
			case full <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case cur = <-empty:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		add := func(o *outRec) error {
			off := len(cur.data)
			cur.data = append(cur.data, o.line...)
			cur.recs = append(cur.recs, batchRec{cat: o.cat, res: o.res, at: o.at, call: o.call, seq: o.seq, off: off, end: len(cur.data), dup: o.dup})
			if len(cur.data) >= batchBytes {
				return send()
			}
			return nil
		}
		advance := func(_ context.Context, t time.Time) error {
			if len(cur.recs) > 0 {
				if err := send(); err != nil {
					return err
				}
			}
			cur.advance = t
			return send()
		}
		labels, genErr = g.run(ctx, add, advance)
		if genErr == nil && len(cur.recs) > 0 {
			genErr = send()
		}
	}()
	var sinkErr error
	var o outRec
	for b := range full {
		if sinkErr == nil {
			sinkErr = drain(ctx, sink, b, &o)
			if sinkErr != nil {
				cancel()
			}
		}
		b.recs, b.data, b.advance = b.recs[:0], b.data[:0], time.Time{}
		empty <- b
	}
	<-done
	if sinkErr != nil {
		return Labels{}, sinkErr
	}
	if genErr != nil {
		return Labels{}, genErr
	}
	return labels, nil
}

func drain(ctx context.Context, sink *blobSink, b *batch, o *outRec) error {
	if !b.advance.IsZero() {
		return sink.advance(ctx, b.advance)
	}
	for _, r := range b.recs {
		*o = outRec{cat: r.cat, res: r.res, at: r.at, call: r.call, seq: r.seq, line: b.data[r.off:r.end], dup: r.dup}
		if err := sink.add(o); err != nil {
			return err
		}
	}
	return nil
}
