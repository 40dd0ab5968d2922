#!/usr/bin/env bash
# make bench: go benchmarks plus the load comparison against nginx (issue 3).
# Builds cmd/origin, cmd/edgenode, bench/cmd/edgebench and the sandbox test
# binary, installs wrk and nginx with apt-get when missing and possible, then
# runs every scenario on loopback for a bounded time and prints one table.
# See docs/performance.md for how to read it.
#
# Knobs (environment): BENCH_DURATION (5s per round), BENCH_ROUNDS (3, interleaved;
# the table shows the median), BENCH_WARMUP (1s), BENCH_CONNS (64),
# BENCH_THREADS (2), BENCH_BENCHTIME (1s), BENCH_SCENARIOS (abcdefg),
# BENCH_PPROF_DIR (save CPU profiles of the edge scenarios), BENCH_MARKDOWN (file),
# BENCH_NO_INSTALL=1 (never apt-get).
# A/B: BENCH_AB_REV=<git revision> builds cmd/edgenode at that revision (in a
# temporary worktree) and measures scenarios c, d, f, g on both it (B) and the
# working tree (A), side by side in every round; BENCH_EDGENODE_B=<binary>
# compares against a binary built elsewhere. An A/B table follows the main one:
#   BENCH_AB_REV=HEAD~3 BENCH_SCENARIOS=df BENCH_ROUNDS=8 BENCH_DURATION=3s make bench
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
BIN=$(mktemp -d "${TMPDIR:-/tmp}/edgelab-bench-bin.XXXXXX")
RUNNER_PID=""

cleanup() {
	# Stop the suite (it stops every process it started) and remove the binaries.
	if [[ -n "$RUNNER_PID" ]] && kill -0 "$RUNNER_PID" 2>/dev/null; then
		kill -TERM "$RUNNER_PID" 2>/dev/null || true
		for _ in $(seq 1 100); do kill -0 "$RUNNER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$RUNNER_PID" 2>/dev/null || true
	fi
	rm -rf "$BIN"
	# A failed A/B build may leave its worktree registered.
	if [[ -n "${BENCH_AB_REV:-}" ]]; then git worktree prune 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench: building binaries into $BIN" >&2
$GO build -o "$BIN/origin" ./cmd/origin
$GO build -o "$BIN/edgenode" ./cmd/edgenode
$GO build -o "$BIN/edgebench" ./bench/cmd/edgebench
$GO test -c -o "$BIN/sandbox.test" ./sandbox

EDGE_B=${BENCH_EDGENODE_B:-}
LABEL_A="working tree at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
LABEL_B=${BENCH_EDGENODE_B:-}
if [[ -n "${BENCH_AB_REV:-}" ]]; then
	rev=$(git rev-parse --verify "${BENCH_AB_REV}^{commit}")
	echo "bench: building cmd/edgenode at $rev for the A/B comparison" >&2
	git worktree add -q --detach "$BIN/src-b" "$rev"
	(cd "$BIN/src-b" && $GO build -o "$BIN/edgenode-b" ./cmd/edgenode)
	git worktree remove --force "$BIN/src-b"
	EDGE_B="$BIN/edgenode-b"
	LABEL_B="cmd/edgenode at $(git rev-parse --short "$rev")"
fi

# wrk and nginx: use them when present, install them when we can.
can_install() {
	[[ "${BENCH_NO_INSTALL:-}" != 1 ]] && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1
}
apt_updated=""
install_pkg() {
	if ! can_install; then return 1; fi
	if [[ -z "$apt_updated" ]]; then
		timeout 300 apt-get update -q >&2 || true
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "$@" >&2
}
find_bin() { command -v "$1" 2>/dev/null || { [[ -x "/usr/sbin/$1" ]] && echo "/usr/sbin/$1"; } || true; }

WRK=$(find_bin wrk)
if [[ -z "$WRK" ]]; then
	install_pkg wrk || echo "bench: wrk not installed and cannot install it: using the built-in Go load generator" >&2
	WRK=$(find_bin wrk)
fi
NGINX=$(find_bin nginx)
NGINX_SKIP="nginx not installed"
if [[ -z "$NGINX" ]]; then
	if install_pkg nginx-light || install_pkg nginx; then
		NGINX=$(find_bin nginx)
	else
		NGINX_SKIP="nginx not installed and cannot be installed here (needs root and apt-get)"
	fi
	# Debian's package may start a system nginx; ours runs from its own config.
fi
[[ -z "$NGINX" ]] && echo "bench: skipping the nginx rows: $NGINX_SKIP" >&2

echo "bench: machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)" >&2
echo "bench: load generator: ${WRK:-built-in Go}; nginx: ${NGINX:-none}" >&2

"$BIN/edgebench" run \
	--origin-bin "$BIN/origin" --edgenode-bin "$BIN/edgenode" --edgenode-bin-b "$EDGE_B" --label-a "$LABEL_A" --label-b "$LABEL_B" --bench-bin "$BIN/edgebench" \
	--sandbox-test-bin "$BIN/sandbox.test" --repo "$PWD" \
	--wrk "$WRK" --nginx "$NGINX" --nginx-skip-reason "$NGINX_SKIP" \
	--duration "${BENCH_DURATION:-5s}" --rounds "${BENCH_ROUNDS:-3}" --warmup "${BENCH_WARMUP:-1s}" \
	--conns "${BENCH_CONNS:-64}" --threads "${BENCH_THREADS:-2}" \
	--benchtime "${BENCH_BENCHTIME:-1s}" --scenarios "${BENCH_SCENARIOS:-abcdefg}" \
	--pprof-dir "${BENCH_PPROF_DIR:-}" --markdown "${BENCH_MARKDOWN:-}" &
RUNNER_PID=$!
wait "$RUNNER_PID"
