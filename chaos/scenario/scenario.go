// Package scenario parses chaos scenario files (deploy/scenarios/*.yaml): a
// named, timed list of steps (faults, heals, publishes, applies, waits) run
// under background load, and the invariants to check afterwards.
//
// Parsing is strict: unknown or duplicated fields are errors, and every
// validation error names the field it is about (e.g. "steps[2] (at 5s,
// kill): target is required"). See docs/chaos.md for the format.
package scenario

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Target says which lab a scenario is written for.
type Target string

// Targets.
const (
	TargetAny      Target = "any"
	TargetAllInOne Target = "allinone"
	TargetCompose  Target = "compose"
)

// Action is what a step does.
type Action string

// Step actions. The process verbs (kill, stop, start, pause, partition) are
// shorthands for a fault of that kind; restart and unpause undo the kill/stop
// or pause the scenario injected on the same target.
const (
	ActionFault     Action = "fault"
	ActionHeal      Action = "heal"
	ActionPublish   Action = "publish"
	ActionApply     Action = "apply"
	ActionWait      Action = "wait"
	ActionKill      Action = "kill"
	ActionStop      Action = "stop"
	ActionStart     Action = "start"
	ActionRestart   Action = "restart"
	ActionPause     Action = "pause"
	ActionUnpause   Action = "unpause"
	ActionPartition Action = "partition"
	// ActionInvalidate invalidates Paths of Distribution.
	ActionInvalidate Action = "invalidate"
	// ActionKillAfterAck waits until the target node acknowledged the
	// latest revision, then kills it at once (durability of an ACK).
	ActionKillAfterAck Action = "kill-after-ack"
	// ActionNemesis runs a seeded random schedule (Seed, Duration) in place.
	ActionNemesis Action = "nemesis"
)

// Fault kinds: the ChaosService kinds (proto/edgelab/v1/chaos.proto) plus
// "kill" (stop without a graceful shutdown: SIGKILL, docker kill).
var faultKinds = map[string]bool{
	"stop": true, "kill": true, "start": true, "pause": true, "partition": true,
	"replication-delay": true, "replication-drop": true, "replication-duplicate": true,
	"origin-latency": true, "origin-errors": true, "origin-outage": true,
	"health-fail": true, "fetch-latency": true, "fetch-errors": true,
	"tier-latency": true, "tier-partition": true,
}

// Target prefixes a fault can name. etcd:<member> is for the compose lab.
var targetKinds = map[string]bool{
	"node": true, "region": true, "controlplane": true, "origin": true, "function": true, "etcd": true,
}

// Wait conditions.
const (
	WaitDeployed  = "deployed"  // the distribution's status is Deployed
	WaitConverged = "converged" // every live node applied the latest revision
)

// Duration is a time.Duration written as a Go duration string ("2s", "1m30s").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string; a bare 0 is accepted too.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "0" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: want a string such as \"2s\", got %s", truncate(string(b)))
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("duration %q: %w", truncate(s), err)
	}
	*d = Duration(v)
	return nil
}

// Scenario is one parsed scenario file.
type Scenario struct {
	// Name identifies the scenario in reports ([a-z0-9-]).
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Target is the lab it runs on; default any.
	Target Target `json:"target,omitempty"`
	// Profile is the propagation profile the lab must run with (e.g.
	// realistic); "" accepts any.
	Profile string `json:"profile,omitempty"`
	// Timeout bounds the whole run; default: last step + load duration + 2m.
	Timeout Duration `json:"timeout,omitempty"`
	// Load is the background load; nil means none.
	Load *Load `json:"load,omitempty"`
	// Setup steps run in order before the load starts (their "at" must be 0).
	Setup []Step `json:"setup,omitempty"`
	// Steps run at their "at" offsets from the start of the load.
	Steps      []Step      `json:"steps"`
	Invariants []Invariant `json:"invariants"`
}

