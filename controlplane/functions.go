package controlplane

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// Function settings bounds (reference section 3).
const (
	minMemoryMB = 128
	maxMemoryMB = 10240
	maxTimeout  = 30 * time.Second
)

func validateConfig(name string, c *edgelabv1.FunctionConfig) error {
	if m := c.GetMemoryMb(); m != 0 && (m < minMemoryMB || m > maxMemoryMB) {
		return invalidf("function %s: memory %d MB is out of range (%d-%d MB, or 0 for the event type's default)", name, m, minMemoryMB, maxMemoryMB)
	}
	if c.GetTimeout() != nil {
		if err := c.GetTimeout().CheckValid(); err != nil {
			return invalidf("function %s: timeout: %v", name, err)
		}
		if t := c.GetTimeout().AsDuration(); t < 0 || t > maxTimeout {
			return invalidf("function %s: timeout %s is out of range (0 for the event type's default, at most %s)", name, t, maxTimeout)
		}
	}
	if len(c.GetDescription()) > 256 {
		return invalidf("function %s: description is longer than 256 characters", name)
	}
	return nil
}

// CreateFunction validates the source (statically and by compiling it in a
// sandbox worker) and stores the function with its draft.
func (s *Server) CreateFunction(ctx context.Context, req *edgelabv1.CreateFunctionRequest) (*edgelabv1.CreateFunctionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("function", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := validateConfig(req.GetName(), req.GetConfig()); err != nil {
		return nil, toStatus(err)
	}
	if _, _, err := s.store.GetFunction(ctx, req.GetName()); err == nil {
		// Fail fast before the (slow) compile check; the create txn re-checks.
		return nil, toStatus(invalidExists(req.GetName()))
	}
	eps, err := s.validateCode(ctx, req.GetName(), req.GetConfig(), req.GetFiles())
	if err != nil {
		return nil, toStatus(err)
	}
	fn, err := s.store.CreateFunction(ctx, &edgelabv1.Function{Name: req.GetName(), Config: req.GetConfig(), Draft: req.GetFiles(), EntryPoints: eps})
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("function created", "function", fn.GetName(), "sha256", fn.GetDraftSha256())
	return &edgelabv1.CreateFunctionResponse{Function: withoutCode(fn)}, nil
}

func invalidExists(name string) error {
	return &existsError{name: name}
}

type existsError struct{ name string }

func (e *existsError) Error() string   { return "function \"" + e.name + "\": already exists" }
func (e *existsError) Is(t error) bool { return t == store.ErrExists }

// UpdateFunction replaces the draft (and the config when given).
func (s *Server) UpdateFunction(ctx context.Context, req *edgelabv1.UpdateFunctionRequest) (*edgelabv1.UpdateFunctionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	name := req.GetName()
	if err := store.CheckName("function", name); err != nil {
		return nil, toStatus(err)
	}
	cur, _, err := s.store.GetFunction(ctx, name)
	if err != nil {
		return nil, toStatus(err)
	}
	cfg := cur.GetConfig()
	if req.GetConfig() != nil {
		if err := validateConfig(name, req.GetConfig()); err != nil {
			return nil, toStatus(err)
		}
		cfg = req.GetConfig()
	}
	files := req.GetFiles()
	var eps []edgelabv1.EventType
	if len(files) > 0 {
		if eps, err = s.validateCode(ctx, name, cfg, files); err != nil {
			return nil, toStatus(err)
		}
	} else if req.GetConfig() == nil {
		return nil, toStatus(invalidf("function %s: nothing to update: give source files or a config", name))
	}
	fn, err := s.store.UpdateFunction(ctx, name, func(f *edgelabv1.Function) error {
		if len(files) > 0 {
			f.Draft, f.EntryPoints = files, eps
		}
		f.Config = cfg
		return nil
	})
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("function updated", "function", name, "sha256", fn.GetDraftSha256())
	return &edgelabv1.UpdateFunctionResponse{Function: withoutCode(fn)}, nil
}

// PublishFunction publishes the draft as the next numbered version.
func (s *Server) PublishFunction(ctx context.Context, req *edgelabv1.PublishFunctionRequest) (*edgelabv1.PublishFunctionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("function", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if len(req.GetDescription()) > 256 {
		return nil, toStatus(invalidf("function %s: description is longer than 256 characters", req.GetName()))
	}
	v, rev, err := s.store.PublishFunction(ctx, req.GetName(), req.GetDescription())
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("function published", "function", v.GetName(), "version", v.GetVersion(), "sha256", v.GetSha256(), "revision", rev)
	return &edgelabv1.PublishFunctionResponse{Version: versionWithoutCode(v), Revision: rev}, nil
}

// GetFunction returns a function (the draft when version is 0) and its
// version numbers; code only with include_code.
func (s *Server) GetFunction(ctx context.Context, req *edgelabv1.GetFunctionRequest) (*edgelabv1.GetFunctionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("function", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if req.GetVersion() < 0 {
		return nil, toStatus(invalidf("function %s: version %d: versions start at 1 (0 means the draft)", req.GetName(), req.GetVersion()))
	}
	fn, _, err := s.store.GetFunction(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &edgelabv1.GetFunctionResponse{Function: fn}
	if !req.GetIncludeCode() {
		resp.Function = withoutCode(fn)
	}
	if resp.Versions, err = s.store.ListVersions(ctx, req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if req.GetVersion() > 0 {
		v, err := s.store.GetVersion(ctx, req.GetName(), req.GetVersion())
		if err != nil {
			return nil, toStatus(err)
		}
		if !req.GetIncludeCode() {
			v = versionWithoutCode(v)
		}
		resp.Version = v
	}
	return resp, nil
}

// ListFunctions lists functions without their code.
func (s *Server) ListFunctions(ctx context.Context, _ *edgelabv1.ListFunctionsRequest) (*edgelabv1.ListFunctionsResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	fns, err := s.store.ListFunctions(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	for i, f := range fns {
		fns[i] = withoutCode(f)
	}
	return &edgelabv1.ListFunctionsResponse{Functions: fns}, nil
}

// DeleteFunction deletes one version, or the function and all its versions
// when version is 0; refused (FailedPrecondition) while a distribution
// references it.
func (s *Server) DeleteFunction(ctx context.Context, req *edgelabv1.DeleteFunctionRequest) (*edgelabv1.DeleteFunctionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("function", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	var err error
	switch {
	case req.GetVersion() < 0:
		err = invalidf("function %s: version %d: versions start at 1 (0 deletes the function)", req.GetName(), req.GetVersion())
	case req.GetVersion() == 0:
		_, err = s.store.DeleteFunction(ctx, req.GetName())
	default:
		_, err = s.store.DeleteVersion(ctx, req.GetName(), req.GetVersion())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("function deleted", "function", req.GetName(), "version", req.GetVersion())
	return &edgelabv1.DeleteFunctionResponse{}, nil
}

// withoutCode returns a copy of fn with file contents dropped (names kept).
func withoutCode(fn *edgelabv1.Function) *edgelabv1.Function {
	fn = proto.CloneOf(fn)
	for _, f := range fn.GetDraft() {
		f.Content = nil
	}
	return fn
}

func versionWithoutCode(v *edgelabv1.FunctionVersion) *edgelabv1.FunctionVersion {
	v = proto.CloneOf(v)
	for _, f := range v.GetFiles() {
		f.Content = nil
	}
	return v
}
