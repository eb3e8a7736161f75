package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files expands paths into the files to read, in order. A directory is
// walked recursively, its files in lexical order, skipping hidden files and
// directories (names starting with '.') below it; a path named explicitly is
// kept even if hidden. "-" (standard input) is kept as is. A path that does
// not exist is an error naming it.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("list input files: %w", err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				// A symbolic link or other special entry: keep it only if it
				// leads to a regular file.
				fi, err := os.Stat(path)
				if err != nil || !fi.Mode().IsRegular() {
					return nil
				}
			}
			out = append(out, path)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list input files in %s: %w", p, err)
		}
	}
	return out, nil
}
