package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Percentile returns the p-th percentile (0–100) of xs, interpolating
// linearly between the two nearest ranks; 0 for no values. xs is not
// modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	p = min(max(p, 0), 100)
	pos := p / 100 * float64(len(s)-1)
	lo := int(pos)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := pos - float64(lo)
	return s[lo] + frac*(s[lo+1]-s[lo])
}

// Median is the 50th percentile of xs.
func Median(xs []float64) float64 { return Percentile(xs, 50) }

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// DecodeOnly decodes the size bytes of r as JSON lines: it cuts them at
// line ends into one part per worker (at least one), and each worker
// splits its part into lines and decodes every non-blank one with
// encoding/json into a map. That is the least work any ingester written in
// Go does with the same bytes. It returns the number of lines decoded, or
// the first error.
func DecodeOnly(r io.ReaderAt, size int64, workers int) (int, error) {
	bounds, err := lineBounds(r, size, max(workers, 1))
	if err != nil {
		return 0, err
	}
	parts := len(bounds) - 1
	counts := make([]int, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			sc := bufio.NewScanner(io.NewSectionReader(r, bounds[i], bounds[i+1]-bounds[i]))
			sc.Buffer(make([]byte, 64<<10), 8<<20)
			for sc.Scan() {
				line := bytes.TrimSpace(sc.Bytes())
				if len(line) == 0 {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					errs[i] = fmt.Errorf("decode line at byte %d or after: %w", bounds[i], err)
					return
				}
				counts[i]++
			}
			if err := sc.Err(); err != nil {
				errs[i] = fmt.Errorf("split lines: %w", err)
			}
		})
	}
	wg.Wait()
	n := 0
	for i := range parts {
		if errs[i] != nil {
			return 0, errs[i]
		}
		n += counts[i]
	}
	return n, nil
}

// lineBounds returns the offsets 0 = b0 < b1 < ... < bk = size cutting the
// size bytes of r into at most n parts of about equal length, each cut just
// after a line end.
func lineBounds(r io.ReaderAt, size int64, n int) ([]int64, error) {
	bounds := []int64{0}
	buf := make([]byte, 64<<10)
	for i := 1; i < n; i++ {
		at := max(size*int64(i)/int64(n), bounds[len(bounds)-1])
		for at < size {
			k, err := r.ReadAt(buf, at)
			if j := bytes.IndexByte(buf[:k], '\n'); j >= 0 {
				at += int64(j) + 1
				break
			}
			at += int64(k)
			if err == io.EOF {
				at = size
			} else if err != nil {
				return nil, fmt.Errorf("find line ends: %w", err)
			}
		}
		if at >= size {
			break
		}
		bounds = append(bounds, at)
	}
	if size > 0 {
		bounds = append(bounds, size)
	}
	return bounds, nil
}

// PeakRSS returns the peak resident memory of this process in bytes, from
// VmHWM in /proc/self/status; 0 where that is not available.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseVmHWM(string(b))
}

func parseVmHWM(status string) int64 {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
