#!/usr/bin/env bash
# make mutate: measure the chaos checks' strength. Each planted bug listed in
# chaos/mutations/mutations.txt is applied to a temporary copy of the tree;
# the copy's all-in-one lab (edgelab up) runs the scenario or seeded random
# run meant to catch it, with the unmutated tree's edgectl (the checkers are
# never mutated). A mutation is killed when that run fails.
#
# Usage: scripts/mutate.sh [--fast] [--baseline] [NAME...]
#   --fast      only the mutations marked fast (CI's subset)
#   --baseline  first run each selected check against the unmutated tree: a
#               check that fails there kills mutants for nothing, and the
#               set fails (reported BASELINE-FAIL)
# Every patch is first checked with `git apply --check`: a patch that no
# longer applies is reported STALE and fails the set (it measures nothing).
# Prints one line per mutation and the score; exits 1 when the score is
# below EDGELAB_MUTATE_MIN (default 90) percent or any patch is stale.
# Reports: build/reports/mutate/<name>.{log,json,html}, summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
ROOT=$PWD
OUT=build/reports/mutate
MANIFEST=chaos/mutations/mutations.txt
MIN=${EDGELAB_MUTATE_MIN:-90}
REGIONS=${EDGELAB_MUTATE_REGIONS:-us-east-1,eu-west-1,ap-northeast-1}
# The regions of a lab with a staged-rollout profile: one per wave.
PROFILE_REGIONS=${EDGELAB_MUTATE_PROFILE_REGIONS:-us-east-1,eu-west-1,sa-east-1,ap-northeast-1,ap-southeast-2}
fast=0
baseline=0
while [[ "${1:-}" == --* ]]; do
  case $1 in
    --fast) fast=1 ;;
    --baseline) baseline=1 ;;
    *) echo "mutate: unknown flag $1" >&2; exit 2 ;;
  esac
  shift
done
want=("$@")
mkdir -p "$OUT"
log() { echo "mutate: $*" >&2; }

# The tree as it is now (tracked and new files, without build output).
copy_tree() {
  local dst=$1
  mkdir -p "$dst"
  git ls-files -z -co --exclude-standard | grep -zv '^build/' | tar -cf - --null -T - | tar -xf - -C "$dst"
}

selected() { # selected NAME FAST
  if (( fast )) && [[ "$2" != yes ]]; then return 1; fi
  if (( ${#want[@]} == 0 )); then return 0; fi
  local w; for w in "${want[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}

# run_check TREE CHECK NAME: start TREE's all-in-one lab, run CHECK, stop it.
# Returns 0 when the check passed, 1 when it failed, 2 when it could not run.
run_check() {
  local tree=$1 check=$2 name=$3 dir pid rc=0 args=()
  dir=$(mktemp -d)
  if ! (cd "$tree" && go build -o "$dir/edgelab" ./cmd/edgelab) >"$OUT/$name.log" 2>&1; then
    log "$name: build failed (see $OUT/$name.log)"; rm -rf "$dir"; return 2
  fi
  # A scenario that names a profile (realistic-fast) runs on a lab with it.
  local profile=default regions=$REGIONS
  if [[ $check != random:* ]]; then
    profile=$(sed -n 's/^profile: *\([a-z-]*\).*/\1/p' "$ROOT/$check")
    profile=${profile:-default}
    [[ $profile == default ]] || regions=$PROFILE_REGIONS
  fi
  "$dir/edgelab" up --data-dir "$dir/lab" --base-port 0 --regions "$regions" --profile "$profile" >"$dir/lab.log" 2>&1 &
  pid=$!
  local deadline=$(( $(date +%s) + 180 ))
  until grep -q "Ctrl-C stops the lab" "$dir/lab.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || (( $(date +%s) > deadline )); then
      log "$name: the lab did not start"; cat "$dir/lab.log" >>"$OUT/$name.log"
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; return 2
    fi
    sleep 1
  done
  case $check in
    random:*) IFS=: read -r _ seed dur <<<"$check"; args=(--random --seed "$seed" --duration "$dur" --shrink 0) ;;
    *) args=("$ROOT/$check") ;;
  esac
  "$EDGECTL" chaos run "${args[@]}" --lab-file "$dir/lab/lab.json" \
    --report "$OUT/$name.json" --html "$OUT/$name.html" >>"$OUT/$name.log" 2>&1 || rc=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  if (( rc == 0 )); then return 0; fi
  if grep -q "scenario failed" "$OUT/$name.log"; then return 1; fi
  return 2
}

EDGECTL=$ROOT/build/mutate/edgectl
mkdir -p build/mutate
go build -o "$EDGECTL" ./cmd/edgectl

names=() checks=() stale=()
while read -r name check fastcol targets; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  selected "$name" "$fastcol" || continue
  if ! git apply --check "chaos/mutations/$name.patch" 2>/dev/null; then
    log "$name: STALE (chaos/mutations/$name.patch no longer applies to $targets)"
    stale+=("$name"); continue
  fi
  names+=("$name"); checks+=("$check")
done <"$MANIFEST"

killed=0 survived=() broken=() basefail=()
: >"$OUT/summary.txt"
if (( baseline )); then
  done_checks=()
  for check in "${checks[@]}"; do
    [[ " ${done_checks[*]} " == *" $check "* ]] && continue
    done_checks+=("$check")
    base=baseline-$(basename "${check//:/-}" .yaml)
    rc=0; run_check "$ROOT" "$check" "$base" || rc=$?
    line="baseline $check: $( ((rc == 0)) && echo PASS || echo BASELINE-FAIL ) (see $OUT/$base.log)"
    (( rc == 0 )) || basefail+=("$check")
    log "$line"; echo "$line" >>"$OUT/summary.txt"
  done
fi
for i in "${!names[@]}"; do
  name=${names[$i]} check=${checks[$i]}
  tree=$(mktemp -d)
  copy_tree "$tree"
  (cd "$tree" && git apply "$ROOT/chaos/mutations/$name.patch")
  t0=$(date +%s)
  rc=0; run_check "$tree" "$check" "$name" || rc=$?
  rm -rf "$tree"
  case $rc in
    1) verdict=KILLED; killed=$((killed + 1)) ;;
    0) verdict=SURVIVED; survived+=("$name") ;;
    *) verdict=ERROR; broken+=("$name") ;;
  esac
  line="$name: $verdict by $check in $(( $(date +%s) - t0 ))s"
  log "$line"; echo "$line" >>"$OUT/summary.txt"
done

total=$(( ${#names[@]} + ${#stale[@]} ))
score=0
if (( total > 0 )); then score=$(( 100 * killed / total )); fi
summary="mutation score: $killed/$total killed ($score%); survived: ${survived[*]:-none}; errors: ${broken[*]:-none}; stale: ${stale[*]:-none}"
log "$summary"; echo "$summary" >>"$OUT/summary.txt"
if (( ${#basefail[@]} > 0 )); then log "checks failing unmutated: ${basefail[*]}"; fi
if (( ${#stale[@]} > 0 || ${#basefail[@]} > 0 || score < MIN )); then exit 1; fi
