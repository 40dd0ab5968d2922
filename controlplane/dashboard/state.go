package dashboard

import (
	"math"
	"strconv"
	"time"
)

// State is everything the page shows, as one JSON document: GET /api/state
// and every Server-Sent Event carry it; GET /api/<view> carries one part.
type State struct {
	// Replica is the id of the replica that built the state.
	Replica string `json:"replica"`
	// Time is when the Hub built it.
	Time time.Time `json:"time"`
	// Revision is the current desired-state revision.
	Revision int64 `json:"revision"`
	// Errors are the Source calls that failed in this round.
	Errors    []string      `json:"errors"`
	Network   Network       `json:"network"`
	Rollouts  []Rollout     `json:"rollouts"`
	Traffic   Traffic       `json:"traffic"`
	Functions FunctionsView `json:"functions"`
	Chaos     ChaosView     `json:"chaos"`
	Logs      []LogLine     `json:"logs"`
	Replicas  []Replica     `json:"replicas"`
}

// Num is a float64 that encodes NaN and infinities (no data) as JSON null.
type Num float64

// MarshalJSON writes the number, or null when there is no value.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 6, 64), nil
}

// None is the Num for "no value".
var none = Num(math.NaN())

// Network is the Network view: regions with their nodes.
type Network struct {
	// Desired is the revision every node should reach.
	Desired int64    `json:"desired"`
	Regions []Region `json:"regions"`
	// Tiers count the nodes of each tier by state, PoPs first.
	Tiers []TierCount `json:"tiers"`
}

// Node tiers (the role a node announces): an edge location viewers reach,
// or a regional edge cache the PoPs miss to.
const (
	TierPoP = "pop"
	TierREC = "rec"
)

// TierCount is one tier's nodes by state.
type TierCount struct {
	Tier  string `json:"tier"`
	Nodes int    `json:"nodes"`
	// ByState counts the nodes per state (up, behind, unhealthy, down).
	ByState map[string]int `json:"byState"`
}

// Region is one region and its edge nodes, PoPs first, each tier by id.
type Region struct {
	Name  string `json:"name"`
	Nodes []Node `json:"nodes"`
}

// Node states as the Network view shows them.
const (
	NodeUp        = "up"        // connected, healthy, at the desired revision
	NodeBehind    = "behind"    // connected but below the desired revision
	NodeUnhealthy = "unhealthy" // connected, health is not "ok"
	NodeDown      = "down"      // detached, or gone from the node list
)

// Node is one edge node in the Network view.
type Node struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	PoP    string `json:"pop"`
	// Tier is TierPoP or TierREC.
	Tier            string    `json:"tier"`
	State           string    `json:"state"`
	Health          string    `json:"health"`
	AppliedRevision int64     `json:"appliedRevision"`
	Behind          int64     `json:"behind"`
	AttachedTo      string    `json:"attachedTo"`
	Connected       bool      `json:"connected"`
	LastSeen        time.Time `json:"lastSeen"`
	LastError       string    `json:"lastError,omitempty"`
	URL             string    `json:"url,omitempty"`
}

// Rollout is one change of one distribution as it propagated.
type Rollout struct {
	Distribution string    `json:"distribution"`
	Revision     int64     `json:"revision"`
	Changed      time.Time `json:"changed"`
	State        string    `json:"state"`
	// DeployedMs is when the last node acked, in ms after Changed
	// (null while not Deployed).
	DeployedMs Num `json:"deployedMs"`
	// Versions are the function versions the change associates.
	Versions []string      `json:"versions"`
	Nodes    []RolloutNode `json:"nodes"`
	// Tiers are the status rows per region and tier, as the control
	// plane summarises them.
	Tiers []RolloutTier `json:"tiers"`
}

// RolloutTier is one region's nodes of one tier on a rollout.
type RolloutTier struct {
	Region string `json:"region"`
	Tier   string `json:"tier"`
	Nodes  int32  `json:"nodes"`
	Acked  int32  `json:"acked"`
	// FirstAckMs and LastAckMs are after the change (null: none yet).
	FirstAckMs Num    `json:"firstAckMs"`
	LastAckMs  Num    `json:"lastAckMs"`
	State      string `json:"state"`
}

// RolloutNode is one node's marks on a rollout, in ms after Changed (null
// when not reached yet).
type RolloutNode struct {
	ID            string `json:"id"`
	Region        string `json:"region"`
	PoP           string `json:"pop"`
	Tier          string `json:"tier"`
	AckedRevision int64  `json:"ackedRevision"`
	SentMs        Num    `json:"sentMs"`
	AppliedMs     Num    `json:"appliedMs"`
	AckedMs       Num    `json:"ackedMs"`
	State         string `json:"state"`
	Error         string `json:"error,omitempty"`
}

// Traffic is the Traffic view: series per region and per node.
type Traffic struct {
	// Source is "nodes" when the data comes from the nodes' metrics,
	// "none" when no edge metrics are configured, "error: ..." otherwise.
	Source string `json:"source"`
	// WindowSeconds is the span each point's rates are measured over.
	WindowSeconds float64  `json:"windowSeconds"`
	Regions       []Series `json:"regions"`
	Nodes         []Series `json:"nodes"`
}

