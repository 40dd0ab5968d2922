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
