package sandbox

import "errors"

// Errors of the sandbox. Result.Err of an execution error wraps one of the
// worker errors, so callers branch with errors.Is, never on text.
var (
	// ErrNotLoaded: Invoke or Unload of a version that is not loaded.
	ErrNotLoaded = errors.New("function version not loaded")
	// ErrClosed: the Manager is closed.
	ErrClosed = errors.New("sandbox manager closed")
	// ErrCompile: the function does not compile (or its init fails).
	ErrCompile = errors.New("function does not compile")
	// ErrTimeout: the handler ran past its timeout.
	ErrTimeout = errors.New("function timed out")
	// ErrPanic: the handler panicked.
	ErrPanic = errors.New("function panicked")
	// ErrHandler: the handler returned an error.
	ErrHandler = errors.New("function returned an error")
	// ErrWorkerCrashed: the worker process died (stack overflow, fatal
	// runtime error, killed) while running the invocation.
	ErrWorkerCrashed = errors.New("sandbox worker crashed")
	// ErrMemoryLimit: the worker went over the function's memory limit and
	// was killed.
	ErrMemoryLimit = errors.New("function exceeded its memory limit")
	// ErrUnresponsive: the worker did not answer in time and was killed.
	ErrUnresponsive = errors.New("sandbox worker unresponsive")
	// ErrConcurrency: the function's concurrency limit is reached.
	ErrConcurrency = errors.New("function concurrency limit exceeded")
	// ErrRanAfterReturn: the worker kept using CPU while no invocation was
	// in flight (handler code still running after its invocation
	// returned); it was killed and is recycled.
	ErrRanAfterReturn = errors.New("handler code ran after its invocation returned")
)
