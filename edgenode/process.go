package edgenode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/edgelab/edgelab/accesslog"
	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// ProcessConfig configures a whole edge-node role: the HTTP node plus its
// replication client.
type ProcessConfig struct {
	// Node configures the caching proxy. Its LogSink is replaced: function
	// log lines are shipped to the control plane over the replication stream.
	Node Config
	// ControlPlanes are the control-plane replicas (host:port). Empty means
	// no replication: the node serves only what StateDir holds.
	ControlPlanes []string
	// StateDir persists the last applied state (static stability). "" disables it.
	StateDir string
	// Build is reported to the control plane in Hello.
	Build string
	// PublicURL is where viewers and the gateway reach the node, reported to
	// the control plane (ListNodes). "" means the node's own http://listen-address.
	PublicURL string
	// AccessLogPath, when set, is the file the node appends its
	// CloudFront standard access log to (Node.AccessLog).
	AccessLogPath string
	// Replica overrides replication client settings (backoff, heartbeat,
	// dial options); its identity, endpoints, state dir and applier are
	// filled from the fields above.
	Replica replica.Config
}

// Process is one edge node role: a Node serving viewers and a replica.Client
// keeping its state in sync with the control plane. Run serves both until
// ctx is done; Close releases everything.
type Process struct {
	node *Node
	rep  *replica.Client
	// accessLog is the access log file the process opened (nil: none).
	accessLog     io.Closer
	accessLogOnce sync.Once
}

// NewProcess builds the node (binding its listener) and the replication
// client. The persisted state, if any, is applied when Run starts.
func NewProcess(cfg ProcessConfig) (*Process, error) {
	p := &Process{}
	var rep *replica.Client
	var repMu sync.Mutex
	ncfg := cfg.Node
	if cfg.AccessLogPath != "" {
		w, closer, err := accesslog.OpenFile(cfg.AccessLogPath)
		if err != nil {
			return nil, fmt.Errorf("edgenode: %w", err)
		}
		ncfg.AccessLog, p.accessLog = w, closer
	}
	ncfg.LogSink = func(lines []*edgelabv1.LogLine) {
		repMu.Lock()
		r := rep
		repMu.Unlock()
		if r != nil {
			r.SendLogs(lines)
		}
	}
	node, err := New(ncfg)
	if err != nil {
		if p.accessLog != nil {
			p.accessLog.Close()
		}
		return nil, err
	}
	p.node = node
	rcfg := cfg.Replica
	rcfg.NodeID = node.cfg.NodeID
	rcfg.Region = node.cfg.Region
	rcfg.PoP = node.cfg.PoP
	rcfg.Role = node.tiers.cfg.Role
	rcfg.HTTPURL = node.URL()
	if cfg.PublicURL != "" {
		rcfg.HTTPURL = cfg.PublicURL
	}
	rcfg.Build = cfg.Build
	rcfg.Endpoints = cfg.ControlPlanes
	rcfg.StateDir = cfg.StateDir
	rcfg.Applier = node
	if rcfg.Logger == nil {
		rcfg.Logger = node.cfg.Logger
	}
	if len(rcfg.Endpoints) > 0 || rcfg.StateDir != "" {
		if len(rcfg.Endpoints) == 0 {
			// No control plane: serve the persisted state only.
			st, err := replica.LoadState(rcfg.StateDir)
			if errors.Is(err, fs.ErrNotExist) {
				st, err = nil, nil // a new node: nothing persisted yet
			}
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("edgenode: loading state from %s: %w", rcfg.StateDir, err)
			}
			if st != nil {
				if err := node.Apply(context.Background(), st, nil); err != nil {
					p.Close()
					return nil, fmt.Errorf("edgenode: applying persisted state: %w", err)
				}
			}
		} else {
			r, err := replica.New(rcfg)
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("edgenode: replication client: %w", err)
			}
			repMu.Lock()
			rep = r
			repMu.Unlock()
			p.rep = r
		}
	}
	return p, nil
}

// Node is the HTTP side.
func (p *Process) Node() *Node { return p.node }

// Replica is the replication client, nil when the process has no control plane.
func (p *Process) Replica() *replica.Client { return p.rep }

// URL is where viewers reach the node.
func (p *Process) URL() string { return p.node.URL() }

// Run serves viewers and replicates until ctx is done or one side fails.
func (p *Process) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.node.Run(ctx) })
	if p.rep != nil {
		g.Go(func() error {
			err := p.rep.Run(ctx)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		})
	}
	return g.Wait()
}

// Close stops the node (and its sandbox workers). Cancel Run's context to
// stop replication; Close is safe to call more than once.
func (p *Process) Close() error {
	err := p.node.Close() // Node.Close is idempotent and safe for concurrent use
	if p.accessLog != nil {
		p.accessLogOnce.Do(func() { err = errors.Join(err, p.accessLog.Close()) })
	}
	return err
}
