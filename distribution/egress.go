package distribution

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/edgelab/edgelab/egress"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// egressFile is the distribution file's egress section: what the
// functions' edge.Fetch may reach beyond public addresses and the
// distribution's own origins.
type egressFile struct {
	// Allow lists "host:port" rules (egress.ParseRule).
	Allow []string `json:"allow,omitempty"`
}

// maxEgressRules bounds a distribution's egress rules.
const maxEgressRules = 64

func (e *egressFile) toProto() *edgelabv1.EgressPolicy {
	if e == nil {
		return nil
	}
	return &edgelabv1.EgressPolicy{Allow: e.Allow}
}

func egressToFile(p *edgelabv1.EgressPolicy) *egressFile {
	if p == nil {
		return nil
	}
	return &egressFile{Allow: p.GetAllow()}
}

// validateEgress checks the egress rules, naming the field of each bad one.
func validateEgress(p *problems, e *edgelabv1.EgressPolicy) {
	if n := len(e.GetAllow()); n > maxEgressRules {
		p.add("egress.allow", "%d rules, at most %d", n, maxEgressRules)
	}
	for i, s := range e.GetAllow() {
		if _, err := egress.ParseRule(s); err != nil {
			p.add(fmt.Sprintf("egress.allow[%d]", i), "%v", err)
		}
	}
}

// EgressPolicy is where the distribution's functions may fetch: its
// egress rules plus the host and port of every origin (the node connects
// there anyway). It assumes d is valid (Validate); rules that do not
// parse are skipped.
func EgressPolicy(d *edgelabv1.Distribution) *egress.Policy {
	p := &egress.Policy{}
	for _, o := range d.GetOrigins() {
		u, err := url.Parse(o.GetUrl())
		if err != nil || u.Hostname() == "" {
			continue
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
		}
		if r, err := egress.ParseRule(net.JoinHostPort(u.Hostname(), port)); err == nil {
			p.Allow = append(p.Allow, r)
		}
	}
	for _, s := range d.GetEgress().GetAllow() {
		if r, err := egress.ParseRule(s); err == nil {
			p.Allow = append(p.Allow, r)
		}
	}
	return p
}
