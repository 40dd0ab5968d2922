#!/usr/bin/env bash
# The compose lab. Usage: scripts/lab.sh up|down|ps|wait|logs|demo|smoke|chaos|chaos-allinone|env
#   up     build the image (scripts/images.sh), start docker-compose.yml, wait until healthy,
#          deploy the sample distribution "demo" (as the all-in-one does)
#   down   stop it and remove its containers, network and volumes
#   ps     docker-compose ps
#   wait   wait until every service is healthy
#   logs   recent log lines of every container
#   demo   publish the sample functions and apply deploy/docker/demo.yaml (up does it)
#   smoke  run the e2e smoke test against the running lab (go test -tags e2e ./e2e)
#   chaos [FILE...]  run chaos scenarios (default deploy/scenarios/*.yaml less
#          EDGELAB_CHAOS_EXCLUDE) against the
#          running lab with `edgectl chaos run --lab compose`; reports go to
#          build/reports/chaos-<name>.json; exits 1 if any scenario or invariant failed.
#          Scenarios for another profile run after switching the control planes to it
#          when it is in EDGELAB_CHAOS_PROFILES (default realistic-fast), else are skipped;
#          all-in-one-only scenarios are skipped.
#   chaos-allinone [FILE...]  no Docker needed: start a fresh all-in-one lab (edgelab up,
#          free ports, regions EDGELAB_ALLINONE_REGIONS), run the scenarios (default
#          EDGELAB_ALLINONE_SCENARIOS, else every target any|allinone scenario of the default
#          profile less EDGELAB_CHAOS_EXCLUDE) with `edgectl chaos run --lab allinone`, stop the lab; reports in
#          build/reports/allinone-<name>.{json,html}; exits 1 if any failed
#   env    print the lab's settings as shell assignments
#
# Env (all optional):
#   COMPOSE_PROJECT_NAME   compose project (default edgelab)
#   EDGELAB_IMAGE          image reference (default edgelab:dev)
#   EDGELAB_GATEWAY_PORT, EDGELAB_CP1_PORT, EDGELAB_CP2_PORT, EDGELAB_CP1_DASH_PORT,
#   EDGELAB_CP2_DASH_PORT, EDGELAB_ORIGIN_A_PORT, EDGELAB_ORIGIN_B_PORT, EDGELAB_ORIGIN_ASSETS_PORT
#                          host ports on 127.0.0.1 (defaults 8080, 7070, 7071, 7080, 7081, 9001, 9002, 9003;
#                          an unset port whose default is busy is moved to a free one)
#   EDGELAB_LAB_TIMEOUT    seconds to wait for health (default 180)
#   EDGELAB_SKIP_IMAGES=1  up without rebuilding the image
#   EDGELAB_NO_DEMO=1      up without deploying the sample distribution
#   EDGELAB_PROFILE        propagation profile of the control planes (default, realistic, instant)
#   EDGELAB_CHAOS_EXCLUDE  scenario names the default lists of chaos and chaos-allinone leave
#                          out (default none: every one runs)
# `up` writes the settings it used to build/lab-<project>.env; the other commands read it,
# so `scripts/lab.sh smoke` finds the ports `up` chose, and the endpoints to
# build/lab-<project>.json (lab.json's shape, for `edgectl chaos run --lab compose`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-edgelab}"
LAB_ENV="build/lab-$COMPOSE_PROJECT_NAME.env"
LAB_JSON="build/lab-$COMPOSE_PROJECT_NAME.json"
# LAB_PKI holds what the host needs of the lab's pki volume: ca.crt and admin.token.
LAB_PKI="build/lab-$COMPOSE_PROJECT_NAME-pki"
PORT_VARS=(EDGELAB_GATEWAY_PORT EDGELAB_CP1_PORT EDGELAB_CP2_PORT EDGELAB_CP1_DASH_PORT EDGELAB_CP2_DASH_PORT EDGELAB_ORIGIN_A_PORT EDGELAB_ORIGIN_B_PORT EDGELAB_ORIGIN_ASSETS_PORT)
declare -A PORT_DEFAULT=([EDGELAB_GATEWAY_PORT]=8080 [EDGELAB_CP1_PORT]=7070 [EDGELAB_CP2_PORT]=7071 [EDGELAB_CP1_DASH_PORT]=7080 [EDGELAB_CP2_DASH_PORT]=7081 [EDGELAB_ORIGIN_A_PORT]=9001 [EDGELAB_ORIGIN_B_PORT]=9002 [EDGELAB_ORIGIN_ASSETS_PORT]=9003)

