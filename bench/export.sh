#!/usr/bin/env bash
# The ledger export benchmark (bench/README.md, "Exports").
#
#   bench/export.sh postgres|sqlite [--reps R]
#
# Uses the database bench/run.sh seeded (seeds it if missing), starts the release server, and
# downloads the whole hazard ledger as the city admin (every hazard), CSV then XLSX, R times.
# For each download: wall time, size, rows, and the server's resident memory before and at its
# peak during the download (sampled every 50 ms from /proc). Prints one markdown table of
# medians; raw figures go to bench/results/export-<backend>-<time>/.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
BACKEND=${1:-}
case $BACKEND in postgres|sqlite) shift ;; *) sed -n '2,10p' "$0" >&2; exit 2 ;; esac
REPS=1
while [ $# -gt 0 ]; do
  case $1 in
    --reps) REPS=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in curl jq python3; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done

HAZREG_BIN=${HAZREG_BIN:-target/release/hazard-registry}
case $HAZREG_BIN in /*) ;; *) HAZREG_BIN=$REPO/$HAZREG_BIN ;; esac
[ -x "$HAZREG_BIN" ] || (cd "$REPO" && cargo build --release --bin hazard-registry)
export HAZREG_BIN

eval "$(python3 "$BENCH/seed.py" --print-env "$BACKEND")"
BASE=$HAZREG_BENCH_BASE
RESULTS=$BENCH/results/export-$BACKEND-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS"
say() { echo "[export $(date +%H:%M:%S)] $*" >&2; }
python3 "$BENCH/seed.py" "$BACKEND" | tail -1 >"$RESULTS/seed.json"
say "data set: $(jq -c '{enterprises, hazards}' "$RESULTS/seed.json")"

"$HAZREG_BIN" serve >>"$RESULTS/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz")" = 200 ] && break
  sleep 0.2
done
"$BENCH/accounts.sh" "$BACKEND"
set -a; . "$HAZREG_DATA_DIR/tokens.env"; set +a

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
printf 'format\trep\tseconds\tbytes\trows\trss_before_kib\trss_peak_kib\n' >"$RESULTS/export.tsv"
for rep in $(seq 1 "$REPS"); do
  for format in csv xlsx; do
    out=$RESULTS/hazards.$format
    before=$(rss_kib)
    peak_file=$RESULTS/peak.$format.$rep
    ( peak=0; while kill -0 "$SERVER_PID" 2>/dev/null; do
        r=$(rss_kib 2>/dev/null || true); [ "${r:-0}" -gt "$peak" ] && peak=$r && echo "$peak" >"$peak_file"; sleep 0.05
      done ) &
    SAMPLER=$!
    seconds=$(curl -sS -f -o "$out" -w '%{time_total}' -H "authorization: Bearer $TOKEN_ADMIN" \
      "$BASE/api/v1/hazards/export?format=$format")
    kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
    peak=$(cat "$peak_file" 2>/dev/null || echo "$before")
    bytes=$(stat -c %s "$out")
    if [ "$format" = csv ]; then
      rows=$(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], encoding="utf-8-sig"))) - 1)' "$out")
    else
      rows=$(python3 - "$out" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
n = 0
for name in z.namelist():
    if name.startswith("xl/worksheets/sheet"):
        with z.open(name) as f:
            tail = b""  # the end of the last chunk, so a tag split across two is counted once
            for chunk in iter(lambda: f.read(1 << 20), b""):
                data = tail + chunk
                n += data.count(b"<row ")
                tail = data[-4:]
        n -= 1  # the header row
print(n)
PY
)
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$format" "$rep" "$seconds" "$bytes" "$rows" "$before" "$peak" >>"$RESULTS/export.tsv"
    say "$format r$rep: ${seconds} s, $bytes bytes, $rows rows, RSS ${before} → peak ${peak} KiB"
    rm -f "$out"
  done
done

python3 - "$RESULTS/export.tsv" "$BACKEND" <<'PY' | tee "$RESULTS/table.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(f"| export of every hazard, city admin ({sys.argv[2]}) | time | size | rows | server RSS before → peak |")
print("|---|---|---|---|---|")
for fmt in ("csv", "xlsx"):
    rs = [r for r in rows if r["format"] == fmt]
    med = lambda k: statistics.median(float(r[k]) for r in rs)
    print(f"| `format={fmt}` (median of {len(rs)}) | {med('seconds'):.1f} s | {med('bytes') / 1e6:.0f} MB "
          f"| {int(med('rows')):,} | {med('rss_before_kib') / 1024:.0f} → {med('rss_peak_kib') / 1024:.0f} MiB |")
PY
