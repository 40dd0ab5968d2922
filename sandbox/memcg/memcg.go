// Package memcg puts sandbox worker processes under a memory limit the
// kernel enforces, with Linux memory cgroups: memory.max on cgroup v2,
// memory.limit_in_bytes (and memory.memsw.limit_in_bytes) on v1.
//
// The host's RSS watchdog (package sandbox) samples a worker every few
// milliseconds; a handler that allocates a gigabyte in one go can outrun it
// and take the machine's memory with it. A cgroup limit cannot be outrun:
// the kernel's OOM killer stops the worker at the limit, and the host reads
// the group's oom_kill counter to report it as a memory-limit error.
//
// A Parent is a cgroup directory the process creates for its workers
// (edgelab-<pid>-<random> under its own cgroup, or under a directory it is
// given); each worker gets a Group inside it, removed when the worker is
// gone. Creating cgroups needs write access to the cgroup filesystem (root
// outside a container, or a delegated subtree); where that is missing Auto
// returns an error saying why and the caller keeps the watchdog alone.
//
// The tests exercise whichever hierarchy the machine has (they skip, saying
// why, where no cgroup can be created; EDGELAB_REQUIRE_CGROUPS=1 makes that
// a failure). `make memcg-v2` runs them on a cgroup v2 kernel in a qemu VM
// for machines whose own hierarchy is v1.
package memcg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is the cgroup hierarchy version: 1 or 2.
type Version int

// Parent is a cgroup directory this process created to hold one memory
// cgroup per worker. It is safe for concurrent use; Close removes it.
type Parent struct {
	dir     string
	version Version
}

// Dir is the parent cgroup's directory.
func (p *Parent) Dir() string { return p.dir }

// Version is the hierarchy version the parent lives in.
func (p *Parent) Version() Version { return p.version }

// String describes the parent for logs ("cgroup v2 /sys/fs/cgroup/...").
func (p *Parent) String() string { return fmt.Sprintf("cgroup v%d %s", p.version, p.dir) }

// Auto finds the memory cgroup this process runs in (from /proc/self/cgroup
// and /proc/self/mountinfo) and creates a parent for workers under it. On
// cgroup v2 the process's own cgroup must already delegate the memory
// controller to its children (memory in cgroup.subtree_control), or allow
// enabling it, which the kernel refuses while the cgroup has processes
// of its own; give Under a delegated directory then.
func Auto() (*Parent, error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("memory cgroups: %w", err)
	}
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("memory cgroups: %w", err)
	}
	base, _, err := findBase(mountinfo, self)
	if err != nil {
		return nil, err
	}
	return Under(base)
}

// Under creates a parent for workers inside dir, an existing cgroup
// directory (v1 memory hierarchy or v2) this process may write to.
func Under(dir string) (*Parent, error) {
	v, err := versionOf(dir)
	if err != nil {
		return nil, err
	}
	if v == 2 {
		if err := enableMemory(dir); err != nil {
			return nil, err
		}
	}
	removeStale(dir)
	d, err := os.MkdirTemp(dir, "edgelab-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("memory cgroups: creating a cgroup under %s: %w", dir, err)
	}
	p := &Parent{dir: d, version: v}
	if v == 2 {
		if err := enableMemory(d); err != nil {
			_ = os.Remove(d)
			return nil, err
		}
	}
	return p, nil
}

// Close removes the parent and any worker groups left in it (their
// processes must be gone). Later New calls fail.
func (p *Parent) Close() error {
	entries, _ := os.ReadDir(p.dir)
	for _, e := range entries {
		if e.IsDir() {
			_ = removeGroup(filepath.Join(p.dir, e.Name()))
		}
	}
	if err := removeGroup(p.dir); err != nil {
		return fmt.Errorf("memory cgroups: removing %s: %w", p.dir, err)
	}
	return nil
}

// Group is one worker's memory cgroup.
type Group struct {
	dir     string
	version Version
}

// Dir is the group's directory.
func (g *Group) Dir() string { return g.dir }

