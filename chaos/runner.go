package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/chaos/invariant"
	"github.com/edgelab/edgelab/chaos/load"
	"github.com/edgelab/edgelab/chaos/scenario"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// Defaults applied by NewRunner for zero Config fields.
const (
	DefaultPollInterval = 200 * time.Millisecond
	DefaultGrace        = 2 * time.Second
)

// Config configures a Runner. Lab and Faults are required.
type Config struct {
	Lab    Lab
	Faults Faults
	// Logger receives step progress; nil discards.
	Logger *slog.Logger
	// PollInterval is how often waits poll the lab; default 200ms.
	PollInterval time.Duration
	// Grace widens every all-edges-down interval on both sides before
	// no-lost-requests judges requests (health-check detection and
	// recovery); default 2s.
	Grace time.Duration
	// AllowRemote lets load target a gateway that is not on loopback.
	AllowRemote bool
	// Transport is the load generator's round tripper; nil = its own.
	Transport http.RoundTripper
}

// Runner runs scenarios against a lab. A Runner runs one scenario at a time.
type Runner struct {
	cfg Config
	log *slog.Logger
}

// NewRunner checks cfg and applies defaults.
func NewRunner(cfg Config) (*Runner, error) {
	if cfg.Lab == nil || cfg.Faults == nil {
		return nil, errors.New("chaos: runner needs a Lab and a Faults")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log}, nil
}

// injected is one fault the run injected.
type injected struct {
	name     string // step name, may be ""
	target   string // as written in the scenario
	resolved string // as sent to Faults
	kind     string
	id       string
	start    time.Time
	end      time.Time // zero while active
	expires  time.Time // zero = until healed
	latency  time.Duration
}

func (f *injected) until(runEnd time.Time) time.Time {
	end := runEnd
	if !f.end.IsZero() {
		end = f.end
	}
	if !f.expires.IsZero() && f.expires.Before(end) {
		end = f.expires
	}
	return end
}

// run is the state of one Run.
type run struct {
	r     *Runner
	sc    *scenario.Scenario
	info  LabInfo
	start time.Time

	mu       sync.Mutex
	faults   []*injected
	acks     []history.Ack
	steps    []StepResult
	latest   map[string]int64 // function -> newest version this run published
	lastHeal time.Time
	broken   []*history.Broken
	invals   []history.Invalidation
}

// Run executes sc: setup steps in order, then the timed steps and the load
// concurrently; then it heals whatever the scenario left injected, waits for
// convergence, collects histories and the final state, and checks the
// invariants. The error is non-nil only when the run could not be carried
// out (lab unreachable, setup failed, wrong lab); invariant violations and
// failed steps are in the Report.
func (r *Runner) Run(ctx context.Context, sc *scenario.Scenario) (*Report, error) {
	info, err := r.cfg.Lab.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos %s: lab info: %w", sc.Name, err)
	}
	if sc.Target != scenario.TargetAny && sc.Target != "" && string(sc.Target) != info.Kind {
		return nil, fmt.Errorf("chaos %s: written for the %s lab, this is %q", sc.Name, sc.Target, info.Kind)
	}
	if sc.Profile != "" && sc.Profile != info.Profile {
		return nil, fmt.Errorf("chaos %s: needs propagation profile %q, the lab runs %q", sc.Name, sc.Profile, info.Profile)
	}
	expanded, err := r.expandNemesis(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("chaos %s: %w", sc.Name, err)
	}
	sc = expanded
	ctx, cancel := context.WithTimeout(ctx, sc.RunTimeout())
	defer cancel()
	rn := &run{r: r, sc: sc, info: info, latest: map[string]int64{}}

	for i, s := range sc.Setup {
		if res := rn.exec(ctx, s); !res.OK {
			rn.healAll(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("chaos %s: setup[%d] (%s): %s", sc.Name, i, s, res.Err)
		}
	}

	var gen *load.Generator
	if sc.Load != nil {
		gen, err = load.New(load.Config{
			URL: info.GatewayURL, Host: sc.Load.Host, Rate: sc.Load.Rate, MaxRequests: sc.Load.Requests,
			Duration: sc.Load.Duration.D(), Paths: sc.Load.Paths, ViewerRegions: sc.Load.ViewerRegions,
			Methods: sc.Load.Methods, IDPrefix: fmt.Sprintf("%s-%x", sc.Name, time.Now().UnixNano()),
			AllowRemote: r.cfg.AllowRemote, Transport: r.cfg.Transport,
		})
		if err != nil {
			return nil, fmt.Errorf("chaos %s: %w", sc.Name, err)
		}
	}
	rn.start = time.Now()
	var (
		wg      sync.WaitGroup
		reqs    []history.Request
		loadErr error
	)
	if gen != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs, loadErr = gen.Run(ctx)
		}()
	}
	rn.runSteps(ctx)
	wg.Wait()
	runEnd := time.Now()
	if loadErr != nil {
		rn.healAll(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("chaos %s: load: %w", sc.Name, loadErr)
	}
	rn.healAll(ctx)

	// Give live nodes until the converge bound to catch up before judging.
	rn.waitConverged(ctx, rn.convergeBound())
	nodes, err := r.cfg.Lab.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos %s: listing nodes: %w", sc.Name, err)
	}
	final, err := r.cfg.Lab.FinalState(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos %s: final state: %w", sc.Name, err)
	}
	obs, err := r.cfg.Lab.Observations(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos %s: observations: %w", sc.Name, err)
	}
	return rn.report(reqs, nodes, final, obs, runEnd), nil
}

