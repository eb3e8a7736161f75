package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// CallReader reads what detection needs about a call.
type CallReader interface {
	Call(ctx context.Context, id string) (model.Call, error)
	Timeline(ctx context.Context, q store.TimelineQuery) (model.Timeline, error)
}

// DetectionStore is the part of the store that detection reads and writes.
type DetectionStore interface {
	CallReader
	ReplaceDetection(ctx context.Context, callID string, d store.Detection) error
}

// wholeTimeliner is a store that can read a call's whole timeline at once,
// more cheaply than page by page.
type wholeTimeliner interface {
	WholeTimeline(ctx context.Context, callID string) (model.Timeline, error)
}

// DetectCall reads a call and its whole timeline and runs detection on it.
func DetectCall(ctx context.Context, st CallReader, callID string, rules detect.Rules) (detect.Result, model.Call, error) {
	call, err := st.Call(ctx, callID)
	if err != nil {
		return detect.Result{}, model.Call{}, err
	}
	in := detect.Input{Call: call}
	series := map[[3]string]int{}
	q := store.TimelineQuery{CallID: callID, Limit: store.MaxTimelineLimit}
	whole, isWhole := st.(wholeTimeliner)
	for {
		var page model.Timeline
		var err error
		if isWhole {
			page, err = whole.WholeTimeline(ctx, callID)
		} else {
			page, err = st.Timeline(ctx, q)
		}
		if err != nil {
			return detect.Result{}, call, fmt.Errorf("read timeline of %s: %w", callID, err)
		}
		in.Events = append(in.Events, page.Events...)
		for _, s := range page.Series {
			k := [3]string{s.ParticipantID, s.StreamID, s.Metric}
			if i, ok := series[k]; ok {
				in.Series[i].Points = append(in.Series[i].Points, s.Points...)
				continue
			}
			series[k] = len(in.Series)
			in.Series = append(in.Series, s)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	// Two series of one participant, stream and metric (one of samples that
	// named the participant, one of samples that named only its client) are
	// merged above; order the merged points by time, then value, so that
	// detection sees the same input however the timeline was read.
	for i := range in.Series {
		slices.SortStableFunc(in.Series[i].Points, func(a, b model.Point) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return cmp.Compare(a.Value, b.Value)
		})
	}
	return detect.Run(in, rules), call, nil
}

// Redetect runs detection on each call and stores the outcome, so that
// search filters and summaries reflect the call's latest records. Calls are
// detected on as many goroutines as there are CPUs; the first error stops
// the rest and is returned.
func Redetect(ctx context.Context, st DetectionStore, callIDs []string, rules detect.Rules) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ids := make(chan string)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(callIDs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if err := redetectOne(ctx, st, id, rules); err != nil {
					cancel(err)
				}
			}
		}()
	}
send:
	for _, id := range callIDs {
		select {
		case ids <- id:
		case <-ctx.Done():
			break send
		}
	}
	close(ids)
	wg.Wait()
	return context.Cause(ctx)
}

func redetectOne(ctx context.Context, st DetectionStore, id string, rules detect.Rules) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, call, err := DetectCall(ctx, st, id, rules)
	if err != nil {
		return fmt.Errorf("detect issues of call %s: %w", id, err)
	}
	comp := res.Completeness
	d := store.Detection{Quality: res.Quality, Rating: res.Rating, RatingScore: res.RatingScore, Issues: res.Issues,
		MOS: res.MOS, Completeness: &comp, Rules: rules.Fingerprint(), Records: RecordTotal(call)}
	if d.Issues == nil {
		d.Issues = []model.Issue{}
	}
	if err := st.ReplaceDetection(ctx, id, d); err != nil {
		return fmt.Errorf("store issues of call %s: %w", id, err)
	}
	return nil
}

// RecordTotal is the number of a call's records, as a detection stored
// with it counts them.
func RecordTotal(c model.Call) int {
	n := 0
	for _, k := range c.RecordCounts {
		n += k
	}
	return n
}
