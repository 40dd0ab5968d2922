package controlplane

import (
	"context"
	"fmt"
	"net"
	"slices"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/test/bufconn"

	"github.com/edgelab/edgelab/access"
	"github.com/edgelab/edgelab/internal/poll"
	"github.com/edgelab/edgelab/pki"

	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

// BenchmarkPublishToAllAcked attaches many lightweight simulated nodes
// (replica.Client with a no-op Applier, no HTTP, no disk) to one control
// plane with the delay model off, and measures publish -> every node's ACK
// recorded by the control plane. Reports p50/p99 in ms. Targets: p99 <= 200 ms
// at 1,000 nodes and <= 2 s at 10,000 nodes on a quiet machine.
//
// The security=mtls runs serve the stream as the control plane does (mutual
// TLS from a lab CA, the access guard, identity checked against the
// certificate); security=plain is the same without TLS.
//
//	go test -run '^$' -bench PublishToAllAcked -benchtime 30x ./controlplane/
//	go test -run '^$' -bench 'PublishToAllAcked/nodes=1000/' -benchtime 30x ./controlplane/
func BenchmarkPublishToAllAcked(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, security := range []string{"plain", "mtls"} {
			if n > 1000 && security == "mtls" {
				continue // the in-memory listener of 10,000 nodes carries no TLS
			}
			b.Run(fmt.Sprintf("nodes=%d/security=%s", n, security), func(b *testing.B) { benchPublish(b, n, security == "mtls") })
		}
	}
}

func benchPublish(b *testing.B, n int, secure bool) {
	var creds *benchCreds
	if secure {
		creds = newBenchCreds(b)
	}
	l := newLabWith(b, 1, nil, "instant", creds.serverOptions)
	cp := l.cps[0]
	noop := replica.ApplierFunc(func(context.Context, *edgelabv1.Snapshot, []*edgelabv1.Invalidation) error { return nil })
	dial := memDialer(b, cp, n)
	for i := range n {
		id, region := fmt.Sprintf("sim-%05d", i), regions5[i%len(regions5)]
		c, err := replica.New(replica.Config{
			NodeID: id, Region: region, Endpoints: []string{cp.addr},
			Applier: noop, Logger: quietLogger(), HeartbeatInterval: 5 * time.Second, DialOptions: append(creds.node(b, id, region), dial...),
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Run(ctx) }()
		b.Cleanup(func() { cancel(); <-done })
	}
	allAt := func(rev int64) bool { return cp.r.nodes.allAttachedAt(rev, n) }
	setup := time.Now()
	rev := l.putDist(b, "warmup")
	poll.True(b, 5*time.Minute, "all nodes attached and acked", func() bool { return allAt(rev) })
	b.Logf("%d nodes attached and acked in %v", n, time.Since(setup).Round(time.Millisecond))
	// A check reads every node's revision under the registry's lock, which
	// the acks take too: poll less often with more nodes.
	pause := max(500*time.Microsecond, time.Duration(n/10)*time.Microsecond)
	var lat []time.Duration
	cpu0 := processCPU(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rev := l.putDist(b, "d", fmt.Sprintf("f:%d", i))
		for !allAt(rev) {
			if time.Since(start) > 30*time.Second {
				b.Fatalf("publish %d not acked by all nodes in 30s", i)
			}
			time.Sleep(pause)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// processCPU is the CPU time (user + system) the test process used so far:
// both sides of every stream run in it, so per publish it does not drift
// with the machine's load as the latencies do.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCreds is a lab CA for the benchmark's mTLS runs; a nil *benchCreds
// means plaintext.
type benchCreds struct {
	ca *pki.CA
}

func newBenchCreds(b *testing.B) *benchCreds {
	ca, err := pki.LoadOrCreateCA(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return &benchCreds{ca: ca}
}

// serverOptions are a replica's TLS credentials and access guard (nil for
// plaintext: serveReplicator then trusts the Hello).
func (c *benchCreds) serverOptions(l *lab) []grpc.ServerOption {
	if c == nil {
		return nil
	}
	src := pki.NewSource(c.ca, pki.Leaf{Identity: pki.Identity{Kind: pki.KindControlPlane, Name: "cp-0"}, Lifetime: time.Hour, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	st := &accessStore{kv: l.cli, keys: l.keys, replica: "cp-0", log: quietLogger(), now: time.Now}
	g := &access.Guard{Policy: accessPolicy(), Tokens: st, Certs: st}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(pki.APIServerTLS(c.ca.Pool(), src))), grpc.ChainStreamInterceptor(g.Stream)}
}

// node is how simulated node id dials: its own certificate, or plaintext.
func (c *benchCreds) node(b *testing.B, id, region string) []grpc.DialOption {
	if c == nil {
		return plaintext()
	}
	cl := access.Client{Pool: c.ca.Pool(), Cert: pki.NewSource(c.ca, pki.Leaf{Identity: pki.Identity{Kind: pki.KindNode, Region: region, Name: id},
		Lifetime: time.Hour, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})}
	opts, err := cl.DialOptions()
	if err != nil {
		b.Fatal(err)
	}
	return opts
}

// allAttachedAt reports whether n nodes are attached and every attached
// node applied rev or later. It allocates nothing, so the benchmark's
// polling costs the measured control plane little.
func (g *nodeRegistry) allAttachedAt(rev int64, n int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	attached := 0
	for _, e := range g.nodes {
		if !e.detachedAt.IsZero() {
			continue
		}
		if e.rec.Node.AppliedRevision < rev {
			return false
		}
		attached++
	}
	return attached >= n
}

// memDialer returns dial options that reach cp over an in-memory listener
// when n nodes over loopback TCP would need more file descriptors than a
// process usually has (two sockets per node); nil (loopback TCP) otherwise.
func memDialer(b *testing.B, cp *cpReplica, n int) []grpc.DialOption {
	if n <= 1000 {
		return nil
	}
	// bufconn allocates its whole buffer for each direction of every
	// connection up front: 64 KiB (gRPC's initial flow-control window)
	// keeps 10,000 connections at about 1.3 GB where 1 MiB took 20 GB.
	lis := bufconn.Listen(64 << 10)
	go func() { _ = cp.srv.Serve(lis) }()
	b.Cleanup(func() { _ = lis.Close() })
	return []grpc.DialOption{grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) })}
}
