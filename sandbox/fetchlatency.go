package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// FetchLatency is the modelled network round trip of a handler's outbound
// fetches (edge.Fetch) for one invocation: the data-plane latency model
// (package latency) from the region the function runs in to the region of
// the fetch's target. A fetch waits Delay(host) (bounded by the invocation
// deadline) before it is sent. The zero FetchLatency adds nothing.
// ByHost is only read; callers may share one map between invocations.
type FetchLatency struct {
	// Default is the round trip to a target not in ByHost.
	Default time.Duration
	// ByHost is the round trip to a target by "host:port", or by "host"
	// for every port of it.
	ByHost map[string]time.Duration
}

// infoFetchLatency is the Info key carrying a FetchLatency to the worker.
const infoFetchLatency = "latency.fetch"

// zero reports whether l adds no delay to any fetch.
func (l FetchLatency) zero() bool {
	if l.Default > 0 {
		return false
	}
	for _, d := range l.ByHost {
		if d > 0 {
			return false
		}
	}
	return true
}

// Delay is the round trip to hostport ("host:port"): its ByHost entry,
// else the host's without the port, else Default.
func (l FetchLatency) Delay(hostport string) time.Duration {
	if d, ok := l.ByHost[hostport]; ok {
		return d
	}
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		if d, ok := l.ByHost[h]; ok {
			return d
		}
	}
	return l.Default
}

// encode is the wire form: "DEFAULT" then ";HOST=DURATION" per host, in
// host order ("" for the zero FetchLatency).
func (l FetchLatency) encode() string {
	if l.zero() {
		return ""
	}
	var b strings.Builder
	b.WriteString(l.Default.String())
	hosts := make([]string, 0, len(l.ByHost))
	for h := range l.ByHost {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		fmt.Fprintf(&b, ";%s=%s", h, l.ByHost[h])
	}
	return b.String()
}

// parseFetchLatency reads encode's form; malformed parts are ignored.
func parseFetchLatency(s string) FetchLatency {
	var l FetchLatency
	if s == "" {
		return l
	}
	parts := strings.Split(s, ";")
	if d, err := time.ParseDuration(parts[0]); err == nil && d > 0 {
		l.Default = d
	}
	for _, p := range parts[1:] {
		h, v, ok := strings.Cut(p, "=")
		d, err := time.ParseDuration(v)
		if !ok || h == "" || err != nil || d < 0 {
			continue
		}
		if l.ByHost == nil {
			l.ByHost = map[string]time.Duration{}
		}
		l.ByHost[h] = d
	}
	return l
}

// wrap returns fetch with l's delay before every request (fetch itself
// when l is zero). A fetch whose context ends during the delay fails with
// the context's error.
func (l FetchLatency) wrap(fetch FetchFunc) FetchFunc {
	if l.zero() {
		return fetch
	}
	return func(ctx context.Context, req *http.Request) (*http.Response, error) {
		if d := l.Delay(req.URL.Host); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("fetch %s: modelled latency %s: %w", req.URL.Host, d, ctx.Err())
			}
		}
		if fetch == nil {
			return nil, errNoFetch
		}
		return fetch(ctx, req)
	}
}
