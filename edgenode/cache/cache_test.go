package cache

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestTTL(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	def := Policy{MinTTL: 0, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	minPos := Policy{MinTTL: time.Minute, DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	tests := []struct {
		name   string
		p      Policy
		status int
		h      map[string]string
		want   time.Duration
		ok     bool
	}{
		{"no header uses default", def, 200, nil, time.Hour, true},
		{"max-age", def, 200, map[string]string{"Cache-Control": "max-age=120"}, 2 * time.Minute, true},
		{"s-maxage wins", def, 200, map[string]string{"Cache-Control": "max-age=120, s-maxage=30"}, 30 * time.Second, true},
		{"max-age clamped to max", def, 200, map[string]string{"Cache-Control": "max-age=999999999"}, 24 * time.Hour, true},
		{"max-age raised to min", minPos, 200, map[string]string{"Cache-Control": "max-age=5"}, time.Minute, true},
		{"max-age 0 with min 0 not cached", def, 200, map[string]string{"Cache-Control": "max-age=0"}, 0, false},
		{"no-store min 0", def, 200, map[string]string{"Cache-Control": "no-store"}, 0, false},
		{"private min 0", def, 200, map[string]string{"Cache-Control": "private, max-age=60"}, 0, false},
		{"no-cache min 0", def, 200, map[string]string{"Cache-Control": "no-cache"}, 0, false},
		{"no-store min>0 cached default", minPos, 200, map[string]string{"Cache-Control": "no-store"}, time.Hour, true},
		{"private min>0 uses max-age", minPos, 200, map[string]string{"Cache-Control": "private, max-age=600"}, 10 * time.Minute, true},
		{"expires vs date", def, 200, map[string]string{"Date": now.Format(http.TimeFormat), "Expires": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, true},
		{"expires in past", def, 200, map[string]string{"Expires": now.Add(-time.Hour).Format(http.TimeFormat)}, 0, false},
		{"invalid expires", def, 200, map[string]string{"Expires": "0"}, 0, false},
		{"invalid expires min>0", minPos, 200, map[string]string{"Expires": "0"}, time.Minute, true},
		{"max-age beats expires", def, 200, map[string]string{"Cache-Control": "max-age=10", "Expires": now.Add(time.Hour).Format(http.TimeFormat)}, 10 * time.Second, true},
		{"garbage cache-control ignored", def, 200, map[string]string{"Cache-Control": `max-age="`}, time.Hour, true},
		{"default below min", Policy{MinTTL: 2 * time.Hour, DefaultTTL: time.Hour, MaxTTL: 3 * time.Hour}, 200, nil, 2 * time.Hour, true},
		{"404 error ttl", def, 404, map[string]string{"Cache-Control": "max-age=3600"}, DefaultErrorTTL, true},
		{"503 error ttl", def, 503, nil, DefaultErrorTTL, true},
		{"206 not cached", def, 206, nil, 0, false},
		{"304 not cached", def, 304, nil, 0, false},
		{"301 cached", def, 301, nil, time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			got, ok := TTL(tc.p, tc.status, h, now, DefaultErrorTTL)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("TTL = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := TTL(def, 500, http.Header{}, now, 0); ok {
		t.Fatal("error caching disabled with errorTTL 0, but 500 was cacheable")
	}
}

func TestKey(t *testing.T) {
	h1 := http.Header{"Accept-Language": {"en"}, "Cookie": {"a=1; session=xyz; b=2"}}
	h2 := http.Header{"Accept-Language": {"en"}, "Cookie": {"b=2; a=1; session=other"}}
	kp := KeyPolicy{QueryStrings: []string{"lang", "v"}, Headers: []string{"accept-language"}, Cookies: []string{"b", "a"}}
	tests := []struct {
		name      string
		a, b      string
		wantEqual bool
	}{
		{"query order normalised", Key("d", "/p", "v=1&lang=en&x=9", h1, kp), Key("d", "/p", "lang=en&v=1&x=7", h2, kp), true},
		{"unlisted query ignored", Key("d", "/p", "x=1", h1, kp), Key("d", "/p", "x=2", h1, kp), true},
		{"listed query differs", Key("d", "/p", "lang=en", h1, kp), Key("d", "/p", "lang=fr", h1, kp), false},
		{"distribution differs", Key("d1", "/p", "", h1, kp), Key("d2", "/p", "", h1, kp), false},
		{"path differs", Key("d", "/p", "", h1, kp), Key("d", "/q", "", h1, kp), false},
		{"header value differs", Key("d", "/p", "", http.Header{"Accept-Language": {"en"}}, kp), Key("d", "/p", "", http.Header{"Accept-Language": {"de"}}, kp), false},
		{"no policy ignores query", Key("d", "/p", "a=1", h1, KeyPolicy{}), Key("d", "/p", "a=2", h1, KeyPolicy{}), true},
		{"star query", Key("d", "/p", "b=2&a=1", h1, KeyPolicy{QueryStrings: []string{"*"}}), Key("d", "/p", "a=1&b=2", h1, KeyPolicy{QueryStrings: []string{"*"}}), true},
		{"cookie value differs", Key("d", "/p", "", http.Header{"Cookie": {"a=1"}}, kp), Key("d", "/p", "", http.Header{"Cookie": {"a=2"}}, kp), false},
	}
	for _, tc := range tests {
		if (tc.a == tc.b) != tc.wantEqual {
			t.Errorf("%s: keys %q vs %q, equal=%v want %v", tc.name, tc.a, tc.b, tc.a == tc.b, tc.wantEqual)
		}
	}
}

func TestCacheLRUByteBound(t *testing.T) {
	c := New(64 << 10)
	body := make([]byte, 4<<10)
	for i := range 100 {
		c.Put(fmt.Sprint(i), &Entry{Distribution: "d", Path: fmt.Sprintf("/%d", i), Status: 200, Body: body})
	}
	items, bytes := c.Stats()
	if bytes > 64<<10 {
		t.Fatalf("bytes %d over bound", bytes)
	}
	if items == 0 || items >= 100 {
		t.Fatalf("items = %d, want evictions but not empty", items)
	}
	if _, ok := c.Get("0"); ok {
		t.Fatal("oldest entry survived")
	}
	if _, ok := c.Get("99"); !ok {
		t.Fatal("newest entry evicted")
	}
	// Recently used survives eviction.
	c2 := New(16 << 10)
	c2.Put("a", &Entry{Body: make([]byte, 1<<10)})
	for i := range 50 {
		c2.Get("a")
		c2.Put(fmt.Sprint(i), &Entry{Body: make([]byte, 1<<10)})
	}
	if _, ok := c2.Get("a"); !ok {
		t.Fatal("recently used entry was evicted")
	}
	// Oversized objects are refused.
	if c2.Put("big", &Entry{Body: make([]byte, 8<<10)}) {
		t.Fatal("object larger than maxBytes/8 stored")
	}
}

func TestCacheInvalidate(t *testing.T) {
	c := New(1 << 20)
	for _, p := range []string{"/a/1", "/a/2", "/b/1", "/a"} {
		c.Put("d"+p, &Entry{Distribution: "d", Path: p})
		c.Put("e"+p, &Entry{Distribution: "e", Path: p})
	}
	if n := c.Invalidate("d", []string{"/a/*"}); n != 2 {
		t.Fatalf("invalidated %d, want 2", n)
	}
	for key, want := range map[string]bool{"d/a/1": false, "d/a/2": false, "d/b/1": true, "d/a": true, "e/a/1": true} {
		if _, ok := c.Get(key); ok != want {
			t.Errorf("after invalidation %s present=%v want %v", key, ok, want)
		}
	}
	if n := c.Invalidate("d", []string{"/*"}); n != 2 {
		t.Fatalf("invalidate all: %d, want 2", n)
	}
	if items, _ := c.Stats(); items != 4 {
		t.Fatalf("other distribution touched: %d items left", items)
	}
}

func TestCachePutAtRefusesAnObjectFetchedAcrossAnInvalidation(t *testing.T) {
	c := New(1 << 20)
	e := func(dist string) *Entry { return &Entry{Distribution: dist, Path: "/a", Status: 200} }
	genA, genB := c.Generation("a"), c.Generation("b")
	c.Invalidate("a", []string{"/nothing"}) // removes nothing, still moves a's generation
	if c.PutAt("ka", e("a"), genA) {
		t.Error("stored an object of a whose fetch began before a's invalidation")
	}
	if !c.PutAt("kb", e("b"), genB) {
		t.Error("refused an object of b: only a was invalidated")
	}
	if !c.PutAt("ka", e("a"), c.Generation("a")) {
		t.Error("refused an object of a fetched after the invalidation")
	}
	if _, ok := c.Get("ka"); !ok {
		t.Error("ka not stored")
	}
}
