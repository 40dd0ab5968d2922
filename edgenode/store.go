package edgenode

import (
	"net/http"

	"github.com/edgelab/edgelab/edgenode/cache"
)

// store is the store stage: rep is cached under key when the cache policy
// allows it. key "" stores nothing.
func (t *txn) store(key, path string, rep *reply) {
	if key == "" {
		return
	}
	now := t.n.now()
	ttl, ok := cache.TTL(t.b.ttl, rep.status, rep.header, now, t.errorTTL(rep.status))
	if !ok {
		return
	}
	t.n.cache.Put(key, &cache.Entry{
		Distribution: t.d.id,
		Path:         path,
		Status:       rep.status,
		Header:       rep.header,
		Body:         rep.body,
		Stored:       now,
		Expires:      now.Add(ttl),
	})
}

// refreshedHeaders are the headers of a 304 that replace the stored ones.
var refreshedHeaders = [...]string{"Cache-Control", "Expires", "Date", "ETag", "Last-Modified"}

// refresh stores a revalidated entry with the 304's caching headers merged
// in and answers it as RefreshHit.
func (t *txn) refresh(key string, stale *cache.Entry, notModified http.Header) *reply {
	now := t.n.now()
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
		t.n.cache.Put(key, &e)
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
