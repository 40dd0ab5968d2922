package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// A worker makes no network connection of its own: the host performs its
// fetches (fetchproxy.go). Where the platform allows it, the worker runs
// in a network namespace of its own (with a user namespace that maps the
// host's uid and gid to themselves, so no privilege is needed), which
// holds only a loopback interface that is down: code that escaped the
// interpreter still reaches nothing. Where it is refused (a container
// whose seccomp profile forbids new namespaces, a kernel without user
// namespaces), the worker shares the host's network, and the Manager says
// so once in its log and in WorkerNetworkIsolated.

// networkIsolation is one Manager's record of whether workers get their
// own network namespace: tried for the first worker, and not again once
// refused. Safe for concurrent use.
type networkIsolation struct {
	logger *slog.Logger

	mu      sync.Mutex
	refused error // why the platform refused; nil: not refused (yet)
	worked  bool
}

// isolated reports whether the last worker started got its own network
// namespace, and why not when it did not.
func (n *networkIsolation) isolated() (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.worked && n.refused == nil, n.refused
}

// startWorkerCmd starts the command newCmd builds, in new user and
// network namespaces unless n is nil or the platform refused them before;
// when the platform refuses now, it is started again without them.
func startWorkerCmd(newCmd func() *exec.Cmd, n *networkIsolation) (*exec.Cmd, error) {
	if n == nil || n.wasRefused() {
		cmd := newCmd()
		return cmd, cmd.Start()
	}
	cmd := newCmd()
	isolateNetwork(cmd.SysProcAttr)
	err := cmd.Start()
	if err == nil || !namespaceRefused(err) {
		if err == nil {
			n.mu.Lock()
			n.worked = true
			n.mu.Unlock()
		}
		return cmd, err
	}
	n.refuse(err)
	cmd = newCmd()
	return cmd, cmd.Start()
}

// isolateNetwork asks for new user and network namespaces, mapping the
// current uid and gid to themselves.
func isolateNetwork(a *syscall.SysProcAttr) {
	a.Cloneflags |= syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
	a.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
	a.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
	a.GidMappingsEnableSetgroups = false
}

// namespaceRefused reports whether a start failed because new namespaces
// are not allowed here (as opposed to a missing binary, say).
func namespaceRefused(err error) bool {
	for _, e := range []syscall.Errno{syscall.EPERM, syscall.EACCES, syscall.EINVAL, syscall.ENOSPC, syscall.EUSERS, syscall.ENOSYS} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (n *networkIsolation) wasRefused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.refused != nil
}

func (n *networkIsolation) refuse(err error) {
	n.mu.Lock()
	first := n.refused == nil
	n.refused = fmt.Errorf("new user and network namespaces refused: %w", err)
	n.mu.Unlock()
	if first && n.logger != nil {
		n.logger.Warn("sandbox workers share the node's network namespace (their fetches still go through the node's egress policy)", "reason", err)
	}
}
