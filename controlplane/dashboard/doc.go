// Package dashboard is the live web dashboard every control-plane replica
// serves on its metrics listener: one page (assets embedded with go:embed,
// nothing fetched from elsewhere) with five views, each at its own URL,
// updated over Server-Sent Events, and the same data as JSON.
//
//	Source (the control plane)          Hub (one goroutine, Run)            HTTP (Handler)
//	  Nodes, Status, Functions,   poll    network, rollout history,   State   GET /network ... /chaos  page
//	  Distributions, Faults,     ------>  traffic series, function   ------>  GET /api/<view>          JSON
//	  Logs, EdgeMetrics,                  stats, fault timeline,             GET /api/events           SSE
//	  Replicas                            log tail                           POST /api/chaos/{inject,heal}
//	  Inject, Heal  <------------------------------------------------------  (cross-origin protected)
//
// The Hub owns every piece of history (rollout timelines, traffic samples,
// fault events, log lines): Source only answers "what is now". Traffic is
// computed from the edge nodes' own Prometheus metrics (Source.EdgeMetrics),
// as rates between samples; counter resets (a restarted node) count from zero.
// Request p50/p99 come from the nodes' request-duration histograms, bucket
// deltas over the window (as histogram_quantile over a rate). The Functions
// view is per function version: the nodes label invocations, cold starts,
// timeouts, memory-limit kills and durations by version, and export one
// memory-limit series per version they hold (which says where it is held)
// and the RSS of each version's live worker.
//
// Every node carries its tier (PoP, or REC: a regional edge cache); the
// Network view counts nodes per tier and state, and each rollout keeps the
// control plane's status rows per region and tier.
//
// When the replica serving the page goes away, the page says so, probes the
// other replicas of Source.Replicas and moves to the first that answers.
package dashboard
