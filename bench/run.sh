#!/usr/bin/env bash
# The Hazard Registry benchmark (bench/README.md).
#
#   bench/run.sh postgres|sqlite [--fresh] [--enterprises N] [--hazards M] [--reps R] [--duration S]
#
# Seeds (or reuses) the bench database, starts the release server on it, creates the bench
# accounts, runs every scenario R times (compared pairs back to back in each round) and prints
# one markdown table of medians. Raw oha JSON, pgbench output and the table go to
# bench/results/<backend>-<time>/.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
BACKEND=${1:-}
case $BACKEND in postgres|sqlite) shift ;; *) sed -n '2,10p' "$0" >&2; exit 2 ;; esac

SEED_ARGS=()
REPS=${HAZREG_BENCH_REPS:-3}
D=${HAZREG_BENCH_DURATION:-10}             # seconds per load scenario
SMALL_D=${HAZREG_BENCH_SMALL_DURATION:-5}  # seconds per low-concurrency / search scenario
FIXED_QPS=${HAZREG_BENCH_FIXED_QPS:-}      # rate of the list under login load (default below)
ONLY=${HAZREG_BENCH_ONLY:-}                # run only the scenarios whose names match this regex
while [ $# -gt 0 ]; do
  case $1 in
    --fresh) SEED_ARGS+=(--fresh) ;;
    --enterprises|--hazards|--seed|--open-tail) SEED_ARGS+=("$1" "$2"); shift ;;
    --reps) REPS=$2; shift ;;
    --duration) D=$2; SMALL_D=$(( (D + 1) / 2 )); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
for tool in "$OHA" curl jq python3; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
# JSON output: `-j` up to oha 1.8, `--output-format json` from 1.9 on (the JSON is the same).
if "$OHA" --help 2>/dev/null | grep -q -- '--output-format'; then OHA_JSON=(--output-format json); else OHA_JSON=(-j); fi
if [ "$BACKEND" = postgres ]; then
  for tool in psql pgbench; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
else
  command -v sqlite3 >/dev/null || { echo "missing sqlite3" >&2; exit 1; }
fi

