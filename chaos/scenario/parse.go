package scenario

import (
	"maps"
	"slices"

	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Limits on what a scenario file may ask for.
const (
	MaxFileSize  = 1 << 20
	MaxSteps     = 1000
	MaxRate      = 10000
	MaxLoad      = time.Hour
	MaxPublishes = 1000
	MaxSource    = 256 << 10
	// MaxOffset bounds step offsets and durations.
	MaxOffset = 24 * time.Hour
)

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

var events = map[string]bool{"viewer-request": true, "origin-request": true, "origin-response": true, "viewer-response": true}

var loadMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true}

var directions = map[string]bool{"": true, "both": true, "to-node": true, "to-controlplane": true}

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("scenario %s: %d bytes exceeds %d", path, fi.Size(), MaxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	sc, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return sc, nil
}

// Parse decodes a scenario strictly (unknown and duplicate fields are
// errors), applies defaults and validates it. A validation error lists every
// problem found, each prefixed by the field it concerns.
func Parse(data []byte) (*Scenario, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%d bytes exceeds %d", len(data), MaxFileSize)
	}
	var sc Scenario
	if err := yaml.UnmarshalStrict(data, &sc); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Validate applies defaults and checks the scenario, returning every problem.
func (sc *Scenario) Validate() error {
	v := &validator{}
	if !nameRE.MatchString(sc.Name) {
		v.add("name", "%q: want lower-case letters, digits and dashes (1-63)", truncate(sc.Name))
	}
	switch sc.Target {
	case "":
		sc.Target = TargetAny
	case TargetAny, TargetAllInOne, TargetCompose:
	default:
		v.add("target", "%q: want allinone, compose or any", truncate(string(sc.Target)))
	}
	if sc.Profile != "" && !nameRE.MatchString(sc.Profile) {
		v.add("profile", "%q: not a profile name", truncate(sc.Profile))
	}
	if sc.Timeout < 0 || sc.Timeout.D() > MaxOffset {
		v.add("timeout", "want 0 <= timeout <= %s", MaxOffset)
	}
	if sc.Load != nil {
		sc.Load.validate(v)
	}
	if len(sc.Steps)+len(sc.Setup) > MaxSteps {
		v.add("steps", "%d steps exceeds %d", len(sc.Steps)+len(sc.Setup), MaxSteps)
		return v.err()
	}
	names := map[string]bool{}
	for i := range sc.Setup {
		s := &sc.Setup[i]
		field := fmt.Sprintf("setup[%d] (%s)", i, s)
		if s.At != 0 {
			v.add(field, "setup steps run in order before the load: at must be 0")
		}
		s.validate(v, field, names)
	}
	var prev time.Duration
	for i := range sc.Steps {
		s := &sc.Steps[i]
		field := fmt.Sprintf("steps[%d] (%s)", i, s)
		if s.At < 0 {
			v.add(field, "at must not be negative")
		}
		if s.At.D() < prev {
			v.add(field, "steps must be in time order: at %s is before the previous step's %s", s.At, Duration(prev))
		}
		prev = max(prev, s.At.D())
		s.validate(v, field, names)
	}
	if len(sc.Invariants) == 0 {
		v.add("invariants", "at least one invariant is required")
	}
	seen := map[string]bool{}
	for i := range sc.Invariants {
		inv := &sc.Invariants[i]
		field := fmt.Sprintf("invariants[%d] (%s)", i, truncate(inv.Name))
		key := inv.Name + "/" + inv.Function
		if seen[key] {
			v.add(field, "listed twice")
		}
		seen[key] = true
		inv.validate(v, field, sc.Load != nil)
	}
	return v.err()
}

func (l *Load) validate(v *validator) {
	if !(l.Rate > 0 && l.Rate <= MaxRate) || math.IsNaN(l.Rate) {
		v.add("load.rate", "%v: want 0 < rate <= %d requests per second", l.Rate, MaxRate)
	}
	if l.Duration <= 0 || l.Duration.D() > MaxLoad {
		v.add("load.duration", "%s: want 0 < duration <= %s (load must be bounded in time)", l.Duration, MaxLoad)
	}
	if l.Requests < 0 {
		v.add("load.requests", "must not be negative")
	}
	if l.Requests == 0 && l.Rate > 0 && l.Duration > 0 && l.Rate <= MaxRate && l.Duration.D() <= MaxLoad {
		l.Requests = int(math.Ceil(l.Rate * l.Duration.D().Seconds()))
	}
	for i, p := range l.Paths {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \r\n#?") {
			v.add(fmt.Sprintf("load.paths[%d]", i), "%q: want an absolute path without query", truncate(p))
		}
	}
	for i, r := range l.ViewerRegions {
		if !idRE.MatchString(r) {
			v.add(fmt.Sprintf("load.viewerRegions[%d]", i), "%q: not a region name", truncate(r))
		}
	}
	for i, m := range l.Methods {
		if !loadMethods[m] {
			v.add(fmt.Sprintf("load.methods[%d]", i), "%q: want GET, HEAD, POST, PUT or DELETE", truncate(m))
		}
	}
	if strings.ContainsAny(l.Host, " /\r\n") {
		v.add("load.host", "%q: not a host name", truncate(l.Host))
	}
}