log() { echo "lab: $*" >&2; }

# load_env reads $LAB_ENV for every variable the caller did not set.
load_env() {
  [[ -f "$LAB_ENV" ]] || return 0
  local line k
  while IFS= read -r line; do
    [[ "$line" =~ ^([A-Z_0-9]+)=(.*)$ ]] || continue
    k=${BASH_REMATCH[1]}
    if [[ -z "${!k:-}" ]]; then export "$k=${BASH_REMATCH[2]}"; fi
  done <"$LAB_ENV"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# choose_ports keeps every port the caller set; an unset one gets its default,
# or the next free port above it when the default is taken.
choose_ports() {
  local v p taken=" "
  for v in "${PORT_VARS[@]}"; do
    if [[ -n "${!v:-}" ]]; then taken+="${!v} "; fi
  done
  for v in "${PORT_VARS[@]}"; do
    if [[ -n "${!v:-}" ]]; then continue; fi
    p=${PORT_DEFAULT[$v]}
    while port_busy "$p" || [[ "$taken" == *" $p "* ]]; do
      p=$((p + 100))
      if (( p > 65000 )); then log "no free port for $v"; return 1; fi
    done
    if [[ "$p" != "${PORT_DEFAULT[$v]}" ]]; then log "port ${PORT_DEFAULT[$v]} is busy: $v=$p"; fi
    export "$v=$p"
    taken+="$p "
  done
}

# write_env saves the settings, and the endpoints in the shape of the
# all-in-one's lab.json (for edgectl chaos run --lab compose --lab-file).
write_env() {
  mkdir -p "$(dirname "$LAB_ENV")"
  cat >"$LAB_JSON" <<JSON
{
  "controlPlanes": ["127.0.0.1:$EDGELAB_CP1_PORT", "127.0.0.1:$EDGELAB_CP2_PORT"],
  "gateway": "http://127.0.0.1:$EDGELAB_GATEWAY_PORT",
  "dashboard": "http://127.0.0.1:$EDGELAB_CP1_DASH_PORT/",
  "edges": [
    {"id": "use1-a", "region": "us-east-1", "pop": "IAD", "url": "http://edge-use1-a:8080"},
    {"id": "euw1-a", "region": "eu-west-1", "pop": "DUB", "url": "http://edge-euw1-a:8080"},
    {"id": "apne1-a", "region": "ap-northeast-1", "pop": "NRT", "url": "http://edge-apne1-a:8080"},
    {"id": "sae1-a", "region": "sa-east-1", "pop": "GRU", "url": "http://edge-sae1-a:8080"},
    {"id": "apse2-a", "region": "ap-southeast-2", "pop": "SYD", "url": "http://edge-apse2-a:8080"}
  ],
  "recs": [
    {"id": "rec-us-east-1", "region": "us-east-1", "pop": "us-east-1", "url": "http://edge-rec-us-east-1:8080", "role": "rec"},
    {"id": "rec-eu-central-1", "region": "eu-central-1", "pop": "eu-central-1", "url": "http://edge-rec-eu-central-1:8080", "role": "rec"},
    {"id": "rec-ap-northeast-1", "region": "ap-northeast-1", "pop": "ap-northeast-1", "url": "http://edge-rec-ap-northeast-1:8080", "role": "rec"}
  ],
  "origins": [
    {"id": "web", "url": "http://127.0.0.1:$EDGELAB_ORIGIN_A_PORT"},
    {"id": "web-b", "url": "http://127.0.0.1:$EDGELAB_ORIGIN_B_PORT"},
    {"id": "assets", "url": "http://127.0.0.1:$EDGELAB_ORIGIN_ASSETS_PORT"}
  ],
  "profile": "$EDGELAB_PROFILE",
  "caFile": "$(basename "$LAB_PKI")/ca.crt",
  "adminToken": "$(cat "$LAB_PKI/admin.token" 2>/dev/null || true)"
}
JSON
  chmod 600 "$LAB_JSON"
  {
    echo "EDGELAB_IMAGE=$EDGELAB_IMAGE"
    echo "EDGELAB_PROFILE=$EDGELAB_PROFILE"
    local v
    for v in "${PORT_VARS[@]}"; do echo "$v=${!v}"; done
  } >"$LAB_ENV"
}

load_env
export EDGELAB_IMAGE="${EDGELAB_IMAGE:-edgelab:dev}"
export EDGELAB_PROFILE="${EDGELAB_PROFILE:-default}"
COMPOSE=(docker-compose --ansi never -f docker-compose.yml)

# require_lab fails fast when the project has no running containers.
require_lab() {
  if [[ -z "$("${COMPOSE[@]}" ps -q 2>/dev/null)" ]]; then
    log "no lab is running in project $COMPOSE_PROJECT_NAME: start it with scripts/lab.sh up"
    exit 1
  fi
}

dump() {
  "${COMPOSE[@]}" ps >&2 || true
  "${COMPOSE[@]}" logs --no-color --tail="${1:-40}" >&2 || true
}

# edgectl_bin prints the edgectl that scripts/images.sh built (or builds one);
# edgectl runs it against cp1's published port.
edgectl_bin() {
  local bin=build/image/bin/edgectl
  if [[ ! -x "$bin" ]]; then
    bin=build/edgectl
    if [[ ! -x "$bin" ]]; then go build -o "$bin" ./cmd/edgectl || return 1; fi
  fi
  echo "$bin"
}
edgectl() { "$(edgectl_bin)" --lab "$LAB_JSON" --endpoint "127.0.0.1:${EDGELAB_CP1_PORT:-7070}" "$@"; }

# fetch_pki copies the lab CA certificate and the admin token out of the
# pki job's volume (the job has run once its dependants started) and
# writes them into the endpoints file.
fetch_pki() {
  local id
  id=$("${COMPOSE[@]}" ps -a -q pki 2>/dev/null || "${COMPOSE[@]}" ps -q pki)
  if [[ -z "$id" ]]; then log "the pki job did not run"; return 1; fi
  rm -rf "$LAB_PKI" && mkdir -p "$LAB_PKI" && chmod 700 "$LAB_PKI"
  docker cp "$id:/pki/ca.crt" "$LAB_PKI/ca.crt" >/dev/null &&
    docker cp "$id:/pki/admin.token" "$LAB_PKI/admin.token" >/dev/null || { log "copying the lab CA and token failed"; return 1; }
  chmod 600 "$LAB_PKI/admin.token"
  write_env
}

# deploy_demo publishes the all-in-one's sample functions (examples/) and
# applies the demo distribution, then waits until it is Deployed.
deploy_demo() {
  local pair name dir v sed_args=()
  for pair in auth:jwt-auth headers:security-headers hello:static-content; do
    name=${pair%%:*} dir=examples/${pair#*:}
    if edgectl function get "$name" >/dev/null 2>&1; then
      edgectl function update "$name" --source "$dir" >/dev/null || return 1
    else
      edgectl function create "$name" --source "$dir" --description "edgelab sample: $dir" >/dev/null || return 1
    fi
    v=$(edgectl function publish "$name" --description "edgelab sample: $dir") || return 1
    sed_args+=(-e "s/${name^^}_V/$v/")
  done
  sed "${sed_args[@]}" deploy/docker/demo.yaml | edgectl distribution apply -f - >/dev/null || return 1
  edgectl status demo --wait --timeout "${EDGELAB_DEMO_TIMEOUT:-10m}"
}

# switch_profile re-creates the control planes with another propagation
# profile (etcd, edges and gateway keep running) and waits until healthy.
switch_profile() {
  if [[ "$1" == "$EDGELAB_PROFILE" ]]; then return 0; fi
  log "switching the control planes to profile $1"
  export EDGELAB_PROFILE=$1
  write_env
  "${COMPOSE[@]}" up -d --no-deps cp1 cp2 || return 1
  wait_healthy
}

# default_scenarios sets DEFAULT_SCENARIOS to deploy/scenarios/*.yaml less
# the names in EDGELAB_CHAOS_EXCLUDE (default none).
default_scenarios() {
  local f
  DEFAULT_SCENARIOS=()
  for f in deploy/scenarios/*.yaml; do
    if [[ " ${EDGELAB_CHAOS_EXCLUDE-} " == *" $(basename "$f" .yaml) "* ]]; then
      log "chaos $(basename "$f" .yaml): not in the default list (EDGELAB_CHAOS_EXCLUDE; name the file to run it)"
      continue
    fi
    DEFAULT_SCENARIOS+=("$f")
  done
}

# run_one runs one scenario file and records the result in passed/failed.
run_one() {
  local f=$1 name t0
  name=$(basename "$f" .yaml)
  log "chaos $name: running (profile $EDGELAB_PROFILE)"
  t0=$(date +%s)
  if timeout "${EDGELAB_CHAOS_TIMEOUT:-900}" "$(edgectl_bin)" --endpoint "127.0.0.1:$EDGELAB_CP1_PORT" chaos run "$f" \
      --lab compose --lab-file "$LAB_JSON" --compose-project "$COMPOSE_PROJECT_NAME" \
      --report "build/reports/chaos-$name.json" </dev/null; then
    log "chaos $name: PASS in $(( $(date +%s) - t0 ))s (build/reports/chaos-$name.json)"
    passed=$((passed + 1))
  else
    log "chaos $name: FAIL in $(( $(date +%s) - t0 ))s (build/reports/chaos-$name.json)"
    failed+=("$name")
    dump 30
  fi
}

# run_chaos runs scenario files one after the other and fails at the end if
# any failed, so every report is written. Scenarios for the lab's profile run
# first; then, for each profile in EDGELAB_CHAOS_PROFILES (default
# realistic-fast), the control planes switch to it, its scenarios run, and
# they switch back. Other scenarios are skipped.
run_chaos() {
  local files=("$@") f name target profile p home=$EDGELAB_PROFILE skipped=0
  local -A later=()
  passed=0 failed=()
  if (( ${#files[@]} == 0 )); then default_scenarios; files=("${DEFAULT_SCENARIOS[@]}"); fi
  mkdir -p build/reports
  for f in "${files[@]}"; do
    name=$(basename "$f" .yaml)
    target=$(sed -n 's/^target:[[:space:]]*\([a-z-]*\).*/\1/p' "$f")
    profile=$(sed -n 's/^profile:[[:space:]]*\([a-z-]*\).*/\1/p' "$f")
    if [[ "$target" == allinone ]]; then
      log "chaos $name: skipped (all-in-one only)"; skipped=$((skipped + 1)); continue
    fi
    if [[ -z "$profile" || "$profile" == "$home" ]]; then
      run_one "$f"
    elif [[ " ${EDGELAB_CHAOS_PROFILES-realistic-fast} " == *" $profile "* ]]; then
      later[$profile]+="$f "
    else
      log "chaos $name: skipped (profile $profile; add it to EDGELAB_CHAOS_PROFILES to run it)"; skipped=$((skipped + 1))
    fi
  done
  for p in "${!later[@]}"; do
    if ! switch_profile "$p"; then
      log "chaos: switching to profile $p failed"
      failed+=("profile-$p")
      continue
    fi
    for f in ${later[$p]}; do run_one "$f"; done
  done
  if ! switch_profile "$home"; then failed+=("profile-$home"); fi
  # Scenarios re-associate the demo's behaviors with their probe function: restore the tour.
  if [[ "${EDGELAB_NO_DEMO:-0}" != 1 ]] && ! deploy_demo >/dev/null; then
    log "chaos: restoring the demo distribution failed"
    failed+=("restore-demo")
  fi
  log "chaos: $passed passed, ${#failed[@]} failed, $skipped skipped"
  if (( ${#failed[@]} > 0 )); then log "chaos failed: ${failed[*]}"; return 1; fi
}

# chaos_allinone runs scenarios against a fresh all-in-one lab of its own.
chaos_allinone() {
  local dir=build/allinone files=("$@") f name target profile pid rc=0 failed=() passed=0
  mkdir -p "$dir" build/reports
  go build -o "$dir/edgelab" ./cmd/edgelab && go build -o "$dir/edgectl" ./cmd/edgectl || return 1
  if (( ${#files[@]} == 0 )); then
    if [[ -n "${EDGELAB_ALLINONE_SCENARIOS:-}" ]]; then
      for name in $EDGELAB_ALLINONE_SCENARIOS; do files+=("deploy/scenarios/$name.yaml"); done
    else
      default_scenarios; files=("${DEFAULT_SCENARIOS[@]}")
    fi
  fi
  rm -rf "$dir/lab"
  "$dir/edgelab" up --data-dir "$dir/lab" --base-port 0 \
    --regions "${EDGELAB_ALLINONE_REGIONS:-us-east-1,eu-west-1,ap-northeast-1}" >"$dir/lab.log" 2>&1 &
  pid=$!
  local deadline=$(( $(date +%s) + ${EDGELAB_LAB_TIMEOUT:-180} ))
  until grep -q "Ctrl-C stops the lab" "$dir/lab.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || (( $(date +%s) > deadline )); then
      log "the all-in-one lab did not start:"; tail -n 40 "$dir/lab.log" >&2
      kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; return 1
    fi
    sleep 1
  done
  for f in "${files[@]}"; do
    name=$(basename "$f" .yaml)
    target=$(sed -n 's/^target:[[:space:]]*\([a-z-]*\).*/\1/p' "$f")
    profile=$(sed -n 's/^profile:[[:space:]]*\([a-z-]*\).*/\1/p' "$f")
    if [[ "$target" == compose || ( -n "$profile" && "$profile" != default ) ]]; then
      log "chaos $name: skipped on the all-in-one (target ${target:-any}, profile ${profile:-default})"; continue
    fi
    local t0; t0=$(date +%s)
    if timeout "${EDGELAB_CHAOS_TIMEOUT:-900}" "$dir/edgectl" chaos run "$f" --lab allinone --lab-file "$dir/lab/lab.json" \
        --report "build/reports/allinone-$name.json" --html "build/reports/allinone-$name.html" </dev/null; then
      log "chaos $name (all-in-one): PASS in $(( $(date +%s) - t0 ))s"; passed=$((passed + 1))
    else
      log "chaos $name (all-in-one): FAIL in $(( $(date +%s) - t0 ))s (build/reports/allinone-$name.html)"; failed+=("$name")
    fi
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  log "chaos (all-in-one): $passed passed, ${#failed[@]} failed"
  if (( ${#failed[@]} > 0 )); then log "chaos failed: ${failed[*]}"; rc=1; fi
  return $rc
}

wait_healthy() {
  local timeout=${EDGELAB_LAB_TIMEOUT:-180}
  local deadline=$(( $(date +%s) + timeout ))
  local want; want=$("${COMPOSE[@]}" config --services | grep -cvx pki) # the pki job exits when done
  local healthy=0 ids states
  while :; do
    healthy=0
    ids=$("${COMPOSE[@]}" ps -q)
    if [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086 # one id per word
      states=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids || true)
      healthy=$(grep -c ' running healthy$' <<<"$states" || true)
    fi
    if (( healthy >= want )); then
      log "$healthy/$want services healthy"
      return 0
    fi
    if (( $(date +%s) > deadline )); then
      log "only $healthy/$want services healthy after ${timeout}s:"
      echo "${states:-}" >&2
      dump 60
      return 1
    fi
    sleep 2
  done
}

case "${1:-}" in
  up)
    choose_ports
    write_env
    t0=$(date +%s)
    if [[ "${EDGELAB_SKIP_IMAGES:-0}" != 1 ]]; then scripts/images.sh; fi
    t1=$(date +%s)
    "${COMPOSE[@]}" up -d --remove-orphans
    wait_healthy
    fetch_pki
    t2=$(date +%s)
    if [[ "${EDGELAB_NO_DEMO:-0}" != 1 ]] && ! deploy_demo; then
      log "deploying the demo distribution failed"
      dump 60
      exit 1
    fi
    t3=$(date +%s)
    log "image $((t1 - t0))s, compose up + healthy $((t2 - t1))s, demo $((t3 - t2))s (settings in $LAB_ENV)"
    g=http://127.0.0.1:$EDGELAB_GATEWAY_PORT
    ctl="edgectl --lab $LAB_JSON"
    if [[ "$EDGELAB_CP1_PORT" != 7070 ]]; then ctl="$ctl --endpoint 127.0.0.1:$EDGELAB_CP1_PORT"; fi
    cat <<MSG
edgelab compose lab is up (project $COMPOSE_PROJECT_NAME, image $EDGELAB_IMAGE):

  gateway         $g   (GET $g/_gateway/edges)
  control planes  127.0.0.1:$EDGELAB_CP1_PORT, 127.0.0.1:$EDGELAB_CP2_PORT
  dashboards      http://127.0.0.1:$EDGELAB_CP1_DASH_PORT/ (cp1), http://127.0.0.1:$EDGELAB_CP2_DASH_PORT/ (cp2)
  origins         http://127.0.0.1:$EDGELAB_ORIGIN_A_PORT, http://127.0.0.1:$EDGELAB_ORIGIN_B_PORT
  S3 origin       http://127.0.0.1:$EDGELAB_ORIGIN_ASSETS_PORT (bucket edgelab-assets, served at /assets/*)
  edges           use1-a us-east-1/IAD, euw1-a eu-west-1/DUB, apne1-a ap-northeast-1/NRT,
                  sae1-a sa-east-1/GRU, apse2-a ap-southeast-2/SYD (inside the compose network)
  RECs            rec-us-east-1 (IAD, GRU), rec-eu-central-1 (DUB), rec-ap-northeast-1 (NRT, SYD)

Tour (edgectl: go build -o bin/edgectl ./cmd/edgectl, or build/image/bin/edgectl):

  # a cached object: the first request is a Miss, the second a Hit
  curl -si $g/objects/1024 | grep -i -e x-cache -e x-edgelab-node; curl -si $g/objects/1024 | grep -i x-cache
  # the same from Tokyo: the gateway picks the nearest edge, whose miss the REC answers
  curl -si -H 'X-Viewer-Region: ap-northeast-1' $g/objects/1024 | grep -i -e x-cache -e x-edgelab-pop -e x-edgelab-rec
  # a page generated by a viewer-request function
  curl -si $g/hello
  # the JWT check: 403 without a token
  curl -si $g/api/items | head -1
  # an object from the S3 origin: ETag, Last-Modified, x-amz-meta-bucket
  curl -si $g/assets/logo.txt | grep -i -e etag -e x-amz-meta
  # what is deployed where, the edge nodes, the functions
  $ctl status demo
  $ctl nodes
  $ctl function list

  smoke test: scripts/lab.sh smoke      stop: scripts/lab.sh down
MSG
    ;;
  down)
    "${COMPOSE[@]}" down -v --remove-orphans --timeout 10
    rm -rf "$LAB_ENV" "$LAB_JSON" "$LAB_PKI"
    ;;
  ps) "${COMPOSE[@]}" ps ;;
  wait) wait_healthy ;;
  demo) require_lab; deploy_demo || { dump 60; exit 1; } ;;
  chaos) shift; require_lab; run_chaos "$@" ;;
  chaos-allinone) shift; chaos_allinone "$@" ;;
  logs) dump "${2:-100}" ;;
  smoke)
    require_lab
    for v in "${PORT_VARS[@]}"; do export "$v=${!v:-${PORT_DEFAULT[$v]}}"; done
    t0=$(date +%s)
    if ! EDGELAB_E2E_REUSE=1 go test -tags e2e -count=1 -timeout 10m -v ./e2e/...; then
      log "smoke test failed"
      exit 1
    fi
    log "smoke test passed in $(( $(date +%s) - t0 ))s"
    ;;
  env)
    for v in COMPOSE_PROJECT_NAME EDGELAB_IMAGE EDGELAB_PROFILE "${PORT_VARS[@]}"; do echo "$v=${!v:-}"; done
    ;;
  *) echo "usage: $0 up|down|ps|wait|logs|demo|smoke|chaos|chaos-allinone|env" >&2; exit 2 ;;
esac
