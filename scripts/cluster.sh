#!/usr/bin/env bash
# The reference multi-node deployment on one machine (docs/DEPLOYMENT.md), as functions to
# source: PostgreSQL, N faceport nodes on loopback ports sharing the database and one portrait
# directory, and nginx (Debian's nginx-light) in front of them on one loopback port.
# Used by scripts/multinode.sh (end-to-end tests through nginx) and bench/multinode/run.sh.
#
#   cluster_start N       starts everything; exports CLUSTER_PORT (nginx), CLUSTER_DIR,
#                         CLUSTER_NODE_PORTS (array) and CLUSTER_NODE_PIDS (array)
#   cluster_kill_node I   SIGKILLs node I (0-based)
#   cluster_stop          stops nginx, the nodes and PostgreSQL, removes CLUSTER_DIR
#
# Settings: FACEPORT_BIN (default build/release/faceport), CLUSTER_BASE_PORT (default: free
# ports from 18080), CLUSTER_NODE_FLAGS (extra flags for every node), FACEPORT_TEST_PG_URL
# (use that server, creating a fresh database on it, instead of starting a throwaway one).

CLUSTER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/pg_throwaway.sh
source "$CLUSTER_ROOT/scripts/pg_throwaway.sh"

_cluster_log() { printf '[cluster] %s\n' "$*" >&2; }

_cluster_wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

cluster_start() {
  local n=${1:-3} bin=${FACEPORT_BIN:-$CLUSTER_ROOT/build/release/faceport}
  [ -x "$bin" ] || { _cluster_log "no faceport binary at $bin (build first)"; return 1; }
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { _cluster_log "nginx not installed (apt-get install nginx-light)"; return 1; }
  CLUSTER_DIR=$(mktemp -d /tmp/faceport_cluster_XXXXXX)
  export CLUSTER_DIR
  mkdir -p "$CLUSTER_DIR/portraits" "$CLUSTER_DIR/nginx_tmp"
  # nginx workers run as nobody when started as root: they must reach their temp directory.
  chmod 711 "$CLUSTER_DIR"
  chmod 1777 "$CLUSTER_DIR/nginx_tmp"

  # The database: a fresh one on the given server, or a throwaway server of our own.
  if [ -n "${FACEPORT_TEST_PG_URL:-}" ]; then
    local db="fpcluster_$$_$RANDOM"
    psql -q "$FACEPORT_TEST_PG_URL" -c "CREATE DATABASE $db" || return 1
    CLUSTER_DB_URL="${FACEPORT_TEST_PG_URL%/*}/$db"
  else
    pg_throwaway_start || return 1
    CLUSTER_DB_URL=$PG_THROWAWAY_URL
  fi
  export CLUSTER_DB_URL

  local port=${CLUSTER_BASE_PORT:-18080}
  port=$(_pg_free_port "$port")
  CLUSTER_PORT=$port
  CLUSTER_NODE_PORTS=()
  CLUSTER_NODE_PIDS=()
  local i upstreams=""
  for ((i = 0; i < n; i++)); do
    port=$(_pg_free_port $((port + 1)))
    mkdir -p "$CLUSTER_DIR/node$i"
    # shellcheck disable=SC2086
    "$bin" serve --listen_address 127.0.0.1 --port "$port" --data_dir "$CLUSTER_DIR/node$i" \
      --database_url "$CLUSTER_DB_URL" --portraits_dir "$CLUSTER_DIR/portraits" \
      ${CLUSTER_NODE_FLAGS:-} >"$CLUSTER_DIR/node$i.log" 2>&1 &
    CLUSTER_NODE_PIDS+=($!)
    CLUSTER_NODE_PORTS+=("$port")
    upstreams+="    server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
  done
  for ((i = 0; i < n; i++)); do
    _cluster_wait_port "${CLUSTER_NODE_PORTS[$i]}" 60 || {
      _cluster_log "node $i did not start:"; cat "$CLUSTER_DIR/node$i.log" >&2; return 1; }
  done

  # nginx: round robin over the nodes; a node that refuses connections or fails is skipped
  # for fail_timeout. proxy_next_upstream retries idempotent requests on the next node, and
  # any request that never reached a node (connection refused); a POST/PATCH that was sent
  # to a node that then died is NOT repeated (it may have committed): the client gets 502.
  cat >"$CLUSTER_DIR/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $CLUSTER_DIR/nginx.pid;
error_log $CLUSTER_DIR/nginx_error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $CLUSTER_DIR/nginx_tmp/body;
  proxy_temp_path $CLUSTER_DIR/nginx_tmp/proxy;
  fastcgi_temp_path $CLUSTER_DIR/nginx_tmp/fastcgi;
  uwsgi_temp_path $CLUSTER_DIR/nginx_tmp/uwsgi;
  scgi_temp_path $CLUSTER_DIR/nginx_tmp/scgi;
  client_max_body_size 16m;
  client_body_buffer_size 16m;  # request bodies (images) stay in memory
  upstream faceport {
$upstreams    keepalive 64;
  }
  server {
    listen 127.0.0.1:$CLUSTER_PORT;
    location / {
      proxy_pass http://faceport;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
EOF
  /usr/sbin/nginx -c "$CLUSTER_DIR/nginx.conf" -e "$CLUSTER_DIR/nginx_error.log" >"$CLUSTER_DIR/nginx.out" 2>&1 &
  CLUSTER_NGINX_PID=$!
  _cluster_wait_port "$CLUSTER_PORT" 20 || { _cluster_log "nginx did not start:"; cat "$CLUSTER_DIR"/nginx* >&2; return 1; }
  export CLUSTER_PORT CLUSTER_NGINX_PID
  _cluster_log "nginx 127.0.0.1:$CLUSTER_PORT -> nodes ${CLUSTER_NODE_PORTS[*]} (pids ${CLUSTER_NODE_PIDS[*]}), database $CLUSTER_DB_URL, portraits $CLUSTER_DIR/portraits"
}

cluster_kill_node() {
  local pid=${CLUSTER_NODE_PIDS[$1]}
  _cluster_log "SIGKILL node $1 (pid $pid, port ${CLUSTER_NODE_PORTS[$1]})"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cluster_stop() {
  [ -n "${CLUSTER_DIR:-}" ] || return 0
  # Exit statuses of the stopped processes do not matter here (and must not trip set -e).
  if [ -n "${CLUSTER_NGINX_PID:-}" ]; then
    kill "$CLUSTER_NGINX_PID" 2>/dev/null || true
    wait "$CLUSTER_NGINX_PID" 2>/dev/null || true
  fi
  local pid
  for pid in "${CLUSTER_NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_throwaway_stop
  rm -rf "$CLUSTER_DIR"
  unset CLUSTER_DIR CLUSTER_NGINX_PID
  return 0
}