// Load is the background load, sent through the lab's gateway.
type Load struct {
	// Rate is requests per second (0 < rate <= 10000).
	Rate float64 `json:"rate"`
	// Duration is how long load is sent (required, <= 1h).
	Duration Duration `json:"duration"`
	// Requests bounds the count; 0 means rate × duration.
	Requests int `json:"requests,omitempty"`
	// Paths requested in rotation; default ["/"].
	Paths []string `json:"paths,omitempty"`
	// ViewerRegions sent as X-Viewer-Region in rotation.
	ViewerRegions []string `json:"viewerRegions,omitempty"`
	// Host is the distribution domain sent as Host; "" keeps the gateway's.
	Host string `json:"host,omitempty"`
	// Methods are the HTTP methods in rotation (GET, HEAD, POST, PUT,
	// DELETE); default [GET]. Every request carries a unique id the sample
	// origin records, so POST and PUT can be checked by at-most-once.
	Methods []string `json:"methods,omitempty"`
}

// Step is one timed action. Which fields apply depends on Action; see
// docs/chaos.md.
type Step struct {
	At     Duration `json:"at,omitempty"`
	Action Action   `json:"action"`
	// Name labels a fault so a later heal can name it.
	Name string `json:"name,omitempty"`
	// Target: node:<id>, region:<name>, controlplane:<id>, origin:<id>,
	// function:<name>, etcd:<member>.
	Target string `json:"target,omitempty"`
	// Fault fields (action fault; the shorthands use Target, Direction, Duration).
	Kind      string   `json:"kind,omitempty"`
	Direction string   `json:"direction,omitempty"`
	Latency   Duration `json:"latency,omitempty"`
	Rate      float64  `json:"rate,omitempty"`
	Status    int32    `json:"status,omitempty"`
	// Duration of the fault; 0 means until healed.
	Duration Duration `json:"duration,omitempty"`
	// Faults (action heal) names faults to heal; empty heals every fault the
	// scenario injected.
	Faults []string `json:"faults,omitempty"`
	// Function and Source (action publish): the draft source published as a
	// new version, Count times, Every apart.
	Function string   `json:"function,omitempty"`
	Source   string   `json:"source,omitempty"`
	Count    int      `json:"count,omitempty"`
	Every    Duration `json:"every,omitempty"`
	// Broken (action publish) publishes a version that passes the control
	// plane's checks and fails when a node loads it: the nodes must NACK it
	// and keep serving the previous version.
	Broken bool `json:"broken,omitempty"`
	// Paths (action invalidate) are the CloudFront path patterns to invalidate.
	Paths []string `json:"paths,omitempty"`
	// Seed (action nemesis) seeds the random schedule; Duration is its length.
	Seed int64 `json:"seed,omitempty"`
	// Distribution, Behavior, Event, Function, Version (action apply): set
	// the Event association of Distribution's behavior whose path is Behavior
	// (default "default") to Function at Version ("latest" = the newest
	// version this run published; "good" = the newest that is not broken;
	// or a number).
	Distribution string `json:"distribution,omitempty"`
	Behavior     string `json:"behavior,omitempty"`
	Event        string `json:"event,omitempty"`
	Version      string `json:"version,omitempty"`
	// For (action wait): deployed or converged; empty just marks time.
	For string `json:"for,omitempty"`
	// Timeout bounds the step (publish, apply, wait); default 30s.
	Timeout Duration `json:"timeout,omitempty"`
	// Expect is the outcome the step must have: success (default), failure
	// (it must fail cleanly within its timeout, e.g. a write while etcd has
	// lost quorum) or any.
	Expect Expect `json:"expect,omitempty"`
}