// New creates a group limited to limitBytes (swap included, where the
// kernel accounts it). name labels the directory ("auth:3").
func (p *Parent) New(name string, limitBytes int64) (*Group, error) {
	if limitBytes <= 0 {
		return nil, fmt.Errorf("memory cgroups: limit must be positive, got %d", limitBytes)
	}
	d, err := os.MkdirTemp(p.dir, sanitize(name)+"-")
	if err != nil {
		return nil, fmt.Errorf("memory cgroups: creating the group for %s: %w", name, err)
	}
	g := &Group{dir: d, version: p.version}
	limit := strconv.FormatInt(limitBytes, 10)
	if p.version == 2 {
		err = writeFile(d, "memory.max", limit)
		if err == nil {
			// No swap: over the limit is over the limit. Absent without
			// swap accounting.
			if e := writeFile(d, "memory.swap.max", "0"); e != nil && !errors.Is(e, os.ErrNotExist) {
				err = e
			}
		}
	} else {
		err = writeFile(d, "memory.limit_in_bytes", limit)
		if err == nil {
			// memsw (memory+swap) must be set after, and at least, the
			// memory limit; absent without swap accounting.
			if e := writeFile(d, "memory.memsw.limit_in_bytes", limit); e != nil && !errors.Is(e, os.ErrNotExist) {
				err = e
			}
		}
	}
	if err != nil {
		_ = os.Remove(d)
		return nil, fmt.Errorf("memory cgroups: limiting %s: %w", name, err)
	}
	return g, nil
}

// Add moves a process into the group. Memory it already holds stays
// charged where it was; what it allocates from now on counts against the
// limit, so a worker is added before it is given code to run.
func (g *Group) Add(pid int) error {
	if err := writeFile(g.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("memory cgroups: adding pid %d: %w", pid, err)
	}
	return nil
}

// OOMKills returns how many processes of the group the kernel's OOM killer
// killed (memory.events on v2, memory.oom_control on v1).
func (g *Group) OOMKills() (int64, error) {
	file := "memory.events"
	if g.version == 1 {
		file = "memory.oom_control"
	}
	b, err := os.ReadFile(filepath.Join(g.dir, file))
	if err != nil {
		return 0, fmt.Errorf("memory cgroups: %w", err)
	}
	n, ok := keyedValue(b, "oom_kill")
	if !ok {
		return 0, fmt.Errorf("memory cgroups: no oom_kill counter in %s (kernel older than 4.13?)", file)
	}
	return n, nil
}

// Remove deletes the group; its processes must have exited. The kernel
// may report a just-reaped process's group busy for a moment, so Remove
// retries for up to about a second.
func (g *Group) Remove() error {
	if err := removeGroup(g.dir); err != nil {
		return fmt.Errorf("memory cgroups: removing %s: %w", g.dir, err)
	}
	return nil
}

func removeGroup(dir string) error {
	delay := time.Millisecond
	for tries := 0; ; tries++ {
		err := syscall.Rmdir(dir)
		switch {
		case err == nil || errors.Is(err, syscall.ENOENT):
			return nil
		case errors.Is(err, syscall.EBUSY) && tries < 10:
			time.Sleep(delay)
			delay *= 2
		default:
			return err
		}
	}
}

