package replica_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgelab/edgelab/edgenode"
	"github.com/edgelab/edgelab/edgenode/replica"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
	"github.com/edgelab/edgelab/sandbox"
)

// BenchmarkApplyOneChange measures what one published version costs a node
// that holds held function versions of 20 KB each: the replica client takes
// a Delta (put the new version, repoint its distribution, delete the old
// version), the node compiles it and the client persists it. Reported per op:
//
//	written-B/op  bytes written to the state dir, from /proc/self/io wchar
//	              (every write(2) of the process; the benchmark writes nothing else)
//	cpu-us/op     user+system CPU of the process (getrusage), GC included
//
//	go test -run '^$' -bench BenchmarkApplyOneChange -benchtime 200x ./edgenode/replica/
func BenchmarkApplyOneChange(b *testing.B) {
	for _, held := range []int{10, 1000, 10000} {
		b.Run("versions="+strconv.Itoa(held), func(b *testing.B) { benchApplyOneChange(b, held) })
	}
}

// versionsPerDist is how many functions each benchmark distribution uses
// (one per behavior).
const versionsPerDist = 10

func benchApplyOneChange(b *testing.B, held int) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := edgenode.New(edgenode.Config{NodeID: "bench", Region: "us-east-1", PoP: "IAD",
		ListenAddr: "127.0.0.1:0", Runner: nopRunner{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { node.Close() })
	c, err := replica.New(replica.Config{DialOptions: []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, NodeID: "bench", Endpoints: []string{"127.0.0.1:1"},
		StateDir: b.TempDir(), Applier: node, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Repeat("// 20 KB of handler source.\n", 20*1024/28+1)[:20*1024])
	fv := func(i, v int) *edgelabv1.FunctionVersion {
		return &edgelabv1.FunctionVersion{Name: fmt.Sprintf("fn%05d", i), Version: int64(v),
			Sha256: fmt.Sprintf("%05d-%d", i, v), Files: []*edgelabv1.SourceFile{{Name: "fn.go", Content: body}}}
	}
	versions := make([]int, held) // current version of function i
	snap := &edgelabv1.Snapshot{Revision: 1}
	for i := range held {
		versions[i] = 1
		snap.Functions = append(snap.Functions, fv(i, 1))
	}
	for d := 0; d*versionsPerDist < held; d++ {
		snap.Distributions = append(snap.Distributions, benchDist(d, versions))
	}
	if ack := c.HandleForTest(ctx, &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Snapshot{Snapshot: snap}}); !ack.GetOk() {
		b.Fatalf("snapshot not applied: %v", ack)
	}
	rev := int64(1)
	wchar0, cpu0 := procWritten(b), cpuMicros(b)
	b.ResetTimer()
	for i := range b.N {
		f := i % held
		old := versions[f]
		versions[f]++
		d := &edgelabv1.Delta{PrevRevision: rev, Revision: rev + 1, Changes: []*edgelabv1.Change{
			{Change: &edgelabv1.Change_PutFunction{PutFunction: fv(f, versions[f])}},
			{Change: &edgelabv1.Change_DeleteFunction{DeleteFunction: &edgelabv1.FunctionRef{Name: fmt.Sprintf("fn%05d", f), Version: int64(old)}}},
			{Change: &edgelabv1.Change_PutDistribution{PutDistribution: benchDist(f/versionsPerDist, versions)}},
		}}
		rev++
		if ack := c.HandleForTest(ctx, &edgelabv1.StreamResponse{Msg: &edgelabv1.StreamResponse_Delta{Delta: d}}); !ack.GetOk() {
			b.Fatalf("revision %d not applied: %v", rev, ack)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(procWritten(b)-wchar0)/float64(b.N), "written-B/op")
	b.ReportMetric(float64(cpuMicros(b)-cpu0)/float64(b.N), "cpu-us/op")
	if node.Revision() != rev {
		b.Fatalf("node at revision %d, want %d", node.Revision(), rev)
	}
}

// benchDist is distribution d: one behavior per function it uses, each
// running the function's current version at viewer-request.
func benchDist(d int, versions []int) *edgelabv1.Distribution {
	pd := &edgelabv1.Distribution{Id: fmt.Sprintf("d%04d", d), Domains: []string{fmt.Sprintf("d%04d.example", d)},
		Origins: []*edgelabv1.Origin{{Id: "o", Url: "http://127.0.0.1:1"}}}
	for i := d * versionsPerDist; i < min((d+1)*versionsPerDist, len(versions)); i++ {
		pd.Behaviors = append(pd.Behaviors, &edgelabv1.Behavior{Path: fmt.Sprintf("/f%d/*", i), Origin: "o",
			Functions: []*edgelabv1.Association{{EventType: edgelabv1.EventType_EVENT_TYPE_VIEWER_REQUEST,
				Function: fmt.Sprintf("fn%05d", i), Version: int64(versions[i])}}})
	}
	pd.Behaviors = append(pd.Behaviors, &edgelabv1.Behavior{Path: "default", Origin: "o"})
	return pd
}

// procWritten is the process's wchar: bytes passed to write(2) and friends.
func procWritten(b *testing.B) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatalf("parsing wchar %q: %v", v, err)
			}
			return n
		}
	}
	b.Fatal("no wchar in /proc/self/io")
	return 0
}

// cpuMicros is the process's user+system CPU time in microseconds.
func cpuMicros(b *testing.B) int64 {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}

// nopRunner loads every version and is never invoked (the benchmark serves no requests).
type nopRunner struct{}

func (nopRunner) Load(context.Context, sandbox.Code) error { return nil }
func (nopRunner) Unload(string, int64)                     {}
func (nopRunner) Invoke(context.Context, sandbox.Invocation) (sandbox.Result, error) {
	return sandbox.Result{}, fmt.Errorf("nopRunner does not invoke")
}
