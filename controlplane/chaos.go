package controlplane

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/edgelab/edgelab/controlplane/replication/fault"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/store"
)

// Fault kinds (edgelabv1.Fault.Kind). docs/chaos.md has the catalogue.
const (
	KindStop                 = "stop"
	KindStart                = "start"
	KindKill                 = "kill"
	KindPause                = "pause"
	KindUnpause              = "unpause"
	KindPartition            = fault.KindPartition
	KindReplicationDelay     = fault.KindDelay
	KindReplicationDrop      = fault.KindDrop
	KindReplicationDuplicate = fault.KindDuplicate
	KindOriginLatency        = "origin-latency"
	KindOriginErrors         = "origin-errors"
	KindOriginOutage         = "origin-outage"
	KindHealthFail           = "health-fail"
	KindFetchLatency         = "fetch-latency"
	KindFetchErrors          = "fetch-errors"
	// KindTierLatency delays every tier request a node serves (a REC or
	// shield answering a PoP's or a REC's miss): a slow regional edge cache.
	KindTierLatency = "tier-latency"
	// KindTierPartition makes a node refuse every tier request (it answers
	// without the tier header, so the asker treats it as down): a REC or
	// shield cut off from the tier below it while the control plane still
	// reaches it.
	KindTierPartition = "tier-partition"
)

// Target kinds: a target is "<kind>:<name>".
const (
	TargetNode         = "node"
	TargetRegion       = "region"
	TargetControlPlane = "controlplane"
	TargetOrigin       = "origin"
	TargetFunction     = "function"
	TargetEtcd         = "etcd"
)

// Partition directions.
const (
	DirectionBoth           = fault.DirectionBoth
	DirectionToNode         = fault.DirectionToNode
	DirectionToControlPlane = fault.DirectionToControlPlane
)

// Bounds of fault parameters.
const (
	MaxFaultDuration = 24 * time.Hour
	MaxFaultLatency  = 10 * time.Minute
)

type kindSpec struct {
	targets []string
	latency bool // latency required
	rate    bool // rate allowed
	status  bool // status allowed
}

var processTargets = []string{TargetNode, TargetControlPlane, TargetEtcd, TargetOrigin}

var kinds = map[string]kindSpec{
	KindStop:                 {targets: processTargets},
	KindStart:                {targets: processTargets},
	KindKill:                 {targets: processTargets},
	KindPause:                {targets: processTargets},
	KindUnpause:              {targets: processTargets},
	KindPartition:            {targets: []string{TargetNode, TargetRegion}},
	KindReplicationDelay:     {targets: []string{TargetNode, TargetRegion}, latency: true},
	KindReplicationDrop:      {targets: []string{TargetNode, TargetRegion}, rate: true},
	KindReplicationDuplicate: {targets: []string{TargetNode, TargetRegion}, rate: true},
	KindOriginLatency:        {targets: []string{TargetOrigin}, latency: true},
	KindOriginErrors:         {targets: []string{TargetOrigin}, rate: true, status: true},
	KindOriginOutage:         {targets: []string{TargetOrigin}},
	KindHealthFail:           {targets: []string{TargetNode, TargetRegion}},
	KindFetchLatency:         {targets: []string{TargetFunction}, latency: true},
	KindFetchErrors:          {targets: []string{TargetFunction}, rate: true, status: true},
	KindTierLatency:          {targets: []string{TargetNode, TargetRegion}, latency: true},
	KindTierPartition:        {targets: []string{TargetNode, TargetRegion}},
}

// FaultKinds lists the valid fault kinds, in catalogue order.
func FaultKinds() []string {
	return []string{KindStop, KindStart, KindKill, KindPause, KindUnpause, KindPartition,
		KindReplicationDelay, KindReplicationDrop, KindReplicationDuplicate,
		KindOriginLatency, KindOriginErrors, KindOriginOutage, KindHealthFail, KindFetchLatency, KindFetchErrors,
		KindTierLatency, KindTierPartition}
}

