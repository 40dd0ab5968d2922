package bench

import (
	"strings"
	"testing"
	"time"
)

const wrkSample = `Running 10s test @ http://127.0.0.1:8080/objects/1k
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  812.11us  25.30ms   91.12%
    Req/Sec    32.10k     2.01k   38.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.62ms
     99%    4.21ms
  638912 requests in 10.00s, 845.12MB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 17
Requests/sec:  63871.55
Transfer/sec:     84.49MB
`

func TestParseWrk(t *testing.T) {
	r, err := ParseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{RPS: 63871.55, P50: 812 * time.Microsecond, P99: 4210 * time.Microsecond,
		Requests: 638912, Non2xx: 17, Errors: 6, Tool: "wrk"}
	if r != want {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
}

func TestParseWrkRejects(t *testing.T) {
	for _, tc := range []struct{ name, out string }{
		{"empty", ""},
		{"connection refused", "unable to connect to 127.0.0.1:1 Connection refused\n"},
		{"no latency flag", "Requests/sec: 100.0\n"},
		{"missing p99", "50% 1ms\nRequests/sec: 100\n"},
		{"bad rps", "50% 1ms\n99% 2ms\nRequests/sec: lots\n"},
		{"negative rps", "50% 1ms\n99% 2ms\nRequests/sec: -5\n"},
		{"bad unit", "50% 1parsec\n99% 2ms\nRequests/sec: 5\n"},
		{"no unit", "50% 12\n99% 2ms\nRequests/sec: 5\n"},
		{"absurd value", "50% 1e300s\n99% 2ms\nRequests/sec: 5\n"},
		{"bad socket errors", wrkSample + "Socket errors: connect x, read 0\n"},
		{"binary garbage", strings.Repeat("\x00\xff%%", 10000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := ParseWrk(tc.out); err == nil {
				t.Fatalf("accepted: %+v", r)
			}
		})
	}
}

func TestParseWrkDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"812.00us", 812 * time.Microsecond},
		{"1.50ms", 1500 * time.Microsecond},
		{"2.00s", 2 * time.Second},
		{"1.50m", 90 * time.Second},
		{"0.00us", 0},
	} {
		got, err := parseWrkDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}
