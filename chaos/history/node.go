package history

import "time"

// Applied is one revision a node applied, and when.
type Applied struct {
	Revision int64     `json:"revision"`
	Time     time.Time `json:"time"`
}

// NodeHistory is what one edge node reported over a run.
type NodeHistory struct {
	Node   string `json:"node"`
	Region string `json:"region"`
	Pop    string `json:"pop,omitempty"`
	// Role is "rec" for a regional edge cache (viewers never reach it), ""
	// or "pop" for an edge location.
	Role string `json:"role,omitempty"`
	// Live reports whether the node was alive at the end of the run.
	Live bool `json:"live"`
	// Applied lists applied revisions in the order the node applied them.
	Applied []Applied `json:"applied,omitempty"`
	// Sessions lists the node's replication sessions in order; a session
	// after the first is a reconnect or a restart.
	Sessions []Session `json:"sessions,omitempty"`
}

// AckedBefore returns the highest revision the node had acknowledged before t.
func (n NodeHistory) AckedBefore(t time.Time) int64 {
	var rev int64
	for _, a := range n.Applied {
		if a.Time.Before(t) {
			rev = max(rev, a.Revision)
		}
	}
	return rev
}

// ReachedAt returns the first time the node had applied a revision >= rev.
func (n NodeHistory) ReachedAt(rev int64) (time.Time, bool) {
	for _, a := range n.Applied {
		if a.Revision >= rev {
			return a.Time, true
		}
	}
	return time.Time{}, false
}

// AckKind is what the user was told had been stored.
type AckKind string

// Acknowledgement kinds.
const (
	AckPublish AckKind = "publish"
	AckApply   AckKind = "apply"
)

// Ack is one write acknowledged to the user: a published function version or
// an applied distribution, at an etcd revision.
type Ack struct {
	Kind     AckKind `json:"kind"`
	Revision int64   `json:"revision"`
	Function string  `json:"function,omitempty"`
	Version  int64   `json:"version,omitempty"`
	// Distribution is the id of an applied distribution.
	Distribution string    `json:"distribution,omitempty"`
	Time         time.Time `json:"time"`
}

// Window is a half-open time interval [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Contains reports whether t is in [From, To).
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && t.Before(w.To) }

// Covers reports whether [from, to] lies within w.
func (w Window) Covers(from, to time.Time) bool {
	return !from.Before(w.From) && !to.After(w.To)
}

// Outage is one interval during which a named component (an edge node, an
// origin, ...) was deliberately faulted.
type Outage struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Window
}

// FunctionVersion names one published function version.
type FunctionVersion struct {
	Function string `json:"function"`
	Version  int64  `json:"version"`
}

// NodeState is a node's state at the end of a run.
type NodeState struct {
	Node            string `json:"node"`
	Region          string `json:"region"`
	Live            bool   `json:"live"`
	AppliedRevision int64  `json:"appliedRevision"`
	// Versions the node holds; nil means the node did not report them and
	// only AppliedRevision is checked.
	Versions []FunctionVersion `json:"versions,omitempty"`
	// Distributions maps id to the revision of the copy the node holds; nil
	// means not reported.
	Distributions map[string]int64 `json:"distributions,omitempty"`
}

// FinalState is the state found at the end of a run: the etcd listing and
// every node's state.
type FinalState struct {
	// Revision is the latest desired-state revision in etcd.
	Revision int64 `json:"revision"`
	// Versions lists every published version present in etcd.
	Versions []FunctionVersion `json:"versions"`
	// Referenced lists the versions some distribution references: nodes
	// replicate those, so only those must be held by every live node.
	Referenced []FunctionVersion `json:"referenced,omitempty"`
	// Distributions maps id to the etcd revision of its last change.
	Distributions map[string]int64 `json:"distributions"`
	Nodes         []NodeState      `json:"nodes"`
}
