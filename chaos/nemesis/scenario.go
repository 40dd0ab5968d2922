package nemesis

import (
	"fmt"
	"strings"
	"time"

	"github.com/edgelab/edgelab/chaos/scenario"
)

// DefaultRate is the load of a random run, in requests per second.
const DefaultRate = 30

// Paths and Methods of a random run's load, in rotation together: request
// i sends Methods[i%3] to Paths[i%3], so every POST goes to the origin's
// echo route (never cached) and the GETs alternate a page and a cached object.
var (
	Paths   = []string{"/", "/static/app.css", "/echo/chaos"}
	Methods = []string{"GET", "GET", "POST"}
)

// Scenario builds a complete random scenario: the probe published and
// associated, load for cfg.Duration, the drawn steps, every invariant.
// Name is the report's name ("" = random-<seed>); rate 0 means DefaultRate.
func Scenario(cfg Config, name string, rate float64) (*scenario.Scenario, error) {
	steps, err := Schedule(cfg)
	if err != nil {
		return nil, err
	}
	_ = cfg.defaults()
	if name == "" {
		name = fmt.Sprintf("random-%d", uint64(cfg.Seed))
	}
	if rate <= 0 {
		rate = DefaultRate
	}
	sc := &scenario.Scenario{
		Name:        name,
		Description: fmt.Sprintf("seeded random run: seed %d, %s", cfg.Seed, cfg.Duration),
		Load: &scenario.Load{Rate: rate, Duration: scenario.Duration(cfg.Duration), Paths: Paths, Methods: Methods,
			ViewerRegions: cfg.Regions, Host: "demo.edgelab.test"},
		Setup: []scenario.Step{
			{Action: scenario.ActionPublish, Function: cfg.Function, Source: ProbeSource},
			{Action: scenario.ActionApply, Distribution: cfg.Distribution, Behavior: cfg.Behavior, Event: "viewer-request", Function: cfg.Function, Version: "latest"},
			{Action: scenario.ActionWait, For: scenario.WaitDeployed, Distribution: cfg.Distribution, Timeout: scenario.Duration(60 * time.Second)},
		},
		Steps: steps,
	}
	for _, n := range []string{"no-lost-requests", "converge", "monotonic-versions", "durable-acks", "fresh-after-invalidation",
		"ack-implies-durable", "failover-bound", "at-most-once", "nacked-never-served"} {
		sc.Invariants = append(sc.Invariants, scenario.Invariant{Name: n})
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("nemesis: seed %d drew an invalid scenario: %w", cfg.Seed, err)
	}
	return sc, nil
}

// Prefix returns sc cut to its first n timed steps, with the load ending
// settle after the last kept step: the replay a shrinking search runs.
func Prefix(sc *scenario.Scenario, n int, settle time.Duration) *scenario.Scenario {
	cp := *sc
	n = min(max(n, 0), len(sc.Steps))
	cp.Steps = append([]scenario.Step(nil), sc.Steps[:n]...)
	// A heal naming a fault that was cut is dropped with it.
	names := map[string]bool{}
	kept := cp.Steps[:0]
	for _, s := range cp.Steps {
		if s.Name != "" {
			names[s.Name] = true
		}
		if s.Action == scenario.ActionHeal && len(s.Faults) > 0 && !names[s.Faults[0]] {
			continue
		}
		kept = append(kept, s)
	}
	cp.Steps = kept
	var last time.Duration
	for _, s := range cp.Steps {
		last = max(last, s.At.D())
	}
	if cp.Load != nil {
		l := *cp.Load
		l.Duration = scenario.Duration(min(sc.Load.Duration.D(), last+settle))
		l.Requests = 0
		cp.Load = &l
	}
	cp.Name = fmt.Sprintf("%s-prefix-%d", sc.Name, n)
	_ = cp.Validate()
	return &cp
}

// Lines describes steps one per line, for reports and the shrink output.
func Lines(steps []scenario.Step) []string {
	out := make([]string, 0, len(steps))
	for _, s := range steps {
		line := s.String()
		if s.Broken {
			line += " (broken)"
		}
		if len(s.Paths) > 0 {
			line += " " + strings.Join(s.Paths, ",")
		}
		if s.Duration > 0 {
			line += " for " + s.Duration.String()
		}
		out = append(out, line)
	}
	return out
}
