package distribution

import (
	"fmt"
	"slices"
	"strings"

	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// The origin fields beyond url and the timeouts: an S3 origin (s3:
// domainName, region, authMethod, path, as CloudFront's S3 origin and the
// event's request.origin.s3) and, for custom origins, keepaliveTimeout and
// sslProtocols (request.origin.custom).

// s3File is an S3 origin as the distribution file writes it.
type s3File struct {
	DomainName string `json:"domainName"`
	Region     string `json:"region,omitempty"`
	AuthMethod string `json:"authMethod,omitempty"`
	Path       string `json:"path,omitempty"`
}

// s3AuthMethods are the values an S3 origin's authMethod may take ("" is "none").
var s3AuthMethods = []string{"none", "origin-access-identity"}

// originSSLProtocols are the values a custom origin's sslProtocols may take.
var originSSLProtocols = []string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"}

// S3OriginURL is the base URL the edge reaches an S3 origin at: plain HTTP
// (CloudFront talks to S3 in the viewer's protocol; edgelab's viewers use
// HTTP), the domain name, then the origin path.
func S3OriginURL(s *edgelabv1.S3Origin) string {
	return "http://" + s.GetDomainName() + s.GetPath()
}

// extraToProto converts the S3 and custom-origin extras of origins[i].
func (o originFile) extraToProto(i int, po *edgelabv1.Origin) error {
	path := fmt.Sprintf("origins[%d]", i)
	var err error
	if po.KeepaliveTimeout, err = durationField(o.KeepaliveTimeout, path+".keepaliveTimeout", 0); err != nil {
		return err
	}
	if len(o.KeepaliveTimeout) == 0 {
		po.KeepaliveTimeout = nil
	}
	po.SslProtocols = o.SSLProtocols
	if o.S3 == nil {
		return nil
	}
	if o.URL != "" {
		return fmt.Errorf("%s: set url (a custom origin) or s3 (an S3 origin), not both", path)
	}
	po.S3 = &edgelabv1.S3Origin{DomainName: o.S3.DomainName, Region: o.S3.Region, AuthMethod: o.S3.AuthMethod, Path: o.S3.Path}
	po.Url = S3OriginURL(po.S3)
	return nil
}

// extraFromProto is extraToProto's inverse, for ToFile.
func (o *originFile) extraFromProto(po *edgelabv1.Origin) {
	if po.KeepaliveTimeout != nil {
		o.KeepaliveTimeout = durationJSON(po.GetKeepaliveTimeout().AsDuration())
	}
	o.SSLProtocols = po.GetSslProtocols()
	if s := po.GetS3(); s != nil {
		o.URL = ""
		o.S3 = &s3File{DomainName: s.GetDomainName(), Region: s.GetRegion(), AuthMethod: s.GetAuthMethod(), Path: s.GetPath()}
	}
}

// validateOriginExtras checks the S3 and custom-origin extras of the origin
// at path.
func validateOriginExtras(p *problems, path string, o *edgelabv1.Origin) {
	if d := o.GetKeepaliveTimeout().AsDuration(); d < 0 || d > 60e9 {
		p.add(path+".keepaliveTimeout", "%s is outside 0s-60s", d)
	}
	for _, s := range o.GetSslProtocols() {
		if !slices.Contains(originSSLProtocols, s) {
			p.add(path+".sslProtocols", "%q is not one of %s", s, strings.Join(originSSLProtocols, ", "))
		}
	}
	s := o.GetS3()
	if s == nil {
		return
	}
	if len(o.GetSslProtocols()) > 0 || o.GetKeepaliveTimeout() != nil {
		p.add(path, "sslProtocols and keepaliveTimeout are for custom origins, not s3")
	}
	switch d := s.GetDomainName(); {
	case d == "":
		p.add(path+".s3.domainName", "domainName is required")
	case strings.ContainsAny(d, "/?#@ \t"):
		p.add(path+".s3.domainName", "%q is not a host or host:port", d)
	}
	if m := s.GetAuthMethod(); m != "" && !slices.Contains(s3AuthMethods, m) {
		p.add(path+".s3.authMethod", "%q is not none or origin-access-identity", m)
	}
	if pa := s.GetPath(); pa != "" && (!strings.HasPrefix(pa, "/") || strings.HasSuffix(pa, "/") || strings.ContainsAny(pa, "?#")) {
		p.add(path+".s3.path", "%q must start with \"/\" and not end with one", pa)
	}
	if o.GetUrl() != "" && o.GetUrl() != S3OriginURL(s) {
		p.add(path+".url", "an S3 origin has no url of its own (got %q)", o.GetUrl())
	}
}
