package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"calldiag/internal/detect"
	"calldiag/internal/model"
	"calldiag/internal/store"
)

// detectStore serves empty calls and records the detections stored; the
// call named fail cannot be read.
type detectStore struct {
	fail   string
	mu     sync.Mutex
	stored map[string]store.Detection
}

func (s *detectStore) Call(_ context.Context, id string) (model.Call, error) {
	if id == s.fail {
		return model.Call{}, errors.New("disk on fire")
	}
	return model.Call{ID: id, RecordCounts: map[model.Category]int{model.CatCallSummary: 2}}, nil
}

func (s *detectStore) Timeline(context.Context, store.TimelineQuery) (model.Timeline, error) {
	return model.Timeline{}, nil
}

func (s *detectStore) ReplaceDetection(_ context.Context, id string, d store.Detection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stored[id] = d
	return nil
}

func TestRedetect(t *testing.T) {
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = fmt.Sprintf("call-%02d", i)
	}
	t.Run("every call stored", func(t *testing.T) {
		s := &detectStore{stored: map[string]store.Detection{}}
		if err := Redetect(context.Background(), s, ids, detect.DefaultRules()); err != nil {
			t.Fatal(err)
		}
		if len(s.stored) != len(ids) {
			t.Fatalf("%d detections stored, want %d", len(s.stored), len(ids))
		}
		for _, id := range ids {
			if d := s.stored[id]; d.Records != 2 || d.Issues == nil {
				t.Errorf("%s: stored %+v; want the record count and a non-nil issue list", id, d)
			}
		}
	})
	t.Run("a failing call is named", func(t *testing.T) {
		s := &detectStore{fail: "call-17", stored: map[string]store.Detection{}}
		err := Redetect(context.Background(), s, ids, detect.DefaultRules())
		if err == nil || !strings.Contains(err.Error(), "call-17") || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("Redetect = %v, want the error of call-17", err)
		}
	})
	t.Run("no calls", func(t *testing.T) {
		if err := Redetect(context.Background(), &detectStore{}, nil, detect.DefaultRules()); err != nil {
			t.Fatal(err)
		}
	})
}
