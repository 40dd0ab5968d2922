package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgelab/edgelab/eventtype"

	"github.com/edgelab/edgelab/edge"
	edgelabv1 "github.com/edgelab/edgelab/proto/edgelab/v1"
)

const trivialSrc = hdr + `
func ViewerRequest(ctx context.Context, req *edge.Request) (*edge.Response, error) {
	req.Header.Set("X-Hello", "edge")
	return nil, nil
}
`

func benchInv() Invocation {
	return Invocation{Function: "trivial", Version: 1, Event: edge.ViewerRequest,
		Request: &edge.Request{Method: "GET", URI: "/index.html", Header: http.Header{
			"Accept": {"text/html"}, "User-Agent": {"bench"}, "Host": {"demo.edgelab.test"}}},
		Info: edge.Info{RequestID: "r", Region: "eu-west-1", PoP: "DUB"}}
}

// reportPercentiles adds p50/p99 (µs) of the samples to the benchmark.
func reportPercentiles(b *testing.B, samples []time.Duration, unit string) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds()), "p50-"+unit)
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds()), "p99-"+unit)
}

func runBench(b *testing.B, r Runner) {
	ctx := context.Background()
	inv := benchInv()
	if _, err := r.Invoke(ctx, inv); err != nil { // warm
		b.Fatal(err)
	}
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		res, err := r.Invoke(ctx, inv)
		samples = append(samples, time.Since(start))
		if err != nil || res.Outcome != OutcomeContinue {
			b.Fatalf("%v %+v", err, res)
		}
	}
	b.StopTimer()
	reportPercentiles(b, samples, "us")
}

// BenchmarkWarmWorker: a trivial viewer-request through the worker (IPC,
// proto conversion both ways, interpreter call).
func BenchmarkWarmWorker(b *testing.B) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
		b.Fatal(err)
	}
	runBench(b, m)
}

// BenchmarkWarmInProcess: the same handler called through yaegi in the
// calling process (what isolation costs is the difference).
func BenchmarkWarmInProcess(b *testing.B) {
	r := NewInProcess(InProcessConfig{})
	if err := r.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
		b.Fatal(err)
	}
	runBench(b, r)
}

// BenchmarkWarmWorkerParallel: concurrent invocations on one worker.
func BenchmarkWarmWorkerParallel(b *testing.B) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}, MaxConcurrency: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
		b.Fatal(err)
	}
	inv := benchInv()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res, err := m.Invoke(context.Background(), inv); err != nil || res.Outcome != OutcomeContinue {
				b.Errorf("%v %+v", err, res)
				return
			}
		}
	})
}

// BenchmarkWarmWorkerConcurrent: 32 concurrent callers on one worker
// (what the edge node does under load), per interpreter pool size; the
// IPC batches frames when calls overlap.
func BenchmarkWarmWorkerConcurrent(b *testing.B) {
	for _, interpreters := range []int{4, 8, 16} {
		b.Run("interpreters="+strconv.Itoa(interpreters), func(b *testing.B) {
			m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}, MaxConcurrency: 1024, InterpretersPerWorker: interpreters,
				WorkerEnv: strings.Fields(os.Getenv("EDGELAB_TEST_WORKER_ENV"))})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
				b.Fatal(err)
			}
			inv := benchInv()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res, err := m.Invoke(context.Background(), inv); err != nil || res.Outcome != OutcomeContinue {
						b.Errorf("%v %+v", err, res)
						return
					}
				}
			})
			reportWorkerMemory(b, m)
		})
	}
}

// BenchmarkColdStart: start a worker, compile, first invocation.
func BenchmarkColdStart(b *testing.B) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	var samples []time.Duration
	i := 0
	for b.Loop() {
		i++
		c := code("cold"+strconv.Itoa(i), trivialSrc)
		inv := benchInv()
		inv.Function = c.Name
		start := time.Now()
		if err := m.Load(ctx, c); err != nil {
			b.Fatal(err)
		}
		res, err := m.Invoke(ctx, inv)
		samples = append(samples, time.Since(start))
		if err != nil || !res.Cold {
			b.Fatalf("%v %+v", err, res)
		}
		m.Unload(c.Name, c.Version)
	}
	reportPercentiles(b, samples, "us")
}

// BenchmarkWorkerRSS reports the RSS of a worker with one interpreter
// after a few invocations.
func BenchmarkWorkerRSS(b *testing.B) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}, InterpretersPerWorker: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Invoke(context.Background(), benchInv()); err != nil {
			b.Fatal(err)
		}
	}
	reportWorkerMemory(b, m)
}

// reportWorkerMemory adds the RSS and private memory of m's only worker.
func reportWorkerMemory(b *testing.B, m *Manager) {
	pids := m.WorkerPIDs()
	if len(pids) != 1 {
		b.Fatalf("pids %v", pids)
	}
	rss, err := procRSS(pids[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rss)/(1<<20), "RSS-MB")
	// Private memory is the real per-worker cost: the binary's text pages
	// in RSS are shared with the host and every other worker.
	if rollup, err := os.ReadFile("/proc/" + strconv.Itoa(pids[0]) + "/smaps_rollup"); err == nil {
		var private int64
		for line := range strings.SplitSeq(string(rollup), "\n") {
			for _, k := range []string{"Private_Clean:", "Private_Dirty:"} {
				if rest, ok := strings.CutPrefix(line, k); ok {
					kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
					private += kb << 10
				}
			}
		}
		b.ReportMetric(float64(private)/(1<<20), "private-MB")
	}
}

// BenchmarkIPCOnly: an invocation of an event type the function does not
// export, so the worker answers without calling a handler: the floor of
// the IPC design (frame out, worker dispatch, frame back).
func BenchmarkIPCOnly(b *testing.B) {
	m, err := NewManager(ManagerConfig{WorkerCommand: []string{os.Args[0]}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Load(context.Background(), code("trivial", trivialSrc)); err != nil {
		b.Fatal(err)
	}
	inv := benchInv()
	inv.Event = edge.OriginRequest
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := m.Invoke(context.Background(), inv); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	reportPercentiles(b, samples, "us")
}

// BenchmarkFrameCodec: encoding and decoding one invoke frame (the CPU
// part of the IPC, without the socket): through the generated proto code
// and the proto converters (the previous IPC), and through the hand codec
// (wire.go, what the IPC uses).
func BenchmarkFrameCodec(b *testing.B) {
	inv := benchInv()
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		w := newFrameWriter(&buf)
		r := newFrameReader(&buf)
		for b.Loop() {
			frame := &edgelabv1.WorkerFrame{Id: 1, Msg: &edgelabv1.WorkerFrame_Invoke{Invoke: &edgelabv1.WorkerInvoke{
				EventType: eventtype.ToProto(inv.Event), Request: RequestToProto(inv.Request), Info: infoToProto(inv.Info)}}}
			if err := w.write(frame, 0); err != nil {
				b.Fatal(err)
			}
			f, err := r.read()
			if err != nil {
				b.Fatal(err)
			}
			_ = RequestFromProto(f.GetInvoke().GetRequest())
			_ = infoFromProto(f.GetInvoke().GetInfo(), inv.Event)
		}
	})
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		w := newFrameWriter(&buf)
		r := newFrameReader(&buf)
		for b.Loop() {
			if err := w.send(&invokeMsg{event: inv.Event, req: inv.Request, info: inv.Info}, 1, 0, false); err != nil {
				b.Fatal(err)
			}
			f, err := r.readFrame()
			if err != nil {
				b.Fatal(err)
			}
			_ = f.invoke.req
		}
	})
}
