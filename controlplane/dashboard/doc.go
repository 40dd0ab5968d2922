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
//
// When the replica serving the page goes away, the page says so, probes the
// other replicas of Source.Replicas and moves to the first that answers.
package dashboard
