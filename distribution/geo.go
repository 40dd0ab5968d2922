package distribution

import (
	"fmt"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/viewerinfo"
)

// Geo restriction types, as CloudFront names them.
const (
	GeoNone      = "none"
	GeoAllowlist = "allowlist"
	GeoDenylist  = "denylist"
)

// geoFile is the distribution's geoRestriction section.
type geoFile struct {
	RestrictionType string   `json:"restrictionType"`
	Countries       []string `json:"countries,omitempty"`
}

func (g *geoFile) proto() *edgelabv1.GeoRestriction {
	if g == nil {
		return nil
	}
	return &edgelabv1.GeoRestriction{RestrictionType: g.RestrictionType, Countries: g.Countries}
}

func geoToFile(g *edgelabv1.GeoRestriction) *geoFile {
	if g == nil {
		return nil
	}
	return &geoFile{RestrictionType: g.GetRestrictionType(), Countries: g.GetCountries()}
}

// GeoAllowed reports whether a viewer in country may be served under g
// (nil or type none: everyone). A viewer whose country is unknown ("") is
// refused by an allow list and served under a deny list.
func GeoAllowed(g *edgelabv1.GeoRestriction, country string) bool {
	listed := false
	for _, c := range g.GetCountries() {
		if c == country {
			listed = true
			break
		}
	}
	switch g.GetRestrictionType() {
	case GeoAllowlist:
		return listed
	case GeoDenylist:
		return !listed
	}
	return true
}

func validateGeo(p *problems, g *edgelabv1.GeoRestriction) {
	if g == nil {
		return
	}
	const path = "geoRestriction"
	switch g.GetRestrictionType() {
	case GeoNone:
		if len(g.GetCountries()) > 0 {
			p.add(path+".countries", "restrictionType none takes no countries")
		}
	case GeoAllowlist, GeoDenylist:
		if len(g.GetCountries()) == 0 {
			p.add(path+".countries", "restrictionType %s needs at least one country", g.GetRestrictionType())
		}
	default:
		p.add(path+".restrictionType", "%q is not a restriction type (want allowlist, denylist or none)", g.GetRestrictionType())
	}
	seen := map[string]bool{}
	for i, c := range g.GetCountries() {
		cpath := fmt.Sprintf("%s.countries[%d]", path, i)
		switch {
		case !viewerinfo.ValidCountry(c):
			p.add(cpath, "%q is not an ISO 3166-1 alpha-2 country code (two upper-case letters, such as US, DE, JP)", c)
		case seen[c]:
			p.add(cpath, "duplicate country %q", c)
		}
		seen[c] = true
	}
}
