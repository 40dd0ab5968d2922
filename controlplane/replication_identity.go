package controlplane

import (
	"context"
	"net"
	"net/url"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/pki"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// checkIdentity holds a Hello to the caller's certificate: the node id and
// region must be the ones the certificate names, and the HTTP URL the node
// reports (where the gateway sends viewers) must be on a host the
// certificate is valid for. With TrustHello (an --insecure lab) the Hello
// is taken as it is.
func (r *Replicator) checkIdentity(ctx context.Context, hello *edgelabv1.Hello) error {
	if r.cfg.TrustHello {
		return nil
	}
	p, ok := access.PrincipalFrom(ctx)
	if !ok || p.Identity.Kind != pki.KindNode {
		return status.Error(codes.PermissionDenied, "the replication stream needs an edge-node certificate (spiffe://edgelab/node/<region>/<id>)")
	}
	if hello.NodeId != p.Identity.Name || hello.Region != p.Identity.Region {
		return status.Errorf(codes.PermissionDenied, "hello says node %s in %s, but the certificate is %s", hello.NodeId, hello.Region, p.Identity)
	}
	if hello.HttpUrl == "" {
		return nil
	}
	u, err := url.Parse(hello.HttpUrl)
	if err != nil || u.Hostname() == "" {
		return status.Errorf(codes.InvalidArgument, "hello: http_url %q is not a URL with a host", hello.HttpUrl)
	}
	if !hostAllowed(u.Hostname(), p.Hosts) {
		return status.Errorf(codes.PermissionDenied, "hello: http_url host %s is not in the certificate of %s (it names %v)", u.Hostname(), p.Identity, p.Hosts)
	}
	return nil
}

// hostAllowed reports whether host is one of the certificate's names or
// addresses (addresses compared as IPs, so ::1 and 0:0::1 match).
func hostAllowed(host string, hosts []string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return slices.ContainsFunc(hosts, func(h string) bool { return ip.Equal(net.ParseIP(h)) })
	}
	return slices.Contains(hosts, host)
}
