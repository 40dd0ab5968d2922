package lab

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/distribution"
	"github.com/edgelab/edgelab/examples"
	jwtauth "github.com/edgelab/edgelab/examples/jwt-auth"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// SampleDistributionID is the id of the distribution Start deploys.
const SampleDistributionID = "demo"

// sampleFunctions maps the function name in the lab to its example directory.
var sampleFunctions = []struct{ name, dir string }{
	{"auth", "jwt-auth"},
	{"headers", "security-headers"},
	{"hello", "static-content"},
}

// deploySample publishes the example functions (a new version only when the
// code changed since the last run), applies the demo distribution pointing
// at this lab's origins, and waits until it is Deployed.
func (l *Lab) deploySample(ctx context.Context) error {
	c := l.Client()
	versions := map[string]int64{}
	for _, f := range sampleFunctions {
		v, err := PublishSource(ctx, c, f.name, f.dir, "edgelab sample: "+f.dir)
		if err != nil {
			return err
		}
		versions[f.name] = v
	}
	d := l.SampleDistribution(versions)
	if _, err := c.ApplyDistribution(ctx, &edgelabv1.ApplyDistributionRequest{Distribution: d}); err != nil {
		return fmt.Errorf("lab: applying sample distribution: %w", err)
	}
	tok, err := SampleToken(365 * 24 * time.Hour)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.token = tok
	l.mu.Unlock()
	wait := l.MaxModelledDelay() + 2*time.Minute
	if l.MaxModelledDelay() > 10*time.Second {
		fmt.Fprintf(l.cfg.Progress, "edgelab: waiting for the sample distribution to deploy: the %q profile takes up to %s\n",
			l.cfg.Profile, l.MaxModelledDelay().Round(time.Second))
	}
	return l.WaitDeployed(ctx, SampleDistributionID, wait)
}

// MaxModelledDelay is the longest modelled propagation delay to any region
// of the lab under its profile (scale, stages and jitter).
func (l *Lab) MaxModelledDelay() time.Duration {
	p, err := l.cfg.Topology.Profile(l.cfg.Profile)
	if err != nil {
		return 0
	}
	var longest time.Duration
	for _, r := range l.cfg.Regions {
		if d := p.Base(r, l.cfg.Topology.Home(), l.cfg.Topology) + time.Duration(p.Jitter); d > longest {
			longest = d
		}
	}
	return longest
}

// PublishSource creates or updates function name from the example in dir
// and publishes it when its code differs from the latest version. It
// returns the version to associate.
func PublishSource(ctx context.Context, c edgelabv1.ControlPlaneServiceClient, name, dir, desc string) (int64, error) {
	srcs, err := examples.Sources(dir)
	if err != nil {
		return 0, err
	}
	var files []*edgelabv1.SourceFile
	for n, data := range srcs {
		files = append(files, &edgelabv1.SourceFile{Name: n, Content: data})
	}
	got, err := c.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: name})
	switch {
	case status.Code(err) == codes.NotFound:
		if _, err := c.CreateFunction(ctx, &edgelabv1.CreateFunctionRequest{
			Name: name, Files: files, Config: &edgelabv1.FunctionConfig{Description: desc},
		}); err != nil {
			return 0, fmt.Errorf("lab: creating function %s: %w", name, err)
		}
	case err != nil:
		return 0, fmt.Errorf("lab: reading function %s: %w", name, err)
	default:
		up, err := c.UpdateFunction(ctx, &edgelabv1.UpdateFunctionRequest{Name: name, Files: files})
		if err != nil {
			return 0, fmt.Errorf("lab: updating function %s: %w", name, err)
		}
		if latest := got.GetFunction().GetLatestVersion(); latest > 0 {
			v, err := c.GetFunction(ctx, &edgelabv1.GetFunctionRequest{Name: name, Version: latest})
			if err == nil && v.GetVersion().GetSha256() == up.GetFunction().GetDraftSha256() {
				return latest, nil
			}
		}
	}
	pub, err := c.PublishFunction(ctx, &edgelabv1.PublishFunctionRequest{Name: name, Description: desc})
	if err != nil {
		return 0, fmt.Errorf("lab: publishing function %s: %w", name, err)
	}
	return pub.GetVersion().GetVersion(), nil
}