func (rn *run) runSteps(ctx context.Context) {
	for _, s := range rn.sc.Steps {
		t := time.NewTimer(time.Until(rn.start.Add(s.At.D())))
		select {
		case <-ctx.Done():
			t.Stop()
			rn.record(StepResult{Step: s.String(), Start: time.Now(), Err: "not run: " + ctx.Err().Error()})
			continue
		case <-t.C:
		}
		rn.exec(ctx, s)
	}
}

func (rn *run) record(res StepResult) StepResult {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if !rn.start.IsZero() {
		res.Offset = res.Start.Sub(rn.start)
	}
	rn.steps = append(rn.steps, res)
	return res
}

// exec runs one step and records its result against its expected outcome.
func (rn *run) exec(ctx context.Context, s scenario.Step) StepResult {
	start := time.Now()
	rn.r.log.Info("chaos step", "scenario", rn.sc.Name, "step", s.String())
	err := rn.do(ctx, s)
	res := StepResult{Step: s.String(), Start: start, Took: time.Since(start), Expect: string(s.Expect)}
	if err != nil {
		res.Err = err.Error()
	}
	switch s.Expect {
	case scenario.ExpectFailure:
		res.OK = err != nil
		if err == nil {
			res.Err = "succeeded, but was expected to fail"
		}
	case scenario.ExpectAny:
		res.OK = true
	default:
		res.OK = err == nil
	}
	if !res.OK {
		rn.r.log.Warn("chaos step failed", "scenario", rn.sc.Name, "step", s.String(), "err", res.Err)
	}
	return rn.record(res)
}

func (rn *run) do(ctx context.Context, s scenario.Step) error {
	switch s.Action {
	case scenario.ActionWait:
		return rn.wait(ctx, s)
	case scenario.ActionHeal:
		return rn.heal(ctx, s.Faults)
	case scenario.ActionRestart:
		return rn.undo(ctx, s, "start", "kill", "stop")
	case scenario.ActionUnpause:
		return rn.undo(ctx, s, "", "pause")
	case scenario.ActionPublish:
		if s.Broken {
			return rn.publishBroken(ctx, s)
		}
		return rn.publish(ctx, s)
	case scenario.ActionInvalidate:
		return rn.invalidate(ctx, s)
	case scenario.ActionKillAfterAck:
		return rn.killAfterAck(ctx, s)
	case scenario.ActionNemesis:
		return errors.New("nemesis step not expanded")
	case scenario.ActionApply:
		sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
		defer cancel()
		return rn.apply(sctx, s)
	}
	if kind := s.FaultKind(); kind != "" {
		return rn.inject(ctx, s, kind)
	}
	return fmt.Errorf("unknown action %q", s.Action)
}

