// Package history holds the records a chaos run collects and the invariant
// checkers judge: what each viewer request saw (Request), which revisions each
// edge node applied and when (NodeHistory), what the control plane
// acknowledged to the user (Ack), when a healthy path to an edge existed
// (Window) and the state found at the end of a run (FinalState).
//
// Records are plain values with JSON tags so a run can be saved and checked
// again later. Nothing in this package talks to the network.
//
//	load generator ──▶ []Request ─┐
//	lab (nodes)    ──▶ []NodeHistory ─┼──▶ invariant checkers ──▶ results
//	runner (steps) ──▶ []Ack, []Window ┘
//	lab (end)      ──▶ FinalState ────┘
package history
