// Package sandbox runs edge functions: Go packages interpreted by yaegi,
// isolated in worker processes, with Lambda@Edge's limits and errors.
//
// The control plane calls ValidateSource (static checks, no code runs) and
// Check (compiles in a short-lived child process, so an init function that
// never returns or a huge package-level allocation fails with an error
// instead of hurting the caller). The edge node uses a Manager through the
// Runner interface.
//
// Data path of one invocation:
//
//	edge node ── Runner.Invoke ──► Manager
//	   │  concurrency gate per version (MaxConcurrency → LambdaLimitExceeded)
//	   │  worker for name:version (started on Load; restarted, cold, after a
//	   │  crash, a memory kill, a stuck timeout or an idle reap)
//	   │  interpreter slot (InterpretersPerWorker)
//	   ▼
//	WorkerFrame{WorkerInvoke} ── 4-byte length + protobuf, over a socketpair ──►
//	worker process (the calling binary re-executed: MaybeRunWorker;
//	   │  GOMAXPROCS=1 unless WorkerMaxProcs says otherwise)
//	   │  interpreter pool (one invocation at a time per interpreter)
//	   │  handler(edge.NewContext(ctx, info, runtime), req[, resp]) under recover
//	   │  timeout: the interpreter is cancelled and discarded; if it does not
//	   │  unwind, the reply says so and the host recycles the process
//	   ▼
//	WorkerFrame{WorkerInvokeResult} ──► Result ── ValidateResult ──► edge node
//
// The invoke and result frames are encoded and decoded by hand (wire.go),
// straight from and to the edge types, in the same wire format; frames
// queued while a write is in progress go out in the next single write, on
// both sides. Both sides read and write the socket with raw system calls
// (rawReader): they skip the runtime's system-call bookkeeping, which woke
// the idle worker's sysmon thread after every batch. A worker keeps a
// 100 ms ticker instead, so sysmon still preempts a handler that loops.
//
// An interpreter's symbol table holds the edge SDK and the allowlisted
// standard packages; only the ones the function imports when it imports
// none of fmt, slices or maps (with fmt in the table, yaegi compiles its
// generic standard-library source into every interpreter: about 1 MB
// each, and compile time at every cold start).
//
// Isolation: the host watches every worker's anonymous RSS (resident minus
// shared pages in /proc/<pid>/statm, i.e. RssAnon: heap and stacks, not
// the binary's shared text) and
// kills a worker over the function's memory limit (GOMEMLIMIT is set too).
// With ManagerConfig.MemoryCgroup ("auto" in cmd/edgenode and cmd/edgelab)
// each worker also gets a memory cgroup of its own with that limit
// (package memcg: v2 memory.max or v1 memory.limit_in_bytes), so the
// kernel stops an allocation faster than the watchdog's sampling, and the
// group's oom_kill counter turns that kill into ErrMemoryLimit. The
// worker's maximum stack is lowered so runaway recursion dies fast. A
// dead worker fails only its in-flight invocations (LambdaExecutionError
// wrapping ErrWorkerCrashed or ErrMemoryLimit). Workers get SIGKILL when
// the host dies (Pdeathsig) and Close kills and reaps them all.
//
// Every binary that may start workers calls MaybeRunWorker first in main
// (and TestMain), before anything else:
//
//	func main() {
//		sandbox.MaybeRunWorker()
//		...
//	}
//
// InProcess runs the same engine without a worker; it is for benchmarks
// only (no crash or memory isolation).
package sandbox
