package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/edgelab/edgelab/edge"
)

// CheckConfig configures Check. The zero value of every field means its
// documented default.
type CheckConfig struct {
	// WorkerCommand is the worker's argv. Zero: os.Executable().
	WorkerCommand []string
	// WorkerEnv is added to the worker's environment.
	WorkerEnv []string
	// Timeout bounds starting the worker and compiling (init functions
	// included). Zero: 10s.
	Timeout time.Duration
	// MemoryMB is the worker's memory limit while compiling. Zero: 256.
	MemoryMB int
	// MaxStackMB is the worker's goroutine stack limit. Zero: 16.
	MaxStackMB int
	// Logger receives worker lifecycle logs. Nil: discarded.
	Logger *slog.Logger
}

// Check compiles code in a short-lived worker process and returns the
// event types it exports. The control plane calls it on create, update and
// publish: an init function that never returns, a huge package-level
// allocation or a compiler crash fails with an error (wrapping ErrCompile)
// instead of hanging or killing the caller. Errors name the function and,
// when yaegi gives positions, file:line.
func Check(ctx context.Context, cfg CheckConfig, code Code) ([]edge.EventType, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 256
	}
	if cfg.MaxStackMB <= 0 {
		cfg.MaxStackMB = defaultMaxStackMB
	}
	if len(cfg.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding the worker executable: %w", err)
		}
		cfg.WorkerCommand = []string{exe}
	}
	label := fmt.Sprintf("%s:%d", code.Name, code.Version)
	if code.Version == 0 {
		label = code.Name
	}
	// Static checks first (syntax, import allowlist, go statements,
	// constructs that crash yaegi 0.16, signatures): they never run code.
	if _, err := ValidateSource(code.Files); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCompile, label, err)
	}
	p, err := startProc(procConfig{
		command:      cfg.WorkerCommand,
		env:          cfg.WorkerEnv,
		memoryMB:     cfg.MemoryMB,
		pollInterval: 10 * time.Millisecond,
		maxStackMB:   cfg.MaxStackMB,
		name:         label,
		logger:       cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", label, err)
	}
	defer p.stop(nil)
	entries, err := loadInto(ctx, p, code, 1, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	return entries, nil
}