func (rn *run) inject(ctx context.Context, s scenario.Step, kind string) error {
	target, err := rn.resolve(ctx, s.Target)
	if err != nil {
		return err
	}
	f := &edgelabv1.Fault{Kind: kind, Target: target, Direction: s.Direction, Rate: s.Rate, Status: s.Status}
	if s.Latency > 0 {
		f.Latency = durationpb.New(s.Latency.D())
	}
	if s.Duration > 0 {
		f.Duration = durationpb.New(s.Duration.D())
	}
	if kind == "partition" && f.Direction == "" {
		f.Direction = "both"
	}
	start := time.Now()
	got, err := rn.r.cfg.Faults.Inject(ctx, f)
	if err != nil {
		return fmt.Errorf("injecting %s on %s: %w", kind, target, err)
	}
	in := &injected{name: s.Name, target: s.Target, resolved: target, kind: kind, id: got.GetId(), start: start, latency: s.Latency.D()}
	if s.Duration > 0 {
		in.expires = start.Add(s.Duration.D())
	}
	rn.mu.Lock()
	rn.faults = append(rn.faults, in)
	rn.mu.Unlock()
	return nil
}

// resolve turns node:@<region> into the id of the first live node (by id) in
// that region; every other target is passed through.
func (rn *run) resolve(ctx context.Context, target string) (string, error) {
	region, ok := strings.CutPrefix(target, "node:@")
	if !ok {
		return target, nil
	}
	nodes, err := rn.r.cfg.Lab.Nodes(ctx)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", target, err)
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	for _, n := range nodes {
		if n.Live && n.Region == region && n.Role != "rec" { // a REC is named by its id
			return "node:" + n.Node, nil
		}
	}
	return "", fmt.Errorf("resolving %s: no live edge location in region %s", target, region)
}

// heal heals the named faults, or every active one when names is empty.
func (rn *run) heal(ctx context.Context, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	rn.mu.Lock()
	var todo []*injected
	for _, f := range rn.faults {
		if f.end.IsZero() && (len(names) == 0 || want[f.name]) {
			todo = append(todo, f)
		}
	}
	rn.mu.Unlock()
	return rn.healFaults(ctx, todo)
}

func (rn *run) healFaults(ctx context.Context, todo []*injected) error {
	var errs []error
	for _, f := range todo {
		if err := rn.r.cfg.Faults.Heal(ctx, f.id); err != nil {
			errs = append(errs, fmt.Errorf("healing %s %s (%s): %w", f.kind, f.resolved, f.id, err))
			continue
		}
		now := time.Now()
		rn.mu.Lock()
		f.end = now
		rn.lastHeal = now
		rn.mu.Unlock()
	}
	return errors.Join(errs...)
}

// undo heals the active faults of the given kinds on the step's target (as
// written or as resolved). With none, it injects fallback (when not "").
func (rn *run) undo(ctx context.Context, s scenario.Step, fallback string, kinds ...string) error {
	rn.mu.Lock()
	var todo []*injected
	for _, f := range rn.faults {
		if f.end.IsZero() && (f.target == s.Target || f.resolved == s.Target) && contains(kinds, f.kind) {
			todo = append(todo, f)
		}
	}
	rn.mu.Unlock()
	if len(todo) > 0 {
		return rn.healFaults(ctx, todo)
	}
	if fallback == "" {
		return fmt.Errorf("no active %s fault on %s to undo", strings.Join(kinds, "/"), s.Target)
	}
	return rn.inject(ctx, s, fallback)
}

// healAll heals every fault still active; errors are recorded as a step.
func (rn *run) healAll(ctx context.Context) {
	if err := rn.heal(ctx, nil); err != nil {
		rn.record(StepResult{Step: "final heal --all", Start: time.Now(), Err: err.Error()})
	}
}

