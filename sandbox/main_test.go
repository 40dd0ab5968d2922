package sandbox

import (
	"os"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// envWorkerCPUProfile, set for a benchmark run, makes every worker the
// test binary starts write a CPU profile of its first seconds to
// <value>.<pid> (the workers are killed, not exited, so the profile is
// cut after workerProfileFor).
const envWorkerCPUProfile = "EDGELAB_TEST_WORKER_CPUPROFILE"

const workerProfileFor = 3 * time.Second

// envWorkerUnchecked, set in a worker's environment (ManagerConfig.WorkerEnv),
// makes the test binary's worker skip the static checks at load: the
// runtime checks' tests give it code that validation would refuse.
const envWorkerUnchecked = "EDGELAB_TEST_WORKER_UNCHECKED"

func TestMain(m *testing.M) {
	if prefix := os.Getenv(envWorkerCPUProfile); prefix != "" && os.Getenv(EnvWorker) != "" {
		if f, err := os.Create(prefix + "." + strconv.Itoa(os.Getpid())); err == nil && pprof.StartCPUProfile(f) == nil {
			time.AfterFunc(workerProfileFor, func() {
				pprof.StopCPUProfile()
				_ = f.Close()
			})
		}
	}
	if addr := os.Getenv(EnvWorker); addr != "" && os.Getenv(envWorkerUnchecked) != "" {
		os.Exit(runWorker(addr, workerOptions{unchecked: true}))
	}
	MaybeRunWorker()
	os.Exit(m.Run())
}
