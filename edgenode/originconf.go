package edgenode

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// newOriginConf compiles one distribution origin: its id, connect timeout
// and the origin an origin event shows (request.origin: custom with the
// URL's fields, the read timeout, keep-alive, TLS versions and custom
// headers; or s3), which is also what the fetch reads when no function
// changed it. The origin is shared by every request and never modified.
func newOriginConf(o *edgelabv1.Origin) (*originConf, error) {
	var ch http.Header
	for k, v := range o.GetCustomHeaders() {
		if ch == nil {
			ch = http.Header{}
		}
		ch.Set(k, v)
	}
	var eo *edge.Origin
	if s3 := o.GetS3(); s3 != nil {
		eo = &edge.Origin{S3: &edge.S3Origin{DomainName: s3.GetDomainName(), Region: s3.GetRegion(),
			AuthMethod: s3.GetAuthMethod(), Path: s3.GetPath(), CustomHeaders: ch}}
	} else {
		var err error
		if eo, err = edge.NewCustomOrigin(o.GetUrl()); err != nil {
			return nil, fmt.Errorf("origin %q: bad url: %w", o.GetId(), err)
		}
		// Timeouts the distribution leaves out stay 0: the node's defaults
		// (Config.Origin) apply.
		c := eo.Custom
		c.CustomHeaders = ch
		c.ReadTimeout = o.GetReadTimeout().AsDuration()
		c.KeepaliveTimeout = o.GetKeepaliveTimeout().AsDuration()
		if ps := o.GetSslProtocols(); len(ps) > 0 {
			c.SSLProtocols = slices.Clone(ps)
		}
	}
	eo.ID = o.GetId()
	return &originConf{id: o.GetId(), origin: eo, connectTimeout: o.GetConnectTimeout().AsDuration(), region: o.GetRegion()}, nil
}

// tlsVersions maps origin.custom.sslProtocols to crypto/tls versions.
var tlsVersions = map[string]uint16{"SSLv3": tls.VersionSSL30, "TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12}

// minTLS is the lowest TLS version an origin allows (TLSv1.2 when it names none).
func minTLS(o *edge.Origin) uint16 {
	if o.Custom == nil || len(o.Custom.SSLProtocols) == 0 {
		return tls.VersionTLS12
	}
	v := uint16(tls.VersionTLS13)
	for _, p := range o.Custom.SSLProtocols {
		if tv, ok := tlsVersions[p]; ok && tv < v {
			v = tv
		}
	}
	return v
}

// transportKey is what an origin connection pool is shared by.
type transportKey struct {
	connect, read, keepalive time.Duration
	minTLS                   uint16
}
