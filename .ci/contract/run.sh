#!/usr/bin/env bash
# API contract check (.ci/run calls it after the cargo tests): lint openapi/openapi.json with
# Redocly, start the server, drive it with a generated Python client and with openapi-fetch typed
# by generated TypeScript, then fuzz every operation with schemathesis. See README.md here.
#
#   cargo build && bash .ci/contract/run.sh
#
# Environment (all optional):
#   HAZREG_BIN                  server binary (default target/debug/hazard-registry)
#   CONTRACT_OPENAPI            document to lint and generate from (default openapi/openapi.json)
#   CONTRACT_KEEP_GOING=1       run every step even after a failure (diagnostics); still exits 1
#   CONTRACT_LOG_DIR            where the step logs go (default .ci/contract/logs, emptied first)
#   CONTRACT_FUZZ_MAX_EXAMPLES  schemathesis --max-examples per operation (default 100)
#   CONTRACT_FUZZ_SEED          schemathesis --seed (default 20261202)
#   CONTRACT_PYTHON             Python 3.11+ to build the venv with (default python3)
#   CONTRACT_DATABASE_URL       database of the server under test (default: a fresh SQLite file);
#                               a postgres:// URL must name an empty database
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$ROOT/$1" ;; esac; }

DOC=$(abs "${CONTRACT_OPENAPI:-openapi/openapi.json}")
BIN=$(abs "${HAZREG_BIN:-target/debug/hazard-registry}")
KEEP_GOING=${CONTRACT_KEEP_GOING:-0}
LOG_DIR=$(abs "${CONTRACT_LOG_DIR:-$HERE/logs}")
FUZZ_MAX_EXAMPLES=${CONTRACT_FUZZ_MAX_EXAMPLES:-100}
FUZZ_SEED=${CONTRACT_FUZZ_SEED:-20261202}
PYTHON=${CONTRACT_PYTHON:-python3}
ADMIN_PASSWORD='Contract-Check-2026'
# /metrics is on for the check, behind its own bearer token (not an account's).
METRICS_TOKEN='contract-check-metrics-token-0123'
VENV="$HERE/.venv"
GEN="$HERE/generated"

# No telemetry, update checks or prompts from the tools.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true NO_UPDATE_NOTIFIER=1 \
  npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false \
  PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 CONTRACT_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  CONTRACT_KEEP_GOING="$KEEP_GOING"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hazreg-contract.XXXXXX")
