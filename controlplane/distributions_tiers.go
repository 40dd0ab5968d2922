package controlplane

import (
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/topology"
)

// checkTiers checks a distribution's references into the topology: the
// origin shield names a region with a regional edge cache, and every
// origin's region is a region.
func checkTiers(d *edgelabv1.Distribution, top *topology.Topology) error {
	if s := d.GetOriginShield(); s != "" {
		if !top.HasRegion(s) {
			return invalidf("originShield: region %q does not exist in the topology", s)
		}
		if _, ok := top.RECInRegion(s); !ok {
			return invalidf("originShield: region %q has no regional edge cache in the topology", s)
		}
	}
	for i, o := range d.GetOrigins() {
		if r := o.GetRegion(); r != "" && !top.HasRegion(r) {
			return invalidf("origins[%d] (%s).region: region %q does not exist in the topology", i, o.GetId(), r)
		}
	}
	return nil
}

// topology is the topology distributions are checked against.
func (s *Server) topology() *topology.Topology {
	if s.cfg.Topology != nil {
		return s.cfg.Topology
	}
	return topology.Default()
}