// Series is one region's or node's traffic over the last minutes.
type Series struct {
	Name   string  `json:"name"`
	Region string  `json:"region"`
	Points []Point `json:"points"`
	// Totals since the node (or, for a region, its nodes) started.
	Requests         float64 `json:"requests"`
	ExecutionErrors  float64 `json:"executionErrors"`
	ValidationErrors float64 `json:"validationErrors"`
}

// Point is one sample of a Series. Rates are per second.
type Point struct {
	// T is the sample time, Unix milliseconds.
	T                int64 `json:"t"`
	RPS              Num   `json:"rps"`
	HitRatio         Num   `json:"hitRatio"`
	Rate4xx          Num   `json:"rate4xx"`
	Rate5xx          Num   `json:"rate5xx"`
	ExecutionErrors  Num   `json:"executionErrors"`
	ValidationErrors Num   `json:"validationErrors"`
	// P50Ms and P99Ms are viewer request latency quantiles at the nodes.
	P50Ms Num `json:"p50Ms"`
	P99Ms Num `json:"p99Ms"`
	// OriginP50Ms and OriginP99Ms are origin fetch latency quantiles.
	OriginP50Ms Num `json:"originP50Ms"`
	OriginP99Ms Num `json:"originP99Ms"`
}

// FunctionsView is the Functions view.
type FunctionsView struct {
	// Functions are per function, summed over its versions.
	Functions []Function `json:"functions"`
	// Versions are per function version, newest first within a function.
	Versions []FunctionVersion `json:"versions"`
	// Events are invocation latencies per event type.
	Events []EventLatency `json:"events"`
}

// Function is one function with what the running nodes report about it,
// summed over its versions.
type Function struct {
	Name          string `json:"name"`
	LatestVersion int64  `json:"latestVersion"`
	MemoryMB      int32  `json:"memoryMB"`
	// Associated are the version references distributions use ("auth:3 in demo").
	Associated []string `json:"associated"`
	// Counts since the nodes loaded the versions, by outcome.
	Invocations      float64 `json:"invocations"`
	ExecutionErrors  float64 `json:"executionErrors"`
	ValidationErrors float64 `json:"validationErrors"`
	LimitExceeded    float64 `json:"limitExceeded"`
	ColdStarts       float64 `json:"coldStarts"`
	// Rate is invocations per second over the last window.
	Rate Num `json:"rate"`
	// Nodes are the nodes that ran or hold a version of it.
	Nodes []string `json:"nodes"`
}

// FunctionVersion is one function version with what the running nodes
// report about it. Counts and latencies are since the nodes loaded it.
type FunctionVersion struct {
	Function string `json:"function"`
	// Version is 0 when the nodes do not label their series by version.
	Version int64 `json:"version"`
	Latest  bool  `json:"latest"`
	// Associated are the distributions that use this version.
	Associated       []string `json:"associated"`
	Invocations      float64  `json:"invocations"`
	ExecutionErrors  float64  `json:"executionErrors"`
	ValidationErrors float64  `json:"validationErrors"`
	LimitExceeded    float64  `json:"limitExceeded"`
	// Timeouts and MemoryExceeded are the execution errors that ran past
	// the timeout or over the memory limit.
	Timeouts       float64 `json:"timeouts"`
	MemoryExceeded float64 `json:"memoryExceeded"`
	ColdStarts     float64 `json:"coldStarts"`
	// Rate is invocations per second over the last window.
	Rate  Num `json:"rate"`
	P50Ms Num `json:"p50Ms"`
	P99Ms Num `json:"p99Ms"`
	// MemoryMB is the version's memory limit as the nodes holding it
	// report it (null when no node holds it).
	MemoryMB Num `json:"memoryMB"`
	// MemoryUsedMB is the largest worker RSS of the version over the
	// nodes (null when no node reports a live worker).
	MemoryUsedMB Num `json:"memoryUsedMB"`
	// Nodes are the nodes holding (having loaded) the version; RanOn
	// those that invoked it.
	Nodes []string `json:"nodes"`
	RanOn []string `json:"ranOn"`
}

// EventLatency is invocation duration per event type.
type EventLatency struct {
	Event       string  `json:"event"`
	Invocations float64 `json:"invocations"`
	P50Ms       Num     `json:"p50Ms"`
	P99Ms       Num     `json:"p99Ms"`
}

// ChaosView is the Chaos view.
type ChaosView struct {
	Active []Fault `json:"active"`
	// Timeline holds faults seen injected and healed, oldest first.
	Timeline []FaultEvent `json:"timeline"`
	// Kinds are the fault kinds the inject form offers.
	Kinds []string `json:"kinds"`
	// Targets are the targets the inject form offers.
	Targets []string `json:"targets"`
}

// Fault is one active fault.
type Fault struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Target    string    `json:"target"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires,omitzero"`
	Remaining Num       `json:"remainingSeconds"`
	Detail    string    `json:"detail,omitempty"`
}

// FaultEvent is one fault injected or healed.
type FaultEvent struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // "injected" or "healed"
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	Target string    `json:"target"`
}

// LogLine is one function log line of the tail.
type LogLine struct {
	Time      time.Time `json:"time"`
	Function  string    `json:"function"`
	Version   int64     `json:"version"`
	Region    string    `json:"region"`
	Node      string    `json:"node"`
	RequestID string    `json:"requestId"`
	Kind      string    `json:"kind"`
	Message   string    `json:"message"`
}
