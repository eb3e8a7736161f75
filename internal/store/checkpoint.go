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
