package distribution

import edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"

// The distribution-wide features beside origins and behaviors: geo
// restriction (geo.go) and custom error responses (errorresponses.go).

func (f *file) featuresToProto(d *edgelabv1.Distribution) error {
	d.GeoRestriction = f.GeoRestriction.proto()
	var err error
	d.CustomErrorResponses, err = errorResponsesToProto(f.CustomErrorResponses)
	return err
}

func featuresToFile(d *edgelabv1.Distribution, f *file) {
	f.GeoRestriction = geoToFile(d.GetGeoRestriction())
	f.CustomErrorResponses = errorResponsesToFile(d.GetCustomErrorResponses())
}

func validateFeatures(p *problems, d *edgelabv1.Distribution, targets map[string]bool) {
	validateGeo(p, d.GetGeoRestriction())
	validateErrorResponses(p, d, targets)
}