HAZREG_BIN=${HAZREG_BIN:-target/release/hazard-registry}
case $HAZREG_BIN in /*) ;; *) HAZREG_BIN=$REPO/$HAZREG_BIN ;; esac
if [ ! -x "$HAZREG_BIN" ]; then
  echo "$HAZREG_BIN missing: cargo build --release" >&2
  (cd "$REPO" && cargo build --release --bin hazard-registry)
fi
export HAZREG_BIN

eval "$(python3 "$BENCH/seed.py" --print-env "$BACKEND")"
BASE=$HAZREG_BENCH_BASE
CLK_TCK=$(getconf CLK_TCK)
RESULTS=$BENCH/results/$BACKEND-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
TSV=$RESULTS/results.tsv
printf 'name\trep\trequests\trps\tp50\tp99\tmax\tnon2xx\terrors\tcpu_ms\tdb_cpu_ms\tcodes\n' >"$TSV"
say() { echo "[run $(date +%H:%M:%S)] $*" >&2; }

# ------------------------------------------------------------------ database and server

python3 "$BENCH/seed.py" "$BACKEND" ${SEED_ARGS[@]+"${SEED_ARGS[@]}"} | tail -1 >"$RESULTS/seed.json"
MAX_ID=$(jq -er .max_hazard_id "$RESULTS/seed.json")
say "data set: $(jq -c '{enterprises, hazards, listings, seeded_at}' "$RESULTS/seed.json")"

sql() {
  if [ "$BACKEND" = postgres ]; then psql -X -q -At -v ON_ERROR_STOP=1 -d "$HAZREG_DATABASE_URL" -c "$1"
  else sqlite3 -cmd ".timeout 10000" "${HAZREG_DATABASE_URL#sqlite://}" "$1"; fi
}
pg_admin() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$HAZREG_BENCH_PG_ADMIN_URL" -c "$1"; }

# What earlier runs added: hazards created by the create scenario, the login hammer's sessions.
reset_data() {
  sql "DELETE FROM hazards WHERE id > $MAX_ID" >/dev/null
  sql "DELETE FROM refresh_tokens WHERE session_id IN (SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.username = 'bench.login')" >/dev/null
  sql "DELETE FROM sessions WHERE account_id IN (SELECT id FROM accounts WHERE username = 'bench.login')" >/dev/null
  # The create scenario churns the statistics tallies too (a +1 and a -1 per hazard).
  if [ "$BACKEND" = postgres ]; then sql "VACUUM ANALYZE hazards" >/dev/null; sql "VACUUM ANALYZE hazard_tallies" >/dev/null; fi
}

SERVER_PID=
HAMMER_PID=
PG_LOGGING=
start_server() {
  "$HAZREG_BIN" serve >>"$RESULTS/server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited; see $RESULTS/server.log" >&2; tail -20 "$RESULTS/server.log" >&2; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && return 0
    sleep 0.2
  done
  echo "server not ready after 60 s" >&2; exit 1
}
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() {
  [ -n "$HAMMER_PID" ] && kill "$HAMMER_PID" 2>/dev/null || true
  stop_server
  [ -n "$PG_LOGGING" ] && pg_admin "ALTER DATABASE hazreg_bench RESET log_min_duration_statement" || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

reset_data

# ------------------------------------------------------------------ measuring

ticks() { # utime + stime of one process, in clock ticks
  [ -r "/proc/$1/stat" ] && cut -d')' -f2- "/proc/$1/stat" | awk '{print $12 + $13}' || echo 0
}
db_ticks() { # PostgreSQL backends serving hazreg_bench
  [ "$BACKEND" = postgres ] || { echo -1; return; }
  local total=0 pid
  for pid in $(ps -eo pid=,args= | awk '/postgres: .* hazreg_bench / {print $1}'); do
    total=$((total + $(ticks "$pid")))
  done
  echo $total
}

# measure NAME REP oha-arguments… : one oha run, its row in results.tsv and a line on stdout
wanted() { [ -z "$ONLY" ] || [[ $1 =~ $ONLY ]]; }
measure() {
  local name=$1 rep=$2; shift 2
  wanted "$name" || return 0
  local out=$RESULTS/$name.r$rep.json c0 d0 c1 d1
  c0=$(ticks "$SERVER_PID"); d0=$(db_ticks)
  "$OHA" --no-tui "${OHA_JSON[@]}" -w -r 0 "$@" >"$out"
  c1=$(ticks "$SERVER_PID"); d1=$(db_ticks)
  local n rps p50 p99 max non2xx errors codes
  read -r n rps p50 p99 max non2xx errors codes < <(python3 "$BENCH/report.py" oha "$out")
  local cpu db
  cpu=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$CLK_TCK" 'BEGIN {printf "%.3f", n ? (b - a) * 1000 / t / n : -1}')
  db=$(awk -v a="$d0" -v b="$d1" -v n="$n" -v t="$CLK_TCK" 'BEGIN {printf "%.3f", (a < 0 || !n) ? -1 : (b - a) * 1000 / t / n}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$n" "$rps" "$p50" "$p99" "$max" \
    "$non2xx" "$errors" "$cpu" "$db" "$codes" >>"$TSV"
  printf '%-26s r%s %7s req/s  p50 %7s ms  p99 %8s ms  max %8s ms  cpu %s ms/req  db %s ms/req  [%s]\n' \
    "$name" "$rep" "$rps" "$p50" "$p99" "$max" "$cpu" "$db" "$codes"
  if [ "$non2xx" != 0 ] || [ "$errors" != 0 ]; then
    echo "!! $name: $non2xx non-2xx, $errors failed ($codes); server log tail:" >&2
    tail -5 "$RESULTS/server.log" >&2
  fi
}

get() { # NAME REP TOKEN URL CONNECTIONS SECONDS
  measure "$1" "$2" -c "$5" -z "$6s" -H "authorization: Bearer $3" "$4"
}

pgbench_run() { # NAME REP FILE
  wanted "$1" || return 0
  local out=$RESULTS/$1.r$2.txt
  # The server's own session settings (db::Manager::open) and prepared statements, as diesel
  # uses them, so the database-only rate is of the same plans; and, like the server, no TLS to
  # a database on the loopback (db::pg_url_with_timeouts).
  local ssl=${PGSSLMODE:-}
  [[ $HAZREG_DATABASE_URL =~ @(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\])([:/?]|$) ]] && ssl=${ssl:-disable}
  PGSSLMODE=${ssl:-prefer} PGOPTIONS='-c random_page_cost=1.1 -c jit=off' \
    pgbench -n -M prepared -c 16 -j 2 -T "$D" -f "$3" "$HAZREG_DATABASE_URL" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
  local n tps lat failed
  read -r n tps lat failed < <(python3 "$BENCH/report.py" pgbench "$out")
  printf '%s\t%s\t%s\t%s\t%s\t-1\t-1\t0\t%s\t-1\t-1\tpgbench\n' "$1" "$2" "$n" "$tps" "$lat" "$failed" >>"$TSV"
  printf '%-26s r%s %7s tps    latency avg %s ms  failed %s\n' "$1" "$2" "$tps" "$lat" "$failed"
}

other_load() { # % of all CPUs busy over 1 s while the bench sends nothing
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; all = busy + y[2] - x[2];
    printf "%d", all ? busy * 100 / all : 0}'
}

urlenc() { jq -rn --arg v "$1" '$v|@uri'; }

# ------------------------------------------------------------------ the SQL of the county list (PostgreSQL)

LIST_URL="$BASE/api/v1/hazards?status=rectifying&limit=50"
if [ "$BACKEND" = postgres ]; then
  PG_LOG=${HAZREG_BENCH_PG_LOG:-$(ls /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1)}
  pg_admin "ALTER DATABASE hazreg_bench SET log_min_duration_statement = 0"
  PG_LOGGING=1
  start_server
  "$BENCH/accounts.sh" "$BACKEND"
  set -a; . "$HAZREG_DATA_DIR/tokens.env"; set +a
  curl -sS -o /dev/null "$LIST_URL" -H "authorization: Bearer $TOKEN_COUNTY"  # opens the pool's connections
  if [ -r "$PG_LOG" ]; then
    off=$(stat -c %s "$PG_LOG")
    curl -sS -o /dev/null "$LIST_URL" -H "authorization: Bearer $TOKEN_COUNTY"
    sleep 1
    tail -c +$((off + 1)) "$PG_LOG" >"$RESULTS/capture.log"
    if python3 "$BENCH/report.py" extract-sql "$RESULTS/capture.log" hazreg_bench \
      "$BENCH/county_list.sql" "$BENCH/county_list_principal.sql" "$RESULTS/county_list_all_statements.sql" >&2; then
      cp "$BENCH/county_list.sql" "$BENCH/county_list_principal.sql" "$RESULTS/"
      PGBENCH=1
    else
      say "WARNING: the county list's SQL was not captured: pgbench scenarios skipped"
      PGBENCH=
    fi
  else
    say "cannot read the PostgreSQL log ($PG_LOG; set HAZREG_BENCH_PG_LOG): pgbench scenarios skipped"
    PGBENCH=
  fi
  stop_server
  pg_admin "ALTER DATABASE hazreg_bench RESET log_min_duration_statement"
  PG_LOGGING=
fi

start_server
say "server $SERVER_PID up at $BASE ($HAZREG_BIN)"
"$BENCH/accounts.sh" "$BACKEND"
set -a; . "$HAZREG_DATA_DIR/tokens.env"; set +a

# ------------------------------------------------------------------ scenario inputs

# Page 21 of the overdue list: walk the cursor 20 times (county officer; the city admin when
# the county has fewer than 21 pages).
OVERDUE_URL="$BASE/api/v1/hazards?overdue=true&sort=rectification_deadline&limit=50"
walk() { # TOKEN -> "pages-walked url-of-last-page"
  local url=$OVERDUE_URL cursor pages=1 try
  while [ $pages -lt 21 ]; do
    cursor=
    for try in 1 2 3; do
      cursor=$(curl -fsS --max-time 30 "$url" -H "authorization: Bearer $1" | jq -r .next_cursor) && break
      cursor=; say "walking the overdue list: page $pages failed (try $try)"
    done
    [ -z "$cursor" ] || [ "$cursor" = null ] && break
    url="$OVERDUE_URL&cursor=$(urlenc "$cursor")"
    pages=$((pages + 1))
  done
  echo "$pages $url"
}
read -r PAGES P21_URL < <(walk "$TOKEN_COUNTY"); OVERDUE_TOKEN=$TOKEN_COUNTY; OVERDUE_WHO=county
if [ "$PAGES" -lt 21 ]; then
  read -r PAGES P21_URL < <(walk "$TOKEN_ADMIN"); OVERDUE_TOKEN=$TOKEN_ADMIN; OVERDUE_WHO=city
fi
say "overdue list: page $PAGES reached as the $OVERDUE_WHO caller"
{
  echo "overdue_page=$PAGES"
  echo "overdue_caller=$OVERDUE_WHO"
  echo "township_account=$TOWNSHIP_VIA"
  echo "binary=$HAZREG_BIN"
  echo "git=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO" status --porcelain -- src migrations 2>/dev/null | grep -q . && echo ' (src/migrations have uncommitted changes; the binary may be from another state)')"
} >"$RESULTS/notes.txt"

TODAY=$(TZ=Asia/Shanghai date +%F)
YESTERDAY=$(TZ=Asia/Shanghai date -d yesterday +%F)
DEADLINE=$(TZ=Asia/Shanghai date -d '+30 days' +%F)
CREATE_BODY=$(jq -cn --argjson e "$BUSY_ENTERPRISE_ID" --arg d "$YESTERDAY" --arg dl "$DEADLINE" '{
  enterprise_id: $e, title: "罐区可燃气体报警器失效", description: "基准测试：罐区 3 台可燃气体报警器无显示",
  location: "罐区", level: "general", nature: "unsafe_condition", discovered_on: $d,
  responsible_person: "张伟（设备部经理）", rectification_deadline: $dl, measures: "更换报警器，整改期间人工巡检",
  funds_10k_yuan: 1.5, acceptance_criteria: "报警器检定合格并投用"}')
LOGIN_BODY=$(jq -cn --arg p "$HAZREG_ADMIN_PASSWORD" '{username: "bench.login", password: $p}')
STATS_RANGE="from=2024-12-01&to=$TODAY"
say "create body: $CREATE_BODY"

# one request of each kind must answer 2xx before loading
for check in "$TOKEN_COUNTY|$LIST_URL" "$TOKEN_ZONE|$BASE/api/v1/hazards?limit=50" "$OVERDUE_TOKEN|$P21_URL" \
             "$TOKEN_COUNTY|$BASE/api/v1/stats/hazards?group_by=month&$STATS_RANGE"; do
  code=$(curl -s --max-time 60 -o "$RESULTS/check.json" -w '%{http_code}' "${check#*|}" -H "authorization: Bearer ${check%%|*}")
  case $code in
    200) ;;
    5*|000) say "WARNING: pre-check ${check#*|} answered $code: $(head -c 300 "$RESULTS/check.json")" ;;
    *) echo "pre-check ${check#*|} answered $code: $(head -c 400 "$RESULTS/check.json")" >&2; exit 1 ;;
  esac
done

say "warm-up"
"$OHA" --no-tui "${OHA_JSON[@]}" -w -r 0 -c 16 -z 3s -H "authorization: Bearer $TOKEN_COUNTY" "$LIST_URL" >/dev/null

# ------------------------------------------------------------------ the rounds

[ -n "$FIXED_QPS" ] && echo "fixed_qps=$FIXED_QPS" >>"$RESULTS/notes.txt"
for rep in $(seq 1 "$REPS"); do
  busy=$(other_load)
  echo "idle_cpu_busy_round$rep=$busy%" >>"$RESULTS/notes.txt"
  say "round $rep of $REPS (CPU busy while the bench idles: $busy% of the machine)"
  [ "$busy" -lt 15 ] || say "WARNING: something else uses the CPU ($busy%): figures will be noisy"
  # the county list against the same SQL straight on PostgreSQL (a pair: back to back)
  get county_rectifying_c16 "$rep" "$TOKEN_COUNTY" "$LIST_URL" 16 "$D"
  if [ "$BACKEND" = postgres ] && [ -n "$PGBENCH" ]; then
    pgbench_run pgbench_page "$rep" "$BENCH/county_list.sql"
    pgbench_run pgbench_both "$rep" "$BENCH/county_list_principal.sql"
  fi

  # small scopes, default list, one connection: latency
  get zone_empty_c1 "$rep" "$TOKEN_ZONE" "$BASE/api/v1/hazards?limit=50" 1 "$SMALL_D"
  get township_c1 "$rep" "$TOKEN_TOWNSHIP" "$BASE/api/v1/hazards?limit=50" 1 "$SMALL_D"
  get department_c1 "$rep" "$TOKEN_DEPT" "$BASE/api/v1/hazards?limit=50" 1 "$SMALL_D"
  get enterprise_c1 "$rep" "$TOKEN_ENT" "$BASE/api/v1/hazards?limit=50" 1 "$SMALL_D"

  # keyset depth: page 1 vs page 21 (a pair)
  get overdue_p1_c16 "$rep" "$OVERDUE_TOKEN" "$OVERDUE_URL" 16 "$D"
  get overdue_p21_c16 "$rep" "$OVERDUE_TOKEN" "$P21_URL" 16 "$D"

  # search
  for q in 报警:baojing 气体报警:qiti 431302-2025:code; do
    url="$BASE/api/v1/hazards?q=$(urlenc "${q%%:*}")&limit=50"
    get "search_${q#*:}_county" "$rep" "$TOKEN_COUNTY" "$url" 4 "$SMALL_D"
    get "search_${q#*:}_city" "$rep" "$TOKEN_ADMIN" "$url" 4 "$SMALL_D"
  done

  # the list at a fixed rate, alone and under a login storm (a pair). The rate must be below
  # capacity or both runs only measure queueing: 200/s, or half the 16-connection throughput
  # of round 1 when that is lower (HAZREG_BENCH_FIXED_QPS overrides).
  if wanted fixed_logins; then
  if [ -z "$FIXED_QPS" ]; then
    cap=$(awk -F'\t' '$1 == "county_rectifying_c16" && $2 == 1 {printf "%d", $4 / 2}' "$TSV")
    FIXED_QPS=$(( cap > 0 && cap < 200 ? cap : 200 ))
    [ "$FIXED_QPS" -ge 5 ] || FIXED_QPS=5
    echo "fixed_qps=$FIXED_QPS" >>"$RESULTS/notes.txt"
    say "fixed rate for the login pair: $FIXED_QPS req/s"
  fi
  measure fixed_alone "$rep" -c 16 -q "$FIXED_QPS" --latency-correction -z "${D}s" \
    -H "authorization: Bearer $TOKEN_COUNTY" "$LIST_URL"
  "$OHA" --no-tui "${OHA_JSON[@]}" -w -r 0 -c 4 -z "$((D + 2))s" -m POST -T application/json -d "$LOGIN_BODY" \
    "$BASE/api/v1/auth/login" >"$RESULTS/login_hammer.r$rep.json" &
  HAMMER_PID=$!
  sleep 1
  measure fixed_logins "$rep" -c 16 -q "$FIXED_QPS" --latency-correction -z "${D}s" \
    -H "authorization: Bearer $TOKEN_COUNTY" "$LIST_URL"
  wait "$HAMMER_PID" || true
  HAMMER_PID=
  read -r n rps p50 p99 max non2xx errors codes < <(python3 "$BENCH/report.py" oha "$RESULTS/login_hammer.r$rep.json")
  printf 'login_hammer\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-1\t-1\t%s\n' "$rep" "$n" "$rps" "$p50" "$p99" "$max" \
    "$non2xx" "$errors" "$codes" >>"$TSV"
  printf '%-26s r%s %7s req/s  p50 %7s ms  p99 %8s ms  [%s]\n' login_hammer "$rep" "$rps" "$p50" "$p99" "$codes"
  fi

  # statistics, one request at a time
  measure stats_jurisdiction_admin "$rep" -c 1 -n 20 -H "authorization: Bearer $TOKEN_ADMIN" \
    "$BASE/api/v1/stats/hazards?group_by=jurisdiction&$STATS_RANGE"
  measure stats_sector_admin "$rep" -c 1 -n 20 -H "authorization: Bearer $TOKEN_ADMIN" \
    "$BASE/api/v1/stats/hazards?group_by=sector&$STATS_RANGE"
  measure stats_month_county "$rep" -c 1 -n 20 -H "authorization: Bearer $TOKEN_COUNTY" \
    "$BASE/api/v1/stats/hazards?group_by=month&$STATS_RANGE"

  # creates (no Idempotency-Key: it is optional, and oha sends one body to all requests)
  for c in 8 $([ "$BACKEND" = postgres ] && echo 16); do
    measure "create_c$c" "$rep" -c "$c" -z "${D}s" -m POST -T application/json -d "$CREATE_BODY" \
      -H "authorization: Bearer $TOKEN_COUNTY" "$BASE/api/v1/hazards"
  done
  reset_data  # the created hazards go, so every round (and run) sees the seeded data set
done

python3 "$BENCH/report.py" table "$TSV" "$BACKEND" | tee "$RESULTS/table.md"
echo
echo "raw results: $RESULTS"