func (rn *run) publish(ctx context.Context, s scenario.Step) error {
	for n := range s.Count {
		if n > 0 && s.Every > 0 {
			t := time.NewTimer(s.Every.D())
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		// A marker keeps every published version's content distinct.
		src := fmt.Sprintf("%s\n// edgelab chaos %s: publish %d at %s\n", s.Source, rn.sc.Name, n+1, time.Now().UTC().Format(time.RFC3339Nano))
		files := []*edgelabv1.SourceFile{{Name: s.Function + ".go", Content: []byte(src)}}
		sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
		ver, rev, err := rn.r.cfg.Lab.Publish(sctx, s.Function, files)
		cancel()
		if err != nil {
			return fmt.Errorf("publishing %s (%d of %d): %w", s.Function, n+1, s.Count, err)
		}
		rn.mu.Lock()
		rn.acks = append(rn.acks, history.Ack{Kind: history.AckPublish, Revision: rev, Function: s.Function, Version: ver, Time: time.Now()})
		rn.latest[s.Function] = max(rn.latest[s.Function], ver)
		rn.mu.Unlock()
	}
	return nil
}

func (rn *run) apply(ctx context.Context, s scenario.Step) error {
	version, ok := s.VersionNumber()
	if s.LatestVersion() || s.GoodVersion() {
		rn.mu.Lock()
		version = rn.latest[s.Function]
		if s.GoodVersion() {
			version = rn.goodVersion(s.Function)
		}
		rn.mu.Unlock()
		if ok = version > 0; !ok {
			return fmt.Errorf("version %s of %s: this run published none", s.Version, s.Function)
		}
	}
	cur, err := rn.r.cfg.Lab.Distribution(ctx, s.Distribution)
	if err != nil {
		return fmt.Errorf("getting distribution %s: %w", s.Distribution, err)
	}
	ev, ok := eventtype.Parse(s.Event)
	if !ok {
		return fmt.Errorf("step event %q is not a CloudFront event type", s.Event)
	}
	d := proto.Clone(cur).(*edgelabv1.Distribution)
	d.Updated = nil
	if !SetAssociation(d, s.Behavior, &edgelabv1.Association{EventType: ev, Function: s.Function, Version: version}) {
		return fmt.Errorf("distribution %s has no behavior %q", s.Distribution, s.Behavior)
	}
	rev, err := rn.r.cfg.Lab.ApplyDistribution(ctx, d)
	if err != nil {
		return fmt.Errorf("applying distribution %s: %w", s.Distribution, err)
	}
	rn.mu.Lock()
	rn.acks = append(rn.acks, history.Ack{Kind: history.AckApply, Revision: rev, Distribution: s.Distribution, Time: time.Now()})
	rn.trackBroken(d, rev)
	rn.mu.Unlock()
	return nil
}

// SetAssociation sets, on d's behavior whose path is behavior, the
// association for a.EventType to a (replacing any for that event). It
// reports whether such a behavior exists.
func SetAssociation(d *edgelabv1.Distribution, behavior string, a *edgelabv1.Association) bool {
	for _, b := range d.GetBehaviors() {
		if b.GetPath() != behavior {
			continue
		}
		for i, old := range b.Functions {
			if old.GetEventType() == a.GetEventType() {
				a.IncludeBody = old.GetIncludeBody()
				b.Functions[i] = a
				return true
			}
		}
		b.Functions = append(b.Functions, a)
		return true
	}
	return false
}

func (rn *run) wait(ctx context.Context, s scenario.Step) error {
	sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
	defer cancel()
	switch s.For {
	case scenario.WaitDeployed:
		if err := rn.r.cfg.Lab.WaitDeployed(sctx, s.Distribution); err != nil {
			return fmt.Errorf("waiting for %s to deploy: %w", s.Distribution, err)
		}
	case scenario.WaitConverged:
		return rn.waitConverged(sctx, s.StepTimeout())
	}
	return nil
}

// waitConverged polls until every live node applied the latest revision, or
// until d passes.
func (rn *run) waitConverged(ctx context.Context, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(rn.r.cfg.PollInterval)
	defer tick.Stop()
	var lastErr error
	for {
		done, err := rn.converged(ctx)
		if done {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("waiting for convergence: %w (last error: %v)", ctx.Err(), lastErr)
			}
			return fmt.Errorf("waiting for convergence: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (rn *run) converged(ctx context.Context) (bool, error) {
	final, err := rn.r.cfg.Lab.FinalState(ctx)
	if err != nil {
		return false, err
	}
	live := 0
	for _, n := range final.Nodes {
		if !n.Live {
			continue
		}
		live++
		if n.AppliedRevision < final.Revision {
			return false, nil
		}
	}
	return live > 0, nil
}

func (rn *run) convergeBound() time.Duration {
	within := scenario.DefaultConvergeWithin
	for _, inv := range rn.sc.Invariants {
		if inv.Name == invariant.NameConverge {
			within = inv.Within.D()
		}
	}
	return rn.info.ModelledDelay + within
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
