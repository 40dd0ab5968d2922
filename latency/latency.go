// Package latency is edgelab's data-plane latency model: how long one hop
// of a request takes between two regions of the topology. Every stage that
// makes a hop asks the same Model:
//
//	viewer -> PoP            the gateway (viewer region -> edge region)
//	PoP -> REC -> shield     the edge node asking a regional edge cache
//	REC/shield/PoP -> origin the edge node's origin fetch (the origin's region)
//	function -> edge.Fetch   the sandbox (the target's region, FetchRegion)
//
// A hop costs one round trip: 2 x the topology's one-way latency x Scale.
// A nil *Model is the model off: every delay is 0 and Wait returns at once,
// so stages hold a *Model and never test whether it is on.
//
// A Model is immutable and safe for concurrent use.
package latency

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/edgelab/edgelab/topology"
)

// MaxScale bounds Config.Scale.
const MaxScale = 100

// Config configures a Model.
type Config struct {
	// Topology gives the one-way latencies and the home region. Required.
	Topology *topology.Topology
	// Scale multiplies every latency: 1 is the topology's own numbers,
	// 0.5 halves them. 0 turns the model off (New returns nil).
	Scale float64
	// FetchRegions places the targets of functions' edge.Fetch calls: a
	// "host:port" or "host" (the port-less entry matches any port) to the
	// region it is in. A target not listed is in the home region.
	FetchRegions map[string]string
}

// Model is the latency model. The zero of *Model (nil) is the model off.
type Model struct {
	top   *topology.Topology
	scale float64
	fetch map[string]string
}

// New builds a model; nil (the model off) when Scale is 0. A scale out of
// [0, MaxScale], a fetch region that is not in the topology and fetch
// regions with the model off are errors.
func New(cfg Config) (*Model, error) {
	if math.IsNaN(cfg.Scale) || cfg.Scale < 0 || cfg.Scale > MaxScale {
		return nil, fmt.Errorf("latency: scale %v out of range [0, %d]", cfg.Scale, MaxScale)
	}
	if cfg.Scale == 0 {
		if len(cfg.FetchRegions) > 0 {
			return nil, fmt.Errorf("latency: fetch regions need the model on (a scale above 0)")
		}
		return nil, nil
	}
	if cfg.Topology == nil {
		return nil, fmt.Errorf("latency: no topology")
	}
	for host, r := range cfg.FetchRegions {
		if host == "" {
			return nil, fmt.Errorf("latency: fetch region %q: empty host", r)
		}
		if !cfg.Topology.HasRegion(r) {
			return nil, fmt.Errorf("latency: fetch region for %s: region %q is not in the topology", host, r)
		}
	}
	return &Model{top: cfg.Topology, scale: cfg.Scale, fetch: maps.Clone(cfg.FetchRegions)}, nil
}

// On reports whether the model adds any delay.
func (m *Model) On() bool { return m != nil }

// Scale is the model's scale (0 when off).
func (m *Model) Scale() float64 {
	if m == nil {
		return 0
	}
	return m.scale
}

// Home is the region an origin or fetch target without a region is in
// ("" when off).
func (m *Model) Home() string {
	if m == nil {
		return ""
	}
	return m.top.Home()
}

// RoundTrip is the modelled time of one hop from region from to region
// to and back: 2 x one-way latency x scale. An empty to is the home
// region; an unknown region, or the model off, costs 0.
func (m *Model) RoundTrip(from, to string) time.Duration {
	if m == nil {
		return 0
	}
	if to == "" {
		to = m.top.Home()
	}
	return time.Duration(2 * float64(m.top.Latency(from, to)) * m.scale)
}

// Wait holds the caller for RoundTrip(from, to), or until ctx is done
// (then it returns ctx's error, wrapped). With the model off it returns
// nil at once, whatever ctx's state: the caller's next step sees it.
func (m *Model) Wait(ctx context.Context, from, to string) error {
	return Sleep(ctx, m.RoundTrip(from, to))
}

// Sleep waits d or until ctx is done (ctx's error, wrapped). d <= 0 returns
// nil at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("modelled latency %v: %w", d, ctx.Err())
	case <-t.C:
		return nil
	}
}

// FetchRegion is the region of an edge.Fetch target host ("host:port" or
// "host"): the FetchRegions entry for host:port, else for the host alone,
// else the home region ("" when off).
func (m *Model) FetchRegion(hostport string) string {
	if m == nil {
		return ""
	}
	if r, ok := m.fetch[hostport]; ok {
		return r
	}
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		if r, ok := m.fetch[h]; ok {
			return r
		}
	}
	return m.top.Home()
}

// FetchTable is what a function running in region from waits per fetch:
// the round trip to each FetchRegions host, and def for every other
// target (the home region). byHost is nil when no host is mapped.
func (m *Model) FetchTable(from string) (def time.Duration, byHost map[string]time.Duration) {
	if m == nil {
		return 0, nil
	}
	for host, r := range m.fetch {
		if byHost == nil {
			byHost = make(map[string]time.Duration, len(m.fetch))
		}
		byHost[host] = m.RoundTrip(from, r)
	}
	return m.RoundTrip(from, m.top.Home()), byHost
}

// ParseScale reads a --latency-model value: "off" or "" (0), "on" (1,
// the topology's numbers) or a scale such as 0.5.
func ParseScale(s string) (float64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off", "0":
		return 0, nil
	case "on":
		return 1, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > MaxScale {
		return 0, fmt.Errorf("latency model %q: want off, on or a scale in [0, %d]", s, MaxScale)
	}
	return v, nil
}

// ParseFetchRegions reads --fetch-region values, each HOST[:PORT]=REGION.
func ParseFetchRegions(specs []string) (map[string]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(specs))
	for _, s := range specs {
		host, region, ok := strings.Cut(s, "=")
		if !ok || host == "" || region == "" || strings.ContainsAny(host, "/ ") {
			return nil, fmt.Errorf("fetch region %q: want HOST[:PORT]=REGION", s)
		}
		out[host] = region
	}
	return out, nil
}
