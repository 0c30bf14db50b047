#!/usr/bin/env bash
# The project's one test command (`npm test`). Extra arguments go to `vitest run`.
#
#   1. makes sure the Temporal binaries are there (scripts/install-temporal.sh)
#   2. provides a real PostgreSQL for the suite as TEST_DATABASE_URL:
#        - TEST_DATABASE_URL from the environment, if set;
#        - else a throwaway cluster from Debian's server binaries (/usr/lib/postgresql/*/bin),
#          in a mktemp dir on a free 127.0.0.1 port, stopped and deleted on exit;
#        - else a warning (only the PGlite variant runs), or a failure with REQUIRE_POSTGRES=1.
#   3. tsc --noEmit, biome check, vitest run - in that order, failing fast;
#   4. scripts/fuzz-api.sh: schemathesis fuzzes the live API from its OpenAPI document (~2.5 min;
#      SKIP_FUZZ=1 skips it for a quick local run).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

start_time=$SECONDS
section() { printf '\n==> %s  [+%ss]\n' "$*" "$((SECONDS - start_time))"; }
die() {
  echo "test.sh: ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
section 'Temporal binaries'
bash scripts/install-temporal.sh --quiet
# shellcheck disable=SC1091
set -a && . "$ROOT/.tools/temporal-paths.env" && set +a
echo "temporal: $TEMPORAL_CLI_PATH"
echo "temporal-test-server: $TEMPORAL_TEST_SERVER_PATH"

# ---------------------------------------------------------------------------------------------
section 'PostgreSQL'
PG_TMP=''
PG_BIN=''
PG_WATCHER=''

pg_as_owner() {
  # initdb / postgres refuse to run as root: run them as the `postgres` system user then.
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $PG_WATCHER ]]; then kill "$PG_WATCHER" 2>/dev/null || true; fi
  if [[ -n $PG_TMP && -d $PG_TMP ]]; then
    if [[ -f $PG_TMP/data/postmaster.pid ]]; then
      pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [[ -f $PG_TMP/data/postmaster.pid ]]; then
      # pg_ctl could not stop it: kill the postmaster we started (its pid is the file's first line)
      kill -KILL "$(head -n 1 "$PG_TMP/data/postmaster.pid")" 2>/dev/null || true
    fi
    rm -rf "$PG_TMP"
    echo "test.sh: throwaway PostgreSQL stopped and removed"
  fi
  exit "$status"
}

free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

start_throwaway_postgres() {
  local initdb="$1" port pw attempt db=xiecha_test
  PG_BIN="$(dirname "$initdb")"
  [[ -x $PG_BIN/pg_ctl && -x $PG_BIN/postgres ]] || die "found $initdb but no pg_ctl/postgres next to it"
  if [[ $EUID -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
  fi

  trap pg_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Short fixed prefix: the unix socket path must stay under ~100 characters.
  PG_TMP="$(mktemp -d /tmp/xiecha-pg.XXXXXX)"
  pw="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$pw" >"$PG_TMP/pwfile"
  [[ $EUID -eq 0 ]] && chown -R postgres: "$PG_TMP"

  echo "initdb ($("$PG_BIN/postgres" --version)) in $PG_TMP"
  pg_as_owner "$initdb" -D "$PG_TMP/data" -U postgres --pwfile="$PG_TMP/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync \
    >"$PG_TMP/initdb.log" 2>&1 || {
    cat "$PG_TMP/initdb.log" >&2
    die 'initdb failed'
  }
  rm -f "$PG_TMP/pwfile"
  # Throwaway cluster: trade durability for speed.
  cat >>"$PG_TMP/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

  # A stray SIGKILL of this script cannot run the trap: a watcher stops the server then.
  (
    trap '' INT
    while kill -0 $$ 2>/dev/null; do sleep 2; done
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop
    rm -rf "$PG_TMP"
  ) >/dev/null 2>&1 </dev/null &
  PG_WATCHER=$!

  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
      -o "-p $port" start >/dev/null; then
      break
    fi
    [[ $attempt -lt 5 ]] || {
      tail -n 20 "$PG_TMP/postgres.log" >&2 || true
      die 'could not start the throwaway PostgreSQL server'
    }
  done

  pg_as_owner "$PG_BIN/createdb" -h "$PG_TMP" -p "$port" -U postgres "$db" ||
    die "could not create database $db"
  export TEST_DATABASE_URL="postgres://postgres:$pw@127.0.0.1:$port/$db"
  echo "throwaway PostgreSQL on 127.0.0.1:$port, TEST_DATABASE_URL=postgres://postgres:***@127.0.0.1:$port/$db"
}

if [[ -n ${TEST_DATABASE_URL:-} ]]; then
  echo "using TEST_DATABASE_URL from the environment"
else
  initdb="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n $initdb ]]; then
    start_throwaway_postgres "$initdb"
  elif [[ ${REQUIRE_POSTGRES:-} == 1 ]]; then
    die 'REQUIRE_POSTGRES=1 but no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) and no TEST_DATABASE_URL; install them with: apt-get install -y --no-install-recommends postgresql'
  else
    echo 'test.sh: WARNING: no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb) and TEST_DATABASE_URL is not set:' >&2
    echo 'test.sh: WARNING: only the PGlite variant of the database tests runs (apt-get install postgresql to run both)' >&2
  fi
fi

# ---------------------------------------------------------------------------------------------
section 'Type check (tsc --noEmit)'
npx --no -- tsc --noEmit && npx --no -- tsc --noEmit -p web/tsconfig.json

section 'Lint + format check (biome check .)'
npx --no -- biome check .

section "Tests (vitest run $*)"
npx --no -- vitest run "$@"

if [[ ${SKIP_FUZZ:-} == 1 ]]; then
  section 'API fuzzing skipped (SKIP_FUZZ=1)'
else
  section 'API fuzzing (scripts/fuzz-api.sh: schemathesis against the live embedded system)'
  bash scripts/fuzz-api.sh
fi

section 'All checks passed'
