// Command vminit is the init process of the throwaway VM in which
// scripts/memcg-v2-vm.sh runs package memcg's tests (and the sandbox's
// cgroup tests) on a real cgroup v2 kernel: machines whose own hierarchy
// is v1 (this project's CI machines among them) cannot exercise the v2
// path otherwise.
//
// It mounts /proc, /sys, /dev, /tmp and the cgroup v2 hierarchy, runs each
// test binary given on the kernel command line (vminit.run=/a.test,/b.test
// with vminit.args for their flags), prints "VMTEST PASS" or "VMTEST FAIL"
// on the console and powers the VM off. It is not useful anywhere else.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

func main() {
	con := console()
	ok := run(con)
	if ok {
		fmt.Fprintln(con, "VMTEST PASS")
	} else {
		fmt.Fprintln(con, "VMTEST FAIL")
	}
	syscall.Sync()
	_ = syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {} // init must not exit
}

func console() *os.File {
	_ = os.MkdirAll("/dev", 0o755)
	_ = syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	if f, err := os.OpenFile("/dev/console", os.O_RDWR, 0); err == nil {
		return f
	}
	return os.Stdout
}

func run(con *os.File) bool {
	mounts := []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2"},
		{"tmpfs", "/tmp", "tmpfs"},
	}
	for _, m := range mounts {
		_ = os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.src, m.dir, m.fs, 0, ""); err != nil {
			fmt.Fprintf(con, "vminit: mount %s on %s: %v\n", m.fs, m.dir, err)
			return false
		}
	}
	var uts syscall.Utsname
	_ = syscall.Uname(&uts)
	ctrl, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	fmt.Fprintf(con, "vminit: kernel %s, cgroup v2 controllers: %s", cstr(uts.Release[:]), ctrl)

	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		fmt.Fprintf(con, "vminit: %v\n", err)
		return false
	}
	var bins, args []string
	for f := range strings.FieldsSeq(string(cmdline)) {
		if v, ok := strings.CutPrefix(f, "vminit.run="); ok {
			bins = strings.Split(v, ",")
		}
		if v, ok := strings.CutPrefix(f, "vminit.args="); ok {
			args = strings.Split(v, ",")
		}
	}
	if len(bins) == 0 {
		fmt.Fprintln(con, "vminit: no vminit.run= on the kernel command line")
		return false
	}
	ok := true
	for _, bin := range bins {
		fmt.Fprintf(con, "vminit: running %s %s\n", bin, strings.Join(args, " "))
		cmd := exec.Command(bin, args...)
		cmd.Dir = "/tmp"
		cmd.Env = []string{"PATH=/", "HOME=/tmp", "TMPDIR=/tmp", "EDGELAB_REQUIRE_CGROUPS=1"}
		cmd.Stdout, cmd.Stderr = con, con
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(con, "vminit: %s: %v\n", bin, err)
			ok = false
		}
	}
	return ok
}

func cstr(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}
