package edgenode

import (
	"net/http"

	"github.com/edgelab/edgelab/distribution"
)

// geoRestrict is the geo restriction stage, right after route: a viewer
// the distribution's allow or deny list refuses gets CloudFront's 403.
func (t *txn) geoRestrict() *reply {
	if t.d.geo == nil || distribution.GeoAllowed(t.d.geo, t.viewer().Location.Country) {
		return nil
	}
	return errorReply(http.StatusForbidden, xError, "The Amazon CloudFront distribution is configured to block access from your country.", t.rid)
}
