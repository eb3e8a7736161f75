package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"calldiag/internal/ingest"
	"calldiag/internal/pipeline"
	"calldiag/internal/store"
)

// Ingester ingests one piece of a stream; pipeline.Pipeline is one.
type Ingester interface {
	IngestFrom(ctx context.Context, r io.Reader, name string, firstLine int) (pipeline.Result, error)
}

// Checkpoints keeps a source's checkpoints; the stores implement it.
type Checkpoints interface {
	Checkpoints(ctx context.Context, source string) (map[string]store.Checkpoint, error)
	SaveCheckpoints(ctx context.Context, source string, cps map[string]store.Checkpoint) error
}

// Folder follows a folder holding logs as a Storage account archives them
// (insights-logs-<category>/…/PT1H.json, one record per line, appended to
// during the hour) or any other JSON, CSV or gzip log files: it finds new
// files and files that grew, and ingests only their new complete lines.
type Folder struct {
	// Root is the folder followed.
	Root string
	// Name names the source in checkpoints, logs and status (its URL).
	Name string
	// Poll is the time between two looks at the folder (default 1 s).
	Poll time.Duration
	// Settle is how long a file must stay unchanged before a last line
	// without its newline, or a gzip file, is read (default 10 s): a
	// writer may still be adding to it.
	Settle time.Duration
	// Segment caps the bytes read into memory at once (default 8 MiB);
	// a file that grew more is read in several segments, each committed
	// and checkpointed before the next.
	Segment int64

	Ingest      Ingester
	Checkpoints Checkpoints
	Status      *Status
	Logger      *slog.Logger
	// Now gives the time (default time.Now).
	Now func() time.Time

	tail tail // what has been read, from the first pass on
}

func (f *Folder) defaults() {
	if f.Poll <= 0 {
		f.Poll = time.Second
	}
	if f.Settle <= 0 {
		f.Settle = 10 * time.Second
	}
	if f.Segment <= 0 {
		f.Segment = 8 << 20
	}
	common(&f.Logger, &f.Now, &f.Status, f.Name, "dir")
}

// Run follows the folder until ctx ends. A pass that fails (the folder is
// missing, the store refuses a batch) is retried with a growing pause;
// Status tells why meanwhile.
func (f *Folder) Run(ctx context.Context) error {
	f.defaults()
	return runPasses(ctx, f.Poll, f.Pass, f.Status, f.Logger, f.Now, f.Name)
}

// Pass looks at the folder once and ingests what is new.
func (f *Folder) Pass(ctx context.Context) error {
	f.defaults()
	f.tail.name, f.tail.settle, f.tail.segment = f.Name, f.Settle, f.Segment
	f.tail.ingest, f.tail.checkpoints, f.tail.status, f.tail.logger, f.tail.now = f.Ingest, f.Checkpoints, f.Status, f.Logger, f.Now
	f.tail.place = dir{root: f.Root}
	return f.tail.pass(ctx)
}

// dir is a folder as a place of streams: its files, keyed by their path
// below it.
type dir struct {
	root string
}

// list returns the files below the folder, in lexical order.
func (d dir) list(context.Context) ([]stream, error) {
	info, err := os.Stat(d.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("folder %s does not exist", d.root)
	}
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("folder %s: not a folder", d.root)
	}
	files, err := ingest.Files([]string{d.root})
	if err != nil {
		return nil, err
	}
	out := make([]stream, 0, len(files))
	for _, path := range files {
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			rel = path
		}
		key := filepath.ToSlash(rel)
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // gone since the walk
		}
		if err != nil {
			return nil, fmt.Errorf("file %s: %w", key, err)
		}
		out = append(out, stream{key: key, size: fi.Size(), modified: fi.ModTime(), tag: fileTag(fi)})
	}
	return out, nil
}

// open returns a reader of a range of a file.
func (d dir) open(_ context.Context, s stream, off, n int64) (io.ReadCloser, error) {
	file, err := os.Open(filepath.Join(d.root, filepath.FromSlash(s.key)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errGone
	}
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", s.key, err)
	}
	return sectionCloser{io.NewSectionReader(file, off, n), file}, nil
}

// sectionCloser reads a section of a file and closes the file.
type sectionCloser struct {
	*io.SectionReader
	file *os.File
}

func (s sectionCloser) Close() error { return s.file.Close() }
