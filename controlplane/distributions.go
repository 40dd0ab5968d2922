package controlplane

import (
	"context"

	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/store"
)

// Invalidation bounds (CloudFront allows 3,000 paths per request).
const (
	maxInvalidationPaths = 3000
	maxInvalidationPath  = 4096
)

// ApplyDistribution validates a distribution (structure, referenced
// versions, exported entry points, viewer code size) and creates or
// replaces it. Nothing is stored when validation fails.
func (s *Server) ApplyDistribution(ctx context.Context, req *edgelabv1.ApplyDistributionRequest) (*edgelabv1.ApplyDistributionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	d := req.GetDistribution()
	if d == nil {
		return nil, toStatus(invalidf("no distribution given"))
	}
	if err := distribution.Validate(d); err != nil {
		return nil, toStatus(err)
	}
	if err := checkTiers(d, s.topology()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkAssociations(ctx, d); err != nil {
		return nil, toStatus(err)
	}
	if err := s.checkStagingLinks(ctx, d); err != nil {
		return nil, toStatus(err)
	}
	if err := s.replicator.CheckDeliverable(d); err != nil {
		return nil, err
	}
	stored, rev, created, err := s.store.ApplyDistribution(ctx, d)
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("distribution applied", "distribution", d.GetId(), "revision", rev, "created", created)
	return &edgelabv1.ApplyDistributionResponse{Distribution: stored, Revision: rev, Created: created}, nil
}

// checkAssociations checks every association against the stored versions.
func (s *Server) checkAssociations(ctx context.Context, d *edgelabv1.Distribution) error {
	var problems []string
	versions := map[string]*edgelabv1.FunctionVersion{}
	for i, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			path := fmt.Sprintf("behaviors[%d].functions.%s", i, eventtype.Name(a.GetEventType()))
			key := fmt.Sprintf("%s:%d", a.GetFunction(), a.GetVersion())
			v, ok := versions[key]
			if !ok {
				var err error
				v, err = s.store.GetVersion(ctx, a.GetFunction(), a.GetVersion())
				if errors.Is(err, store.ErrNotFound) {
					problems = append(problems, fmt.Sprintf("%s: function %q version %d does not exist", path, a.GetFunction(), a.GetVersion()))
					continue
				}
				if err != nil {
					return err
				}
				versions[key] = v
			}
			et := eventtype.FromProto(a.GetEventType())
			if !hasEntryPoint(v.GetEntryPoints(), a.GetEventType()) {
				problems = append(problems, fmt.Sprintf("%s: function %q version %d does not export %s (it exports: %s)",
					path, a.GetFunction(), a.GetVersion(), et.EntryPoint(), strings.Join(entryPointNames(v.GetEntryPoints()), ", ")))
			}
			if err := sandbox.CheckEventLimits(s.cfg.Profile, et, int(v.GetConfig().GetMemoryMb()), v.GetConfig().GetTimeout().AsDuration()); err != nil {
				problems = append(problems, fmt.Sprintf("%s: function %q version %d: %v", path, a.GetFunction(), a.GetVersion(), err))
			}
			if limit := sandbox.CodeSizeLimit(et); et.IsViewer() {
				if size := sandbox.CompressedSize(store.FileMap(v.GetFiles())); size > limit {
					problems = append(problems, fmt.Sprintf("%s: function %q version %d is %d bytes compressed, over the %d byte limit for %s functions",
						path, a.GetFunction(), a.GetVersion(), size, limit, "viewer"))
				}
			}
		}
	}
	if len(problems) > 0 {
		return &distribution.ValidationError{Problems: problems}
	}
	return nil
}

