package nemesis

import (
	"fmt"
	"time"

	"github.com/edgelab/edgelab/chaos/scenario"
)

// draw adds the steps of one menu entry at offset at; every fault it
// starts ends before end.
func (g *gen) draw(at, end time.Duration) {
	op := g.choose()
	region := g.pick(g.cfg.Regions)
	d := min(g.span(2*time.Second, 8*time.Second), end-at)
	if d < time.Second {
		return
	}
	dur := scenario.Duration(d)
	sd := func(s scenario.Step) scenario.Step { s.At = scenario.Duration(at); return s }
	switch op {
	case OpKill, OpPause, OpKillAfterAck:
		if at < g.procUntil {
			return // one process fault at a time
		}
		g.procUntil = at + d + time.Second
		target := "node:@" + region
		act := scenario.Action(op)
		name := fmt.Sprintf("n%d", len(g.steps))
		g.add(sd(scenario.Step{Action: act, Name: name, Target: target, Timeout: scenario.Duration(10 * time.Second)}))
		// The heal names the fault: it restarts (or unpauses) whichever
		// node the step resolved to.
		g.add(scenario.Step{At: scenario.Duration(at + d), Action: scenario.ActionHeal, Faults: []string{name}, Expect: scenario.ExpectAny})
	case OpPartition:
		g.add(sd(scenario.Step{Action: scenario.ActionPartition, Target: "region:" + region, Duration: dur}))
	case OpReplDelay:
		g.add(sd(scenario.Step{Action: scenario.ActionFault, Kind: op, Target: "region:" + region, Latency: scenario.Duration(g.span(200*time.Millisecond, 2*time.Second)), Duration: dur}))
	case OpReplDrop, OpReplDup:
		g.add(sd(scenario.Step{Action: scenario.ActionFault, Kind: op, Target: "region:" + region, Rate: 0.5, Duration: dur}))
	case OpOriginSlow:
		g.add(sd(scenario.Step{Action: scenario.ActionFault, Kind: op, Target: "origin:" + g.pick(g.cfg.Origins), Latency: scenario.Duration(g.span(100*time.Millisecond, 800*time.Millisecond)), Duration: dur}))
	case OpOriginErrors:
		g.add(sd(scenario.Step{Action: scenario.ActionFault, Kind: op, Target: "origin:" + g.pick(g.cfg.Origins), Rate: 0.3, Status: 503, Duration: dur}))
	case OpHealthFail:
		g.add(sd(scenario.Step{Action: scenario.ActionFault, Kind: op, Target: "node:@" + region, Duration: dur}))
	case OpPublish:
		g.publish(at, false)
	case OpBroken:
		if at+12*time.Second < end {
			g.publish(at, true)
		}
	case OpInvalidate:
		g.add(sd(scenario.Step{Action: scenario.ActionInvalidate, Distribution: g.cfg.Distribution, Paths: []string{g.pick(invalidationPaths)}}))
	}
}

var invalidationPaths = []string{"/static/*", "/*", "/static/app.css", "/index.html"}

// publish publishes the probe (or a broken version of it) and associates
// it; a broken one is rolled back to the newest good version 6s later.
func (g *gen) publish(at time.Duration, broken bool) {
	step := func(off time.Duration, s scenario.Step) {
		s.At = scenario.Duration(at + off)
		s.Timeout = scenario.Duration(20 * time.Second)
		g.add(s)
	}
	step(0, scenario.Step{Action: scenario.ActionPublish, Function: g.cfg.Function, Source: ProbeSource, Broken: broken, Count: 1})
	apply := scenario.Step{Action: scenario.ActionApply, Distribution: g.cfg.Distribution, Behavior: g.cfg.Behavior,
		Event: "viewer-request", Function: g.cfg.Function, Version: "latest"}
	step(0, apply)
	if broken {
		apply.Version = "good"
		step(6*time.Second, apply)
	}
}

// ProbeSource is the viewer-request function random runs publish: it lets
// every request through, and the edge names the version that ran.
const ProbeSource = `package probe

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest lets every request through.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return nil, nil
}
`
