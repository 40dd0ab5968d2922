package lab

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/edgelab/edgelab/edgenode"
)

// The lab's second tier: one edge node per regional edge cache of the
// topology that serves a lab region (or shields one), started before the
// PoPs so they know where their RECs are. RECs are edge handles like the
// PoPs (the fault follower stops and restarts them by node:<id>, they
// replicate and report like every node) but the gateway never routes
// viewers to them and lab.json lists them under "recs".

// recBasePort is the offset of the RECs' listeners from Config.BasePort
// (8131... for the default 7070).
const recBasePort = 1061

// recID is the node id of the REC named name.
func recID(name string) string { return "rec-" + name }

// labRECs lists the RECs the lab runs: those the lab's regions miss to,
// those located in a lab region, and the shields of either. None when
// Config.OneTier is set.
func (c Config) labRECs() []string {
	if c.OneTier {
		return nil
	}
	top := c.Topology
	var out []string
	add := func(name string) {
		for name != "" && !slices.Contains(out, name) {
			out = append(out, name)
			name, _ = top.ShieldOf(name)
		}
	}
	for _, r := range c.Regions {
		add(top.RECOfRegion(r))
		if name, ok := top.RECInRegion(r); ok {
			add(name)
		}
	}
	// File order, so ports and ids are stable.
	var ordered []string
	for _, r := range top.RECs() {
		if slices.Contains(out, r.Name) {
			ordered = append(ordered, r.Name)
		}
	}
	return ordered
}

// startRECs starts the lab's RECs.
func (l *Lab) startRECs() error {
	for i, name := range l.cfg.labRECs() {
		rec, _ := l.cfg.Topology.REC(name)
		info := EdgeEndpoint{ID: recID(name), Region: rec.Region, PoP: name, Role: edgenode.RoleREC}
		if err := l.startEdge(info, l.cfg.addr(recBasePort+i)); err != nil {
			return err
		}
	}
	urls := l.recURLs() // every REC knows its shields, whatever the start order
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.edges {
		if e.info.isREC() {
			e.proc.Node().SetRECs(urls)
		}
	}
	return nil
}

// tierConfig places an edge of the lab in the tiers: a PoP or a REC of the
// topology, knowing every running REC's URL. One tier when the lab runs
// no REC.
func (l *Lab) tierConfig(info EdgeEndpoint) edgenode.TierConfig {
	if len(l.cfg.labRECs()) == 0 {
		return edgenode.TierConfig{}
	}
	return edgenode.TierConfig{Role: info.Role, Topology: l.cfg.Topology, RECs: l.recURLs()}
}

// recURLs maps each running REC's name to its URL.
func (l *Lab) recURLs() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, e := range l.edges {
		if e.info.Role == edgenode.RoleREC {
			out[e.info.PoP] = e.info.URL
		}
	}
	return out
}

// isREC reports whether an edge of the lab is a regional edge cache.
func (e EdgeEndpoint) isREC() bool { return e.Role == edgenode.RoleREC }

// accessLogPath is where a PoP of the lab appends its CloudFront standard
// access log: access.log in the node's directory (RECs serve no viewers).
func (l *Lab) accessLogPath(info EdgeEndpoint) string {
	if info.isREC() {
		return ""
	}
	dir := filepath.Join(l.cfg.DataDir, "nodes", info.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		l.cfg.Logger.Warn("no access log", "node", info.ID, "err", err)
		return ""
	}
	return filepath.Join(dir, "access.log")
}
