package store

import "time"

// Checkpoint is how far a continuous source has read one of its streams
// (a file, a blob, a partition): where the source resumes after a restart.
// It is saved only after the records read up to it are committed, so a
// crash between the two reads them again, which the store absorbs.
type Checkpoint struct {
	// Offset is the bytes of the stream consumed: complete lines only.
	Offset int64 `json:"offset"`
	// Line is the number of lines consumed.
	Line int `json:"line"`
	// Tag identifies the stream's content as it was read (a file's device
	// and inode, a blob's creation time), so that a stream replaced under
	// the same name is read again from its start.
	Tag string `json:"tag,omitempty"`
	// Updated is when the checkpoint was saved.
	Updated time.Time `json:"updated"`
}

// SourceProgress sums up the checkpoints of one source.
type SourceProgress struct {
	// Source is the source's URL.
	Source string `json:"source"`
	// Streams is the number of files, blobs or partitions with a
	// checkpoint; Bytes and Lines add up how far they have been read.
	Streams int   `json:"streams"`
	Bytes   int64 `json:"bytes"`
	Lines   int64 `json:"lines"`
	// Updated is when a checkpoint of the source was last saved.
	Updated time.Time `json:"updated"`
}
