#!/usr/bin/env bash
# make memcg-v2: run package memcg's tests and the sandbox's cgroup tests on a
# real cgroup v2 kernel, in a throwaway qemu VM booted from this machine's
# Debian kernel with an initramfs holding only static test binaries and
# sandbox/memcg/vminit as /init. For machines whose own hierarchy is v1 (the
# project's CI machines), where those tests exercise the v1 path only.
#
# Needs qemu-system-x86_64, cpio and a kernel
# image; installs qemu-system-x86 and cpio with apt-get when missing and
# possible, and without a kernel in /boot unpacks Debian's current kernel
# package into its temp dir. Uses KVM when /dev/kvm works, else software emulation
# (slower, still bounded). Exit status 0 only when the VM printed VMTEST PASS.
# The VM gets 2 GiB: the tests allocate 1 GiB against small cgroup limits, and
# with less RAM the kernel's overcommit check refuses the mapping before the
# cgroup limit is reached (the Go runtime then dies "out of memory").
#
# Knobs: MEMCG_VM_KERNEL (kernel image; default the newest /boot/vmlinuz-*),
# MEMCG_VM_TIMEOUT (seconds per boot, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# Exit status 3: a prerequisite (qemu, cpio, a kernel image) is missing and
# cannot be installed here; .ci/run reports that as skipped.
apt_updated=""
apt_ready() {
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
	if [[ -z "$apt_updated" ]]; then
		timeout 300 apt-get update -q >&2 || true
		apt_updated=1
	fi
}
install_pkg() {
	apt_ready || return 1
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "$@" >&2
}
missing() { echo "memcg-v2: $1" >&2; exit 3; }
command -v qemu-system-x86_64 >/dev/null || install_pkg qemu-system-x86 || missing "qemu-system-x86_64 is missing and cannot be installed"
command -v cpio >/dev/null || install_pkg cpio || missing "cpio is missing and cannot be installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edgelab-memcg-vm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The kernel: the given image, else the newest in /boot, else Debian's current
# kernel package unpacked into the temp dir (no install, no initramfs build).
KERNEL=${MEMCG_VM_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)}
if [[ -z "$KERNEL" ]]; then
	apt_ready || missing "no kernel image in /boot and no apt-get to fetch one"
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
	[[ -n "$pkg" ]] || missing "cannot resolve linux-image-amd64 to a kernel package"
	(cd "$tmp" && timeout 600 apt-get download -q "$pkg" >&2) || missing "cannot download $pkg"
	dpkg-deb -x "$tmp/$pkg"_*.deb "$tmp/kernel"
	KERNEL=$(ls "$tmp"/kernel/boot/vmlinuz-* | sort -V | tail -n 1)
fi

root="$tmp/root"
mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
echo "memcg-v2: building static binaries" >&2
CGO_ENABLED=0 $GO build -o "$root/init" ./sandbox/memcg/vminit
CGO_ENABLED=0 $GO test -c -o "$root/memcg.test" ./sandbox/memcg
CGO_ENABLED=0 $GO test -c -o "$root/sandbox.test" ./sandbox
# The kernel gives init its console from /dev/console in the initramfs (vminit
# also opens it once devtmpfs is mounted, so without root this is skipped).
if [[ "$(id -u)" == 0 ]]; then mknod "$root/dev/console" c 5 1; fi
(cd "$root" && find . | cpio -o -H newc --quiet) >"$tmp/initrd"

tests='^(Test.*Cgroup.*|TestFindBase|TestVersionOf|TestEnableMemory|TestKeyedValue)$'
boot() { # boot ACCEL...: one VM run, console to $tmp/console.log
	echo "memcg-v2: booting $KERNEL ($*)" >&2
	timeout "${MEMCG_VM_TIMEOUT:-600}" qemu-system-x86_64 "$@" -m 2048 -smp 2 -nographic -no-reboot \
		-kernel "$KERNEL" -initrd "$tmp/initrd" \
		-append "console=ttyS0 panic=-1 quiet vminit.run=/memcg.test,/sandbox.test vminit.args=-test.v,-test.count=1,-test.run=$tests" \
		</dev/null 2>&1 | tee "$tmp/console.log"
}
set +e
if [[ -w /dev/kvm ]]; then
	boot -enable-kvm -cpu host
	# KVM may be listed but unusable (nested virtualisation off): emulate.
	grep -q "^vminit:" "$tmp/console.log" || boot -cpu max
else
	boot -cpu max
fi
set -e
if grep -q "^VMTEST PASS" "$tmp/console.log"; then
	echo "memcg-v2: PASS" >&2
	exit 0
fi
echo "memcg-v2: FAIL (no VMTEST PASS on the VM console)" >&2
exit 1
