// Package nemesis draws a random but reproducible chaos schedule from a
// seed: faults and operations picked from a weighted menu at random
// offsets, as scenario steps the chaos runner executes like any other.
//
//	Config{Seed, Duration, Regions, ...} ──Schedule──▶ []scenario.Step (timed)
//	                                     ──Scenario──▶ *scenario.Scenario (setup + load + steps + invariants)
//
// The same Config gives the same schedule, step for step: the generator is
// a PCG seeded by Seed alone, the menu is iterated in a fixed order, and
// nothing reads the clock. At most one process fault (kill, pause,
// kill-after-ack) is active at a time, so a healthy path always exists,
// and every fault ends (a duration, or an explicit restart) before the
// schedule's last Settle.
package nemesis

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/edgelab/edgelab/chaos/scenario"
	"github.com/edgelab/edgelab/internal/rng"
)

// Menu entries (weights are relative).
const (
	OpKill         = "kill"
	OpKillAfterAck = "kill-after-ack"
	OpPause        = "pause"
	OpPartition    = "partition"
	OpReplDelay    = "replication-delay"
	OpReplDrop     = "replication-drop"
	OpReplDup      = "replication-duplicate"
	OpOriginSlow   = "origin-latency"
	OpOriginErrors = "origin-errors"
	OpHealthFail   = "health-fail"
	OpPublish      = "publish"
	OpBroken       = "publish-broken"
	OpInvalidate   = "invalidate"
)

// DefaultSettle is the quiet time at the end of a schedule (and after the
// last step of a replayed prefix).
const DefaultSettle = 10 * time.Second

// DefaultWeights is the menu used when Config.Weights is nil. Publishes
// are rarer than faults: each one runs the control plane's compile check,
// and steps run one after another, so a slow check delays the schedule.
var DefaultWeights = map[string]int{
	OpKill: 3, OpKillAfterAck: 2, OpPause: 1, OpPartition: 3, OpReplDelay: 2, OpReplDrop: 2, OpReplDup: 2,
	OpOriginSlow: 1, OpOriginErrors: 1, OpHealthFail: 2, OpPublish: 2, OpBroken: 1, OpInvalidate: 3,
}

// Config describes what a schedule may touch. Regions is required.
type Config struct {
	Seed int64
	// Duration is the length of the schedule (the load runs as long).
	Duration time.Duration
	// Regions are the edge regions faults may target (node:@<region>, region:<name>).
	Regions []string
	// Origins are origin ids for origin faults; default ["web"].
	Origins []string
	// Distribution, Behavior and Function are what publishes re-associate
	// and invalidations target; defaults "demo", "default", "chaos-probe".
	Distribution string
	Behavior     string
	Function     string
	// Weights is the menu; nil means DefaultWeights. Unknown names are errors.
	Weights map[string]int
	// Settle is the quiet time at the end; default 10s.
	Settle time.Duration
}

func (c *Config) defaults() error {
	if len(c.Regions) == 0 {
		return fmt.Errorf("nemesis: no regions to target")
	}
	if c.Duration <= 0 {
		return fmt.Errorf("nemesis: duration must be > 0")
	}
	if len(c.Origins) == 0 {
		c.Origins = []string{"web"}
	}
	if c.Distribution == "" {
		c.Distribution = "demo"
	}
	if c.Behavior == "" {
		c.Behavior = "default"
	}
	if c.Function == "" {
		c.Function = "chaos-probe"
	}
	if c.Weights == nil {
		c.Weights = DefaultWeights
	}
	for op, w := range c.Weights {
		if _, ok := DefaultWeights[op]; !ok || w < 0 {
			return fmt.Errorf("nemesis: menu entry %q (weight %d): unknown or negative", op, w)
		}
	}
	if c.Settle <= 0 {
		c.Settle = DefaultSettle
	}
	return nil
}

// gen is one schedule being drawn.
type gen struct {
	cfg       Config
	rnd       *rand.Rand
	ops       []string // menu names, sorted: a fixed draw order
	total     int
	steps     []scenario.Step
	procUntil time.Duration // end of the active process fault
}

// Schedule draws the timed steps for cfg. The steps are in time order.
func Schedule(cfg Config) ([]scenario.Step, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	g := &gen{cfg: cfg, rnd: rng.Seeded(uint64(cfg.Seed))}
	for op, w := range cfg.Weights {
		if w > 0 {
			g.ops = append(g.ops, op)
			g.total += w
		}
	}
	slices.Sort(g.ops)
	if g.total == 0 {
		return nil, fmt.Errorf("nemesis: every menu weight is 0")
	}
	end := cfg.Duration - cfg.Settle
	for at := 2*time.Second + g.span(0, 2*time.Second); at < end; at += g.span(2*time.Second, 6*time.Second) {
		g.draw(at, end)
	}
	slices.SortStableFunc(g.steps, func(a, b scenario.Step) int { return int(a.At - b.At) })
	return g.steps, nil
}

// span draws a duration in [lo, hi), rounded to 100ms.
func (g *gen) span(lo, hi time.Duration) time.Duration {
	d := lo + time.Duration(g.rnd.Int64N(int64(hi-lo)))
	return d.Round(100 * time.Millisecond)
}

func (g *gen) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

func (g *gen) choose() string {
	n := g.rnd.IntN(g.total)
	for _, op := range g.ops {
		if n -= g.cfg.Weights[op]; n < 0 {
			return op
		}
	}
	return g.ops[len(g.ops)-1]
}

func (g *gen) add(s scenario.Step) { g.steps = append(g.steps, s) }
