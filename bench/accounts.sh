#!/usr/bin/env bash
# Creates the bench accounts through the API of a running bench server (idempotent: an
# existing username is reused) and writes their access tokens and the ids the scenarios need
# to $HAZREG_DATA_DIR/tokens.env.
#
#   bench/accounts.sh postgres|sqlite        (the server must be up; bench/run.sh starts it)
set -euo pipefail
BACKEND=${1:?usage: bench/accounts.sh postgres|sqlite}
BENCH=$(cd "$(dirname "$0")" && pwd)
eval "$(python3 "$BENCH/seed.py" --print-env "$BACKEND")"
BASE=$HAZREG_BENCH_BASE
PASSWORD=$HAZREG_ADMIN_PASSWORD
OUT=$HAZREG_DATA_DIR/tokens.env

sql() { # one value from the bench database
  if [ "$BACKEND" = postgres ]; then psql -X -At -v ON_ERROR_STOP=1 -d "$HAZREG_DATABASE_URL" -c "$1"
  else sqlite3 -cmd ".timeout 10000" "${HAZREG_DATABASE_URL#sqlite://}" "$1"; fi
}

login() { # username -> access token
  local body
  body=$(curl -sS -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$PASSWORD\"}")
  jq -er .access_token <<<"$body" || { echo "login of $1 failed: $body" >&2; exit 1; }
}

# create USERNAME JSON-FIELDS -> HTTP status (201 created, 409 exists); other answers are fatal
create() {
  local status
  status=$(curl -sS -o /tmp/hazreg-bench-account.json -w '%{http_code}' -X POST "$BASE/api/v1/accounts" \
    -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$PASSWORD\", \"display_name\": \"bench $1\", $2}")
  case $status in
    201|409) echo "$status" ;;
    422) echo 422 ;;
    *) echo "creating $1 answered $status: $(cat /tmp/hazreg-bench-account.json)" >&2; exit 1 ;;
  esac
}

ADMIN=$(login admin)
DEPT_ID=$(curl -sS "$BASE/api/v1/departments?jurisdiction_code=431302&limit=200" -H "authorization: Bearer $ADMIN" |
  jq -er '[.items[] | select(.name == "娄星区应急管理局")][0].id')
# The busy enterprise: the one with most hazards (enterprise 1 by construction of seed.py).
BUSY=$(sql "SELECT enterprise_id FROM hazards GROUP BY enterprise_id ORDER BY COUNT(*) DESC, enterprise_id LIMIT 1")
TOWNSHIP=431302001

create bench.county '"role": "county_officer", "jurisdiction_code": "431302"' >/dev/null
create bench.login '"role": "county_officer", "jurisdiction_code": "431302"' >/dev/null
create bench.zone '"role": "county_officer", "jurisdiction_code": "431300-WBXQ"' >/dev/null
create bench.dept "\"role\": \"county_officer\", \"jurisdiction_code\": \"431302\", \"department_id\": $DEPT_ID" >/dev/null
create bench.ent "\"role\": \"enterprise\", \"enterprise_id\": $BUSY" >/dev/null
# No role binds to a township through the API (county roles bind to a county or zone); if the
# API refuses it, the account is created in the township's county and re-bound in the database.
TOWNSHIP_VIA=api
if [ "$(create bench.township "\"role\": \"county_officer\", \"jurisdiction_code\": \"$TOWNSHIP\"")" = 422 ]; then
  create bench.township '"role": "county_officer", "jurisdiction_code": "431302"' >/dev/null
  sql "UPDATE accounts SET jurisdiction_code = '$TOWNSHIP' WHERE username = 'bench.township'" >/dev/null
  TOWNSHIP_VIA=sql
fi

{
  echo "TOKEN_ADMIN=$ADMIN"
  for u in county login zone dept ent township; do
    echo "TOKEN_${u^^}=$(login bench.$u)"
  done
  echo "DEPT_ID=$DEPT_ID"
  echo "BUSY_ENTERPRISE_ID=$BUSY"
  echo "TOWNSHIP=$TOWNSHIP"
  echo "TOWNSHIP_VIA=$TOWNSHIP_VIA"
} >"$OUT"
echo "accounts ready (department $DEPT_ID, busy enterprise $BUSY, township account via $TOWNSHIP_VIA): $OUT" >&2
