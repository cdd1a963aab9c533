#!/usr/bin/env bash
# HTTP benchmark of issue 2 point 10: faceport vs nginx serving a static JSON file, with wrk.
#
#   bench/http/run_wrk.sh            # defaults below; prints markdown tables on stdout
#
# What it does (loopback only, every step time-bounded):
#   1. copies the faceport binary into a temporary directory (so a concurrent rebuild
#      cannot swap it mid-run), starts it on a free 127.0.0.1 port with a temporary data
#      dir, registers an account (POST /4/accounts) and keeps the returned token;
#   2. starts nginx with a private config (daemon off, pid/logs/temp paths in the temp
#      dir, access_log off, keep-alive) serving a static JSON file whose body is faceport's
#      own /version response (same size), on another free port;
#   3. runs wrk --latency (keep-alive, $CONNECTIONS connections, $THREADS threads, a
#      $WARMUP_S s warm-up then $DURATION_S s measured) against: nginx static JSON,
#      faceport GET /version, faceport GET /4/account/tokens/{token} with X-Auth-Token;
#      in each configuration of $CONFIGS:
#        shared : no pinning; nginx worker_processes auto; faceport default threads;
#                 wrk, the server and anything else on the machine share all cores;
#        pinned : server on core 0 (nginx with 1 worker), wrk on core 1 (2 cores needed);
#      faceport is measured with --log_level warn and, if INFO_RUN=1, again with the
#      default info level (one JSON line per request, to a file in the temp dir);
#   4. prints one markdown table per configuration and cleans every process up (trap EXIT).
#
# Besides req/s and latency the table reports, per measured run:
#   srv CPU/req : CPU time (user+sys) the server process(es) used, divided by requests;
#   srv cores   : the same as cores' worth of CPU over the run (1.00 = one core busy);
#   wrk cores   : cores' worth of CPU wrk itself used;
#   irq cores   : irq+softirq time of the machine (mostly loopback TCP delivery, which
#                 the kernel charges to no process);
#   other load  : cores' worth of CPU used by every other process on the machine during
#                 the run (other people's builds...), from /proc/stat; a large value
#                 means the row was disturbed;
#   errors      : wrk socket errors + non-2xx/3xx responses (must be 0).
#
# Settings (environment variables):
#   DURATION_S=10 WARMUP_S=2 CONNECTIONS=64 THREADS=2 CONFIGS="shared pinned" INFO_RUN=1
#   ROUNDS=3         rounds per configuration (nginx, faceport warn, faceport info in
#                    turn); the table shows the median round and the range, preferring the
#                    rounds whose other load was at most QUIET_MAX_LOAD cores
#   FACEPORT_BIN=<repo>/build/release/faceport  FACEPORT_EXTRA="" (extra serve flags)
#   QUIET_WAIT_S=0   wait up to this many seconds before each run for the machine's
#                    other load to drop under QUIET_MAX_LOAD cores (default 0.3)
#   KEEP_TMP=0       1 keeps the temp dir (logs, configs, raw wrk output)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION_S=${DURATION_S:-10}
WARMUP_S=${WARMUP_S:-2}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
CONFIGS=${CONFIGS:-"shared pinned"}
INFO_RUN=${INFO_RUN:-1}
ROUNDS=${ROUNDS:-3}
FACEPORT_BIN=${FACEPORT_BIN:-$REPO/build/release/faceport}
FACEPORT_EXTRA=${FACEPORT_EXTRA:-}
QUIET_WAIT_S=${QUIET_WAIT_S:-0}
QUIET_MAX_LOAD=${QUIET_MAX_LOAD:-0.3}
KEEP_TMP=${KEEP_TMP:-0}
HOST=127.0.0.1

for tool in wrk nginx curl jq python3 taskset; do
  command -v "$tool" >/dev/null || { echo "run_wrk.sh: '$tool' not found" >&2; exit 2; }
