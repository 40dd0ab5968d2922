package controlplane

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/edgelab/edgelab/eventtype"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/store"
)

// checkSeq numbers compile checks so that concurrent checks of one
// function never share a sandbox slot (checks use negative versions, which
// published versions never have).
type checkSeq struct{ n atomic.Int64 }

func (c *checkSeq) next() int64 { return -c.n.Add(1) }

// runnerCheck is the default Checker: it loads the code in a sandbox worker
// process (which compiles it and runs its init code under the sandbox's
// time and memory limits) and unloads it again.
func (s *Server) runnerCheck(ctx context.Context, code sandbox.Code) error {
	code.Version = s.checkSeq.next()
	defer s.runner.Unload(code.Name, code.Version)
	if err := s.runner.Load(ctx, code); err != nil {
		return err
	}
	return nil
}

// validateCode runs the static checks and the isolated compile check on a
// function's files and returns the entry points it exports.
func (s *Server) validateCode(ctx context.Context, name string, cfg *edgelabv1.FunctionConfig, files []*edgelabv1.SourceFile) ([]edgelabv1.EventType, error) {
	if len(files) == 0 {
		return nil, invalidf("function %s: no source files", name)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f.GetName()] {
			return nil, invalidf("function %s: file %q given twice", name, f.GetName())
		}
		seen[f.GetName()] = true
	}
	fm := store.FileMap(files)
	info, err := sandbox.ValidateSource(fm)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", name, err)
	}
	code := sandbox.Code{Name: name, Files: fm, SHA256: store.SHA256(files), MemoryMB: int(cfg.GetMemoryMb()), Timeout: cfg.GetTimeout().AsDuration()}
	if err := s.checker.Check(ctx, code); err != nil {
		return nil, invalidf("function %s: %v", name, err)
	}
	out := make([]edgelabv1.EventType, 0, len(info.EntryPoints))
	for _, e := range info.EntryPoints {
		out = append(out, eventtype.ToProto(e))
	}
	return out, nil
}

// hasEntryPoint reports whether eps contains e.
func hasEntryPoint(eps []edgelabv1.EventType, e edgelabv1.EventType) bool {
	for _, x := range eps {
		if x == e {
			return true
		}
	}
	return false
}

// entryPointNames lists entry points as Go function names for messages.
func entryPointNames(eps []edgelabv1.EventType) []string {
	out := make([]string, 0, len(eps))
	for _, e := range eps {
		out = append(out, eventtype.FromProto(e).EntryPoint())
	}
	return out
}
