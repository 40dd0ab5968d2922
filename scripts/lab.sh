#!/usr/bin/env bash
# The compose lab. Usage: scripts/lab.sh up|down|ps|smoke
#   up     build the image (scripts/images.sh) and start docker-compose.yml, wait until healthy
#   down   stop it and remove its volumes
#   smoke  run the e2e smoke test against the running lab (EDGELAB_E2E_REUSE=1)
# Env: EDGELAB_LAB_TIMEOUT (seconds to wait for health, default 180), COMPOSE_PROJECT_NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE=(docker-compose -f docker-compose.yml)

wait_healthy() {
  local deadline=$(( $(date +%s) + ${EDGELAB_LAB_TIMEOUT:-180} ))
  local want; want=$("${COMPOSE[@]}" config --services | wc -l)
  while :; do
    local ids healthy=0
    ids=$("${COMPOSE[@]}" ps -q)
    if [[ -n "$ids" ]]; then
      healthy=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids | grep -c '^healthy$' || true)
    fi
    if (( healthy >= want )); then
      echo "lab: $healthy/$want services healthy" >&2
      return 0
    fi
    if (( $(date +%s) > deadline )); then
      echo "lab: only $healthy/$want services healthy after ${EDGELAB_LAB_TIMEOUT:-180}s" >&2
      "${COMPOSE[@]}" ps >&2
      "${COMPOSE[@]}" logs --tail=30 >&2
      return 1
    fi
    sleep 2
  done
}

case "${1:-}" in
  up)
    scripts/images.sh
    "${COMPOSE[@]}" up -d
    wait_healthy
    cat <<MSG
edgelab compose lab is up:
  gateway        http://127.0.0.1:${EDGELAB_GATEWAY_PORT:-8080}   curl -H 'X-Viewer-Region: eu-west-1' http://127.0.0.1:${EDGELAB_GATEWAY_PORT:-8080}/
  edges/health   curl http://127.0.0.1:${EDGELAB_GATEWAY_PORT:-8080}/_gateway/edges
  control planes 127.0.0.1:${EDGELAB_CP1_PORT:-7070} 127.0.0.1:${EDGELAB_CP2_PORT:-7071}   export EDGELAB_ENDPOINT=127.0.0.1:${EDGELAB_CP1_PORT:-7070}
  origins        http://127.0.0.1:${EDGELAB_ORIGIN_A_PORT:-9001} http://127.0.0.1:${EDGELAB_ORIGIN_B_PORT:-9002}
  stop           scripts/lab.sh down
MSG
    ;;
  down) "${COMPOSE[@]}" down -v --remove-orphans ;;
  ps) "${COMPOSE[@]}" ps ;;
  wait) wait_healthy ;;
  smoke) EDGELAB_E2E_REUSE=1 go test -tags e2e -count=1 -v ./e2e/... ;;
  *) echo "usage: $0 up|down|ps|wait|smoke" >&2; exit 2 ;;
esac
