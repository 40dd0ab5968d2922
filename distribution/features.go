package distribution

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// The distribution-wide features beside origins and behaviors: geo
// restriction (geo.go), custom error responses (errorresponses.go) and
// response headers policies (respheaderspolicy.go), key groups and trusted
// key groups (keygroups.go).

func (f *file) featuresToProto(d *edgelabv1.Distribution) error {
	d.GeoRestriction = f.GeoRestriction.proto()
	d.ResponseHeadersPolicies = responseHeadersToProto(f.ResponseHeadersPolicies)
	d.KeyGroups = keyGroupsToProto(f.KeyGroups)
	f.trustedToProto(d)
	var err error
	d.CustomErrorResponses, err = errorResponsesToProto(f.CustomErrorResponses)
	return err
}

func featuresToFile(d *edgelabv1.Distribution, f *file) {
	f.GeoRestriction = geoToFile(d.GetGeoRestriction())
	f.ResponseHeadersPolicies = responseHeadersToFile(d.GetResponseHeadersPolicies())
	f.CustomErrorResponses = errorResponsesToFile(d.GetCustomErrorResponses())
	f.KeyGroups = keyGroupsToFile(d.GetKeyGroups())
	trustedToFile(d, f)
}

func validateFeatures(p *problems, d *edgelabv1.Distribution, targets map[string]bool) {
	validateGeo(p, d.GetGeoRestriction())
	validateResponseHeaders(p, d)
	validateErrorResponses(p, d, targets)
	validateKeyGroups(p, d)
}
