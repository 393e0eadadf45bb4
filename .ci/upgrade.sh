#!/usr/bin/env bash
# Rolling-upgrade check: the previous release (.ci/previous-release) keeps working on a database
# migrated by this tree's binary, and the two binaries, serving one database at the same time,
# see each other's writes (.ci/upgrade_scenario.py). On SQLite and on PostgreSQL.
#
#   cargo build --bin hazard-registry && bash .ci/upgrade.sh
#
# Environment (all optional):
#   HAZREG_BIN          the NEW binary (default target/debug/hazard-registry)
#   UPGRADE_BACKENDS    which backends to check (default "sqlite postgres")
#   UPGRADE_PG          superuser psql target (default "-h 127.0.0.1 -p 5432 -U postgres")
#
# The previous release is exported with `git archive` and built in target/upgrade-prev (kept
# for the next run). Without git history holding that commit (a tarball, a shallow clone) the
# check is skipped, loudly, and passes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
log() { printf '== upgrade: %s\n' "$*"; }

NEW_BIN=$(abs "${HAZREG_BIN:-target/debug/hazard-registry}")
BACKENDS=${UPGRADE_BACKENDS:-sqlite postgres}
read -r -a PG <<<"${UPGRADE_PG:--h 127.0.0.1 -p 5432 -U postgres}"
ADMIN_PASSWORD='Upgrade-Check-2026'
JWT_SECRET='upgrade-check-jwt-secret-0123456789abcdef'
SHA=$(grep -v '^[[:space:]]*#' .ci/previous-release | grep -m1 -E '^[0-9a-f]{40}$' || true)

[[ -n "$SHA" ]] || { echo "no commit in .ci/previous-release" >&2; exit 1; }
[[ -x "$NEW_BIN" ]] || { echo "no NEW binary at $NEW_BIN: run 'cargo build --bin hazard-registry' or set HAZREG_BIN" >&2; exit 1; }
if ! git -C "$ROOT" cat-file -e "$SHA^{commit}" 2>/dev/null; then
  echo "*** upgrade check SKIPPED: commit $SHA (.ci/previous-release) is not in this checkout's git history (tarball or shallow clone?) ***"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hazreg-upgrade.XXXXXX")
