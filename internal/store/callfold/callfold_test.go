package callfold_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/ingest/acs"
	"calldiag/internal/model"
	"calldiag/internal/simulate"
	"calldiag/internal/store/callfold"
)

// simulatedCalls parses a small simulated corpus into records by call.
func simulatedCalls(t *testing.T) map[string][]model.Record {
	t.Helper()
	var buf bytes.Buffer
	cfg := simulate.Config{Calls: 6, Seed: 99, Start: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	if _, err := simulate.Records(cfg, func(_ string, line []byte) error {
		buf.Write(line)
		buf.WriteByte('\n')
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rd, err := ingest.NewReader(&buf, "simulated", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls := make(map[string][]model.Record)
	for {
		it, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := acs.Normalize(it)
		if err != nil {
			t.Fatal(err)
		}
		if r.CallID != "" {
			calls[r.CallID] = append(calls[r.CallID], r)
		}
	}
	if len(calls) == 0 {
		t.Fatal("no calls")
	}
	return calls
}

func foldJSON(t *testing.T, id string, recs []model.Record) string {
	t.Helper()
	f := callfold.New(id)
	for i := range recs {
		f.Add(&recs[i])
	}
	c, err := f.Result(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A call's views depend on its set of records only: not on their order,
// and not on a record other than a sample folded twice (a batch delivered
// again before its ids were stored).
func TestFoldIgnoresOrderAndRepeats(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for id, recs := range simulatedCalls(t) {
		want := foldJSON(t, id, recs)
		for round := range 3 {
			shuffled := append([]model.Record(nil), recs...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if round > 0 {
				for _, r := range recs {
					if r.Sample == nil && rng.IntN(3) == 0 {
						shuffled = append(shuffled, r)
					}
				}
			}
			if got := foldJSON(t, id, shuffled); got != want {
				t.Fatalf("call %s: round %d folds differently", id, round)
			}
		}
	}
}

// The normalized record survives the round trip through the stored JSON.
func TestRecordRoundTrip(t *testing.T) {
	for id, recs := range simulatedCalls(t) {
		var again []model.Record
		for i := range recs {
			b, err := callfold.MarshalRecord(&recs[i])
			if err != nil {
				t.Fatal(err)
			}
			r, err := callfold.UnmarshalRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			again = append(again, r)
		}
		if foldJSON(t, id, recs) != foldJSON(t, id, again) {
			t.Fatalf("call %s folds differently after the JSON round trip", id)
		}
	}
}

func TestChooseCall(t *testing.T) {
	cands := []callfold.MappedCall{{ID: "b", First: 100}, {ID: "a", First: 300}, {ID: "c", First: 300}}
	for _, c := range []struct {
		t    int64
		want string
	}{
		{50, "b"},   // the earliest call starting after
		{100, "b"},  // starting at the same time counts as after
		{200, "a"},  // a tie after goes to the smaller id
		{400, "a"},  // none after: the latest before, ties to the smaller id
		{1000, "a"}, // likewise
	} {
		i := callfold.ChooseCall(c.t, cands)
		if i < 0 || cands[i].ID != c.want {
			t.Errorf("ChooseCall(%d) = %d, want %s", c.t, i, c.want)
		}
	}
	if callfold.ChooseCall(1, nil) != -1 {
		t.Error("no candidates must give -1")
	}
}
