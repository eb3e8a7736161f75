//go:build unix

package source

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileTag identifies a file by its device and inode, which a file
// replaced under the same name (rotated, copied anew) does not keep.
func fileTag(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
}
