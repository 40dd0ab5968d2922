package distribution

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"google.golang.org/protobuf/proto"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Continuous deployment, as CloudFront documents it: a primary
// distribution's policy routes some viewer requests to a staging
// distribution, by weight (at most MaxStagingWeight, optionally sticky
// per viewer session) or by a header whose name starts with
// StagingHeaderPrefix. Staging and primary do not share a cache.
const (
	// MaxStagingWeight is the largest share of requests a weight-based
	// policy may route to staging.
	MaxStagingWeight = 0.15
	// StagingHeaderPrefix starts every header-based policy's header name.
	StagingHeaderPrefix = "aws-cf-cd-"
	// MinSessionTTL and MaxSessionTTL bound both session stickiness TTLs.
	MinSessionTTL = 300 * time.Second
	MaxSessionTTL = 3600 * time.Second
)

// continuousDeploymentFile is the continuousDeployment section.
type continuousDeploymentFile struct {
	StagingDistributionID string             `json:"stagingDistributionId"`
	Enabled               bool               `json:"enabled"`
	Weight                *stagingWeightFile `json:"weight,omitempty"`
	Header                *stagingHeaderFile `json:"header,omitempty"`
}

type stagingWeightFile struct {
	Weight            float64         `json:"weight"`
	SessionStickiness *stickinessFile `json:"sessionStickiness,omitempty"`
}

type stickinessFile struct {
	IdleTTL    json.RawMessage `json:"idleTTL"`
	MaximumTTL json.RawMessage `json:"maximumTTL"`
}

type stagingHeaderFile struct {
	Header string `json:"header"`
	Value  string `json:"value"`
}

func (c *continuousDeploymentFile) toProto() (*edgelabv1.ContinuousDeployment, error) {
	if c == nil {
		return nil, nil
	}
	cd := &edgelabv1.ContinuousDeployment{StagingDistributionId: c.StagingDistributionID, Enabled: c.Enabled}
	switch {
	case c.Weight != nil && c.Header != nil:
		return nil, fmt.Errorf("continuousDeployment: give weight or header, not both")
	case c.Header != nil:
		cd.Traffic = &edgelabv1.ContinuousDeployment_Header{Header: &edgelabv1.StagingHeader{Header: c.Header.Header, Value: c.Header.Value}}
	case c.Weight != nil:
		w := &edgelabv1.StagingWeight{Weight: c.Weight.Weight}
		if s := c.Weight.SessionStickiness; s != nil {
			idle, err := durationField(s.IdleTTL, "continuousDeployment.weight.sessionStickiness.idleTTL", 0)
			if err != nil {
				return nil, err
			}
			maxTTL, err := durationField(s.MaximumTTL, "continuousDeployment.weight.sessionStickiness.maximumTTL", 0)
			if err != nil {
				return nil, err
			}
			w.SessionStickiness = &edgelabv1.SessionStickiness{IdleTtl: idle, MaximumTtl: maxTTL}
		}
		cd.Traffic = &edgelabv1.ContinuousDeployment_Weight{Weight: w}
	}
	return cd, nil
}

func continuousDeploymentToFile(cd *edgelabv1.ContinuousDeployment) *continuousDeploymentFile {
	if cd == nil {
		return nil
	}
	f := &continuousDeploymentFile{StagingDistributionID: cd.GetStagingDistributionId(), Enabled: cd.GetEnabled()}
	if h := cd.GetHeader(); h != nil {
		f.Header = &stagingHeaderFile{Header: h.GetHeader(), Value: h.GetValue()}
	}
	if w := cd.GetWeight(); w != nil {
		f.Weight = &stagingWeightFile{Weight: w.GetWeight()}
		if s := w.GetSessionStickiness(); s != nil {
			f.Weight.SessionStickiness = &stickinessFile{IdleTTL: durationJSON(s.GetIdleTtl().AsDuration()), MaximumTTL: durationJSON(s.GetMaximumTtl().AsDuration())}
		}
	}
	return f
}

