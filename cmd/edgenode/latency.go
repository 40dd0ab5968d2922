package main

import (
	"flag"
	"fmt"

	"github.com/edgelab/edgelab/latency"
	"github.com/edgelab/edgelab/topology"
)

// latencyFlags turn the data-plane latency model on: --latency-model and
// one --fetch-region HOST[:PORT]=REGION per edge.Fetch target placed.
type latencyFlags struct {
	model string
	fetch listFlag
}

func addLatencyFlags(fs *flag.FlagSet) *latencyFlags {
	lf := &latencyFlags{}
	fs.StringVar(&lf.model, "latency-model", "off", "data-plane latency model: off, on (the topology's one-way latencies) or a scale such as 0.5; every hop the node makes (to a REC, a shield, an origin, a function's edge.Fetch) waits 2 x latency x scale")
	fs.Var(&lf.fetch, "fetch-region", "HOST[:PORT]=REGION: the region of an edge.Fetch target for --latency-model (repeatable; default: the home region)")
	return lf
}

// config builds the model (nil: off) on the tiers' topology, else the
// --topology file, else the built-in one; every error names the flag.
func (lf *latencyFlags) config(tierTop *topology.Topology, topologyPath string) (*latency.Model, error) {
	scale, err := latency.ParseScale(lf.model)
	if err != nil {
		return nil, fmt.Errorf("--latency-model: %w", err)
	}
	fetch, err := latency.ParseFetchRegions(lf.fetch)
	if err != nil {
		return nil, fmt.Errorf("--fetch-region: %w", err)
	}
	if scale == 0 {
		if len(fetch) > 0 {
			return nil, fmt.Errorf("--fetch-region needs --latency-model")
		}
		return nil, nil
	}
	top := tierTop
	if top == nil {
		top = topology.Default()
		if topologyPath != "" {
			if top, err = topology.Load(topologyPath); err != nil {
				return nil, fmt.Errorf("--topology: %w", err)
			}
		}
	}
	m, err := latency.New(latency.Config{Topology: top, Scale: scale, FetchRegions: fetch})
	if err != nil {
		return nil, fmt.Errorf("--fetch-region: %w", err)
	}
	return m, nil
}
