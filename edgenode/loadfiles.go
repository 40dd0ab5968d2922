package edgenode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// LoadFiles builds a snapshot from local files and applies it: a way to run
// a node without a control plane. distributionFiles are distribution YAML or
// JSON files; functionDirs name function packages as "NAME:VERSION=DIR" or
// just "DIR" (name = the directory's base name, version 1); every non-test
// .go file in DIR is part of the version. The snapshot's revision is the
// node's current revision + 1. The node's internals do not depend on it.
func (n *Node) LoadFiles(ctx context.Context, distributionFiles, functionDirs []string) error {
	snap, err := SnapshotFromFiles(distributionFiles, functionDirs)
	if err != nil {
		return err
	}
	snap.Revision = n.Revision() + 1
	return n.Apply(ctx, snap, nil)
}

// SnapshotFromFiles reads distribution files and function directories (see
// LoadFiles) into a snapshot with revision 0.
func SnapshotFromFiles(distributionFiles, functionDirs []string) (*edgelabv1.Snapshot, error) {
	snap := &edgelabv1.Snapshot{Created: timestamppb.Now(), ServerId: "files"}
	for _, f := range distributionFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading distribution: %w", err)
		}
		d, err := distribution.Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		snap.Distributions = append(snap.Distributions, d)
	}
	for _, spec := range functionDirs {
		fv, err := functionFromDir(spec)
		if err != nil {
			return nil, err
		}
		snap.Functions = append(snap.Functions, fv)
	}
	return snap, nil
}

func functionFromDir(spec string) (*edgelabv1.FunctionVersion, error) {
	name, version, dir := "", int64(1), spec
	if head, d, ok := strings.Cut(spec, "="); ok {
		dir = d
		nm, v, hasV := strings.Cut(head, ":")
		name = nm
		if hasV {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("function %q: bad version %q", spec, v)
			}
			version = n
		}
	}
	if name == "" {
		name = filepath.Base(filepath.Clean(dir))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", name, err)
	}
	fv := &edgelabv1.FunctionVersion{Name: name, Version: version, Published: timestamppb.Now()}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		fv.Files = append(fv.Files, &edgelabv1.SourceFile{Name: e.Name(), Content: data})
	}
	if len(fv.Files) == 0 {
		return nil, fmt.Errorf("function %s: no .go files in %s", name, dir)
	}
	slices.SortFunc(fv.Files, func(a, b *edgelabv1.SourceFile) int { return strings.Compare(a.GetName(), b.GetName()) })
	h := sha256.New()
	for _, f := range fv.Files {
		h.Write([]byte(f.GetName()))
		h.Write([]byte{0})
		h.Write(f.GetContent())
		h.Write([]byte{0})
	}
	fv.Sha256 = hex.EncodeToString(h.Sum(nil))
	return fv, nil
}
