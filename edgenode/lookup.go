package edgenode

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/edgelab/edgelab/edgenode/cache"
)

// lookup is the cache stage: GET and HEAD are answered from the cache when
// a fresh object is there, and their misses collapsed per cache key; other
// methods go straight upstream.
func (t *txn) lookup(ctx context.Context) *reply {
	n, req := t.n, t.req
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return t.miss(ctx, missSpec{body: t.body, bodyPrefix: t.bodyPrefix})
	}
	key := cache.Key(t.d.id, req.URI, req.QueryString, req.Header, t.b.keyPolicy)
	if t.hop != nil && t.hop.inval > n.Revision() {
		// The asking tier applied an invalidation of this distribution
		// that this REC has not yet: what it holds may predate it, so it
		// goes upstream, on a flight of its own.
		flight := key + "\x00inval=" + strconv.FormatInt(t.hop.inval, 10)
		return t.collapse(ctx, missSpec{key: key, flight: flight, gen: n.cache.Generation(t.d.id)})
	}
	now := n.now()
	stale, gen, _ := n.cache.GetAt(key, t.d.id)
	if stale != nil && stale.Fresh(now) {
		t.hit.fillFromEntry(stale, missOrError(stale.Status, xHit), now)
		return &t.hit
	}
	if n.testHookMiss != nil {
		n.testHookMiss()
	}
	return t.collapse(ctx, missSpec{key: key, gen: gen, stale: stale})
}

// flight is a collapsed miss's outcome, shared by every request that
// joined it.
type flight struct {
	rep *reply
	fns []string
}

// collapse runs one miss per key at a time: the first request fetches for
// everyone; its context is detached so one viewer hanging up does not fail
// the rest. The followers report the leader's functions.
func (t *txn) collapse(ctx context.Context, m missSpec) *reply {
	leader := false
	fk := m.flight
	if fk == "" {
		fk = m.key
	}
	v, _, _ := t.n.flights.Do(fk, func() (any, error) {
		leader = true
		rep := t.miss(context.WithoutCancel(ctx), m)
		return &flight{rep: rep, fns: slices.Clone(t.fns)}, nil
	})
	f := v.(*flight)
	if !leader {
		t.fns = append(t.fns[:0], f.fns...)
	}
	return f.rep
}
