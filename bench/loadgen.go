package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/http"
	"sync"
	"time"
)

// Histogram records durations in log-linear buckets (HDR-style: 64 sub-buckets
// per power of two, so a percentile is within ~1.6% of the true value). The
// zero value is ready; it is not safe for concurrent use (merge per-worker
// histograms instead).
type Histogram struct {
	counts [64 * subBuckets]int64
	total  int64
}

const subBits = 6
const subBuckets = 1 << subBits

func bucketOf(ns int64) int {
	if ns < subBuckets {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	exp := 63 - bits.LeadingZeros64(uint64(ns)) // >= subBits
	shift := exp - subBits
	sub := int(ns>>shift) - subBuckets // 0..subBuckets-1
	return (shift+1)*subBuckets + sub
}

// bucketUpper is the largest value that maps to bucket b.
func bucketUpper(b int) int64 {
	if b < subBuckets {
		return int64(b)
	}
	shift := b/subBuckets - 1
	sub := int64(b%subBuckets + subBuckets)
	return (sub+1)<<shift - 1
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucketOf(int64(d))]++
	h.total++
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// Count is the number of samples.
func (h *Histogram) Count() int64 { return h.total }

// Percentile returns the q-quantile (0 < q <= 1) as the upper bound of its
// bucket; 0 when empty.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = math.Min(math.Max(q, 0), 1)
	rank := int64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(bucketUpper(b))
		}
	}
	return time.Duration(bucketUpper(len(h.counts) - 1))
}

// RunGo is the built-in closed-loop load generator used when wrk is not
// installed: Conns workers, each with its own keep-alive connection, send
// GETs back to back for the load's duration. It is less efficient than wrk
// (it shares the CPU with the server under test), which the report notes.
func RunGo(ctx context.Context, l Load) (Result, error) {
	l = l.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: l.Conns, MaxConnsPerHost: l.Conns, MaxIdleConns: l.Conns,
		DisableCompression: true, ResponseHeaderTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	type partial struct {
		h              Histogram
		non2xx, errors int64
	}
	parts := make([]*partial, l.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range parts {
		p := &partial{}
		parts[i] = p
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
				if err != nil {
					p.errors++
					return
				}
				for k, v := range l.Header {
					req.Header.Set(k, v)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						p.errors++
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					if ctx.Err() == nil {
						p.errors++
					}
					continue
				}
				p.h.Record(time.Since(t0))
				if resp.StatusCode >= 400 {
					p.non2xx++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var h Histogram
	r := Result{Tool: "go"}
	for _, p := range parts {
		h.Merge(&p.h)
		r.Non2xx += p.non2xx
		r.Errors += p.errors
	}
	r.Requests = h.Count()
	if r.Requests == 0 {
		return r, fmt.Errorf("load %s: no request completed (%d errors)", l.URL, r.Errors)
	}
	r.RPS = float64(r.Requests) / elapsed.Seconds()
	r.P50 = h.Percentile(0.50)
	r.P99 = h.Percentile(0.99)
	return r, nil
}
