// Package chaos runs chaos scenarios against an edgelab lab and checks the
// invariants: no viewer request lost while a healthy path exists, every live
// node converges, no node serves an older version after a newer one, nothing
// acknowledged is lost.
//
//	scenario.ParseFile ──▶ Runner.Run(ctx, sc)
//	                         │ setup steps, in order          ──▶ Lab (publish, apply, wait)
//	                         │ timed steps  ─┐ concurrently   ──▶ Faults (inject, heal)
//	                         │ load.Generator┘                ──▶ gateway ──▶ edges
//	                         │ heal --all, wait for convergence
//	                         │ Lab.Nodes, Lab.FinalState
//	                         ▼
//	                   invariant checkers ──▶ Report (WriteTable, WriteJSON)
//
// The Runner knows the lab only through two consumer-side interfaces, Lab
// and Faults, so one scenario runs against the all-in-one lab (faults through
// the control plane's ChaosService, process-level) or the compose lab
// (container-level: docker stop/kill/pause, network disconnect, netem).
//
// Subpackages: scenario (file format), history (records), invariant
// (checkers), load (load generator). The format and the fault catalogue are
// in docs/chaos.md.
package chaos
