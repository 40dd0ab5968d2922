package chaos

import (
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"time"

	"github.com/edgelab/edgelab/chaos/history"
	"github.com/edgelab/edgelab/chaos/scenario"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// BrokenArm is how long after a broken version's draft is stored its load
// starts failing: the control plane's check (at draft time) passes, every
// node's load (after the publish and an apply) fails.
const BrokenArm = 3 * time.Second

// brokenProbe is the source published by a broken publish without one.
const brokenProbe = `package probe

import (
	"context"

	"github.com/edgelab/edgelab/edge"
)

// ViewerRequest lets every request through.
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	return nil, nil
}
`

// brokenFile returns a file for package pkg whose init panics once armed
// passes: loading the version fails wherever it happens after that moment.
func brokenFile(pkg string, armed time.Time) *edgelabv1.SourceFile {
	src := fmt.Sprintf(`package %s

import "time"

// chaosBroken fails every load after the arming time: the control plane's
// check passes, the nodes cannot load the version and must NACK it.
var chaosBroken = func() int {
	if time.Now().UnixNano() > %d {
		panic("edgelab chaos: broken version (armed)")
	}
	return 0
}()
`, pkg, armed.UnixNano())
	return &edgelabv1.SourceFile{Name: "zz_chaos_broken.go", Content: []byte(src)}
}

// publishBroken publishes a version that fails on the nodes, then waits
// until it is armed so that a following apply makes the nodes load it.
func (rn *run) publishBroken(ctx context.Context, s scenario.Step) error {
	src := s.Source
	if src == "" {
		src = brokenProbe
	}
	f, err := parser.ParseFile(token.NewFileSet(), s.Function+".go", src, parser.PackageClauseOnly)
	if err != nil {
		return fmt.Errorf("broken publish of %s: %w", s.Function, err)
	}
	armed := time.Now().Add(BrokenArm)
	files := []*edgelabv1.SourceFile{{Name: s.Function + ".go", Content: []byte(src)}, brokenFile(f.Name.Name, armed)}
	sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
	ver, rev, err := rn.r.cfg.Lab.Publish(sctx, s.Function, files)
	cancel()
	if err != nil {
		return fmt.Errorf("publishing broken %s: %w", s.Function, err)
	}
	rn.mu.Lock()
	rn.acks = append(rn.acks, history.Ack{Kind: history.AckPublish, Revision: rev, Function: s.Function, Version: ver, Time: time.Now()})
	rn.latest[s.Function] = max(rn.latest[s.Function], ver)
	rn.broken = append(rn.broken, &history.Broken{Function: s.Function, Version: ver})
	rn.mu.Unlock()
	return sleepCtx(ctx, time.Until(armed.Add(100*time.Millisecond)))
}

// trackBroken opens or closes each broken version's revision window after
// an apply of distribution d at revision rev. Call with rn.mu held.
func (rn *run) trackBroken(d *edgelabv1.Distribution, rev int64) {
	for _, b := range rn.broken {
		refs := references(d, b.Function, b.Version)
		open := len(b.Windows) > 0 && b.Windows[len(b.Windows)-1].To == 0
		switch {
		case refs && !open:
			b.Windows = append(b.Windows, history.RevisionRange{From: rev})
		case !refs && open:
			b.Windows[len(b.Windows)-1].To = rev
		}
	}
}

func references(d *edgelabv1.Distribution, function string, version int64) bool {
	for _, b := range d.GetBehaviors() {
		for _, a := range b.GetFunctions() {
			if a.GetFunction() == function && a.GetVersion() == version {
				return true
			}
		}
	}
	return false
}

// goodVersion is the newest version of function this run published that
// is not broken (0 when none).
func (rn *run) goodVersion(function string) int64 {
	bad := map[int64]bool{}
	for _, b := range rn.broken {
		if b.Function == function {
			bad[b.Version] = true
		}
	}
	var good int64
	for _, a := range rn.acks {
		if a.Kind == history.AckPublish && a.Function == function && !bad[a.Version] {
			good = max(good, a.Version)
		}
	}
	return good
}

func (rn *run) invalidate(ctx context.Context, s scenario.Step) error {
	sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
	defer cancel()
	rev, err := rn.r.cfg.Lab.Invalidate(sctx, s.Distribution, s.Paths)
	if err != nil {
		return fmt.Errorf("invalidating %v of %s: %w", s.Paths, s.Distribution, err)
	}
	rn.mu.Lock()
	rn.invals = append(rn.invals, history.Invalidation{Distribution: s.Distribution, Paths: s.Paths, Revision: rev, Time: time.Now()})
	rn.mu.Unlock()
	return nil
}

// killAfterAck waits until the target node acknowledged the latest
// revision, then kills it at once: whatever it acked must survive.
func (rn *run) killAfterAck(ctx context.Context, s scenario.Step) error {
	target, err := rn.resolve(ctx, s.Target)
	if err != nil {
		return err
	}
	node := target[len("node:"):]
	sctx, cancel := context.WithTimeout(ctx, s.StepTimeout())
	defer cancel()
	for {
		latest, acked, err := rn.r.cfg.Lab.Revisions(sctx)
		if err == nil && acked[node] >= latest && latest > 0 {
			break
		}
		if err := sleepCtx(sctx, 20*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for %s to ack the latest revision: %w", node, err)
		}
	}
	resolved := s
	resolved.Target = target
	return rn.inject(ctx, resolved, "kill")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