// checkStagingLinks checks d against the stored distributions: its
// continuous deployment policy names a staging distribution no other
// primary uses, and a staging distribution a primary links stays one.
func (s *Server) checkStagingLinks(ctx context.Context, d *edgelabv1.Distribution) error {
	all, err := s.store.ListDistributions(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*edgelabv1.Distribution, len(all))
	for _, o := range all {
		byID[o.GetId()] = o
	}
	primaries := func(stagingID string) []string { return primariesOf(all, stagingID) }
	if err := distribution.ValidateContinuousDeployment(d, func(id string) *edgelabv1.Distribution { return byID[id] }, primaries); err != nil {
		return err
	}
	if p := primaries(d.GetId()); len(p) > 0 && !d.GetStaging() {
		return invalidf("staging: distribution %s is the staging distribution of %s; unlink it there first", d.GetId(), strings.Join(p, ", "))
	}
	return nil
}

// primariesOf lists the distributions whose continuous deployment policy
// names stagingID.
func primariesOf(all []*edgelabv1.Distribution, stagingID string) []string {
	var out []string
	for _, o := range all {
		if o.GetContinuousDeployment().GetStagingDistributionId() == stagingID {
			out = append(out, o.GetId())
		}
	}
	return out
}

// GetDistribution returns one distribution.
func (s *Server) GetDistribution(ctx context.Context, req *edgelabv1.GetDistributionRequest) (*edgelabv1.GetDistributionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("distribution", req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	d, rev, err := s.store.GetDistribution(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &edgelabv1.GetDistributionResponse{Distribution: d, Revision: rev}, nil
}

// ListDistributions lists every distribution.
func (s *Server) ListDistributions(ctx context.Context, _ *edgelabv1.ListDistributionsRequest) (*edgelabv1.ListDistributionsResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	ds, err := s.store.ListDistributions(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &edgelabv1.ListDistributionsResponse{Distributions: ds}, nil
}

// DeleteDistribution deletes a distribution (its versions become deletable).
func (s *Server) DeleteDistribution(ctx context.Context, req *edgelabv1.DeleteDistributionRequest) (*edgelabv1.DeleteDistributionResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("distribution", req.GetId()); err != nil {
		return nil, toStatus(err)
	}
	all, err := s.store.ListDistributions(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	if p := primariesOf(all, req.GetId()); len(p) > 0 {
		return nil, status.Errorf(codes.FailedPrecondition, "distribution %s is the staging distribution of %s: remove the continuous deployment policy there first", req.GetId(), strings.Join(p, ", "))
	}
	rev, err := s.store.DeleteDistribution(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("distribution deleted", "distribution", req.GetId(), "revision", rev)
	return &edgelabv1.DeleteDistributionResponse{Revision: rev}, nil
}

// CreateInvalidation stores an invalidation of path patterns; it
// replicates to the edge nodes like any other change.
func (s *Server) CreateInvalidation(ctx context.Context, req *edgelabv1.CreateInvalidationRequest) (*edgelabv1.CreateInvalidationResponse, error) {
	ctx, cancel := s.rpcCtx(ctx)
	defer cancel()
	if err := store.CheckName("distribution", req.GetDistributionId()); err != nil {
		return nil, toStatus(err)
	}
	paths := req.GetPaths()
	if len(paths) == 0 || len(paths) > maxInvalidationPaths {
		return nil, toStatus(invalidf("an invalidation needs 1 to %d paths, got %d", maxInvalidationPaths, len(paths)))
	}
	for i, p := range paths {
		if len(p) > maxInvalidationPath {
			return nil, toStatus(invalidf("paths[%d]: longer than %d characters", i, maxInvalidationPath))
		}
		if err := distribution.CheckPattern(p); err != nil || !strings.HasPrefix(p, "/") {
			return nil, toStatus(invalidf("paths[%d]: %q is not a valid invalidation path (start with \"/\"; * and ? are wildcards)", i, p))
		}
	}
	inv, err := s.store.CreateInvalidation(ctx, &edgelabv1.Invalidation{DistributionId: req.GetDistributionId(), Paths: paths})
	if err != nil {
		return nil, toStatus(err)
	}
	s.log.Info("invalidation created", "distribution", inv.GetDistributionId(), "id", inv.GetId(), "paths", len(paths))
	return &edgelabv1.CreateInvalidationResponse{Invalidation: inv}, nil
}
