#!/usr/bin/env bash
# The real Temporal server (not the dev server), built from its Go module and run on a PostgreSQL server, as a
# deployment runs it: for the benchmarks (bench/) and the cluster tests. No Docker, nothing downloaded but the Go
# module proxy's modules.
#
#   scripts/temporal-server.sh install
#       builds temporal-server and temporal-sql-tool (go.temporal.io/server v1.32.2, Go 1.27 through
#       GOTOOLCHAIN) into .tools/temporal-server-1.32.2/ with the PostgreSQL schemas; about 8 minutes the first
#       time on 2 cores, nothing afterwards. TEMPORAL_SERVER_BIN / TEMPORAL_SQL_TOOL_BIN name existing binaries.
#
#   scripts/temporal-server.sh start DIR PG_HOST PG_PORT PG_USER PG_PASSWORD [GRPC_PORT]
#       creates (or upgrades) the databases temporal and temporal_visibility on that PostgreSQL, writes
#       DIR/config.yaml (loopback only; the services on GRPC_PORT..GRPC_PORT+13, default 7233), starts the
#       server in the background (DIR/server.pid, DIR/server.log), waits for its frontend and registers the
#       namespace `default`. Prints the frontend address.
#
#   scripts/temporal-server.sh stop DIR
#       stops the server started in DIR (by its pid file; SIGTERM, then SIGKILL after 20 s).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

VERSION=1.32.2
GO_TOOLCHAIN=go1.27.3
TOOLS="$ROOT/.tools/temporal-server-$VERSION"
SERVER_BIN="${TEMPORAL_SERVER_BIN:-$TOOLS/temporal-server}"
SQL_TOOL_BIN="${TEMPORAL_SQL_TOOL_BIN:-$TOOLS/temporal-sql-tool}"
SCHEMA_DIR="$TOOLS/schema/postgresql/v12"

die() {
  echo "temporal-server.sh: $*" >&2
  exit 1
}

install() {
  if [[ -x $SERVER_BIN && -x $SQL_TOOL_BIN && -d $SCHEMA_DIR ]]; then
    echo "temporal-server $VERSION: $SERVER_BIN"
    return
  fi
  command -v go >/dev/null || die 'needs Go (any version: GOTOOLCHAIN fetches Go 1.27 from the module proxy)'
  mkdir -p "$TOOLS"
  local build
  build="$(mktemp -d)"
  echo "building temporal-server and temporal-sql-tool $VERSION (first time: several minutes) ..."
  (
    cd "$build"
    export GOTOOLCHAIN="$GO_TOOLCHAIN" GOBIN="$build/bin" GOFLAGS=-mod=mod
    go install "go.temporal.io/server/cmd/server@v$VERSION"
    go install "go.temporal.io/server/cmd/tools/sql@v$VERSION"
    local module
    module="$(go mod download -json "go.temporal.io/server@v$VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
    rm -rf "$TOOLS/schema"
    mkdir -p "$TOOLS/schema/postgresql"
    cp -R "$module/schema/postgresql/v12" "$TOOLS/schema/postgresql/"
    chmod -R u+w "$TOOLS/schema"
  )
  mv "$build/bin/server" "$TOOLS/temporal-server"
  mv "$build/bin/sql" "$TOOLS/temporal-sql-tool"
  rm -rf "$build"
  echo "temporal-server $VERSION: $TOOLS/temporal-server"
}

sql_tool() {
  "$SQL_TOOL_BIN" --plugin postgres12 --endpoint "$PG_HOST" --port "$PG_PORT" --user "$PG_USER" \
    --password "$PG_PASSWORD" "$@"
}

prepare_database() {
  local db=$1 schema=$2
  sql_tool --database "$db" create-database >/dev/null 2>&1 || true # exists already: fine
  sql_tool --database "$db" setup-schema -v 0.0 >/dev/null 2>&1 || true # set up already: fine
  sql_tool --database "$db" update-schema -d "$SCHEMA_DIR/$schema/versioned" >"$LOG_DIR/schema-$db.log" 2>&1 ||
    die "schema update of $db failed; see $LOG_DIR/schema-$db.log"
}

write_config() {
  local dir=$1 port=$2
  cat >"$dir/config.yaml" <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "$PG_HOST:$PG_PORT"
        connectProtocol: tcp
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "$PG_HOST:$PG_PORT"
        connectProtocol: tcp
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:$((port + 12))"
services:
  frontend:
    rpc: { grpcPort: $port, membershipPort: $((port + 10)), bindOnLocalHost: true, httpPort: $((port + 5)) }
  history:
    rpc: { grpcPort: $((port + 1)), membershipPort: $((port + 11)), bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: $((port + 2)), membershipPort: $((port + 13)), bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: $((port + 3)), membershipPort: $((port + 8)), bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:$port"
dcRedirectionPolicy:
  policy: noop
EOF
}

start() {
  local dir=$1
  PG_HOST=$2 PG_PORT=$3 PG_USER=$4 PG_PASSWORD=$5
  local port=${6:-7233}
  install >/dev/null
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ -f $dir/server.pid ]] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
    die "a server started in $dir is still running (pid $(cat "$dir/server.pid"))"
  fi
  LOG_DIR="$dir"
  prepare_database temporal temporal
  prepare_database temporal_visibility visibility
  write_config "$dir" "$port"
  "$SERVER_BIN" --config-file "$dir/config.yaml" --allow-no-auth start >"$dir/server.log" 2>&1 &
  echo $! >"$dir/server.pid"
  # shellcheck disable=SC1091
  [[ -f $ROOT/.tools/temporal-paths.env ]] || bash scripts/install-temporal.sh --quiet
  set -a && . "$ROOT/.tools/temporal-paths.env" && set +a
  local i
  for i in $(seq 1 120); do
    if "$TEMPORAL_CLI_PATH" operator namespace describe --namespace default --address "127.0.0.1:$port" \
      >/dev/null 2>&1; then
      echo "127.0.0.1:$port"
      return
    fi
    if "$TEMPORAL_CLI_PATH" operator namespace create --namespace default --retention 72h \
      --address "127.0.0.1:$port" >/dev/null 2>&1; then
      continue
    fi
    kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || {
      tail -n 30 "$dir/server.log" >&2
      die "the server exited; see $dir/server.log"
    }
    sleep 1
  done
  die "the server did not answer on 127.0.0.1:$port within 120 s; see $dir/server.log"
}

stop() {
  local dir=$1 pid
  [[ -f $dir/server.pid ]] || return 0
  pid="$(cat "$dir/server.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/server.pid"
}

case "${1:-}" in
install) install ;;
start)
  [[ $# -ge 6 ]] || die 'usage: start DIR PG_HOST PG_PORT PG_USER PG_PASSWORD [GRPC_PORT]'
  shift
  start "$@"
  ;;
stop)
  [[ $# -eq 2 ]] || die 'usage: stop DIR'
  stop "$2"
  ;;
*) die 'usage: install | start DIR PG_HOST PG_PORT PG_USER PG_PASSWORD [GRPC_PORT] | stop DIR' ;;
esac