func (s *Step) validate(v *validator, field string, names map[string]bool) {
	if s.Name != "" {
		if !nameRE.MatchString(s.Name) {
			v.add(field, "name %q: want lower-case letters, digits and dashes", truncate(s.Name))
		}
		if names[s.Name] {
			v.add(field, "name %q used twice", s.Name)
		}
		names[s.Name] = true
	}
	switch s.Expect {
	case "":
		s.Expect = ExpectSuccess
	case ExpectSuccess, ExpectFailure, ExpectAny:
	default:
		v.add(field, "expect %q: want success, failure or any", truncate(string(s.Expect)))
	}
	if s.Timeout < 0 || s.Duration < 0 || s.Latency < 0 || s.Every < 0 {
		v.add(field, "durations must not be negative")
	}
	if s.At.D() > MaxOffset || s.Timeout.D() > MaxOffset || s.Duration.D() > MaxOffset || s.Latency.D() > MaxOffset || s.Every.D() > time.Hour {
		v.add(field, "durations too long: at, timeout, duration and latency at most %s, every at most 1h", MaxOffset)
	}
	switch s.Action {
	case ActionFault, ActionKill, ActionStop, ActionStart, ActionPause, ActionPartition, ActionKillAfterAck:
		if s.Action == ActionFault {
			if !faultKinds[s.Kind] {
				v.add(field, "kind %q: want one of %s", truncate(s.Kind), strings.Join(sortedKeys(faultKinds), ", "))
			}
		} else if s.Kind != "" {
			v.add(field, "kind is only for action fault (%s is itself the kind)", s.Action)
		}
		s.validateFault(v, field)
	case ActionRestart, ActionUnpause:
		s.validateTarget(v, field)
	case ActionHeal:
		for _, n := range s.Faults {
			if !names[n] {
				v.add(field, "faults: %q names no earlier fault step", truncate(n))
			}
		}
	case ActionPublish:
		if !idRE.MatchString(s.Function) {
			v.add(field, "function %q: required, a function name", truncate(s.Function))
		}
		if (strings.TrimSpace(s.Source) == "" && !s.Broken) || len(s.Source) > MaxSource {
			v.add(field, "source: required (optional for broken), Go source of at most %d bytes", MaxSource)
		}
		if s.Count == 0 {
			s.Count = 1
		}
		if s.Count < 0 || s.Count > MaxPublishes {
			v.add(field, "count %d: want 1..%d", s.Count, MaxPublishes)
		}
	case ActionApply:
		if !idRE.MatchString(s.Distribution) {
			v.add(field, "distribution %q: required, a distribution id", truncate(s.Distribution))
		}
		if !idRE.MatchString(s.Function) {
			v.add(field, "function %q: required, a function name", truncate(s.Function))
		}
		if s.Behavior == "" {
			s.Behavior = "default"
		}
		if len(s.Behavior) > 256 || strings.ContainsAny(s.Behavior, " \r\n") {
			v.add(field, "behavior %q: want a behavior path pattern or default", truncate(s.Behavior))
		}
		if !events[s.Event] {
			v.add(field, "event %q: want viewer-request, origin-request, origin-response or viewer-response", truncate(s.Event))
		}
		if !s.LatestVersion() && !s.GoodVersion() {
			if _, ok := s.VersionNumber(); !ok {
				v.add(field, "version %q: want latest, good or a positive number", truncate(s.Version))
			}
		}
	case ActionInvalidate:
		if !idRE.MatchString(s.Distribution) {
			v.add(field, "distribution %q: required, a distribution id", truncate(s.Distribution))
		}
		if len(s.Paths) == 0 || len(s.Paths) > 100 {
			v.add(field, "paths: want 1..100 path patterns")
		}
		for i, p := range s.Paths {
			if !strings.HasPrefix(p, "/") || len(p) > 1024 || strings.ContainsAny(p, " \r\n") {
				v.add(field, "paths[%d] %q: want a path pattern starting with /", i, truncate(p))
			}
		}
	case ActionNemesis:
		if s.Duration <= 0 || s.Duration.D() > MaxLoad {
			v.add(field, "duration %s: want 0 < duration <= %s", s.Duration, MaxLoad)
		}
	case ActionWait:
		switch s.For {
		case "":
		case WaitDeployed:
			if !idRE.MatchString(s.Distribution) {
				v.add(field, "distribution %q: required to wait for deployed", truncate(s.Distribution))
			}
		case WaitConverged:
		default:
			v.add(field, "for %q: want deployed, converged or nothing", truncate(s.For))
		}
	default:
		v.add(field, "action %q: want fault, heal, publish, apply, invalidate, wait, kill, kill-after-ack, stop, start, restart, pause, unpause, partition or nemesis", truncate(string(s.Action)))
	}
}