// findBase returns the directory of this process's memory cgroup, given
// the contents of /proc/self/mountinfo and /proc/self/cgroup: the v1
// memory hierarchy when one is mounted, else the v2 unified hierarchy.
func findBase(mountinfo, self []byte) (string, Version, error) {
	var v1Path, v2Path string
	haveV1, haveV2 := false, false
	for line := range strings.SplitSeq(string(self), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2Path, haveV2 = parts[2], true
		case hasItem(parts[1], "memory"):
			v1Path, haveV1 = parts[2], true
		}
	}
	type mount struct{ root, point string }
	var v1Mount, v2Mount *mount
	for line := range strings.SplitSeq(string(mountinfo), "\n") {
		// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		m := &mount{root: unescape(f[3]), point: unescape(f[4])}
		switch {
		case g[0] == "cgroup" && hasItem(g[2], "memory") && v1Mount == nil:
			v1Mount = m
		case g[0] == "cgroup2" && v2Mount == nil:
			v2Mount = m
		}
	}
	// The path in /proc/self/cgroup is relative to the hierarchy's root (as
	// this process's cgroup namespace sees it); a mount shows the part of the
	// hierarchy from its root field down (a container's own cgroup, say).
	join := func(m *mount, path string) (string, error) {
		if m.root == "/" {
			return filepath.Join(m.point, path), nil
		}
		if path == m.root || strings.HasPrefix(path, m.root+"/") {
			return filepath.Join(m.point, strings.TrimPrefix(path, m.root)), nil
		}
		return "", fmt.Errorf("memory cgroups: this process's cgroup %s is outside the mounted part %s of the hierarchy (at %s)", path, m.root, m.point)
	}
	switch {
	case haveV1 && v1Mount != nil:
		dir, err := join(v1Mount, v1Path)
		return dir, 1, err
	case haveV2 && v2Mount != nil && !haveV1:
		dir, err := join(v2Mount, v2Path)
		return dir, 2, err
	case haveV1:
		return "", 0, errors.New("memory cgroups: the v1 memory controller is not mounted")
	case haveV2:
		return "", 0, errors.New("memory cgroups: cgroup v2 is not mounted")
	default:
		return "", 0, errors.New("memory cgroups: this process is in no memory cgroup")
	}
}

// versionOf tells a v1 memory hierarchy directory from a v2 one.
func versionOf(dir string) (Version, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return 0, fmt.Errorf("memory cgroups: %w", err)
	}
	if !st.IsDir() {
		return 0, fmt.Errorf("memory cgroups: %s is not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.controllers")); err == nil {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil {
			return 0, fmt.Errorf("memory cgroups: %w", err)
		}
		if !hasWord(string(b), "memory") {
			return 0, fmt.Errorf("memory cgroups: the memory controller is not available in %s (cgroup.controllers: %q)", dir, strings.TrimSpace(string(b)))
		}
		return 2, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "memory.limit_in_bytes")); err == nil {
		return 1, nil
	}
	return 0, fmt.Errorf("memory cgroups: %s is neither a cgroup v2 directory nor in a v1 memory hierarchy", dir)
}

// enableMemory makes the memory controller available to dir's children.
func enableMemory(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("memory cgroups: %w", err)
	}
	if hasWord(string(b), "memory") {
		return nil
	}
	if err := writeFile(dir, "cgroup.subtree_control", "+memory"); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("memory cgroups: cannot delegate the memory controller below %s: the cgroup has processes of its own (cgroup v2 allows controllers only below cgroups without processes); give a delegated cgroup directory: %w", dir, err)
		}
		return fmt.Errorf("memory cgroups: enabling the memory controller below %s: %w", dir, err)
	}
	return nil
}

// removeStale removes the parents left under dir by processes that died
// without cleaning up (a crash or SIGKILL), with the groups inside them.
func removeStale(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidStr, ok := strings.CutPrefix(e.Name(), "edgelab-")
		if !e.IsDir() || !ok {
			continue
		}
		pidStr, _, _ = strings.Cut(pidStr, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // not ours, or its owner is alive
		}
		stale := filepath.Join(dir, e.Name())
		groups, _ := os.ReadDir(stale)
		for _, g := range groups {
			if g.IsDir() {
				_ = syscall.Rmdir(filepath.Join(stale, g.Name()))
			}
		}
		_ = syscall.Rmdir(stale)
	}
}

func writeFile(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, filepath.Join(dir, name), err)
	}
	return nil
}

// keyedValue reads "key value" lines (memory.events, memory.oom_control).
func keyedValue(b []byte, key string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func hasItem(list, item string) bool {
	for it := range strings.SplitSeq(list, ",") {
		if it == item {
			return true
		}
	}
	return false
}

func hasWord(s, w string) bool {
	for f := range strings.FieldsSeq(s) {
		if f == w {
			return true
		}
	}
	return false
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// sanitize keeps a name usable as a directory name.
func sanitize(name string) string {
	out := []byte(name)
	for i, c := range out {
		if c == '/' || c == 0 || c == '\n' || c == ' ' {
			out[i] = '_'
		}
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return string(out)
}
