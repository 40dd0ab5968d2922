package edgenode

import (
	"net/netip"
	"strings"

	"github.com/edgelab/edgelab/viewerinfo"
)

// viewer is what the node knows of the request's viewer, worked out once
// per request when a stage asks: its location (the override header, else
// Config.ViewerLocations by address, else the node's region), device,
// protocol, address and HTTP version.
func (t *txn) viewer() *viewerinfo.Viewer {
	if t.vi != nil {
		return t.vi
	}
	in := &t.in
	v := &viewerinfo.Viewer{Proto: "http", HTTPVersion: in.httpVersion, Device: viewerinfo.DeviceOf(in.req.Header.Get("User-Agent"))}
	if in.tls {
		v.Proto = "https"
	}
	ip, _ := netip.AddrFromSlice(in.remoteIP)
	if !ip.IsValid() {
		ip, _ = netip.ParseAddr(in.req.ClientIP)
	}
	ip = ip.Unmap()
	if ip.IsValid() {
		v.Address = netip.AddrPortFrom(ip, uint16(in.remotePort)).String()
	}
	override := strings.ToUpper(in.countryOverride)
	switch loc, ok := t.n.cfg.ViewerLocations.Lookup(ip); {
	case viewerinfo.ValidCountry(override): // anything else is ignored
		v.Location = viewerinfo.Location{Country: override}
	case ok:
		v.Location = loc
	default:
		v.Location, _ = viewerinfo.RegionLocation(t.n.cfg.Region)
	}
	t.vi = v
	return v
}

// addCloudFrontHeaders is the stage after viewer-request (CloudFront adds
// its headers after that event): the CloudFront-* headers the viewer sent
// are dropped, and the ones the behavior's policies name are added, so the
// cache key, origin-request and the origin see them.
func (t *txn) addCloudFrontHeaders() {
	h := t.req.Header
	for k := range h {
		if strings.HasPrefix(k, "Cloudfront-") && viewerinfo.IsHeader(k) {
			delete(h, k)
		}
	}
	if len(t.b.cfHeaders) == 0 {
		return
	}
	v := t.viewer()
	for _, name := range t.b.cfHeaders {
		if val, ok := v.Header(name); ok {
			h[name] = []string{val}
		}
	}
}
