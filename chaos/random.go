package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/edgelab/edgelab/chaos/nemesis"
	"github.com/edgelab/edgelab/chaos/scenario"
)

// expandNemesis returns sc with every nemesis step replaced by the schedule
// its seed draws over the lab's regions, offset by the step's "at". sc is
// returned unchanged when it has none.
func (r *Runner) expandNemesis(ctx context.Context, sc *scenario.Scenario) (*scenario.Scenario, error) {
	if !slices.ContainsFunc(sc.Steps, func(s scenario.Step) bool { return s.Action == scenario.ActionNemesis }) {
		return sc, nil
	}
	regions, err := r.regions(ctx)
	if err != nil {
		return nil, err
	}
	cp := *sc
	cp.Steps = nil
	for _, s := range sc.Steps {
		if s.Action != scenario.ActionNemesis {
			cp.Steps = append(cp.Steps, s)
			continue
		}
		drawn, err := nemesis.Schedule(nemesis.Config{Seed: s.Seed, Duration: s.Duration.D(), Regions: regions})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
		for _, d := range drawn {
			d.At += s.At
			cp.Steps = append(cp.Steps, d)
		}
	}
	sort.SliceStable(cp.Steps, func(i, j int) bool { return cp.Steps[i].At < cp.Steps[j].At })
	if err := cp.Validate(); err != nil {
		return nil, fmt.Errorf("expanding the nemesis steps: %w", err)
	}
	return &cp, nil
}

// regions lists the regions of the lab's nodes, sorted.
func (r *Runner) regions(ctx context.Context) ([]string, error) {
	nodes, err := r.cfg.Lab.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing nodes for the nemesis: %w", err)
	}
	var out []string
	for _, n := range nodes {
		if !slices.Contains(out, n.Region) {
			out = append(out, n.Region)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return nil, errors.New("the nemesis needs at least one edge node")
	}
	return out, nil
}

// RandomRun is a seeded random run and, when it failed, what shrinking found.
type RandomRun struct {
	Report *Report
	// Shortest is the shortest failing prefix replay found (nil when the
	// run passed, or no shorter prefix failed); ShortestSteps its length
	// and ShortestSchedule its steps (a heal whose fault was cut is dropped
	// with it, so these are not always the schedule's first steps).
	Shortest         *Report
	ShortestSteps    int
	ShortestSchedule []scenario.Step
	// Replays counts the shrinking replays run.
	Replays int
}

// RunRandom runs sc (built by nemesis.Scenario) and, if it fails, replays
// ever shorter prefixes of its schedule (halving, at most maxReplays runs)
// to find the shortest one that still fails.
func (r *Runner) RunRandom(ctx context.Context, sc *scenario.Scenario, maxReplays int) (*RandomRun, error) {
	rep, err := r.Run(ctx, sc)
	if err != nil {
		return nil, err
	}
	out := &RandomRun{Report: rep}
	if rep.Passed {
		return out, nil
	}
	n := len(sc.Steps)
	for out.Replays < maxReplays && n > 1 {
		n /= 2
		out.Replays++
		p := nemesis.Prefix(sc, n, nemesis.DefaultSettle)
		prep, err := r.Run(ctx, p)
		if err != nil {
			return out, fmt.Errorf("replaying a prefix of %d steps: %w", n, err)
		}
		if prep.Passed {
			break
		}
		out.Shortest, out.ShortestSteps, out.ShortestSchedule = prep, len(p.Steps), p.Steps
	}
	return out, nil
}
