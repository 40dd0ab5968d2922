package edgenode

import (
	"net/http"
	"slices"
	"time"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/viewerinfo"
)

// compilePolicies fills what a behavior's origin request policy and cache
// policy ask of the request stages: the values forwarded to the origin
// (nil: every one) and the CloudFront headers to add.
func (b *behavior) compilePolicies(pd *edgelabv1.Distribution, pb *edgelabv1.Behavior) {
	b.respPolicy = distribution.ResponseHeadersPolicyFor(pd, pb)
	cp := distribution.CachePolicyFor(pd, pb)
	orp := distribution.OriginRequestPolicyFor(pd, pb)
	named := slices.Clone(cp.GetHeaders())
	if orp != nil && (orp.GetHeaderBehavior() == distribution.ForwardWhitelist || orp.GetHeaderBehavior() == distribution.ForwardAllViewerAndCloudFrontNamed) {
		named = append(named, orp.GetHeaders()...)
	}
	for _, h := range named {
		if c := http.CanonicalHeaderKey(h); viewerinfo.IsHeader(c) && !slices.Contains(b.cfHeaders, c) {
			b.cfHeaders = append(b.cfHeaders, c)
		}
	}
	if orp != nil || pb.GetCachePolicy() != "" {
		b.forward = newForwardPolicy(cp, orp)
	}
}

// compileFeatures fills the distribution-wide features: geo restriction
// and custom error responses.
func (d *dist) compileFeatures(pd *edgelabv1.Distribution) {
	if g := pd.GetGeoRestriction(); g.GetRestrictionType() == distribution.GeoAllowlist || g.GetRestrictionType() == distribution.GeoDenylist {
		d.geo = g
	}
	for _, r := range pd.GetCustomErrorResponses() {
		if d.errorResponses == nil {
			d.errorResponses = map[int]*errorResponse{}
		}
		d.errorResponses[int(r.GetErrorCode())] = &errorResponse{
			page:   r.GetResponsePagePath(),
			code:   int(r.GetResponseCode()),
			minTTL: distribution.ErrorCachingMinTTL(r),
		}
	}
}

// errorResponse is one compiled custom error response.
type errorResponse struct {
	page   string        // "" = the error's own body
	code   int           // 0 = the error's status
	minTTL time.Duration // how long the error is cached
}
