package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/chaos/invariant"
	"github.com/edgelab/edgelab/chaos/scenario"
)

// StepResult is what one step did.
type StepResult struct {
	Step string `json:"step"`
	// Offset is when the step started, from the load start (0 for setup).
	Offset time.Duration `json:"offset"`
	Start  time.Time     `json:"start"`
	Took   time.Duration `json:"took"`
	Expect string        `json:"expect,omitempty"`
	OK     bool          `json:"ok"`
	Err    string        `json:"err,omitempty"`
}

// FaultRecord is one fault the run injected and when it was in force.
type FaultRecord struct {
	Kind   string        `json:"kind"`
	Target string        `json:"target"`
	ID     string        `json:"id"`
	From   time.Duration `json:"from"`
	To     time.Duration `json:"to"`
}

// Report is the outcome of one scenario run. Passed is true when every step
// had its expected outcome and every invariant held.
type Report struct {
	Scenario string        `json:"scenario"`
	Lab      string        `json:"lab"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Passed   bool          `json:"passed"`

	Requests int `json:"requests"`
	// Errors counts failed requests by kind: "transport", or "<status> <X-Cache result>".
	Errors map[string]int `json:"errors,omitempty"`
	// Failovers counts responses served by an edge outside the viewer's
	// region although that region has an edge, or after gateway retries.
	Failovers int `json:"failovers"`
	// FailoverTimes says, for each fault that took an edge out (stop, kill,
	// pause, health-fail on node:<id>), how long after the fault its region's
	// viewers were first answered by another edge.
	FailoverTimes []FailoverTime `json:"failoverTimes,omitempty"`
	// Convergence is per region, measured from the last heal or write.
	Convergence []invariant.RegionConvergence `json:"convergence,omitempty"`
	Invariants  []invariant.Result            `json:"invariants"`
	Steps       []StepResult                  `json:"steps"`
	Faults      []FaultRecord                 `json:"faults,omitempty"`
	Acks        []history.Ack                 `json:"acks,omitempty"`
	// Invalidations and Broken are the invalidations and broken versions
	// the run made.
	Invalidations []history.Invalidation `json:"invalidations,omitempty"`
	Broken        []history.Broken       `json:"broken,omitempty"`
	// Timeline is what the HTML report draws.
	Timeline Timeline `json:"timeline"`
	// Seed and Command say how to reproduce a random run ("" for a file).
	Seed    int64  `json:"seed,omitempty"`
	Command string `json:"command,omitempty"`
	// Schedule is the random run's schedule, one step per line.
	Schedule []string `json:"schedule,omitempty"`
}

func (rn *run) report(reqs []history.Request, nodes []history.NodeHistory, final history.FinalState, obs Observations, runEnd time.Time) *Report {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rep := &Report{
		Scenario: rn.sc.Name, Lab: rn.info.Kind, Started: rn.start, Duration: runEnd.Sub(rn.start),
		Requests: len(reqs), Errors: ErrorsByKind(reqs), Failovers: Failovers(reqs, nodes),
		Steps: rn.steps, Acks: rn.acks, Passed: true,
	}
	for _, f := range rn.faults {
		rep.Faults = append(rep.Faults, FaultRecord{Kind: f.kind, Target: f.resolved, ID: f.id,
			From: f.start.Sub(rn.start), To: f.until(runEnd).Sub(rn.start)})
		if edgeOutKinds[f.kind] {
			if ft, ok := FailoverTimeAfter(f.kind, f.resolved, f.start, reqs, nodes); ok {
				rep.FailoverTimes = append(rep.FailoverTimes, ft)
			}
		}
	}
	since := rn.lastHeal
	for _, a := range rn.acks {
		if a.Time.After(since) {
			since = a.Time
		}
	}
	for _, inv := range rn.invals {
		if inv.Time.After(since) {
			since = inv.Time
		}
	}
	if since.IsZero() {
		since = rn.start
	}
	healthy := HealthyWindows(rn.start.Add(-time.Hour), runEnd.Add(time.Hour), nodes, rn.outages(runEnd), rn.r.cfg.Grace)
	var originFaults, edgeFaults []history.Window
	for _, o := range rn.outages(runEnd) {
		if strings.HasPrefix(o.Kind, "origin-") {
			// The origin drops a fault when the control plane sees it
			// expire or healed, a little after the runner's clock says.
			w := o.Window
			w.To = w.To.Add(rn.r.cfg.Grace)
			originFaults = append(originFaults, w)
		}
		if edgeOutKinds[o.Kind] {
			edgeFaults = append(edgeFaults, o.Window)
		}
	}
	for _, inv := range rn.sc.Invariants {
		var res invariant.Result
		switch inv.Name {
		case invariant.NameNoLostRequests:
			res = invariant.NoLostRequests(reqs, invariant.NoLostParams{Healthy: healthy, OriginFaults: originFaults, EdgeFaults: edgeFaults})
		case invariant.NameConverge:
			res, rep.Convergence = invariant.Converge(nodes, invariant.ConvergeParams{
				Target: final.Revision, Since: since, Bound: rn.info.ModelledDelay + inv.Within.D()})
		case invariant.NameMonotonic:
			res = invariant.Monotonic(reqs, nodes)
		case invariant.NameDurableAcks:
			res = invariant.DurableAcks(rn.acks, final)
		case invariant.NameMixedVersions:
			res = invariant.MixedVersions(reqs, inv.Function, history.Window{From: rn.start.Add(inv.From.D()), To: rn.start.Add(inv.To.D())})
		case invariant.NameSingleVersion:
			after := rn.start.Add(inv.After.D())
			if inv.After == 0 {
				after = convergedAt(nodes, final.Revision, since)
			}
			res = invariant.SingleVersion(reqs, inv.Function, after, rn.latest[inv.Function])
		default:
			res = rn.checkTeeth(inv, reqs, nodes, obs, runEnd)
		}
		rep.Invariants = append(rep.Invariants, res)
		rep.Passed = rep.Passed && res.Passed
	}
	for _, s := range rep.Steps {
		rep.Passed = rep.Passed && s.OK
	}
	rep.Timeline = buildTimeline(rn.start, runEnd, reqs, nodes)
	rep.Invalidations = rn.invals
	for _, b := range rn.broken {
		rep.Broken = append(rep.Broken, *b)
	}
	return rep
}

// checkTeeth checks the invariants over invalidations, restarts, outages,
// origin receipts and broken versions.
func (rn *run) checkTeeth(inv scenario.Invariant, reqs []history.Request, nodes []history.NodeHistory, obs Observations, runEnd time.Time) invariant.Result {
	switch inv.Name {
	case invariant.NameFresh:
		return invariant.Fresh(reqs, rn.invals, nodes)
	case invariant.NameAckDurable:
		return invariant.AckImpliesDurable(nodes)
	case invariant.NameFailoverBound:
		var downs []invariant.EdgeDown
		for _, f := range rn.faults {
			if id, ok := strings.CutPrefix(f.resolved, "node:"); ok && edgeOutKinds[f.kind] {
				downs = append(downs, invariant.EdgeDown{Edge: id, Window: history.Window{From: f.start, To: f.until(runEnd)}})
			}
		}
		return invariant.FailoverBound(reqs, obs.Gateway, downs, invariant.FailoverParams{Within: inv.Within.D(), MaxRetries: inv.MaxRetries})
	case invariant.NameRECFailover:
		var downs []invariant.RECDown
		for _, f := range rn.faults {
			if f.resolved == "node:rec-"+inv.REC && edgeOutKinds[f.kind] {
				downs = append(downs, invariant.RECDown{REC: inv.REC, Window: history.Window{From: f.start, To: f.until(runEnd)}})
			}
		}
		return invariant.RECFailover(reqs, downs, invariant.RECFailoverParams{Within: inv.Within.D()})
	case invariant.NameRECSlowed:
		var slows []invariant.RECSlow
		for _, f := range rn.faults {
			if f.resolved == "node:rec-"+inv.REC && f.kind == "tier-latency" {
				slows = append(slows, invariant.RECSlow{REC: inv.REC, Window: history.Window{From: f.start, To: f.until(runEnd)}, Latency: f.latency})
			}
		}
		return invariant.RECSlowed(reqs, slows, invariant.RECSlowedParams{Within: inv.Within.D()})
	case invariant.NameAtMostOnce:
		return invariant.AtMostOnce(reqs, obs.Receipts)
	case invariant.NameNackedNeverServed:
		broken := make([]history.Broken, 0, len(rn.broken))
		for _, b := range rn.broken {
			broken = append(broken, *b)
		}
		return invariant.NackedNeverServed(reqs, nodes, broken)
	}
	return invariant.Result{Name: inv.Name, Details: []string{"unknown invariant"}}
}

// convergedAt is when the last live node reached rev (or since, if earlier).
func convergedAt(nodes []history.NodeHistory, rev int64, since time.Time) time.Time {
	at := since
	for _, n := range nodes {
		if !n.Live {
			continue
		}
		if t, ok := n.ReachedAt(rev); ok && t.After(at) {
			at = t
		}
	}
	return at
}

// outages lists the injected faults as windows, clipped to runEnd.
func (rn *run) outages(runEnd time.Time) []history.Outage {
	out := make([]history.Outage, 0, len(rn.faults))
	for _, f := range rn.faults {
		out = append(out, history.Outage{Target: f.resolved, Kind: f.kind, Window: history.Window{From: f.start, To: f.until(runEnd)}})
	}
	return out
}

// downKinds are the fault kinds that take an edge off the data path.
var downKinds = map[string]bool{"kill": true, "stop": true, "pause": true, "health-fail": true}

// HealthyWindows returns the windows within [from, to) during which at
// least one edge node was up: an edge is down while a kill, stop, pause or
// health-fail fault targets it (node:<id>) or its region (region:<name>).
// Every down-everywhere interval is widened by grace on both sides.
func HealthyWindows(from, to time.Time, nodes []history.NodeHistory, outages []history.Outage, grace time.Duration) []history.Window {
	var unhealthy []history.Window
	if len(nodes) > 0 {
		unhealthy = allDown(nodes, outages)
	}
	cur := from
	var out []history.Window
	for _, u := range unhealthy {
		uFrom, uTo := u.From.Add(-grace), u.To.Add(grace)
		if uFrom.After(cur) {
			out = append(out, history.Window{From: cur, To: minTime(uFrom, to)})
		}
		if uTo.After(cur) {
			cur = uTo
		}
	}
	if cur.Before(to) {
		out = append(out, history.Window{From: cur, To: to})
	}
	if len(nodes) == 0 {
		return nil // no edge at all: never a healthy path
	}
	return out
}

// allDown returns the sorted intervals during which every node was down.
func allDown(nodes []history.NodeHistory, outages []history.Outage) []history.Window {
	var times []time.Time
	for _, o := range outages {
		if downKinds[o.Kind] {
			times = append(times, o.From, o.To)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	down := func(n history.NodeHistory, t time.Time) bool {
		for _, o := range outages {
			if downKinds[o.Kind] && (o.Target == "node:"+n.Node || o.Target == "region:"+n.Region) && o.Contains(t) {
				return true
			}
		}
		return false
	}
	var out []history.Window
	for i := 0; i+1 < len(times); i++ {
		a, b := times[i], times[i+1]
		if !a.Before(b) {
			continue
		}
		all := true
		for _, n := range nodes {
			if !down(n, a) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		if k := len(out); k > 0 && !out[k-1].To.Before(a) {
			out[k-1].To = b
		} else {
			out = append(out, history.Window{From: a, To: b})
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ErrorsByKind counts failed requests: "transport" for transport errors,
// else "<status> <X-Cache result>" (e.g. "502 Error", "503 LambdaExecutionError").
func ErrorsByKind(reqs []history.Request) map[string]int {
	m := map[string]int{}
	for _, r := range reqs {
		switch {
		case r.Err != "":
			m["transport"]++
		case r.Status >= 500:
			kind := fmt.Sprintf("%d", r.Status)
			if c := r.CacheResult(); c != "" {
				kind += " " + c
			}
			m[kind]++
		}
	}
	return m
}

// Failovers counts responses served by an edge outside the viewer's region
// when the viewer's region has an edge, plus responses the gateway retried.
func Failovers(reqs []history.Request, nodes []history.NodeHistory) int {
	regionOf := map[string]string{}
	hasEdge := map[string]bool{}
	for _, n := range nodes {
		regionOf[n.Node] = n.Region
		hasEdge[n.Region] = true
	}
	count := 0
	for _, r := range reqs {
		if r.Err != "" {
			continue
		}
		served := regionOf[r.ServedBy()]
		if r.Attempts > 1 || (served != "" && hasEdge[r.ViewerRegion] && served != r.ViewerRegion) {
			count++
		}
	}
	return count
}

// WriteJSON writes the report as indented JSON (for CI).
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// WriteTable writes the report for people.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verdict := "PASS"
	if !rep.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(tw, "scenario\t%s (%s lab)\t%s\n", rep.Scenario, rep.Lab, verdict)
	fmt.Fprintf(tw, "duration\t%s\t\n", rep.Duration.Round(time.Millisecond))
	fmt.Fprintf(tw, "requests\t%d\t\n", rep.Requests)
	kinds := make([]string, 0, len(rep.Errors))
	for k := range rep.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		fmt.Fprintf(tw, "errors\t0\t\n")
	}
	for _, k := range kinds {
		fmt.Fprintf(tw, "errors\t%s\t%d\n", k, rep.Errors[k])
	}
	fmt.Fprintf(tw, "failovers\t%d\t\n", rep.Failovers)
	for _, ft := range rep.FailoverTimes {
		took := "never (no other edge answered)"
		if ft.Served {
			took = ft.Time.Round(time.Millisecond).String() + " (to " + ft.NewEdge + ")"
		}
		fmt.Fprintf(tw, "failover time\t%s %s (%s)\t%s\n", ft.Kind, ft.Target, ft.Region, took)
	}
	for _, c := range rep.Convergence {
		fmt.Fprintf(tw, "converged\t%s\t%s (%d/%d nodes)\n", c.Region, c.Time.Round(time.Millisecond), c.Converged, c.Nodes)
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintf(tw, "STEP\tAT\tRESULT\n")
	for _, s := range rep.Steps {
		res := "ok"
		if !s.OK {
			res = "FAILED: " + s.Err
		} else if s.Err != "" {
			res = "ok (failed as expected: " + s.Err + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Step, s.Offset.Round(time.Millisecond), res)
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintf(tw, "INVARIANT\tRESULT\tCHECKED\n")
	for _, inv := range rep.Invariants {
		res := "pass"
		if !inv.Passed {
			res = fmt.Sprintf("FAIL (%d violations)", inv.Violations)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", inv.Name, res, inv.Checked)
		for _, d := range inv.Details {
			fmt.Fprintf(tw, "  \t%s\t\n", d)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// edgeOutKinds are the fault kinds that take an edge out of the viewers' path.
var edgeOutKinds = map[string]bool{"stop": true, "kill": true, "pause": true, "health-fail": true}

// FailoverTime is how long a region's viewers waited for another edge after
// a fault took their edge out.
type FailoverTime struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Region string `json:"region"`
	// Served is false when no request of the region was answered by another
	// edge after the fault (Time is then zero).
	Served bool `json:"served"`
	// Time runs from the fault to the end of the first successful response
	// to a viewer of the region from another edge.
	Time    time.Duration `json:"time"`
	NewEdge string        `json:"newEdge,omitempty"`
}

// FailoverTimeAfter measures the failover after a fault of kind on target
// (node:<id>) injected at start: the first request from a viewer of the
// node's region that started after the fault and succeeded on another edge.
// ok is false when the target is not a known node, or a node no viewer
// request reached in the whole run (a regional edge cache: viewers never
// reach it, so there is no viewer failover to measure; rec-failover judges
// its PoPs' move).
func FailoverTimeAfter(kind, target string, start time.Time, reqs []history.Request, nodes []history.NodeHistory) (FailoverTime, bool) {
	id, found := strings.CutPrefix(target, "node:")
	if !found {
		return FailoverTime{}, false
	}
	region := ""
	for _, n := range nodes {
		if n.Node == id {
			region = n.Region
		}
	}
	if region == "" || !servedAny(reqs, id) {
		return FailoverTime{}, false
	}
	ft := FailoverTime{Kind: kind, Target: target, Region: region}
	var best time.Time
	for _, r := range reqs {
		if r.ViewerRegion != region || r.Start.Before(start) || r.Failed() {
			continue
		}
		if by := r.ServedBy(); by != "" && by != id && (best.IsZero() || r.End.Before(best)) {
			best, ft.NewEdge = r.End, by
		}
	}
	if !best.IsZero() {
		ft.Served, ft.Time = true, best.Sub(start)
	}
	return ft, true
}

// servedAny reports whether node answered any of reqs.
func servedAny(reqs []history.Request, node string) bool {
	for _, r := range reqs {
		if r.ServedBy() == node {
			return true
		}
	}
	return false
}