# Only what this script writes is removed (CONTRACT_LOG_DIR may name a shared folder).
rm -rf "$GEN" "$LOG_DIR/schemathesis" "$LOG_DIR"/*.log
mkdir -p "$LOG_DIR" "$GEN"

cleanup() {
  local pid
  if [[ -f "$WORK/server.pid" ]]; then
    pid=$(cat "$WORK/server.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  [[ -f "$WORK/server.log" ]] && cp "$WORK/server.log" "$LOG_DIR/server.log" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

declare -A RESULT=()
ORDER=()
RUN_START=$(now)

# run_step NAME NEEDS FUNCTION: runs FUNCTION in a subshell (state between steps goes through
# files in $WORK), logs to $LOG_DIR/NAME.log, records ok/FAIL/skipped and the time taken.
run_step() {
  local name=$1 needs=$2 fn=$3 start rc dep
  ORDER+=("$name")
  for dep in $needs; do
    if [[ "${RESULT[$dep]:-}" != ok* ]]; then
      RESULT[$name]="skipped (needs $dep)"
      printf '\n== %s: skipped, %s did not pass\n' "$name" "$dep"
      return 0
    fi
  done
  printf '\n== %s\n' "$name"
  start=$(now)
  set +e
  ( set -euo pipefail; "$fn" ) 2>&1 | tee "$LOG_DIR/$name.log"
  rc=${PIPESTATUS[0]}
  set -e
  if [[ $rc -eq 0 ]]; then
    RESULT[$name]="ok in $(since "$start")s"
  else
    RESULT[$name]="FAIL in $(since "$start")s (exit $rc)"
  fi
  printf '== %s: %s\n' "$name" "${RESULT[$name]}"
  if [[ $rc -ne 0 && "$KEEP_GOING" != 1 ]]; then
    finish
  fi
}

finish() {
  local name failed=0
  printf '\n== contract check summary (logs in %s)\n' "$LOG_DIR"
  for name in "${ORDER[@]}"; do
    printf '  %-16s %s\n' "$name" "${RESULT[$name]}"
    [[ "${RESULT[$name]}" == ok* ]] || failed=$((failed + 1))
  done
  if [[ $failed -eq 0 ]]; then
    printf 'contract check: PASSED (%d steps in %ss)\n' "${#ORDER[@]}" "$(since "$RUN_START")"
    exit 0
  fi
  printf 'contract check: FAILED (%d of %d steps did not pass, %ss)\n' "$failed" "${#ORDER[@]}" "$(since "$RUN_START")"
  exit 1
}

# ---------------------------------------------------------------------------------------------
# 1. Tools, pinned: npm packages from package-lock.json, Python packages from requirements.txt
#    with every transitive version fixed by constraints.txt.

install_npm() {
  node --version
  timeout 300 npm ci --prefix "$HERE" --no-audit --no-fund --prefer-offline --loglevel=error
  "$HERE/node_modules/.bin/redocly" --version
  "$HERE/node_modules/.bin/openapi-typescript" --version
  "$HERE/node_modules/.bin/tsc" --version
}

install_pip() {
  local stamp want
  want=$( { "$PYTHON" -c 'import sys; print(sys.version)'; cat "$HERE/requirements.txt" "$HERE/constraints.txt"; } | sha256sum | cut -d' ' -f1)
  stamp="$VENV/.contract-stamp"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "reusing $VENV (requirements unchanged)"
  else
    rm -rf "$VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
      # Debian ships venv separately.
      if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        rm -rf "$VENV"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$PYTHON" -m venv "$VENV"
      else
        echo "cannot create a venv with $PYTHON (install python3-venv)" >&2
        return 1
      fi
    fi
    timeout 600 "$VENV/bin/python" -m pip install --quiet --require-virtualenv \
      -r "$HERE/requirements.txt" -c "$HERE/constraints.txt"
    echo "$want" >"$stamp"
  fi
  "$VENV/bin/python" --version
  "$VENV/bin/openapi-python-client" --version
  "$VENV/bin/st" --version
}

# ---------------------------------------------------------------------------------------------
# 2. Lint: Redocly's recommended ruleset plus example validation, every problem an error.

lint() {
  echo "document: $DOC"
  local rc=0
  (cd "$HERE" && timeout 120 ./node_modules/.bin/redocly lint "$DOC" --config "$HERE/redocly.yaml" \
    --format=stylish --max-problems=10000) || rc=$?
  echo
  echo "-- problems by rule"
  (cd "$HERE" && timeout 120 ./node_modules/.bin/redocly lint "$DOC" --config "$HERE/redocly.yaml" \
    --format=summary --max-problems=10000 2>&1) || true
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# 3. A live server on a free loopback port with a throwaway SQLite data dir. Login throttling is
#    raised so that fuzzing the login operation cannot lock the administrator out mid-run.

start_server() {
  if [[ ! -x "$BIN" ]]; then
    echo "no server binary at $BIN: run 'cargo build' first or set HAZREG_BIN" >&2
    return 1
  fi
  local port
  port=$("$VENV/bin/python" "$HERE/tools.py" free-port)
  mkdir -p "$WORK/data"
  echo "http://127.0.0.1:$port" >"$WORK/base_url"
  echo "starting $BIN on 127.0.0.1:$port (data in $WORK/data)"
  # SQLite in $WORK/data unless CONTRACT_DATABASE_URL names another (an empty PostgreSQL database).
  local database_url="${CONTRACT_DATABASE_URL:-sqlite://$WORK/data/hazard-registry.db}"
  echo "database: ${database_url%%@*}…"
  HAZREG_DATA_DIR="$WORK/data" \
    HAZREG_DATABASE_URL="$database_url" \
    HAZREG_BIND="127.0.0.1:$port" \
    HAZREG_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    HAZREG_METRICS_TOKEN="$METRICS_TOKEN" \
    HAZREG_JWT_SECRET="contract-check-jwt-secret-0123456789abcdef" \
    HAZREG_ARGON2_MEMORY_KIB=256 \
    HAZREG_LOGIN_MAX_FAILURES=1000000 \
    HAZREG_LOGIN_ADDRESS_MAX_FAILURES_PER_MINUTE=1000000 \
    HAZREG_ACCESS_TOKEN_TTL_SECS=3600 \
    HAZREG_LOG_FORMAT=json \
    HAZREG_LOG=info \
    nohup "$BIN" serve </dev/null >"$WORK/server.log" 2>&1 &
  echo $! >"$WORK/server.pid"
  "$VENV/bin/python" "$HERE/tools.py" wait-ready "http://127.0.0.1:$port/readyz" 60 "$(cat "$WORK/server.pid")" || {
    tail -n 30 "$WORK/server.log" >&2
    return 1
  }
  echo "ready: GET /readyz = 200"
}

served_document() {
  local base
  base=$(cat "$WORK/base_url")
  "$VENV/bin/python" "$HERE/tools.py" same-document "$base/api/v1/openapi.json" "$DOC"
  echo "GET /api/v1/openapi.json equals $DOC"
}

# ---------------------------------------------------------------------------------------------
# 4. Python: openapi-python-client generates a package from the document; scenario.py uses only it.

python_client() {
  local base out=$GEN/python
  base=$(cat "$WORK/base_url")
  rm -rf "$out"
  timeout 120 "$VENV/bin/openapi-python-client" generate --path "$DOC" \
    --config "$HERE/openapi-python-client.yaml" --meta setup --output-path "$out" --overwrite \
    2>&1 | tee "$WORK/generate.log"
  # The generator skips what it cannot read (an operation, a response) with a warning: a
  # document it must skip anything of is a failure.
  if grep -q "Warning(s) encountered" "$WORK/generate.log"; then
    echo "openapi-python-client skipped parts of the document (see above)" >&2
    return 1
  fi
  timeout 120 "$VENV/bin/python" -m pip install --quiet --require-virtualenv --no-deps \
    --no-build-isolation --force-reinstall "$out"
  "$VENV/bin/python" -m pip check
  CONTRACT_SERIAL=100000001 timeout 120 "$VENV/bin/python" "$HERE/scenario.py" "$base"
}

# ---------------------------------------------------------------------------------------------
# 5. TypeScript: openapi-typescript generates `paths`; scenario.ts (openapi-fetch) must pass
#    `tsc --strict --noEmit` and then run on node.

typescript_client() {
  local base rc=0
  base=$(cat "$WORK/base_url")
  rm -rf "$GEN/api.d.ts" "$GEN/js"
  # From an empty directory, so that openapi-typescript does not pick up redocly.yaml (the lint
  # step's business) as its own configuration.
  (cd "$WORK" && timeout 120 "$HERE/node_modules/.bin/openapi-typescript" "$DOC" -o "$GEN/api.d.ts")
  echo "-- tsc --strict --noEmit"
  (cd "$HERE" && timeout 180 ./node_modules/.bin/tsc -p tsconfig.json --strict --noEmit) || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "type check FAILED (exit $rc)"
    [[ "$KEEP_GOING" == 1 ]] || return "$rc"
    echo "-- CONTRACT_KEEP_GOING=1: compiling and running despite the type errors (diagnostic only)"
    (cd "$HERE" && timeout 180 ./node_modules/.bin/tsc -p tsconfig.json --noEmitOnError false >/dev/null) || true
  else
    (cd "$HERE" && timeout 180 ./node_modules/.bin/tsc -p tsconfig.json)
  fi
  echo "-- node generated/js/scenario.js"
  (cd "$HERE" && CONTRACT_SERIAL=100000002 timeout 120 node generated/js/scenario.js "$base") || return $?
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# 6. Fuzz every operation with schemathesis, as the administrator, with every check. Logout
#    would end the session the rest of the run uses, so it gets a run (and a session) of its own;
#    GET /metrics takes the metrics token instead of an account's, so it gets one too.

fuzz() {
  local base token token2 rc=0 rc2=0 rc3=0 dir=$LOG_DIR/schemathesis
  base=$(cat "$WORK/base_url")
  mkdir -p "$dir"
  export SCHEMATHESIS_HOOKS="$HERE/st_hooks.py" CONTRACT_DROPPED_LOG="$dir/dropped-failures.txt"
  : >"$CONTRACT_DROPPED_LOG"
  local common=(
    --url "$base"
    --checks all
    --max-examples "$FUZZ_MAX_EXAMPLES"
    --seed "$FUZZ_SEED"
    --generation-database none
    --workers 1
    --request-timeout 30
    --no-color
  )
  # schemathesis and hypothesis keep caches (.schemathesis/, .hypothesis/) in the working
  # directory: keep them out of the work tree.
  mkdir -p "$WORK/st" && cd "$WORK/st"
  token=$("$VENV/bin/python" "$HERE/tools.py" login "$base" admin "$ADMIN_PASSWORD")
  echo "-- st run (every operation but logout): ${common[*]}"
  # About 116 operations take 6–7 minutes on two cores; the bound only stops a hung run.
  timeout 900 "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$base/api/v1/openapi.json" "${common[@]}" \
    -H "Authorization: Bearer $token" --exclude-operation-id logout --exclude-operation-id get_metrics \
    --report junit,ndjson --report-dir "$dir/main" || rc=$?
  if ! "$VENV/bin/python" "$HERE/tools.py" me "$base" "$token"; then
    echo "the administrator's session ended during the run (a fuzzed request disabled the account," \
      "changed its password or ended the session): results after that point are not trustworthy" >&2
    [[ $rc -ne 0 ]] || rc=1
  fi
  token2=$("$VENV/bin/python" "$HERE/tools.py" login "$base" admin "$ADMIN_PASSWORD")
  echo "-- st run (logout, with a session of its own)"
  timeout 120 "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$base/api/v1/openapi.json" "${common[@]}" \
    -H "Authorization: Bearer $token2" --include-operation-id logout \
    --report junit,ndjson --report-dir "$dir/logout" || rc2=$?
  echo "-- st run (GET /metrics, with the metrics token)"
  timeout 120 "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$base/api/v1/openapi.json" "${common[@]}" \
    -H "Authorization: Bearer $METRICS_TOKEN" --include-operation-id get_metrics \
    --report junit,ndjson --report-dir "$dir/metrics" || rc3=$?
  echo
  echo "-- failures by check and operation"
  "$VENV/bin/python" "$HERE/tools.py" fuzz-summary "$dir"/main/*.ndjson "$dir"/logout/*.ndjson "$dir"/metrics/*.ndjson
  echo "-- failures dropped by st_hooks.py (business rules a schema cannot express): $(wc -l <"$CONTRACT_DROPPED_LOG")"
  # sed reads to the end (head would stop early and, under pipefail, fail the step with SIGPIPE)
  sort "$CONTRACT_DROPPED_LOG" | uniq -c | sort -rn | sed -n "1,20p"
  [[ $rc -eq 0 && $rc2 -eq 0 && $rc3 -eq 0 ]]
}

run_step install-npm "" install_npm
run_step install-pip "" install_pip
run_step lint "install-npm" lint
run_step server "install-pip" start_server
run_step served-document "server" served_document
run_step python "install-pip server" python_client
run_step typescript "install-npm server" typescript_client
run_step fuzz "install-pip server" fuzz
finish