// validateStaging checks a distribution's own continuous deployment
// fields; that the staging distribution exists and is one is checked by
// ValidateContinuousDeployment, which sees the other distributions.
func validateStaging(p *problems, d *edgelabv1.Distribution) {
	cd := d.GetContinuousDeployment()
	if cd == nil {
		return
	}
	const path = "continuousDeployment"
	if d.GetStaging() {
		p.add(path, "a staging distribution cannot have a continuous deployment policy of its own")
	}
	switch {
	case cd.GetStagingDistributionId() == "":
		p.add(path+".stagingDistributionId", "required: the id of the staging distribution")
	case cd.GetStagingDistributionId() == d.GetId():
		p.add(path+".stagingDistributionId", "%q is this distribution", cd.GetStagingDistributionId())
	}
	switch t := cd.GetTraffic().(type) {
	case *edgelabv1.ContinuousDeployment_Weight:
		validateStagingWeight(p, path+".weight", t.Weight)
	case *edgelabv1.ContinuousDeployment_Header:
		validateStagingHeader(p, path+".header", t.Header)
	default:
		p.add(path, "give weight (a share of requests) or header (a header and value) to route by")
	}
}

func validateStagingWeight(p *problems, path string, w *edgelabv1.StagingWeight) {
	if !(w.GetWeight() > 0 && w.GetWeight() <= MaxStagingWeight) {
		p.add(path+".weight", "%v is not in (0, %v]: CloudFront routes at most 15%% of requests to staging", w.GetWeight(), MaxStagingWeight)
	}
	s := w.GetSessionStickiness()
	if s == nil {
		return
	}
	idle, maxTTL := s.GetIdleTtl().AsDuration(), s.GetMaximumTtl().AsDuration()
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"idleTTL", idle}, {"maximumTTL", maxTTL}} {
		if f.d < MinSessionTTL || f.d > MaxSessionTTL {
			p.add(path+".sessionStickiness."+f.name, "%s is not between 300s and 3600s", FormatDuration(f.d))
		}
	}
	if idle > maxTTL {
		p.add(path+".sessionStickiness.idleTTL", "%s is longer than maximumTTL %s", FormatDuration(idle), FormatDuration(maxTTL))
	}
}

func validateStagingHeader(p *problems, path string, h *edgelabv1.StagingHeader) {
	name := strings.ToLower(h.GetHeader())
	switch {
	case !strings.HasPrefix(name, StagingHeaderPrefix) || len(name) == len(StagingHeaderPrefix):
		p.add(path+".header", "%q must start with %q and name a header after it", h.GetHeader(), StagingHeaderPrefix)
	case !httpguts.ValidHeaderFieldName(name):
		p.add(path+".header", "%q is not a header name", h.GetHeader())
	}
	if h.GetValue() == "" {
		p.add(path+".value", "required: the header value that routes a request to staging")
	}
}

// ValidateContinuousDeployment checks the links between distributions: a
// primary's policy names an existing staging distribution (Staging set),
// and no staging distribution is the target of two primaries. lookup
// returns a distribution by id (nil: none); d is the one being stored.
func ValidateContinuousDeployment(d *edgelabv1.Distribution, lookup func(id string) *edgelabv1.Distribution, primaries func(stagingID string) []string) error {
	var p problems
	if id := d.GetContinuousDeployment().GetStagingDistributionId(); id != "" {
		switch s := lookup(id); {
		case s == nil:
			p.add("continuousDeployment.stagingDistributionId", "no distribution %q: create the staging distribution first", id)
		case !s.GetStaging():
			p.add("continuousDeployment.stagingDistributionId", "distribution %q is not a staging distribution (staging: true)", id)
		}
		for _, other := range primaries(id) {
			if other != d.GetId() {
				p.add("continuousDeployment.stagingDistributionId", "staging distribution %q is already linked to %q", id, other)
			}
		}
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

// Promote returns primary with staging's configuration (CloudFront's
// UpdateDistributionWithStagingConfig): everything but the primary's id,
// domains and continuous deployment policy comes from staging; the policy
// is kept, disabled, so the next change can be staged the same way.
func Promote(primary, staging *edgelabv1.Distribution) (*edgelabv1.Distribution, error) {
	if primary.GetContinuousDeployment().GetStagingDistributionId() != staging.GetId() {
		return nil, fmt.Errorf("distribution %s is not linked to staging distribution %s", primary.GetId(), staging.GetId())
	}
	out := proto.CloneOf(staging)
	out.Id, out.Domains, out.Staging = primary.GetId(), primary.GetDomains(), false
	out.ContinuousDeployment = proto.CloneOf(primary.GetContinuousDeployment())
	out.ContinuousDeployment.Enabled = false
	out.Updated = nil
	return out, nil
}
