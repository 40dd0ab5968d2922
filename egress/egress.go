// Package egress decides where a function's edge.Fetch may connect, and
// provides the HTTP client that enforces it on the address it actually
// dials, so DNS rebinding cannot get around it.
//
//	edge.Fetch ──► Client ──► dial host:port ──► resolve ──► Control hook:
//	                 ▲                                        Policy.Check(host, ip:port)
//	                 └── every redirect is dialled the same way (and named in the error)
//
// A Policy allows some host:port pairs (a distribution's origins and its
// egress rules). Everything else is allowed only when its address is
// public: loopback, link-local (169.254.0.0/16 with the cloud metadata
// address, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7),
// carrier-grade NAT (100.64/10), multicast and the unspecified address
// are refused unless a rule names them. A refusal wraps
// edge.ErrEgressDenied.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/edgelab/edgelab/edge"
)

// Rule allows connections to one host on one port.
type Rule struct {
	// Host is a DNS name ("api.example.com", case-insensitive), a
	// wildcard for its subdomains ("*.example.com"), an IP address or a
	// CIDR prefix ("10.1.0.0/16"). A name rule trusts the name's DNS: the
	// addresses it resolves to are allowed whatever their range.
	Host string
	// Port is the TCP port (1-65535).
	Port uint16

	prefix netip.Prefix // set for an IP or CIDR rule
}

// ParseRule reads "host:port" ("[v6]:port" or "v6-cidr" in brackets for
// IPv6), as written in a distribution file.
func ParseRule(s string) (Rule, error) {
	host, port, err := net.SplitHostPort(strings.TrimSpace(s))
	if err != nil {
		return Rule{}, fmt.Errorf("%q: want host:port (e.g. api.example.com:443): %w", s, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return Rule{}, fmt.Errorf("%q: port %q: want 1-65535", s, port)
	}
	r := Rule{Host: strings.ToLower(host), Port: uint16(p)}
	switch {
	case host == "":
		return Rule{}, fmt.Errorf("%q: empty host", s)
	case strings.Contains(host, "/"):
		if r.prefix, err = netip.ParsePrefix(host); err != nil {
			return Rule{}, fmt.Errorf("%q: bad CIDR prefix: %w", s, err)
		}
		r.prefix = r.prefix.Masked()
	default:
		if a, err := netip.ParseAddr(host); err == nil {
			r.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		} else if !validName(strings.TrimPrefix(r.Host, "*.")) {
			return Rule{}, fmt.Errorf("%q: host %q is not a DNS name, an IP address or a CIDR prefix", s, host)
		}
	}
	return r, nil
}

// validName reports whether s is a plausible DNS name (letters, digits,
// '-', '_' and dots, no empty label).
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// String is the rule as ParseRule reads it.
func (r Rule) String() string { return net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port))) }

// matches reports whether the rule allows connecting to ip:port for a
// request to host (the name before resolution, or the IP literal).
func (r Rule) matches(host string, ip netip.Addr, port uint16) bool {
	if port != r.Port {
		return false
	}
	if r.prefix.IsValid() {
		return r.prefix.Contains(ip)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if suffix, ok := strings.CutPrefix(r.Host, "*"); ok {
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return host == r.Host
}

// Policy is where one distribution's functions may connect. The zero
// Policy allows public addresses only. Safe for concurrent use (read-only
// once built).
//
// A Policy must not be changed once it is in use: its encoding is
// computed once.
type Policy struct {
	// Allow lists the host:port pairs allowed whatever their address range.
	Allow []Rule

	encOnce sync.Once
	enc     string
}

// Check returns nil when a request to host may connect to addr, else an
// error wrapping edge.ErrEgressDenied that names the address and why.
func (p *Policy) Check(host string, addr netip.AddrPort) error {
	ip := addr.Addr().Unmap()
	if p != nil {
		for _, r := range p.Allow {
			if r.matches(host, ip, addr.Port()) {
				return nil
			}
		}
	}
	if class := specialRange(ip); class != "" {
		return fmt.Errorf("%w: %s (%s) is a %s address and the distribution's egress rules do not allow it",
			edge.ErrEgressDenied, net.JoinHostPort(host, strconv.Itoa(int(addr.Port()))), addr, class)
	}
	return nil
}

// specialRange names the non-public range ip is in, or "".
func specialRange(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "shared (carrier-grade NAT)"
	}
	return ""
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Encode writes the policy as one line ("host:port,host:port"), which keys
// Clients; Decode reads it back.
func (p *Policy) Encode() string {
	if p == nil {
		return ""
	}
	p.encOnce.Do(func() {
		parts := make([]string, len(p.Allow))
		for i, r := range p.Allow {
			parts[i] = r.String()
		}
		p.enc = strings.Join(parts, ",")
	})
	return p.enc
}

// Decode reads what Encode wrote.
func Decode(s string) (*Policy, error) {
	p := &Policy{}
	if s == "" {
		return p, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		r, err := ParseRule(part)
		if err != nil {
			return nil, fmt.Errorf("egress policy: %w", err)
		}
		p.Allow = append(p.Allow, r)
	}
	return p, nil
}

// errNotIP: the dialled address is not an IP (the resolver always gives one).
var errNotIP = errors.New("dialled address is not an IP address")
