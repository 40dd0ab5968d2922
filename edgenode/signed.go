package edgenode

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/edgelab/edgelab/distribution"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/signedurl"
)

// compileSigned sets the verifier of a behavior with trusted key groups
// (nil: the behavior is public).
func (b *behavior) compileSigned(pd *edgelabv1.Distribution, pb *edgelabv1.Behavior) error {
	keys, err := distribution.TrustedKeys(pd, pb)
	if err != nil {
		return err
	}
	if keys != nil {
		b.signed = signedurl.NewVerifier(keys)
	}
	return nil
}

// accessChecks are the PoP's refusals before any function runs, in
// CloudFront's order: geo restriction, then signed URLs and cookies.
func (t *txn) accessChecks() *reply {
	if rep := t.geoRestrict(); rep != nil {
		return rep
	}
	return t.signedCheck()
}

// signedCheck is the signed URL and cookie stage: a behavior with trusted
// key groups serves only a request with a valid signed URL or, when the
// URL carries no signing parameters, valid signed cookies. CloudFront's
// 403 (an XML error) answers the others. The signing parameters are then
// removed from the query string, as CloudFront does: viewer-request
// functions, the cache key and the origin never see them.
func (t *txn) signedCheck() *reply {
	v := t.b.signed
	if v == nil {
		return nil
	}
	in := &t.in
	creds, rest := signedurl.FromQuery(in.req.QueryString)
	if !creds.Present() {
		creds = signedurl.FromCookies(in.req.Header["Cookie"])
	}
	if err := v.Verify(creds, in.resourceURL(rest), in.viewerAddr(), time.Now()); err != nil {
		return signedRefusal(err)
	}
	in.viewerQuery, in.req.QueryString = in.req.QueryString, rest
	return nil
}

// signedRefusal is CloudFront's answer to a refused signed request: 403,
// text/xml, <Error><Code>..</Code><Message>..</Message></Error>.
func signedRefusal(err error) *reply {
	var e *signedurl.Error
	if !errors.As(err, &e) {
		e = &signedurl.Error{Code: signedurl.CodeAccessDenied, Message: "Access denied"}
	}
	h := http.Header{"Content-Type": {"text/xml"}}
	return &reply{status: http.StatusForbidden, header: h, body: e.XML(), xcache: xError}
}

// resourceURL is the URL a signature is checked against: the viewer's
// scheme, Host, path as sent (escapes kept) and query (without the
// signing parameters).
func (v *inbound) resourceURL(query string) string {
	scheme := "http"
	if v.tls {
		scheme = "https"
	}
	path := v.req.URI
	switch {
	case strings.HasPrefix(v.target, "/"):
		path, _, _ = strings.Cut(v.target, "?")
	case v.target != "":
		if u, err := url.ParseRequestURI(v.target); err == nil && u.EscapedPath() != "" {
			path = u.EscapedPath()
		}
	}
	if query != "" {
		return scheme + "://" + v.host + path + "?" + query
	}
	return scheme + "://" + v.host + path
}

// viewerAddr is the viewer's IP address (invalid when unknown).
func (v *inbound) viewerAddr() netip.Addr {
	if v.req.ClientIP != "" {
		a, _ := netip.ParseAddr(v.req.ClientIP)
		return a.Unmap()
	}
	a, _ := netip.AddrFromSlice(v.remoteIP)
	return a.Unmap()
}