done
[[ -x $FACEPORT_BIN ]] || { echo "run_wrk.sh: no faceport binary at $FACEPORT_BIN (cmake --build --preset release)" >&2; exit 2; }
NCPU=$(nproc)
CLK_TCK=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/faceport-wrk.XXXXXX)
chmod 755 "$TMP"  # nginx workers may run as another user and must read the static file
FP_PID=""
NGX_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_faceport
  stop_nginx
  if [[ $KEEP_TMP == 1 ]]; then echo "run_wrk.sh: kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "run_wrk.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL: up to 10 s for a 200.
wait_http() {
  local i
  for i in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true) == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- faceport
cp "$FACEPORT_BIN" "$TMP/faceport"
FP_PORT=$(free_port)
FP_URL="http://$HOST:$FP_PORT"
mkdir -p "$TMP/data"

# start_faceport LOG_LEVEL CPUSET("" = no pinning)
start_faceport() {
  local level=$1 cpuset=$2 pin=()
  [[ -n $cpuset ]] && pin=(taskset -c "$cpuset")
  # shellcheck disable=SC2086
  "${pin[@]}" "$TMP/faceport" serve --data_dir "$TMP/data" --listen_address "$HOST" --port "$FP_PORT" \
    --log_level "$level" $FACEPORT_EXTRA >>"$TMP/faceport-$level.log" 2>&1 &
  FP_PID=$!
  wait_http "$FP_URL/version" || { log "faceport did not come up"; tail -5 "$TMP/faceport-$level.log" >&2; exit 1; }
}
stop_faceport() { stop_pid "$FP_PID"; FP_PID=""; }

# ---------------------------------------------------------------- nginx
NGX_PORT=$(free_port)
NGX_URL="http://$HOST:$NGX_PORT"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/html"

# start_nginx WORKERS CPUSET
start_nginx() {
  local workers=$1 cpuset=$2 pin=()
  [[ -n $cpuset ]] && pin=(taskset -c "$cpuset")
  cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $workers;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65s;
  keepalive_requests 100000000;
  open_file_cache max=16 inactive=60s;
  types { application/json json; }
  default_type application/json;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen $HOST:$NGX_PORT;
    root $TMP/nginx/html;
  }
}
EOF
  "${pin[@]}" nginx -e "$TMP/nginx/logs/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
  NGX_PID=$!
  wait_http "$NGX_URL/version.json" || { log "nginx did not come up"; cat "$TMP/nginx/logs/error.log" >&2; exit 1; }
}
stop_nginx() { stop_pid "$NGX_PID"; NGX_PID=""; }

# ---------------------------------------------------------------- measurement helpers
# CPU ticks (user+sys) of a process and its direct children (nginx workers).
proc_ticks() {
  local pid=$1 total=0 p f
  for p in "$pid" $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    [[ -r /proc/$p/stat ]] || continue
    f=$(sed 's/^.*) //' "/proc/$p/stat")
    # after "comm) ": field 3 is state, so utime=12th, stime=13th of this remainder
    total=$((total + $(awk '{print $12 + $13}' <<<"$f")))
  done
  echo "$total"
}
# Machine ticks (all CPUs): "task-busy irq-busy total" (task-busy = user+nice+system+steal,
# irq-busy = irq+softirq: loopback TCP work that the kernel does not charge to a process).
machine_ticks() { awk '/^cpu /{b=$2+$3+$4+$9; q=$7+$8; print b, q, b+q+$5+$6}' /proc/stat; }

# Cores' worth of CPU used by everything on the machine, sampled over 1 s.
machine_load_1s() {
  local b0 q0 t0 b1 q1 t1
  read -r b0 q0 t0 < <(machine_ticks); sleep 1; read -r b1 q1 t1 < <(machine_ticks)
  awk -v b="$((b1 - b0 + q1 - q0))" -v t="$((t1 - t0))" -v n="$NCPU" 'BEGIN{printf "%.2f", t ? b / t * n : 0}'
}

wait_quiet() {
  [[ $QUIET_WAIT_S -gt 0 ]] || return 0
  local end=$((SECONDS + QUIET_WAIT_S)) l
  while :; do
    l=$(machine_load_1s)
    awk -v l="$l" -v m="$QUIET_MAX_LOAD" 'BEGIN{exit !(l <= m)}' && return 0
    ((SECONDS < end)) || { log "machine still busy (load $l cores); measuring anyway"; return 0; }
    log "waiting for the machine to calm down (other load $l cores)"
  done
}

