package main

import (
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/topology"
)

// tierFlags place the node in the two tiers: --role, --topology and one
// --rec NAME=URL per regional edge cache it may ask.
type tierFlags struct {
	role, topology string
	recs           listFlag
}

func addTierFlags(fs *flag.FlagSet) *tierFlags {
	tf := &tierFlags{}
	fs.StringVar(&tf.role, "role", edgenode.RolePoP, "tier: pop (viewers reach it) or rec (a regional edge cache; --pop is then its REC name)")
	fs.StringVar(&tf.topology, "topology", "", "topology file naming the RECs and shields (default: the built-in topology when --rec is given)")
	fs.Var(&tf.recs, "rec", "regional edge cache NAME=URL this node may send misses to (repeatable; none: one tier)")
	return tf
}

// config validates the flags into a TierConfig; every error names the flag.
func (tf *tierFlags) config() (edgenode.TierConfig, error) {
	tc := edgenode.TierConfig{Role: tf.role}
	if tf.role != edgenode.RolePoP && tf.role != edgenode.RoleREC {
		return tc, fmt.Errorf("--role %q: want %s or %s", tf.role, edgenode.RolePoP, edgenode.RoleREC)
	}
	if len(tf.recs) == 0 && tf.topology == "" {
		return tc, nil
	}
	top := topology.Default()
	if tf.topology != "" {
		var err error
		if top, err = topology.Load(tf.topology); err != nil {
			return tc, fmt.Errorf("--topology: %w", err)
		}
	}
	tc.Topology, tc.RECs = top, map[string]string{}
	for _, spec := range tf.recs {
		name, raw, ok := strings.Cut(spec, "=")
		if !ok || name == "" {
			return tc, fmt.Errorf("--rec %q: want NAME=URL", spec)
		}
		if _, known := top.REC(name); !known {
			return tc, fmt.Errorf("--rec %q: %q is not a REC of the topology", spec, name)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return tc, fmt.Errorf("--rec %q: URL %q is not an http(s) URL", spec, raw)
		}
		tc.RECs[name] = strings.TrimSuffix(raw, "/")
	}
	return tc, nil
}
