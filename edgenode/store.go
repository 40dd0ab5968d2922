package edgenode

import (
	"net/http"

	"github.com/edgelab/edgelab/edgenode/cache"
)

// store is the store stage: rep is cached under m.key when the cache
// policy allows it and no invalidation of the distribution was applied
// while it was fetched. key "" stores nothing.
func (t *txn) store(m missSpec, path string, rep *reply) {
	if m.key == "" {
		return
	}
	now := t.n.now()
	ttl, ok := cache.TTL(t.b.ttl, rep.status, rep.header, now, t.errorTTL(rep.status))
	if !ok {
		return
	}
	t.n.cache.PutAt(m.key, &cache.Entry{
		Distribution: t.d.id,
		Path:         path,
		Status:       rep.status,
		Header:       rep.header,
		Body:         rep.body,
		Stored:       now,
		Expires:      now.Add(ttl),
	}, m.gen)
}

// refreshedHeaders are the headers of a 304 that replace the stored ones.
var refreshedHeaders = [...]string{"Cache-Control", "Expires", "Date", "ETag", "Last-Modified"}

// refresh stores a revalidated entry with the 304's caching headers merged
// in and answers it as RefreshHit (stored, as by store, only when no
// invalidation came while it was revalidated).
func (t *txn) refresh(m missSpec, notModified http.Header) *reply {
	now := t.n.now()
	stale := m.stale
	h := stale.Header.Clone()
	for _, k := range refreshedHeaders {
		if vs, ok := notModified[k]; ok {
			h[k] = vs
		}
	}
	e := *stale
	e.Header = h
	e.Stored = now
	ttl, ok := cache.TTL(t.b.ttl, e.Status, h, now, t.n.cfg.ErrorTTL)
	if ok {
		e.Expires = now.Add(ttl)
		t.n.cache.PutAt(m.key, &e, m.gen)
	}
	return &reply{status: e.Status, header: e.Header, body: e.Body, xcache: xRefresh}
}

// revalidation returns the conditional headers that revalidate an expired
// entry (nil when there is none or it has no validator).
func revalidation(e *cache.Entry) http.Header {
	if e == nil {
		return nil
	}
	h := http.Header{}
	if v := e.Header.Get("ETag"); v != "" {
		h.Set("If-None-Match", v)
	}
	if v := e.Header.Get("Last-Modified"); v != "" {
		h.Set("If-Modified-Since", v)
	}
	if len(h) == 0 {
		return nil
	}
	return h
}
