package cache

import (
	"net/http"
	"sync"
	"time"

	"github.com/edgelab/edgelab/distribution"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Entry is one cached response. Entries are immutable once stored: readers
// share them, so never modify Header or Body of an Entry obtained from Get.
type Entry struct {
	// Distribution and Path (the URI the object was fetched for) are what
	// invalidations match against.
	Distribution string
	Path         string
	Status       int
	// StatusDescription is the reason phrase ("" = the standard one).
	StatusDescription string
	Header            http.Header
	Body              []byte
	Stored            time.Time
	Expires           time.Time
}

// Size is the entry's accounted size in bytes (body, headers, fixed overhead).
func (e *Entry) Size() int64 {
	n := int64(len(e.Body)) + int64(len(e.Distribution)+len(e.Path)) + 256
	for k, vs := range e.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n
}

// Fresh reports whether the entry has not expired at now.
func (e *Entry) Fresh(now time.Time) bool { return now.Before(e.Expires) }

// Cache is a byte-bounded LRU of entries. Expired entries stay until evicted
// or replaced so they can be served when the origin fails. Safe for
// concurrent use.
type Cache struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, *Entry]
	bytes    int64
	maxBytes int64
	// gens counts the invalidations applied per distribution (see
	// Generation); guarded by mu.
	gens map[string]uint64
}

// New returns a cache holding at most maxBytes (accounted with Entry.Size).
// An object larger than maxBytes/8 is never stored, so one object cannot
// flush the whole cache.
func New(maxBytes int64) *Cache {
	c := &Cache{maxBytes: maxBytes, gens: map[string]uint64{}}
	// Count bound effectively unlimited: the byte bound does the evicting.
	l, _ := simplelru.NewLRU[string, *Entry](1<<62, func(_ string, e *Entry) {
		c.bytes -= e.Size()
	})
	c.lru = l
	return c
}

// Get returns the entry under key, fresh or not. It marks it recently used.
func (c *Cache) Get(key string) (*Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(key)
}

// GetAt is Get that also returns the Generation of distribution dist,
// read under the same lock: a miss or a revalidation of the entry stores
// its answer with PutAt and that generation.
func (c *Cache) GetAt(key, dist string) (*Entry, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	return e, c.gens[dist], ok
}

// Generation is the number of invalidations of distribution dist applied
// so far. A miss reads it before it goes upstream and stores its answer
// with PutAt, so an object fetched across an invalidation is not kept.
func (c *Cache) Generation(dist string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens[dist]
}

// Put stores e under key, evicting least recently used entries to stay
// within the byte bound. It reports whether e was stored.
func (c *Cache) Put(key string, e *Entry) bool {
	return c.put(key, e, 0, false)
}

// PutAt is Put for an object whose fetch began at Generation gen of its
// distribution: when an invalidation of that distribution was applied
// since, the object may predate it and is not stored.
func (c *Cache) PutAt(key string, e *Entry, gen uint64) bool {
	return c.put(key, e, gen, true)
}

func (c *Cache) put(key string, e *Entry, gen uint64, checkGen bool) bool {
	size := e.Size()
	if size > c.maxBytes/8 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if checkGen && c.gens[e.Distribution] != gen {
		return false
	}
	c.lru.Remove(key)
	c.lru.Add(key, e)
	c.bytes += size
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
	return true
}

// Remove drops the entry under key.
func (c *Cache) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

// Invalidate removes every entry of distribution dist whose path matches one of
// the CloudFront path patterns, and returns how many it removed. It moves
// dist's Generation on, so fetches in flight do not store what they got.
func (c *Cache) Invalidate(dist string, patterns []string) int {
	norm := make([]string, len(patterns))
	for i, p := range patterns {
		norm[i] = distribution.InvalidationPattern(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[dist]++
	n := 0
	for _, k := range c.lru.Keys() {
		e, ok := c.lru.Peek(k)
		if !ok || e.Distribution != dist {
			continue
		}
		for _, p := range norm {
			if distribution.Match(p, e.Path) {
				c.lru.Remove(k)
				n++
				break
			}
		}
	}
	return n
}

// Stats returns the number of entries and their accounted bytes.
func (c *Cache) Stats() (items int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
