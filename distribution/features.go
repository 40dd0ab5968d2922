package distribution

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// The distribution-wide features beside origins and behaviors: geo
// restriction (geo.go), custom error responses (errorresponses.go) and
// response headers policies (respheaderspolicy.go).

func (f *file) featuresToProto(d *edgelabv1.Distribution) error {
	d.GeoRestriction = f.GeoRestriction.proto()
	d.ResponseHeadersPolicies = responseHeadersToProto(f.ResponseHeadersPolicies)
	var err error
	d.CustomErrorResponses, err = errorResponsesToProto(f.CustomErrorResponses)
	return err
}

func featuresToFile(d *edgelabv1.Distribution, f *file) {
	f.GeoRestriction = geoToFile(d.GetGeoRestriction())
	f.ResponseHeadersPolicies = responseHeadersToFile(d.GetResponseHeadersPolicies())
	f.CustomErrorResponses = errorResponsesToFile(d.GetCustomErrorResponses())
}

func validateFeatures(p *problems, d *edgelabv1.Distribution, targets map[string]bool) {
	validateGeo(p, d.GetGeoRestriction())
	validateResponseHeaders(p, d)
	validateErrorResponses(p, d, targets)
}