LOGS="$WORK/logs"
mkdir -p "$LOGS"
PIDS=()
PG_DB="hazreg_upgrade_$$"
FAILED=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ " $BACKENDS " == *" postgres "* ]]; then
    psql -q "${PG[@]}" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" postgres >/dev/null 2>&1 || true
  fi
}
on_exit() {
  local rc=$?
  cleanup
  if [[ $rc -ne 0 || $FAILED -ne 0 ]]; then
    echo "upgrade check: server and step logs kept in $LOGS"
  else
    rm -rf "$WORK"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# 1. The previous release's binary. The tree goes to a fixed path under the persistent target
#    dir (git archive keeps the commit's mtimes), so an unchanged commit is not rebuilt.
PREV_TARGET="$ROOT/target/upgrade-prev"
PREV_TREE="$PREV_TARGET/tree"
OLD_BIN="$PREV_TARGET/debug/hazard-registry"
start=$(now)
log "building the previous release ${SHA:0:12} in $PREV_TARGET"
rm -rf "$PREV_TREE" && mkdir -p "$PREV_TREE"
git -C "$ROOT" archive "$SHA" | tar -x -C "$PREV_TREE"
locked=()
if (cd "$PREV_TREE" && cargo metadata --locked --format-version 1 >/dev/null 2>&1); then
  locked=(--locked)
else
  echo "note: the previous release's Cargo.lock needs updating; building without --locked"
fi
(cd "$PREV_TREE" && CARGO_TARGET_DIR="$PREV_TARGET" cargo build --quiet "${locked[@]}" --bin hazard-registry) \
  >"$LOGS/build-prev.log" 2>&1 || { FAILED=1; cat "$LOGS/build-prev.log" >&2; echo "building the previous release FAILED" >&2; exit 1; }
BUILD_TIME=$(since "$start")
log "previous release built in ${BUILD_TIME}s: $OLD_BIN"

# ---------------------------------------------------------------------------------------------
# 2. Per backend: NEW migrates, OLD then NEW serve the database at once, the scenario runs.

# start_server NAME BIN: starts `BIN serve` on a free port; sets ADDR.
start_server() {
  local name=$1 bin=$2 logf="$LOGS/$BACKEND-$1.log" pid
  env "${SERVER_ENV[@]}" "$bin" serve </dev/null >"$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  ADDR=""
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { echo "$name server exited at start:" >&2; tail -n 20 "$logf" >&2; return 1; }
    ADDR=$(grep '"serving' "$logf" | jq -r 'select(.address != null) | .address' 2>/dev/null | head -n 1 || true)
    if [[ -n "$ADDR" ]] && curl -fsS -o /dev/null "http://$ADDR/readyz" 2>/dev/null; then
      echo "$name serving on $ADDR (pid $pid, GET /readyz = 200)"
      return 0
    fi
    sleep 0.2
  done
  echo "$name server not ready within 60s:" >&2
  tail -n 20 "$logf" >&2
  return 1
}

check_backend() {
  local data="$WORK/$BACKEND-data" url t0 t_migrate t_serve t_scenario old_addr
  mkdir -p "$data"
  if [[ "$BACKEND" == postgres ]]; then
    psql -q "${PG[@]}" -c "CREATE DATABASE $PG_DB" postgres
    url="postgres://postgres@127.0.0.1:5432/$PG_DB"
  else
    url="sqlite://$data/hazard-registry.db"
  fi
  SERVER_ENV=(
    HAZREG_DATABASE_URL="$url" HAZREG_DATA_DIR="$data" HAZREG_BIND=127.0.0.1:0
    HAZREG_LOG_FORMAT=json HAZREG_LOG=info HAZREG_ADMIN_PASSWORD="$ADMIN_PASSWORD"
    HAZREG_JWT_SECRET="$JWT_SECRET" HAZREG_ARGON2_MEMORY_KIB=256 HAZREG_WORKERS=2
  )
  t0=$(now)
  env "${SERVER_ENV[@]}" "$NEW_BIN" migrate >"$LOGS/$BACKEND-migrate.log" 2>&1 ||
    { echo "NEW migrate failed:" >&2; cat "$LOGS/$BACKEND-migrate.log" >&2; return 1; }
  echo "NEW migrate: $(grep -m1 -v '^{' "$LOGS/$BACKEND-migrate.log" || true)"
  t_migrate=$(since "$t0")
  t0=$(now)
  # OLD first: if `migrate` left no administrator, its first start creates it.
  start_server OLD "$OLD_BIN" || return 1
  old_addr=$ADDR
  if grep -q 'created the city administrator' "$LOGS/$BACKEND-OLD.log"; then
    echo "admin: created by OLD serve (NEW migrate left none)"
  else
    echo "admin: already there after NEW migrate"
  fi
  start_server NEW "$NEW_BIN" || return 1
  t_serve=$(since "$t0")
  t0=$(now)
  UPGRADE_ADMIN_PASSWORD="$ADMIN_PASSWORD" timeout 300 python3 .ci/upgrade_scenario.py \
    "http://$old_addr" "http://$ADDR" 2>&1 | tee "$LOGS/$BACKEND-scenario.log"
  t_scenario=$(since "$t0")
  TIMES="migrate ${t_migrate}s, start ${t_serve}s, scenario ${t_scenario}s"
}

declare -A RESULT=()
for BACKEND in $BACKENDS; do
  log "$BACKEND: NEW migrates, OLD and NEW serve it together"
  TIMES=""
  start=$(now)
  set +e
  # A subshell per backend: its servers and scratch database are cleaned up when it ends.
  (
    set -euo pipefail
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    check_backend
    echo "$TIMES" >"$WORK/$BACKEND.times"
  )
  rc=$?
  set -e
  if [[ $rc -eq 0 ]]; then
    RESULT[$BACKEND]="ok in $(since "$start")s ($(cat "$WORK/$BACKEND.times"))"
  else
    RESULT[$BACKEND]="FAILED in $(since "$start")s (logs: $LOGS/$BACKEND-*.log)"
    FAILED=1
  fi
done

printf '\n== upgrade check %s -> this tree (previous release built in %ss)\n' "${SHA:0:12}" "$BUILD_TIME"
for BACKEND in $BACKENDS; do printf '  %-9s %s\n' "$BACKEND" "${RESULT[$BACKEND]}"; done
if [[ $FAILED -ne 0 ]]; then
  echo "upgrade check: FAILED"
  exit 1
fi
echo "upgrade check: PASSED"
