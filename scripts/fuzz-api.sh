#!/usr/bin/env bash
# Fuzzes the live API from its own OpenAPI document with schemathesis (from PyPI, pinned, installed into
# the project-local .tools/schemathesis-venv). Checks: no 5xx (not_a_server_error), every answered status
# is declared (status_code_conformance), every body matches its declared schema
# (response_schema_conformance).
#
#   1. starts the embedded system exactly as `npm start` does (app/main.ts under tsx) with a throwaway
#      DATA_DIR and a free PORT, and waits for /readyz;
#   2. logs in as demo users and runs `st run` once per user with that user's token, bounded by
#      --max-examples and --max-time (schemathesis stops there and reports), with `timeout` as a
#      safety net;
#   3. stops the server by its PID (SIGTERM; it stops its Temporal dev server) and deletes the DATA_DIR.
#
# Usage: scripts/fuzz-api.sh    (FUZZ_MAX_EXAMPLES=10 FUZZ_SECONDS=120 FUZZ_USERS="req-a office")
#   The first user's run has schemathesis's coverage phase (boundary and wrong values for every
#   parameter) and random fuzzing; the other users' runs fuzz only. Schemathesis's own files (its
#   example database) stay in the temporary directory.
# Exit status: schemathesis's (non-zero when a check failed), or 1 when the system could not be started.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

SCHEMATHESIS_VERSION=4.32.5
VENV="$ROOT/.tools/schemathesis-venv"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-10}"
# Seconds of fuzzing for all users together (the system's start-up, ~25 s, comes on top): the first
# user gets three quarters, the others share the rest.
TOTAL_SECONDS="${FUZZ_SECONDS:-120}"
USERS="${FUZZ_USERS:-req-a office}"
DEMO_PASSWORD=demo1234

started=$SECONDS
say() { printf '[fuzz +%ss] %s\n' "$((SECONDS - started))" "$*"; }
die() {
  echo "fuzz-api: ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# schemathesis, pinned, in a project-local virtualenv (like scripts/install-temporal.sh does)
pins="schemathesis==$SCHEMATHESIS_VERSION"
if [[ ! -x $VENV/bin/st || "$(cat "$VENV/.pins" 2>/dev/null)" != "$pins" ]]; then
  python="$(command -v python3 || true)"
  [[ -n $python ]] || die 'python3 is needed to install schemathesis from PyPI'
  mkdir -p "$ROOT/.tools"
  exec 9>"$ROOT/.tools/.schemathesis-install.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  say "installing $pins from PyPI into .tools/schemathesis-venv ..."
  rm -rf "$VENV"
  "$python" -m venv "$VENV" >"$ROOT/.tools/schemathesis-install.log" 2>&1 ||
    die "'python3 -m venv' failed (apt-get install python3-venv?), see .tools/schemathesis-install.log"
  "$VENV/bin/pip" install --disable-pip-version-check --no-input -q "$pins" \
    >>"$ROOT/.tools/schemathesis-install.log" 2>&1 ||
    die 'pip install schemathesis failed, see .tools/schemathesis-install.log'
  echo "$pins" >"$VENV/.pins"
fi
say "$("$VENV/bin/st" --version)"

bash scripts/install-temporal.sh --quiet
# shellcheck disable=SC1091
set -a && . "$ROOT/.tools/temporal-paths.env" && set +a

# ---------------------------------------------------------------------------------------------
# the system under test
WORK="$(mktemp -d /tmp/xiecha-fuzz.XXXXXX)"
DATA_DIR="$WORK/data"
LOG="$WORK/server.log"
SERVER_PID=''
# A free port below the ephemeral range: the dev server takes random ephemeral ports while the system
# starts, before the API binds its own, so a port from that range could be taken in between.
PORT="$(node -e "
const net=require('node:net');
(async()=>{for(let i=0;i<50;i++){const p=20000+Math.floor(Math.random()*12000);
const ok=await new Promise(r=>{const s=net.createServer();s.once('error',()=>r(false));s.listen(p,'127.0.0.1',()=>s.close(()=>r(true)))});
if(ok){console.log(p);return}}process.exit(1)})()")"
BASE="http://127.0.0.1:$PORT"

stop_server() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo 'fuzz-api: the server did not stop within 30 s; killing it and its dev server' >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
      if [[ -f $DATA_DIR/temporal.pid ]]; then kill -KILL "$(cat "$DATA_DIR/temporal.pid")" 2>/dev/null || true; fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    say 'server stopped'
  fi
  if [[ $status -ne 0 && -f $LOG ]]; then
    echo '--- last lines of the server log ---' >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting the embedded system on $BASE (DATA_DIR=$DATA_DIR)"
# What `npm start` runs, without npm in between, so that $! is the server's own PID.
# The rate limit is raised so that the fuzzer's requests reach the routes (429 is declared everywhere).
DATA_DIR="$DATA_DIR" PORT="$PORT" LOG_LEVEL=warn LOG_PRETTY=false RATE_LIMIT_PER_MINUTE=1000000 \
  node --import tsx app/main.ts >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!

ready=0
for _ in $(seq 1 240); do
  kill -0 "$SERVER_PID" 2>/dev/null || die 'the server exited during start-up'
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true)" == 200 ]]; then
    ready=1
    break
  fi
  sleep 0.5
done
[[ $ready == 1 ]] || die 'the server was not ready within 120 s'
say 'ready'

token_of() {
  curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$DEMO_PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# ---------------------------------------------------------------------------------------------
# fuzz, once per user (each user reaches other branches: requester, issuer, office)
read -r -a users <<<"$USERS"
# Log everyone in first: fuzzing the login route spends its own rate limit (20 per minute).
declare -A tokens
for user in "${users[@]}"; do
  tokens[$user]="$(token_of "$user")" || die "could not log in as $user"
done
status=0
phases=coverage,fuzzing
budget=$((${#users[@]} > 1 ? TOTAL_SECONDS * 3 / 4 : TOTAL_SECONDS))
for user in "${users[@]}"; do
  token="${tokens[$user]}"
  say "schemathesis as $user (phases $phases, max $MAX_EXAMPLES examples per operation, ${budget}s)"
  rc=0
  # One worker: hypothesis's threads trip a CPython 3.11 bug in ast.parse. Logout would revoke the
  # token; the live stream (server-sent events) never ends, so every example would wait for the timeout.
  (cd "$WORK" && timeout --signal=INT --kill-after=10 "$((budget + 60))" \
    "$VENV/bin/st" run "$BASE/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$budget" \
    --phases "$phases" \
    --workers 1 \
    --seed 20260401 \
    --request-timeout 20 \
    --suppress-health-check all \
    --exclude-path /api/v1/auth/logout \
    --exclude-path /api/v1/stream \
    -H "Authorization: Bearer $token" \
    --warnings off) || rc=$?
  if [[ $rc -eq 124 || $rc -eq 130 ]]; then
    say "schemathesis as $user did not stop within ${budget}s + 60s: counted as a failure"
    rc=1
  fi
  [[ $rc -eq 0 ]] || status=$rc
  phases=fuzzing
  budget=$(((TOTAL_SECONDS - TOTAL_SECONDS * 3 / 4) / (${#users[@]} - 1 > 0 ? ${#users[@]} - 1 : 1)))
done

if [[ $status -eq 0 ]]; then say 'fuzzing passed: no 5xx, every status declared, every body matches its schema'; fi
exit "$status"
