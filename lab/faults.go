package lab

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/edgelab/edgelab/controlplane"
	"github.com/edgelab/edgelab/store"
)

// processKinds are the fault kinds that take a lab component down. In the
// all-in-one lab every component is a goroutine group of this process, so
// stop, kill and pause all stop the component (kill does not drain; pause
// cannot freeze a goroutine and stops it too: its listener is closed, so
// callers see refused connections rather than a hang). The component comes
// back, on the same address and data directory, when no such fault is left
// on its target (healed, expired, or a start/unpause fault).
var processKinds = []string{controlplane.KindStop, controlplane.KindKill, controlplane.KindPause}

// RunFaults follows the faults stored in the lab's etcd and stops and
// restarts edges (node:<id>) and control planes (controlplane:<id>, ids
// cp1, cp2...) to match the process faults, until ctx ends. Other fault
// kinds are acted on by the control planes (replication, origins). Start it
// in a goroutine after Start; it returns nil when ctx ends, after restarting
// whatever it stopped.
func (l *Lab) RunFaults(ctx context.Context) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: l.etcdEPs, TLS: l.trust.etcdClient("lab"), DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("lab faults: connecting to etcd: %w", err)
	}
	defer cli.Close()
	set, err := controlplane.NewFaultSet(controlplane.FaultSetConfig{KV: cli, Watcher: cli, Keys: store.NewKeys(""), Logger: l.cfg.Logger})
	if err != nil {
		return fmt.Errorf("lab faults: %w", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = set.Run(sctx) }()
	defer func() { cancel(); wg.Wait() }()
	if err := set.WaitReady(ctx); err != nil {
		return nil
	}
	down := map[string]bool{}
	defer func() {
		if l.closing.Load() {
			return // Close stops everything anyway
		}
		for _, t := range sortedKeys(down) {
			if err := l.startTarget(t); err != nil {
				l.cfg.Logger.Warn("restarting after faults ended", "target", t, "err", err)
			}
		}
	}()
	for {
		changed := set.Changed()
		want := map[string]bool{}
		for _, k := range processKinds {
			for _, f := range set.Active(k, "") {
				want[f.GetTarget()] = true
			}
		}
		for _, t := range sortedKeys(want) {
			if down[t] {
				continue
			}
			if ok, err := l.stopTarget(t); err != nil {
				l.cfg.Logger.Warn("process fault", "target", t, "err", err)
			} else if ok {
				down[t] = true
			}
		}
		for _, t := range sortedKeys(down) {
			if want[t] {
				continue
			}
			if err := l.startTarget(t); err != nil {
				l.cfg.Logger.Warn("healing process fault", "target", t, "err", err)
				continue
			}
			delete(down, t)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stopTarget stops the component a target names; ok is false when the
// target is not a component of this lab (e.g. etcd:, origin:).
func (l *Lab) stopTarget(target string) (ok bool, err error) {
	kind, name, _ := strings.Cut(target, ":")
	switch kind {
	case controlplane.TargetNode:
		l.mu.Lock()
		var h *edgeHandle
		for _, e := range l.edges {
			if e.info.ID == name {
				h = e
			}
		}
		l.mu.Unlock()
		if h == nil {
			return false, fmt.Errorf("no edge %q in this lab", name)
		}
		h.cancel()
		err := h.proc.Close()
		<-h.done
		l.cfg.Logger.Info("chaos: edge stopped", "node", name)
		return true, err
	case controlplane.TargetControlPlane:
		l.mu.Lock()
		var h *cpHandle
		for _, c := range l.cps {
			if c.id == name {
				h = c
			}
		}
		l.mu.Unlock()
		if h == nil {
			return false, fmt.Errorf("no control plane %q in this lab", name)
		}
		// Cancelling Run starts a graceful stop; give in-flight unary calls
		// (such as the very Inject that asked for this stop, when it was sent
		// to this replica) a moment to answer before the hard stop.
		h.cancel()
		select {
		case <-h.done:
		case <-time.After(300 * time.Millisecond):
		}
		err := h.srv.Close()
		<-h.done
		l.cfg.Logger.Info("chaos: control plane stopped", "cp", name)
		return true, err
	}
	return false, nil
}

// startTarget restarts a component stopTarget stopped, on its old address.
func (l *Lab) startTarget(target string) error {
	kind, name, _ := strings.Cut(target, ":")
	switch kind {
	case controlplane.TargetNode:
		l.mu.Lock()
		var info EdgeEndpoint
		var addr string
		for _, e := range l.edges {
			if e.info.ID == name {
				info, addr = e.info, e.addr
			}
		}
		l.mu.Unlock()
		if addr == "" {
			return fmt.Errorf("no edge %q in this lab", name)
		}
		l.cfg.Logger.Info("chaos: edge restarting", "node", name)
		return l.startEdge(info, addr)
	case controlplane.TargetControlPlane:
		l.mu.Lock()
		idx := -1
		for i, c := range l.cps {
			if c.id == name {
				idx = i
			}
		}
		l.mu.Unlock()
		if idx < 0 {
			return fmt.Errorf("no control plane %q in this lab", name)
		}
		l.cfg.Logger.Info("chaos: control plane restarting", "cp", name)
		return l.startControlPlane(idx)
	}
	return nil
}
