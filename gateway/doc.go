// Package gateway is the viewer gateway: the stand-in for anycast / geo-DNS that
// sends each viewer to the nearest healthy edge node.
//
// Data path:
//
//	viewer ──HTTP──▶ Gateway.ServeHTTP
//	                   │ region := X-Viewer-Region | ?viewer-region= | Config.DefaultRegion
//	                   │ candidates := healthy edges sorted by Latency(region, edge.Region)
//	                   ▼
//	                 httputil.ReverseProxy ──▶ retryTransport
//	                                             │ attempt edge #1 ──✗ connect/reset error
//	                                             │   (passive ejection of edge #1;
//	                                             │    retried only for GET/HEAD/OPTIONS)
//	                                             └ attempt edge #2 ──▶ response
//	viewer ◀── edge's response + X-Edgelab-Gateway-Edge: <edge id>
//
// Before each attempt the gateway may sleep the modelled viewer -> edge
// round trip: on every request with Config.AddLatency, else only for a
// request carrying X-Edgelab-Simulate-Latency: 1. The round trip is
// Config.Latency's (package latency, the same model the edge nodes use
// for their hops) when set, else 2 x the topology's one-way latency. The
// sleep ends with the viewer's request.
//
// A health checker owned by the Gateway polls every edge's health path
// (default /_edgelab/health, 200 = healthy) every Config.HealthInterval; an edge
// whose check fails, or whose connection fails while proxying, leaves the
// rotation at once and returns after its next successful check.
//
// Admin endpoints (never forwarded):
//
//	GET /_gateway/edges    JSON list of edges and their health
//	GET /_gateway/health   200 when the gateway is serving
//	GET /_gateway/metrics  Prometheus metrics, when Config.Registerer is also a Gatherer
//
// Usage:
//
//	gw, err := gateway.New(gateway.Config{ListenAddr: ":8080", Topology: topo, Edges: edges})
//	if err != nil { ... }
//	if err := gw.Start(); err != nil { ... }
//	defer gw.Shutdown(context.Background())
//
// A Gateway holds no global state; any number can run in one process.
package gateway
