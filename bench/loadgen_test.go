package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	var h Histogram
	if h.Percentile(0.5) != 0 {
		t.Fatal("empty histogram has a percentile")
	}
	// 1..10000 us uniformly: p50 = 5000us, p99 = 9900us, within bucket error.
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.Percentile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.02 {
			t.Errorf("p%v = %v, want %v (+2%%)", tc.q*100, got, tc.want)
		}
	}
	// Hostile samples: negative and huge durations do not panic.
	h.Record(-time.Second)
	h.Record(time.Duration(1<<63 - 1))
	if h.Count() != 10002 {
		t.Fatalf("count %d", h.Count())
	}
	var m Histogram
	m.Merge(&h)
	if m.Count() != h.Count() || m.Percentile(0.5) != h.Percentile(0.5) {
		t.Fatal("merge lost samples")
	}
}

func TestBucketsMonotonic(t *testing.T) {
	prev := -1
	for ns := int64(0); ns < 1<<22; ns += 37 {
		b := bucketOf(ns)
		if b < prev {
			t.Fatalf("bucket(%d)=%d < %d", ns, b, prev)
		}
		if bucketUpper(b) < ns {
			t.Fatalf("upper(%d)=%d < %d", b, bucketUpper(b), ns)
		}
		prev = b
	}
}

func TestRunGo(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		_, _ = w.Write(make([]byte, 1024))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name       string
		header     map[string]string
		wantNon2xx bool
	}{
		{"ok", map[string]string{"Authorization": "Bearer t"}, false},
		{"errors counted", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r, err := RunGo(context.Background(), Load{URL: srv.URL, Header: tc.header, Conns: 4, Duration: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("run took %v", el)
			}
			if r.Requests == 0 || r.RPS <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Tool != "go" {
				t.Fatalf("result %+v", r)
			}
			if (r.Non2xx == r.Requests) != tc.wantNon2xx || (r.Non2xx != 0) != tc.wantNon2xx {
				t.Fatalf("non2xx %d of %d", r.Non2xx, r.Requests)
			}
		})
	}
	if n.Load() == 0 {
		t.Fatal("server saw no requests")
	}
}

func TestRunGoDeadTarget(t *testing.T) {
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	r, err := RunGo(context.Background(), Load{URL: "http://" + addr + "/", Conns: 2, Duration: 200 * time.Millisecond})
	if err == nil || r.Errors == 0 {
		t.Fatalf("dead target: %+v %v", r, err)
	}
}

func TestRunGoCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, _ = RunGo(ctx, Load{URL: srv.URL, Conns: 2, Duration: time.Hour})
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("cancelled run took %v", el)
	}
}
