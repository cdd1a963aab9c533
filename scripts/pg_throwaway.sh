#!/usr/bin/env bash
# A throwaway PostgreSQL (Debian's postgresql-15 binaries) on a loopback port under a
# temporary data directory: for the test suite (scripts/test.sh), the multi-node script and
# the benchmarks. Source it and call:
#
#   pg_throwaway_start [port]   # default: a free port from 55432 up
#       -> exports PG_THROWAWAY_URL=postgresql://faceport@127.0.0.1:<port>/faceport
#          and PG_THROWAWAY_DIR (data directory, socket directory and log)
#   pg_throwaway_stop           # stops it and removes the directory (idempotent; only a
#                               # server this shell started, never one a parent process did)
#
# initdb refuses to run as root, so as root the server runs as the `postgres` system user
# (runuser) in a directory that user owns; otherwise it runs as the current user. Durability
# settings stay at PostgreSQL's defaults (fsync on): the suite tests real commits.
# Authentication is `trust` on loopback only: the directory and the server die with the run.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_pg_free_port() {
  local p=${1:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

pg_throwaway_start() {
  if [ ! -x "$PG_BIN/initdb" ]; then
    echo "pg_throwaway: $PG_BIN/initdb not found (apt-get install postgresql)" >&2
    return 1
  fi
  local port=${1:-$(_pg_free_port 55432)}
  PG_THROWAWAY_DIR=$(mktemp -d /tmp/faceport_pg_XXXXXX)
  export PG_THROWAWAY_DIR
  # Not exported: a child script that sources this file (and inherits PG_THROWAWAY_DIR) must
  # never stop a server its parent started.
  _PG_THROWAWAY_MINE=$PG_THROWAWAY_DIR
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_THROWAWAY_DIR"; fi
  chmod 700 "$PG_THROWAWAY_DIR"
  _pg_as_owner "$PG_BIN/initdb" -D "$PG_THROWAWAY_DIR/data" -U faceport -A trust -E UTF8 --no-locale \
    >"$PG_THROWAWAY_DIR/initdb.log" 2>&1 || { cat "$PG_THROWAWAY_DIR/initdb.log" >&2; return 1; }
  # Loopback TCP only, the socket in our own directory (not /var/run/postgresql).
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -l "$PG_THROWAWAY_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_THROWAWAY_DIR -c max_connections=300" start \
    >/dev/null || { cat "$PG_THROWAWAY_DIR/server.log" >&2; return 1; }
  _pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U faceport faceport || return 1
  export PG_THROWAWAY_PORT=$port
  export PG_THROWAWAY_URL="postgresql://faceport@127.0.0.1:$port/faceport"
}

pg_throwaway_stop() {
  [ -n "${_PG_THROWAWAY_MINE:-}" ] && [ "${_PG_THROWAWAY_MINE}" = "${PG_THROWAWAY_DIR:-}" ] &&
    [ -d "$PG_THROWAWAY_DIR" ] || return 0
  unset _PG_THROWAWAY_MINE
  _pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_THROWAWAY_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_THROWAWAY_DIR"
  unset PG_THROWAWAY_DIR PG_THROWAWAY_URL PG_THROWAWAY_PORT
}