# wrk latency value ("812.00us", "1.23ms", "2.00s") -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN{
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.0f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.0f", v * 1000 }
    else print v }'
}

# Results of the current configuration: LABELS in order; RES[label] = newline-separated
# "rps|p50|p99|srv_us_per_req|srv_cores|wrk_cores|irq_cores|other_cores|errors", one per round.
LABELS=()
declare -A RES

# measure LABEL SERVER_PID WRK_CPUSET URL [HEADER]
measure() {
  local label=$1 spid=$2 cpuset=$3 url=$4 header=${5:-} pin=() hdr=() out
  [[ -n $cpuset ]] && pin=(taskset -c "$cpuset")
  [[ -n $header ]] && hdr=(-H "$header")
  out="$TMP/wrk-$(tr -c 'a-zA-Z0-9' '_' <<<"$label")-$ROUND.txt"
  # warm-up (connections, caches, page faults), not recorded
  timeout $((WARMUP_S + 15)) "${pin[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP_S}s" "${hdr[@]}" "$url" >/dev/null
  wait_quiet
  local s0 b0 q0 t0 s1 b1 q1 t1 w0 w1
  # CPU of this shell's waited-for children (cutime+cstime): wrk (through timeout) and
  # the few short helpers forked between the two samples.
  s0=$(proc_ticks "$spid"); read -r b0 q0 t0 < <(machine_ticks); w0=$(awk '{print $16 + $17}' /proc/$$/stat)
  timeout $((DURATION_S + 30)) "${pin[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION_S}s" --latency \
    "${hdr[@]}" "$url" >"$out"
  s1=$(proc_ticks "$spid"); read -r b1 q1 t1 < <(machine_ticks); w1=$(awk '{print $16 + $17}' /proc/$$/stat)
  local rps p50 p99 reqs errs line
  rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$out")
  reqs=$(awk '/requests in/{print $1}' "$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' "$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' "$out")")
  errs=$(awk '/Socket errors/{gsub(/,/,""); e+=$4+$6+$8+$10} /Non-2xx/{e+=$NF} END{print e+0}' "$out")
  line=$(awk -v s="$((s1 - s0))" -v w="$((w1 - w0))" -v b="$((b1 - b0))" -v q="$((q1 - q0))" \
    -v wt="$(((t1 - t0) / NCPU))" -v n="$reqs" -v hz="$CLK_TCK" 'BEGIN{
      other = (b - s - w) / wt; if (other < 0) other = 0;
      printf "%.1f|%.2f|%.2f|%.2f|%.2f", s / hz * 1e6 / n, s / wt, w / wt, q / wt, other }')
  [[ -v "RES[$label]" ]] || LABELS+=("$label")
  RES[$label]+="$rps|$p50|$p99|$line|$errs"$'\n'
  log "$(printf '%-50s %7s req/s p50 %6s ms p99 %6s ms | srv us/req, srv/wrk/irq/other cores: %s | errors %s' \
    "$label" "$rps" "$p50" "$p99" "$line" "$errs")"
}

# median_row LABEL -> "fields of the round with the median req/s|min|max|used/total"
# (lower median for an even count). Only rounds whose other load was at most
# QUIET_MAX_LOAD cores are used when there is at least one; otherwise all rounds.
median_row() {
  local rows
  rows=$(printf '%s' "${RES[$1]}" | sed '/^$/d' | sort -t'|' -k1,1n)
  awk -F'|' -v OFS='|' -v q="$QUIET_MAX_LOAD" '
    {all[NR]=$0; if ($8 <= q) quiet[++nq]=$0}
    END{
      if (nq) { for (i = 1; i <= nq; i++) r[i] = quiet[i]; n = nq } else { for (i = 1; i <= NR; i++) r[i] = all[i]; n = NR }
      m = int((n + 1) / 2); split(r[1], lo, "|"); split(r[n], hi, "|")
      print r[m], lo[1], hi[1], (nq ? nq " quiet" : "0 quiet, all") "/" NR }' <<<"$rows"
}

print_table() {
  local title=$1 label row rps p50 p99 cpu srvc wrkc irqc other errs lo hi used ratio nginx_rps
  nginx_rps=$(median_row "${LABELS[0]}" | cut -d'|' -f1)
  echo
  echo "#### $title"
  echo
  echo "Per target: the round with the median req/s among the rounds whose other load was <= $QUIET_MAX_LOAD"
  echo "cores (all rounds if none was), with that round's latency and CPU columns; range = min–max req/s of those rounds."
  echo
  echo "| target | req/s | range | rounds used | p50 (ms) | p99 (ms) | ratio to nginx | srv CPU/req (µs) | srv cores | wrk cores | irq cores | other load (cores) | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for label in "${LABELS[@]}"; do
    row=$(median_row "$label")
    IFS='|' read -r rps p50 p99 cpu srvc wrkc irqc other errs lo hi used <<<"$row"
    ratio=$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN{printf "%.2f", b ? a / b : 0}')
    echo "| $label | $rps | $lo–$hi | $used | $p50 | $p99 | $ratio | $cpu | $srvc | $wrkc | $irqc | $other | $errs |"
  done
}

# ---------------------------------------------------------------- run
# Register once; the SQLite file in $TMP/data survives the restarts below.
start_faceport warn ""
REG=$(curl -s --max-time 10 -X POST -H 'Content-Type: application/json' \
  -d '{"organization_name":"wrk bench","email":"bench@example.com","password":"bench-password-1"}' "$FP_URL/4/accounts")
TOKEN=$(jq -r '.token // empty' <<<"$REG")
[[ -n $TOKEN ]] || { log "registration failed: $REG"; exit 1; }
TOKEN_URL="$FP_URL/4/account/tokens/$TOKEN"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$TOKEN_URL") == 200 ]] ||
  { log "token GET does not answer 200"; exit 1; }
curl -s --max-time 5 "$FP_URL/version" >"$TMP/nginx/html/version.json"
stop_faceport

echo "## faceport vs nginx, wrk -t$THREADS -c$CONNECTIONS, ${WARMUP_S}s warm-up + ${DURATION_S}s per row"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: nproc=$NCPU, $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "- faceport: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted src changes)'), binary sha256 $(sha256sum "$TMP/faceport" | cut -c1-12), flags: --log_level warn|info ${FACEPORT_EXTRA}"
echo "- $(nginx -v 2>&1 | sed 's/nginx version: //'), static file $(stat -c %s "$TMP/nginx/html/version.json") B (= faceport's /version body); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for cfg in $CONFIGS; do
  LABELS=()
  RES=()
  case $cfg in
    shared) srv_cpu=""; wrk_cpu=""; ngx_workers=auto
      desc="shared: no pinning, wrk and the server share both cores" ;;
    pinned)
      ((NCPU >= 2)) || { log "pinned needs 2 cores"; continue; }
      srv_cpu=0; wrk_cpu=1; ngx_workers=1
      desc="pinned: server on core 0 (nginx 1 worker), wrk on core 1" ;;
    *) log "unknown config $cfg"; continue ;;
  esac
  levels=warn
  [[ $INFO_RUN == 1 ]] && levels="warn info"
  for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    log "config $cfg, round $ROUND/$ROUNDS"
    start_nginx "$ngx_workers" "$srv_cpu"
    measure "nginx static JSON ($ngx_workers worker(s))" "$NGX_PID" "$wrk_cpu" "$NGX_URL/version.json"
    stop_nginx
    for level in $levels; do
      start_faceport "$level" "$srv_cpu"
      measure "faceport GET /version (log $level)" "$FP_PID" "$wrk_cpu" "$FP_URL/version"
      measure "faceport GET /4/account/tokens/{id} (log $level)" "$FP_PID" "$wrk_cpu" "$TOKEN_URL" "X-Auth-Token: $TOKEN"
      stop_faceport
    done
  done
  print_table "$desc"
done
