#!/usr/bin/env bash
# Counts what one request costs faceport in kernel events (noise-robust, unlike req/s on a
# shared machine): context switches and syscalls per request (futex = thread hops and
# lock waits, fcntl = SQLite file locks, sendmsg/recvmsg = socket I/O, getrandom = request
# id, write = the JSON log line), for GET /version and GET /4/account/tokens/{id}.
#
#   bench/http/count_per_request.sh [LOG_LEVEL]     # default warn; needs perf and root
#
# FACEPORT_BIN selects the binary (default build/release/faceport); other environment
# variables are passed to faceport (e.g. the FP_EXP_* switches of the experiment patch).
# Loopback only; about 15 s.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${FACEPORT_BIN:-$REPO/build/release/faceport}
LEVEL=${1:-warn}
for tool in wrk perf curl jq python3; do
  command -v "$tool" >/dev/null || { echo "count_per_request.sh: '$tool' not found" >&2; exit 2; }
done
TMP=$(mktemp -d /tmp/faceport-count.XXXXXX)
FP=""
PERF=""
cleanup() {
  local rc=$?
  [[ -n $PERF ]] && kill -INT "$PERF" 2>/dev/null && wait "$PERF" 2>/dev/null || true
  [[ -n $FP ]] && kill -TERM "$FP" 2>/dev/null && wait "$FP" 2>/dev/null || true
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
URL=http://127.0.0.1:$PORT
"$BIN" serve --data_dir "$TMP/data" --listen_address 127.0.0.1 --port "$PORT" --log_level "$LEVEL" >"$TMP/log" 2>&1 &
FP=$!
for _ in $(seq 100); do curl -s -o /dev/null --max-time 1 "$URL/version" && break; sleep 0.1; done
TOK=$(curl -s --max-time 10 -X POST -H 'Content-Type: application/json' \
  -d '{"organization_name":"count","email":"count@example.com","password":"count-password-1"}' "$URL/4/accounts" | jq -r .token)
EV=context-switches,raw_syscalls:sys_enter
for s in futex fcntl sendmsg recvmsg epoll_wait getrandom write; do EV+=,syscalls:sys_enter_$s; done
echo "faceport $(sha256sum "$BIN" | cut -c1-12), --log_level $LEVEL, wrk -t2 -c64 4 s, per request:"
for path in /version "/4/account/tokens/$TOK"; do
  timeout 20 wrk -t2 -c64 -d1s -H "X-Auth-Token: $TOK" "$URL$path" >/dev/null
  perf stat -x, -e "$EV" -p "$FP" -o "$TMP/stat" 2>/dev/null &
  PERF=$!
  sleep 1  # attaching can take a while on a busy machine
  n=$(timeout 20 wrk -t2 -c64 -d4s -H "X-Auth-Token: $TOK" "$URL$path" | awk '/requests in/{print $1}')
  kill -INT "$PERF"; wait "$PERF" || true; PERF=""
  # Each response is written with exactly one sendmsg (Beast gathers headers and body), so
  # the sendmsg count is the number of requests inside perf's window.
  awk -F, -v path="${path/$TOK/{id\}}" -v n="$n" '!/^#/ && NF > 2 {v[$3] = $1; k[++m] = $3}
    END{r = v["syscalls:sys_enter_sendmsg"]; printf "%s (%d requests by wrk, %d inside the perf window)\n", path, n, r;
      for (i = 1; i <= m; i++) { name = k[i]; sub(/^syscalls:sys_enter_/, "", name); sub(/^raw_syscalls:sys_enter/, "all syscalls", name);
        printf "  %-18s %6.2f\n", name, r ? v[k[i]] / r : 0 } }' "$TMP/stat"
done