var (
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9@][A-Za-z0-9._@-]{0,127}$`)
	faultIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
)

// SplitTarget splits "kind:name" and checks both parts.
func SplitTarget(target string) (kind, name string, err error) {
	kind, name, ok := strings.Cut(target, ":")
	if !ok {
		return "", "", fmt.Errorf("target %q: want <kind>:<name> (node:<id>, region:<name>, controlplane:<id>, origin:<id>, function:<name>, etcd:<member>)", target)
	}
	switch kind {
	case TargetNode, TargetRegion, TargetControlPlane, TargetOrigin, TargetFunction, TargetEtcd:
	default:
		return "", "", fmt.Errorf("target %q: unknown kind %q (node, region, controlplane, origin, function, etcd)", target, kind)
	}
	if !targetNameRE.MatchString(name) {
		return "", "", fmt.Errorf("target %q: name must be 1-128 characters of letters, digits, '.', '_', '-', '@'", target)
	}
	return kind, name, nil
}

// ValidateFault checks a fault as Inject receives it and fills the defaults
// (partition direction both). It returns an error naming the bad field.
func ValidateFault(f *edgelabv1.Fault) error {
	if f == nil {
		return errors.New("fault is required")
	}
	spec, ok := kinds[f.GetKind()]
	if !ok {
		return fmt.Errorf("kind %q: unknown (valid: %s)", f.GetKind(), strings.Join(FaultKinds(), ", "))
	}
	tkind, _, err := SplitTarget(f.GetTarget())
	if err != nil {
		return err
	}
	okTarget := false
	for _, t := range spec.targets {
		okTarget = okTarget || t == tkind
	}
	if !okTarget {
		return fmt.Errorf("target %q: a %s fault targets %s", f.GetTarget(), f.GetKind(), strings.Join(spec.targets, " or "))
	}
	if f.GetKind() == KindPartition {
		switch f.GetDirection() {
		case "":
			f.Direction = DirectionBoth
		case DirectionBoth, DirectionToNode, DirectionToControlPlane:
		default:
			return fmt.Errorf("direction %q: want both, to-node or to-controlplane", f.GetDirection())
		}
	} else if f.GetDirection() != "" {
		return fmt.Errorf("direction: only a partition has a direction")
	}
	if f.Latency != nil {
		if err := f.Latency.CheckValid(); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	lat := f.GetLatency().AsDuration()
	switch {
	case spec.latency && lat <= 0:
		return fmt.Errorf("latency: a %s fault needs a positive latency", f.GetKind())
	case !spec.latency && f.Latency != nil && lat != 0:
		return fmt.Errorf("latency: a %s fault has no latency", f.GetKind())
	case lat > MaxFaultLatency:
		return fmt.Errorf("latency %v: at most %v", lat, MaxFaultLatency)
	}
	r := f.GetRate()
	switch {
	case math.IsNaN(r) || r < 0 || r > 1:
		return fmt.Errorf("rate %v: want a fraction in [0,1] (0 = every one)", r)
	case !spec.rate && r != 0:
		return fmt.Errorf("rate: a %s fault has no rate", f.GetKind())
	}
	switch st := f.GetStatus(); {
	case !spec.status && st != 0:
		return fmt.Errorf("status: a %s fault has no status", f.GetKind())
	case st != 0 && (st < 100 || st > 599):
		return fmt.Errorf("status %d: want 100-599 (0 = 503)", st)
	}
	if f.Duration != nil {
		if err := f.Duration.CheckValid(); err != nil {
			return fmt.Errorf("duration: %w", err)
		}
	}
	switch d := f.GetDuration().AsDuration(); {
	case d < 0:
		return fmt.Errorf("duration %v: negative (0 = until healed)", d)
	case d > MaxFaultDuration:
		return fmt.Errorf("duration %v: at most %v", d, MaxFaultDuration)
	}
	if f.GetId() != "" && !faultIDRE.MatchString(f.GetId()) {
		return fmt.Errorf("id %q: want 1-64 of [a-z0-9-], starting with a letter or digit (or empty to have one made)", f.GetId())
	}
	return nil
}

// ChaosConfig configures a Chaos service. Zero values take the defaults named per field.
type ChaosConfig struct {
	// KV, Watcher and Lease are the etcd client (a *clientv3.Client satisfies all three). Required.
	KV      clientv3.KV
	Watcher clientv3.Watcher
	Lease   clientv3.Lease
	// Keys is the etcd key layout; the zero value means store.NewKeys("").
	Keys store.Keys
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for Created/Expires; nil means time.Now.
	Now func() time.Time
	// OriginToken is the bearer token of the origins' admin API ("" sends
	// none); the Server gives its admin token.
	OriginToken string
	// Origins maps an origin id to the base URL of its admin API, overriding
	// the URLs found in distributions (e.g. compose container URLs). Optional.
	Origins map[string]string
	// HTTPClient calls the origins' admin API; nil means a client with a 5s timeout.
	HTTPClient *http.Client
	// RequestTimeout bounds each RPC's etcd work; default 15s.
	RequestTimeout time.Duration
}

// Chaos implements edgelabv1.ChaosServiceServer: faults are stored in etcd
// under keys.Fault(id), on a lease of their duration, so every replica and
// component that follows them (FaultSet) acts on them, and they expire by
// themselves. Chaos also forwards origin faults to the origins' admin API.
// Run must be running for Faults() to follow etcd and for origin faults to
// be forwarded. Safe for concurrent use.
//
//	Inject ──validate──▶ etcd faults/<id> (leased) ──watch──▶ FaultSet ──▶ Replicator (partition, delay, drop, duplicate)
//	                                                              ├──▶ origin forwarder ──HTTP──▶ origin /_admin/faults
//	                                                              └──▶ lab process faults (stop, kill, pause, start)
type Chaos struct {
	edgelabv1.UnimplementedChaosServiceServer

	cfg     ChaosConfig
	log     *slog.Logger
	set     *FaultSet
	origins *originForwarder
	// stopping is closed when Run's context ends, so calls waiting for the
	// fault set (settle) return at once instead of holding up a shutdown.
	stopping     chan struct{}
	stoppingOnce sync.Once
}

var _ edgelabv1.ChaosServiceServer = (*Chaos)(nil)

// NewChaos checks cfg and applies defaults.
func NewChaos(cfg ChaosConfig) (*Chaos, error) {
	if cfg.KV == nil || cfg.Watcher == nil || cfg.Lease == nil {
		return nil, errors.New("chaos: KV, Watcher and Lease are required")
	}
	if cfg.Keys == (store.Keys{}) {
		cfg.Keys = store.NewKeys("")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 15 * time.Second
	}
	set, err := NewFaultSet(FaultSetConfig{KV: cfg.KV, Watcher: cfg.Watcher, Keys: cfg.Keys, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	log := cfg.Logger.With("component", "chaos")
	return &Chaos{cfg: cfg, log: log, set: set, stopping: make(chan struct{}),
		origins: newOriginForwarder(cfg.KV, cfg.Keys, set, cfg.Origins, cfg.OriginToken, cfg.HTTPClient, log)}, nil
}

// Faults returns the fault set this service follows (give it to
// ReplicatorConfig.Faults).
func (c *Chaos) Faults() *FaultSet { return c.set }

// Run follows the faults and forwards origin faults until ctx ends. It
// returns nil on a clean stop.
func (c *Chaos) Run(ctx context.Context) error {
	defer c.stoppingOnce.Do(func() { close(c.stopping) })
	go func() {
		<-ctx.Done()
		c.stoppingOnce.Do(func() { close(c.stopping) })
	}()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.set.Run(gctx) })
	g.Go(func() error { return c.origins.run(gctx) })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func newFaultID(kind string) string {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return kind + "-" + hex.EncodeToString(b[:])
}

// Inject validates and stores a fault. A fault with a duration is attached
// to a lease of that duration (rounded up to a second) and vanishes by
// itself. A start or unpause fault also heals the stop/kill (or pause)
// faults on its target. Origin faults are forwarded before Inject returns
// when this replica's Run is running.
func (c *Chaos) Inject(ctx context.Context, req *edgelabv1.InjectRequest) (*edgelabv1.InjectResponse, error) {
	if req.GetFault() == nil {
		return nil, status.Error(codes.InvalidArgument, "fault is required")
	}
	f := proto.Clone(req.GetFault()).(*edgelabv1.Fault)
	if err := ValidateFault(f); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	tkind, tname, _ := SplitTarget(f.GetTarget())
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	if tkind == TargetOrigin {
		known, err := c.origins.known(ctx, tname)
		if err != nil {
			return nil, toStatus(fmt.Errorf("looking up origin %s: %w", tname, err))
		}
		if !known {
			return nil, status.Errorf(codes.FailedPrecondition, "origin %q is in no distribution and not configured: its admin API is unknown", tname)
		}
	}
	generated := f.GetId() == ""
	if generated {
		f.Id = newFaultID(f.GetKind())
	}
	now := c.cfg.Now()
	f.Created = timestamppb.New(now)
	f.Expires = nil
	var opts []clientv3.OpOption
	if d := f.GetDuration().AsDuration(); d > 0 {
		f.Expires = timestamppb.New(now.Add(d))
		ttl := int64((d + time.Second - 1) / time.Second)
		lease, err := c.cfg.Lease.Grant(ctx, ttl)
		if err != nil {
			return nil, toStatus(fmt.Errorf("granting a %ds lease for fault %s: %w", ttl, f.Id, err))
		}
		opts = append(opts, clientv3.WithLease(lease.ID))
	}
	data, err := proto.Marshal(f)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encoding fault: %v", err)
	}
	key := c.cfg.Keys.Fault(f.Id)
	ops := []clientv3.Op{clientv3.OpPut(key, string(data), opts...)}
	if undo := undoneBy(f.GetKind()); len(undo) > 0 {
		for _, old := range c.set.Active("", f.GetTarget()) {
			for _, k := range undo {
				if old.GetKind() == k {
					ops = append(ops, clientv3.OpDelete(c.cfg.Keys.Fault(old.GetId())))
				}
			}
		}
	}
	resp, err := c.cfg.KV.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(ops...).Commit()
	if err != nil {
		return nil, toStatus(fmt.Errorf("storing fault %s: %w", f.Id, err))
	}
	if !resp.Succeeded {
		return nil, status.Errorf(codes.AlreadyExists, "fault %q exists", f.Id)
	}
	c.log.Info("fault injected", "id", f.Id, "kind", f.Kind, "target", f.Target, "duration", f.GetDuration().AsDuration())
	c.settle(ctx, tkind, resp.Header.Revision)
	return &edgelabv1.InjectResponse{Fault: f}, nil
}

// undoneBy lists the kinds a start/unpause fault heals on its target.
func undoneBy(kind string) []string {
	switch kind {
	case KindStart:
		return []string{KindStop, KindKill, KindPause}
	case KindUnpause:
		return []string{KindPause}
	}
	return nil
}

// settle waits, briefly, until this replica's fault set saw rev and, for an
// origin target, the origins were told. Without a running Run it returns at
// once after the wait times out; the fault is stored either way.
func (c *Chaos) settle(ctx context.Context, tkind string, rev int64) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	go func() {
		select {
		case <-c.stopping: // this replica is shutting down (maybe by this very fault)
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := c.set.WaitRevision(ctx, rev); err != nil {
		c.log.Warn("fault stored, but this replica's fault set did not catch up", "rev", rev, "err", err)
		return
	}
	if tkind == TargetOrigin {
		if err := c.origins.reconcile(ctx); err != nil {
			c.log.Warn("forwarding origin faults failed; retrying in the background", "err", err)
		}
	}
}

// Heal removes one fault by id, or every fault with all. Healing an unknown
// id is NotFound.
func (c *Chaos) Heal(ctx context.Context, req *edgelabv1.HealRequest) (*edgelabv1.HealResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	switch {
	case req.GetAll() && req.GetId() != "":
		return nil, status.Error(codes.InvalidArgument, "give an id or all, not both")
	case req.GetAll():
		resp, err := c.cfg.KV.Delete(ctx, c.cfg.Keys.Faults(), clientv3.WithPrefix(), clientv3.WithPrevKV())
		if err != nil {
			return nil, toStatus(fmt.Errorf("healing every fault: %w", err))
		}
		out := &edgelabv1.HealResponse{}
		origin := false
		now := c.cfg.Now()
		for _, kv := range resp.PrevKvs {
			f := &edgelabv1.Fault{}
			decoded := proto.Unmarshal(kv.Value, f) == nil
			if decoded && expired(f, now) {
				continue // already over; its lease had not fired yet
			}
			out.Healed = append(out.Healed, strings.TrimPrefix(string(kv.Key), c.cfg.Keys.Faults()))
			origin = origin || (decoded && strings.HasPrefix(f.GetTarget(), TargetOrigin+":"))
		}
		c.log.Info("every fault healed", "count", len(out.Healed))
		c.settle(ctx, map[bool]string{true: TargetOrigin}[origin], resp.Header.Revision)
		return out, nil
	case !faultIDRE.MatchString(req.GetId()):
		return nil, status.Errorf(codes.InvalidArgument, "id %q: want a fault id (edgectl chaos list) or --all", req.GetId())
	}
	resp, err := c.cfg.KV.Delete(ctx, c.cfg.Keys.Fault(req.GetId()), clientv3.WithPrevKV())
	if err != nil {
		return nil, toStatus(fmt.Errorf("healing fault %s: %w", req.GetId(), err))
	}
	if resp.Deleted == 0 {
		return nil, status.Errorf(codes.NotFound, "fault %q not found (healed or expired)", req.GetId())
	}
	tkind := ""
	f := &edgelabv1.Fault{}
	if proto.Unmarshal(resp.PrevKvs[0].Value, f) == nil {
		tkind, _, _ = strings.Cut(f.GetTarget(), ":")
	}
	c.log.Info("fault healed", "id", req.GetId(), "kind", f.GetKind(), "target", f.GetTarget())
	c.settle(ctx, tkind, resp.Header.Revision)
	return &edgelabv1.HealResponse{Healed: []string{req.GetId()}}, nil
}

// ListFaults lists the stored faults, read from etcd (not the cache), sorted by id.
func (c *Chaos) ListFaults(ctx context.Context, _ *edgelabv1.ListFaultsRequest) (*edgelabv1.ListFaultsResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	resp, err := c.cfg.KV.Get(ctx, c.cfg.Keys.Faults(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, toStatus(fmt.Errorf("listing faults: %w", err))
	}
	now := c.cfg.Now()
	out := &edgelabv1.ListFaultsResponse{}
	for _, kv := range resp.Kvs {
		f := &edgelabv1.Fault{}
		if err := proto.Unmarshal(kv.Value, f); err != nil {
			c.log.Error("skipping undecodable fault", "key", string(kv.Key), "err", err)
			continue
		}
		if !expired(f, now) {
			out.Faults = append(out.Faults, f)
		}
	}
	return out, nil
}
