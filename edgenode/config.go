package edgenode

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/accesslog"
	"github.com/edgelab/edgelab/latency"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/viewerinfo"
)

// Config configures a Node. Every zero field takes the default documented on it;
// defaults are applied in one place (withDefaults).
type Config struct {
	// ListenAddr is the viewer-facing HTTP address. Default "127.0.0.1:0".
	ListenAddr string
	// NodeID names the node in Via, X-Edgelab-Node, logs and metrics. Default "edge".
	NodeID string
	// Region is the node's region (edge.Info, logs). Default "local".
	Region string
	// PoP is the point of presence (X-Edgelab-Pop). Default Region.
	PoP string

	// CacheBytes bounds the object cache. Default 256 MiB. An object larger
	// than CacheBytes/8 is served but not cached.
	CacheBytes int64
	// ErrorTTL is how long 4xx/5xx responses are cached. Default 10s;
	// negative disables error caching.
	ErrorTTL time.Duration

	// Profile holds the per-event limits (timeouts, memory, generated
	// response and include-body sizes). Zero value = sandbox.DefaultProfile().
	Profile sandbox.Profile
	// MemoryCgroup is the default runner's sandbox.ManagerConfig.MemoryCgroup:
	// "auto", a cgroup directory, or "" / "off" (the RSS watchdog alone).
	MemoryCgroup string
	// ShareWorkerNetwork turns off the default runner's
	// sandbox.ManagerConfig.IsolateNetwork: by default each worker runs in
	// network namespaces of its own, where the platform allows them.
	ShareWorkerNetwork bool

	// ViewerLocations places viewers by address for the CloudFront-Viewer-*
	// headers and geo restriction. Nil: every viewer is placed in Region
	// (viewerinfo.RegionLocation), unless it sends viewerinfo.OverrideHeader.
	ViewerLocations *viewerinfo.DB

	// Origin tunes the origin transport.
	Origin OriginConfig
	// AccessLog receives one CloudFront standard log line per viewer
	// request (package accesslog). Nil: no access log.
	AccessLog *accesslog.Writer
	// Tier places the node in the two tiers (PoP or REC; tier.go). Zero:
	// a PoP whose misses go to the origin.
	Tier TierConfig
	// Latency is the data-plane latency model (package latency): the round
	// trip the node waits before each hop it makes, to a REC or shield (the
	// REC's region), to an origin (the origin's region, default the home
	// region) and for each edge.Fetch a function makes (the target's
	// region). Nil: no modelled delay.
	Latency *latency.Model

	// ReadHeaderTimeout bounds how long a viewer may take, from its
	// connection's first byte or the end of its idle wait, to send the
	// request line and headers (and the first 64 KiB of a chunked body):
	// a viewer that trickles them is answered 408 and disconnected
	// (slowloris). A new connection that sends nothing is closed after it
	// too. Default 10s.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a viewer keep-alive connection that sends no next
	// request for this long. Default 120s.
	IdleTimeout time.Duration
	// MaxURIBytes: a request whose URI plus query is at least this long gets
	// 414. Default 8192 (CloudFront's maximum URL length).
	MaxURIBytes int
	// MaxHeaderBytes: request headers plus query above this get 494 (what
	// CloudFront answers; nginx uses the same code). Default 20480
	// (CloudFront's maximum request length without the body). A request
	// line and headers beyond MaxHeaderBytes+MaxURIBytes+4 KiB are refused
	// by the front end with 431 before they are parsed.
	MaxHeaderBytes int
	// MaxHeaderCount: a request with more header lines than this (Host
	// included) gets 431. Default 100 (Envoy's default; CloudFront bounds
	// the headers' size only).
	MaxHeaderCount int
	// MaxBodyBytes bounds a viewer request body: a larger Content-Length
	// gets 413 before anything goes to the origin, and a chunked body that
	// grows past it is cut off and answered 413. Default 20 GiB
	// (CloudFront's maximum for a POST or PUT body).
	MaxBodyBytes int64
	// MaxRequestBodyBytes bounds a viewer request body read when a function
	// has include-body. Default 1 MiB; beyond it the body is streamed on.
	MaxRequestBodyBytes int64

	// Logger receives the node's structured logs. Default slog.Default().
	Logger *slog.Logger
	// Runner runs function versions. Nil: the node builds a sandbox.Manager
	// with Profile and closes it on Close.
	Runner sandbox.Runner
	// Registerer receives the node's Prometheus metrics, labelled node=NodeID
	// (so several nodes can share one registry). Nil: a private registry.
	Registerer prometheus.Registerer
	// LogSink receives function log lines (edge.Log) and validation error
	// details. It is called on the request path and must not block (the
	// replication client buffers and ships them). Nil: lines are dropped.
	LogSink func(lines []*edgelabv1.LogLine)
}

// OriginConfig tunes the shared origin transport. Per-origin connect and
// read timeouts come from the distribution and override the defaults here.
type OriginConfig struct {
	// MaxIdleConnsPerHost is the keep-alive pool per origin host. Default
	// 256 (net/http's default of 2 collapses throughput under load).
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes idle origin connections. Default 90s.
	IdleConnTimeout time.Duration
	// ConnectTimeout is used when an origin sets none. Default 10s.
	ConnectTimeout time.Duration
	// ReadTimeout (time to the response headers, and again for the body) is
	// used when an origin sets none. Default 30s (CloudFront's origin
	// response timeout).
	ReadTimeout time.Duration
	// MaxResponseBytes bounds one origin response body; a larger one is an
	// origin error (502). Default 64 MiB.
	MaxResponseBytes int64
}

func (c Config) withDefaults() Config {
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:0"
	}
	if c.NodeID == "" {
		c.NodeID = "edge"
	}
	if c.Region == "" {
		c.Region = "local"
	}
	if c.PoP == "" {
		c.PoP = c.Region
	}
	if c.CacheBytes <= 0 {
		c.CacheBytes = 256 << 20
	}
	if c.ErrorTTL == 0 {
		c.ErrorTTL = 10 * time.Second
	} else if c.ErrorTTL < 0 {
		c.ErrorTTL = 0
	}
	if c.Profile == (sandbox.Profile{}) {
		c.Profile = sandbox.DefaultProfile()
	}
	if c.Origin.MaxIdleConnsPerHost <= 0 {
		c.Origin.MaxIdleConnsPerHost = 256
	}
	if c.Origin.IdleConnTimeout <= 0 {
		c.Origin.IdleConnTimeout = 90 * time.Second
	}
	if c.Origin.ConnectTimeout <= 0 {
		c.Origin.ConnectTimeout = 10 * time.Second
	}
	if c.Origin.ReadTimeout <= 0 {
		c.Origin.ReadTimeout = 30 * time.Second
	}
	if c.Origin.MaxResponseBytes <= 0 {
		c.Origin.MaxResponseBytes = 64 << 20
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.MaxURIBytes <= 0 {
		c.MaxURIBytes = 8192
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 20480
	}
	if c.MaxHeaderCount <= 0 {
		c.MaxHeaderCount = 100
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 20 << 30
	}
	if c.MaxRequestBodyBytes <= 0 {
		c.MaxRequestBodyBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c
}