// VersionNumber returns the version of an apply step that names a number.
func (s Step) VersionNumber() (int64, bool) {
	n, err := strconv.ParseInt(s.Version, 10, 64)
	return n, err == nil && n > 0
}

func (s *Step) validateTarget(v *validator, field string) {
	kind, id, ok := strings.Cut(s.Target, ":")
	if !ok || !targetKinds[kind] || !idRE.MatchString(strings.TrimPrefix(id, "@")) {
		v.add(field, "target %q: want node:<id>, region:<name>, controlplane:<id>, origin:<id>, function:<name> or etcd:<member> (<id> may be @selector)", truncate(s.Target))
	}
}

func (s *Step) validateFault(v *validator, field string) {
	s.validateTarget(v, field)
	kind := s.FaultKind()
	if !directions[s.Direction] {
		v.add(field, "direction %q: want both, to-node or to-controlplane", truncate(s.Direction))
	}
	if s.Direction != "" && kind != "partition" {
		v.add(field, "direction is only for partition")
	}
	if math.IsNaN(s.Rate) || s.Rate < 0 || s.Rate > 1 {
		v.add(field, "rate %v: want a fraction 0..1", s.Rate)
	}
	if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
		v.add(field, "status %d: want an HTTP status", s.Status)
	}
	switch kind {
	case "replication-delay", "origin-latency", "fetch-latency", "tier-latency":
		if s.Latency <= 0 {
			v.add(field, "%s needs latency > 0", kind)
		}
	case "replication-drop", "origin-errors", "fetch-errors":
		if s.Rate <= 0 {
			v.add(field, "%s needs rate > 0", kind)
		}
	}
}

func (inv *Invariant) validate(v *validator, field string, hasLoad bool) {
	switch inv.Name {
	case "no-lost-requests", "monotonic-versions", "mixed-versions", "single-version",
		"fresh-after-invalidation", "failover-bound", "at-most-once", "nacked-never-served", "rec-failover", "rec-slowed":
		if !hasLoad {
			v.add(field, "needs load: it is checked on the requests the load sends")
		}
	}
	switch inv.Name {
	case "no-lost-requests", "monotonic-versions", "durable-acks",
		"fresh-after-invalidation", "ack-implies-durable", "at-most-once", "nacked-never-served":
	case "failover-bound":
		if inv.Within < 0 || inv.MaxRetries < 0 {
			v.add(field, "within and maxRetries must not be negative")
		}
		if inv.Within == 0 {
			inv.Within = Duration(DefaultFailoverWithin)
		}
		if inv.MaxRetries == 0 {
			inv.MaxRetries = DefaultMaxRetries
		}
	case "rec-failover", "rec-slowed":
		if !idRE.MatchString(inv.REC) {
			v.add(field, "rec %q: required (the REC's name, as X-Edgelab-Rec spells it)", truncate(inv.REC))
		}
		if inv.Within < 0 {
			v.add(field, "within must not be negative")
		}
		if inv.Within == 0 && inv.Name == "rec-failover" {
			inv.Within = Duration(DefaultRECFailoverWithin)
		}
		if inv.Within == 0 && inv.Name == "rec-slowed" {
			inv.Within = Duration(DefaultRECSlowedWithin)
		}
	case "converge":
		if inv.Within < 0 {
			v.add(field, "within must not be negative")
		}
		if inv.Within == 0 {
			inv.Within = Duration(DefaultConvergeWithin)
		}
	case "mixed-versions":
		if !idRE.MatchString(inv.Function) {
			v.add(field, "function %q: required", truncate(inv.Function))
		}
		if inv.From < 0 || inv.To <= inv.From {
			v.add(field, "want 0 <= from < to (got %s..%s)", inv.From, inv.To)
		}
	case "single-version":
		if !idRE.MatchString(inv.Function) {
			v.add(field, "function %q: required", truncate(inv.Function))
		}
		if inv.After < 0 {
			v.add(field, "after must not be negative")
		}
	default:
		v.add(field, "unknown invariant: want no-lost-requests, converge, monotonic-versions, durable-acks, mixed-versions, single-version, fresh-after-invalidation, ack-implies-durable, failover-bound, at-most-once, nacked-never-served, rec-failover or rec-slowed")
	}
}

type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.errs}
}

// ValidationError lists every problem found in a scenario.
type ValidationError struct{ Problems []error }

// Error joins the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return "invalid scenario:\n  " + strings.Join(lines, "\n  ")
}

// Unwrap returns the problems.
func (e *ValidationError) Unwrap() []error { return e.Problems }

var _ error = (*ValidationError)(nil)

func sortedKeys(m map[string]bool) []string {
	return slices.Sorted(maps.Keys(m))
}