// Invariant names one invariant to check, with its bounds.
type Invariant struct {
	Name string `json:"name"`
	// Within (converge) is the slack added to the lab's modelled delay; default 10s.
	Within Duration `json:"within,omitempty"`
	// Function (mixed-versions, single-version) is the function watched.
	Function string `json:"function,omitempty"`
	// From and To (mixed-versions) bound the window, as offsets from the load start.
	From Duration `json:"from,omitempty"`
	To   Duration `json:"to,omitempty"`
	// After (single-version) is an offset from the load start, or 0 to mean
	// "after convergence".
	After Duration `json:"after,omitempty"`
	// MaxRetries (failover-bound) bounds the gateway's retries over one
	// outage; default DefaultMaxRetries. Within (failover-bound) is how long
	// a dead edge may stay in rotation; default DefaultFailoverWithin.
	MaxRetries int64 `json:"maxRetries,omitempty"`
	// REC (rec-failover) names the regional edge cache as X-Edgelab-Rec
	// spells it (us-east-1); its outages are the kill, stop and pause
	// faults on node:rec-<REC>, the node id both labs give it. Within
	// (rec-failover) is how long PoPs may take to move away and back;
	// default DefaultRECFailoverWithin. For rec-slowed, REC's delays are
	// the tier-latency faults on node:rec-<REC>, and Within (default
	// DefaultRECSlowedWithin) how long one may take to reach it.
	REC string `json:"rec,omitempty"`
}

// DefaultRECSlowedWithin is rec-slowed's default bound: how long a
// tier-latency fault may take to reach the REC over its replication stream.
const DefaultRECSlowedWithin = 2 * time.Second

// DefaultRECFailoverWithin is rec-failover's default bound: a PoP marks a
// REC that did not answer down for 2s, so it is back within a few seconds.
const DefaultRECFailoverWithin = 5 * time.Second

// Failover-bound defaults.
const (
	DefaultFailoverWithin = 5 * time.Second
	DefaultMaxRetries     = 25
)

// Expect is a step's expected outcome.
type Expect string

// Expected outcomes.
const (
	ExpectSuccess Expect = "success"
	ExpectFailure Expect = "failure"
	ExpectAny     Expect = "any"
)

// DefaultStepTimeout bounds a publish, apply or wait step with no timeout.
const DefaultStepTimeout = 30 * time.Second

// DefaultConvergeWithin is the converge slack when none is given.
const DefaultConvergeWithin = 10 * time.Second

// StepTimeout returns the step's timeout or DefaultStepTimeout.
func (s Step) StepTimeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout.D()
	}
	return DefaultStepTimeout
}

// String describes the step for errors and reports: "at 5s, kill node:edge-1".
func (s Step) String() string {
	b := fmt.Sprintf("at %s, %s", s.At, s.Action)
	switch {
	case s.Kind != "":
		b += " " + s.Kind
	}
	if s.Target != "" {
		b += " " + s.Target
	}
	if s.Function != "" {
		b += " " + s.Function
	}
	if s.Distribution != "" {
		b += " " + s.Distribution
	}
	if s.For != "" {
		b += " for " + s.For
	}
	return b
}

// FaultKind is the fault kind a fault-injecting step injects, or "" for
// steps that inject none.
func (s Step) FaultKind() string {
	switch s.Action {
	case ActionFault:
		return s.Kind
	case ActionKill, ActionStop, ActionStart, ActionPause, ActionPartition:
		return string(s.Action)
	case ActionKillAfterAck:
		return string(ActionKill)
	}
	return ""
}

// LatestVersion reports whether an apply step associates the latest version;
// otherwise GoodVersion or VersionNumber says which.
func (s Step) LatestVersion() bool { return s.Version == "" || s.Version == "latest" }

// GoodVersion reports whether an apply step associates the newest version
// this run published that is not broken.
func (s Step) GoodVersion() bool { return s.Version == "good" }

// End returns the offset of the last step's start.
func (sc *Scenario) End() time.Duration {
	var end time.Duration
	for _, s := range sc.Steps {
		end = max(end, s.At.D()+time.Duration(max(s.Count-1, 0))*s.Every.D())
		if s.Action == ActionNemesis {
			end = max(end, s.At.D()+s.Duration.D())
		}
	}
	return end
}

// RunTimeout returns the scenario's Timeout or its default.
func (sc *Scenario) RunTimeout() time.Duration {
	if sc.Timeout > 0 {
		return sc.Timeout.D()
	}
	d := sc.End() + 2*time.Minute
	if sc.Load != nil {
		d = max(d, sc.Load.Duration.D()+2*time.Minute)
	}
	return d
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
