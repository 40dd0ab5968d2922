package controlplane

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgelab/edgelab/controlplane/dashboard"
	"github.com/edgelab/edgelab/pki"
	"github.com/edgelab/edgelab/sandbox"
	"github.com/edgelab/edgelab/topology"
)

// DefaultListenAddr is the gRPC address of the all-in-one's first control plane.
const DefaultListenAddr = "127.0.0.1:7070"

// Config configures a Server. Zero values mean the documented defaults,
// applied in one place (applyDefaults).
type Config struct {
	// ListenAddr is the gRPC listen address. "" means DefaultListenAddr;
	// "127.0.0.1:0" picks a free port (see Server.Addr).
	ListenAddr string
	// MetricsAddr is the Prometheus /metrics HTTP address. "" means no
	// metrics listener (the registry is still available via Registry).
	MetricsAddr string
	// EtcdEndpoints are the etcd client URLs. Empty means an embedded etcd
	// member with its data in EtcdDataDir.
	EtcdEndpoints []string
	// EtcdDataDir is the embedded etcd's directory. "" means "edgelab-data".
	// Ignored with EtcdEndpoints.
	EtcdDataDir string
	// EtcdTLS is the client TLS configuration for EtcdEndpoints: the etcd
	// CA to trust and this replica's etcd client certificate (etcd's
	// --client-cert-auth). nil connects in plaintext; New then logs a
	// warning unless the etcd is the embedded one on loopback.
	EtcdTLS *tls.Config
	// KeyPrefix is the etcd key prefix; "" means store.DefaultPrefix.
	KeyPrefix string
	// ID names this replica (node records, logs). "" means "cp-" + the
	// gRPC listen address.
	ID string
	// Logger receives the server's logs. Nil means slog.Default().
	Logger *slog.Logger
	// Profile gives the sandbox limits for Invoke and compile checks.
	// The zero value means sandbox.DefaultProfile().
	Profile sandbox.Profile
	// MemoryCgroup is the owned sandbox.Manager's MemoryCgroup ("auto", a
	// cgroup directory, or "" / "off": the RSS watchdog alone), so that
	// Invoke runs under the limits an edge node enforces.
	MemoryCgroup string
	// Checker compiles function code in isolation at create/update.
	// Nil means a checker on the Server's sandbox runner (a worker process:
	// the binary's main must call sandbox.MaybeRunWorker first).
	Checker Checker
	// Runner runs versions for Invoke and backs the default Checker. Nil
	// means a sandbox.Manager owned (and closed) by the Server.
	Runner sandbox.Runner
	// EventParser parses CloudFront event JSON for Invoke. Nil means
	// cfevent.Parse.
	EventParser EventParser
	// Topology drives the replication delay model; nil means topology.Default().
	Topology *topology.Topology
	// DelayProfile names the topology's delay profile; "" means "default",
	// "instant" disables delays.
	DelayProfile string
	// MaxUpdateBytes bounds the encoded desired state: a distribution that
	// would take it above is refused (ResourceExhausted). Zero means
	// DefaultMaxUpdateBytes.
	MaxUpdateBytes int64
	// OriginAdmin maps an origin id to the base URL of its fault admin API
	// (origin-* chaos faults), overriding the URLs found in distributions.
	// Optional; compose uses container URLs.
	OriginAdmin map[string]string
	// RequestTimeout bounds each RPC's etcd work. Zero means 15s.
	RequestTimeout time.Duration
	// EdgeMetrics gathers the running edge nodes' Prometheus metrics
	// (labelled node=<id>) for the dashboard's Traffic and Functions views.
	// Nil means those views say that no edge metrics are configured.
	EdgeMetrics prometheus.Gatherer
	// TLS is the gRPC listener's TLS configuration (pki.APIServerTLS: the
	// replica's certificate, client certificates verified when given).
	// Required unless Insecure.
	TLS *tls.Config
	// Insecure serves plaintext gRPC and checks no caller: every call is
	// allowed and a node is whoever its Hello says. Only for watching the
	// stream in a workshop; the server logs a warning at start.
	Insecure bool
	// CA issues node certificates on enrolment (AccessService.EnrollNode).
	// Nil means this replica cannot enroll nodes.
	CA *pki.CA
	// NodeCertLifetime is the lifetime of enrolled nodes' certificates;
	// zero means DefaultNodeCertLifetime.
	NodeCertLifetime time.Duration
	// AdminToken, when set, is stored at start as the token "admin" with
	// role admin (the token `edgelab up` prints and writes to lab.json).
	AdminToken string
	// DashboardReplicas lists every replica's dashboard (this one included)
	// for the page to move to when its replica dies. Nil means this
	// replica alone.
	DashboardReplicas func() []dashboard.Replica
}

// Checker compiles function code in isolation (never inside the control
// plane process: loading a package runs its init code) and reports the
// first compile or init error. Implementations are safe for concurrent use.
type Checker interface {
	Check(ctx context.Context, code sandbox.Code) error
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, code sandbox.Code) error

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, code sandbox.Code) error { return f(ctx, code) }

func (c *Config) applyDefaults() {
	if c.ListenAddr == "" {
		c.ListenAddr = DefaultListenAddr
	}
	if c.EtcdDataDir == "" {
		c.EtcdDataDir = "edgelab-data"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Profile == (sandbox.Profile{}) {
		c.Profile = sandbox.DefaultProfile()
	}
	if c.NodeCertLifetime <= 0 {
		c.NodeCertLifetime = DefaultNodeCertLifetime
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 15 * time.Second
	}
}
