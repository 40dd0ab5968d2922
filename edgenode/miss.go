package edgenode

import (
	"context"
	"io"

	"github.com/edgelab/edgelab/edgenode/cache"
)

// missSpec is one cache miss as the cache stage hands it on.
type missSpec struct {
	// key is the cache key; "" for methods that are not cached.
	key string
	// flight is the key concurrent misses collapse on (default key).
	flight string
	// gen is the cache Generation of the distribution when the miss
	// began: the answer is stored only if no invalidation came since.
	gen uint64
	// stale is the expired copy under key (nil: none).
	stale *cache.Entry
	// body is the request body to send (nil: none, as for every cached
	// method); bodyPrefix what of it include-body exposes.
	body       io.Reader
	bodyPrefix []byte
}

// miss sends a cache miss upstream and keeps what may be kept: it serves
// the expired copy when the upstream had nothing better, refreshes it on a
// 304 and stores a cacheable answer.
func (t *txn) miss(ctx context.Context, m missSpec) *reply {
	t.in.fillClientIP()
	a := t.n.upstream().fetch(ctx, t, upstreamRequest{
		req: t.req, body: m.body, bodyPrefix: m.bodyPrefix, cacheable: m.key != "", stale: m.stale,
	})
	switch {
	case a.useStale:
		return staleReply(m.stale, t.n.now())
	case a.notModified != nil:
		return t.refresh(m, a.notModified)
	case a.cacheable:
		t.store(m, t.req.URI, a.rep)
	default:
		a.rep.noStore = true
	}
	return a.rep
}
