#!/usr/bin/env bash
# make fuzz: a short run of every parser and listener fuzz target (the
# CloudFront event JSON, the distribution and topology files, signed URL
# policies, the sandbox wire frames and the viewer request path), each on
# its committed corpus (testdata/fuzz/<FuzzName>/) and then fuzzing for
# EDGELAB_FUZZTIME.
#
# Usage: scripts/fuzz.sh [PACKAGE:FuzzName...]   (default: all of TARGETS)
# Env:   EDGELAB_FUZZTIME     per-target fuzzing time (default 5s)
#        EDGELAB_FUZZ_PARALLEL fuzzing workers (default: go's, GOMAXPROCS)
# A crash, a failed property or a hang fails the run, after every target
# ran; go writes the failing input to the package's testdata/fuzz/<FuzzName>/
# (this prints its path): fix the bug and commit that file as a regression
# seed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

TARGETS=(
  ./cfevent:FuzzParse
  ./signedurl:FuzzParsePolicy
  ./distribution:FuzzParse
  ./topology:FuzzParse
  ./sandbox:FuzzDecodeFrame
  ./sandbox:FuzzFrameRead
  ./edgenode:FuzzParseTarget
  ./edgenode:FuzzParseRawHeaders
  ./edgenode:FuzzViewerRequest
)
if (($# > 0)); then TARGETS=("$@"); fi
FUZZTIME=${EDGELAB_FUZZTIME:-5s}
parallel=()
if [[ -n "${EDGELAB_FUZZ_PARALLEL:-}" ]]; then parallel=(-parallel "$EDGELAB_FUZZ_PARALLEL"); fi

failed=()
for t in "${TARGETS[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  start=$(date +%s)
  # The bound covers building the instrumented test binary as well; a
  # target that hangs past it fails.
  log="${TMPDIR:-/tmp}/fuzz-$$.log"
  ok=0
  for attempt in 1 2; do
    if timeout 300 go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "${parallel[@]}" "$pkg" >"$log" 2>&1; then ok=1; break; fi
    # go's fuzz coordinator sometimes ends a short run with "context
    # deadline exceeded" and no failing input (a worker that did not stop in
    # time on a loaded host): that is retried once; a real failure always
    # writes its input and is never retried.
    if grep -q "Failing input written" "$log" || ! grep -q "context deadline exceeded" "$log"; then break; fi
    echo "fuzz: $pkg $name: the fuzzing engine timed out without a failing input; once more"
  done
  if ((ok)); then
    echo "fuzz: $pkg $name ok ($(( $(date +%s) - start ))s)"
  else
    echo "fuzz: $pkg $name FAILED ($(( $(date +%s) - start ))s):"
    tail -n 30 "${TMPDIR:-/tmp}/fuzz-$$.log"
    grep -o "testdata/fuzz/${name}/[0-9a-f]*" "${TMPDIR:-/tmp}/fuzz-$$.log" | sed "s|^|fuzz: failing input: ${pkg#./}/|" | sort -u || true
    failed+=("$t")
  fi
done
rm -f "${TMPDIR:-/tmp}/fuzz-$$.log"
if ((${#failed[@]} > 0)); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets passed"