// The lab's S3-mode sample origin (package origin's S3 mode) and the bucket
// it serves; the sample distribution serves /assets/* from it.
const (
	S3OriginID = "assets"
	S3Bucket   = "edgelab-assets"
)

// SampleDistribution is the demo distribution on this lab's origins: /api/*
// behind the web/web-b origin group with the JWT check at viewer-request and
// security headers at origin-response, /hello generated at the edge,
// /assets/* from the S3 origin (bucket edgelab-assets, path style), and
// everything else from the web origin group.
func (l *Lab) SampleDistribution(versions map[string]int64) *edgelabv1.Distribution {
	ep := l.Endpoints()
	origins := map[string]string{}
	for _, o := range ep.Origins {
		origins[o.ID] = o.URL
	}
	return &edgelabv1.Distribution{
		Id:      SampleDistributionID,
		Comment: "edgelab all-in-one sample",
		Domains: []string{"demo.edgelab.test", "*"},
		Origins: []*edgelabv1.Origin{
			{Id: "web", Url: origins["web"]},
			{Id: "web-b", Url: origins["web-b"]},
			{Id: S3OriginID, S3: &edgelabv1.S3Origin{DomainName: strings.TrimPrefix(origins[S3OriginID], "http://"),
				Region: l.cfg.Topology.Home(), AuthMethod: "none", Path: "/" + S3Bucket}},
		},
		OriginGroups: []*edgelabv1.OriginGroup{
			{Id: "web-ha", Primary: "web", Secondary: "web-b", FailoverStatus: distribution.DefaultFailoverStatus()},
		},
		Behaviors: []*edgelabv1.Behavior{
			{
				Path:   "/api/*",
				Origin: "web-ha",
				Functions: []*edgelabv1.Association{
					{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "auth", Version: versions["auth"]},
					{EventType: edgelabv1.EventType_EVENT_TYPE_ORIGIN_RESPONSE, Function: "headers", Version: versions["headers"]},
				},
			},
			{
				Path:   "/hello",
				Origin: "web",
				Functions: []*edgelabv1.Association{
					{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST, Function: "hello", Version: versions["hello"]},
				},
			},
			{Path: "/assets/*", Origin: S3OriginID},
			{Path: "default", Origin: "web-ha"},
		},
	}
}

// SampleToken mints an HS256 JWT that the sample jwt-auth function accepts.
func SampleToken(validFor time.Duration) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "workshop-user",
		"iat": time.Now().Unix(),
		"exp": time.Now().Add(validFor).Unix(),
	})
	s, err := t.SignedString([]byte(jwtauth.Secret))
	if err != nil {
		return "", fmt.Errorf("lab: minting token: %w", err)
	}
	return s, nil
}

// WaitDeployed polls the control plane until distribution id is Deployed.
func (l *Lab) WaitDeployed(ctx context.Context, id string, timeout time.Duration) error {
	return WaitDeployed(ctx, l.Client(), id, timeout)
}

// WaitDeployed polls GetStatus until distribution id is Deployed, failing
// early when it is Failed (a node NACKed) or when timeout passes.
func WaitDeployed(ctx context.Context, c edgelabv1.ControlPlaneServiceClient, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		st, err := c.GetStatus(ctx, &edgelabv1.GetStatusRequest{DistributionId: id})
		if err == nil {
			for _, d := range st.GetDistributions() {
				if d.GetDistributionId() != id {
					continue
				}
				switch d.GetState() {
				case edgelabv1.DeploymentState_DEPLOYMENT_STATE_DEPLOYED:
					return nil
				case edgelabv1.DeploymentState_DEPLOYMENT_STATE_FAILED:
					for _, n := range d.GetNodes() {
						if n.GetError() != "" {
							return fmt.Errorf("lab: distribution %s failed on %s: %s", id, n.GetNodeId(), n.GetError())
						}
					}
					return fmt.Errorf("lab: distribution %s failed", id)
				}
				last = d.GetState().String()
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: distribution %s not Deployed after %s (last: %s)", id, timeout, last)
		case <-tick.C:
		}
	}
}
