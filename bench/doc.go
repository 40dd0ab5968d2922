// Package bench is edgelab's load benchmark harness (issue 3, `make bench`):
// it starts the sample origin, nginx and edge nodes as child processes on
// loopback, drives each scenario with wrk (or the built-in Go load
// generator when wrk is missing) for a bounded time, runs the sandbox's go
// test benchmarks, and prints one table of requests/s, p50/p99 latency,
// ratios and PASS/MISS against the targets.
//
// Everything it starts is owned by a Suite run and stopped when the run
// returns (or its context ends); there is no global state.
package bench
