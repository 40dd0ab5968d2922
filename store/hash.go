package store

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// SHA256 returns the content hash of a function's files: sha256 over the files
// sorted by name, each as name, NUL, content, NUL; hex encoded. The result
// does not depend on the order of files.
func SHA256(files []*edgelabv1.SourceFile) string {
	sorted := make([]*edgelabv1.SourceFile, len(files))
	copy(sorted, files)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].GetName() < sorted[j].GetName() })
	h := sha256.New()
	for _, f := range sorted {
		h.Write([]byte(f.GetName()))
		h.Write([]byte{0})
		h.Write(f.GetContent())
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FileMap converts source files to the name -> content map the sandbox takes.
func FileMap(files []*edgelabv1.SourceFile) map[string][]byte {
	m := make(map[string][]byte, len(files))
	for _, f := range files {
		m[f.GetName()] = f.GetContent()
	}
	return m
}
