#!/usr/bin/env bash
# Identify through HTTP over 10k / 100k / 1M descriptors of one account (issue 5 point 5;
# docs/BENCHMARKS.md, "Matching (issue 5)", "Through HTTP").
#
#   bench/match/http_identify.sh        # markdown rows on stdout, progress on stderr
#
# For each size (growing one database: 10k, then +90k, then +900k):
#   1. stop faceport and add descriptors to its SQLite file with seed_match_db (fp_store's own
#      write methods, the calls the API makes; the first round writes match_bench's 7,701 real
#      LFW descriptors first when build/lfw_descriptors.bin exists, the rest are random unit
#      vectors). MODE=persons (default): each descriptor attached to its own person, every
#      person in one persons list, queried with POST /4/matching/identify?descriptor_id=…&
#      list_id=…&limit=5. MODE=descriptors: every descriptor in one descriptors list, queried
#      with POST /4/matching/match (the reference offers no "whole account" candidate set).
#   2. start `faceport serve` on it: start-up time until /version answers, the index load time
#      from its "index_loaded" log line, VmRSS after start-up.
#   3. wrk, one connection, one thread (sequential requests), $WARMUP_S s then $DURATION_S s
#      measured, reference descriptors rotating over real LFW descriptors of the account:
#      p50 / p90 / p99, req/s; then VmRSS again.
# Bytes per descriptor = (VmRSS at size N − VmRSS of the same server with an empty account) / N.
#
# BACKEND=postgresql: the same on a throwaway PostgreSQL (scripts/pg_throwaway.sh; with
# synchronous_commit off for the seeding: a benchmark database, not a durable one);
# the server runs with --database_url and reads its snapshot from PostgreSQL at start-up.
#
# Settings (environment): SIZES="10000 100000 1000000" MODE=persons DURATION_S=20 WARMUP_S=2
#   BACKEND=sqlite (or postgresql)
#   DATA_ROOT=/dev/shm (the database lives there: seeding a million rows on disk, one fsync per
#   transaction, would take hours; the server reads it from page cache either way)
#   FACEPORT_BIN=build/release/faceport SEEDER=build/release/bench/match/seed_match_db
#   LFW_CACHE=build/lfw_descriptors.bin KEEP_TMP=0
#   QUIET_FILE (e.g. /work/QUIET on the shared development machine) and QUIET_WAIT (a command
#   that waits until nobody holds it): when set, the timed part of each size (start-up, wrk)
#   runs holding QUIET_FILE, seeding does not; the file is removed on every exit path.
# Loopback only; every process it starts is stopped and the data removed on exit (trap).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZES=${SIZES:-"10000 100000 1000000"}
MODE=${MODE:-persons}
BACKEND=${BACKEND:-sqlite}
DURATION_S=${DURATION_S:-20}
WARMUP_S=${WARMUP_S:-2}
DATA_ROOT=${DATA_ROOT:-/dev/shm}
FACEPORT_BIN=${FACEPORT_BIN:-$REPO/build/release/faceport}
SEEDER=${SEEDER:-$REPO/build/release/bench/match/seed_match_db}
LFW_CACHE=${LFW_CACHE:-$REPO/build/lfw_descriptors.bin}
KEEP_TMP=${KEEP_TMP:-0}
HOST=127.0.0.1

for tool in wrk curl jq python3 awk; do
  command -v "$tool" >/dev/null || { echo "http_identify.sh: '$tool' not found" >&2; exit 2; }
done
[[ -x $FACEPORT_BIN && -x $SEEDER ]] || { echo "http_identify.sh: build faceport and seed_match_db first" >&2; exit 2; }
case $BACKEND in
  sqlite) ;;
  postgresql) command -v psql >/dev/null || { echo "http_identify.sh: 'psql' not found" >&2; exit 2; } ;;
  *) echo "BACKEND must be sqlite or postgresql" >&2; exit 2 ;;
esac
case $MODE in
  persons) TARGET_PATH=/4/matching/identify ;;
  descriptors) TARGET_PATH=/4/matching/match ;;
  *) echo "MODE must be persons or descriptors" >&2; exit 2 ;;
esac

TMP=$(mktemp -d "$DATA_ROOT/faceport-match-http.XXXXXX")
DATA=$TMP/data
mkdir -p "$DATA"
FP_PID=""
FP_LOG=$TMP/faceport.log
: >"$FP_LOG"
QUIET_FILE=${QUIET_FILE:-}
QUIET_WAIT=${QUIET_WAIT:-true}
HOLDING=0
log() { echo "http_identify.sh: $*" >&2; }
take_quiet() {
  [[ -n $QUIET_FILE ]] || return 0
  $QUIET_WAIT
  echo "http_identify.sh $$" >"$QUIET_FILE"
  HOLDING=1
}
give_quiet() {
  [[ $HOLDING == 1 ]] && rm -f "$QUIET_FILE"
  HOLDING=0
}

stop_faceport() {
  local i
  [[ -n $FP_PID ]] && kill -0 "$FP_PID" 2>/dev/null || { FP_PID=""; return 0; }
  kill -TERM "$FP_PID" 2>/dev/null || true
  for i in $(seq 1 300); do
    kill -0 "$FP_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$FP_PID" 2>/dev/null || true
  wait "$FP_PID" 2>/dev/null || true
  FP_PID=""
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_faceport
  give_quiet
  [[ $BACKEND == postgresql ]] && pg_throwaway_stop
  if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DB_FLAGS=()
SEED_DB=(--db "$DATA/faceport.db")
if [[ $BACKEND == postgresql ]]; then
  # shellcheck source=../../scripts/pg_throwaway.sh
  source "$REPO/scripts/pg_throwaway.sh"
  pg_throwaway_start >/dev/null
  psql -q "$PG_THROWAWAY_URL" -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
  DB_FLAGS=(--database_url "$PG_THROWAWAY_URL")
  SEED_DB=(--database-url "$PG_THROWAWAY_URL")
fi

cp "$FACEPORT_BIN" "$TMP/faceport"
FP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
FP_URL="http://$HOST:$FP_PORT"

# Starts the server; sets START_S (until /version answers) and LOAD_MS (index_loaded).
start_faceport() {
  local t0 t1 i lines
  lines=$(wc -l <"$FP_LOG" 2>/dev/null || echo 0)
  t0=$(date +%s.%N)
  (cd "$REPO" && exec "$TMP/faceport" serve --data_dir "$DATA" --listen_address "$HOST" --port "$FP_PORT" \
    "${DB_FLAGS[@]}" --log_level info >>"$FP_LOG" 2>&1) &
  FP_PID=$!
  for i in $(seq 1 1200); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$FP_URL/version" || true) == 200 ]] && break
    kill -0 "$FP_PID" 2>/dev/null || { log "faceport exited"; tail -5 "$FP_LOG" >&2; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  START_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
  LOAD_MS=$(tail -n +"$((lines + 1))" "$FP_LOG" | grep '"event":"index_loaded"' | tail -1 | jq -r '.ms // empty')
}
rss_kib() { awk '/^VmRSS:/{print $2}' /proc/"$1"/status; }
# The faceport process itself (the subshell execs it, so $FP_PID is faceport).
fp_rss() { rss_kib "$FP_PID"; }

start_faceport
reg=$(curl -s --max-time 20 -X POST -H 'Content-Type: application/json' \
  -d '{"organization_name":"match bench","email":"match-bench@example.com","password":"bench-password-1"}' \
  "$FP_URL/4/accounts")
TOKEN=$(jq -r '.token // empty' <<<"$reg")
[[ -n $TOKEN ]] || { log "registration failed: $reg"; exit 1; }
sleep 1
RSS0=$(fp_rss)
log "empty account: start ${START_S} s, VmRSS ${RSS0} KiB"
stop_faceport

echo "| descriptors | seed s | start-up s (index load ms) | VmRSS MiB | bytes/descriptor | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
LIST=""
TOTAL=0
REFS=$TMP/refs.txt
for N in $SIZES; do
  ADD=$((N - TOTAL))
  args=("${SEED_DB[@]}" --token "$TOKEN" --models "$REPO/models" --add "$ADD" --mode "$MODE")
  [[ -n $LIST ]] && args+=(--list "$LIST")
  if [[ $TOTAL == 0 ]]; then
    args+=(--refs "$REFS")
    [[ -f $LFW_CACHE ]] && args+=(--lfw-cache "$LFW_CACHE")
  fi
  t0=$(date +%s.%N)
  out=$("$SEEDER" "${args[@]}" 2>/dev/null)
  SEED_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b - a}')
  LIST=$(awk '/^list_id /{print $2}' <<<"$out")
  log "seeded to $N: $(tail -1 <<<"$out")"
  TOTAL=$N
  take_quiet
  start_faceport
  log "started in ${START_S} s, index load ${LOAD_MS} ms"
  sleep 1
  RSS=$(fp_rss)
  export REFS_FILE=$REFS LIST_ID=$LIST TOKEN TARGET_PATH
  wrk -t1 -c1 -d"${WARMUP_S}s" -s "$REPO/bench/match/identify.lua" "$FP_URL" >/dev/null
  res=$(wrk -t1 -c1 -d"${DURATION_S}s" --timeout 10s -s "$REPO/bench/match/identify.lua" "$FP_URL")
  RSS_AFTER=$(fp_rss)
  reqs=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$res")
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$res")
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$res")
  p90=$(sed -n 's/.*p90_ms=\([0-9.]*\).*/\1/p' <<<"$res")
  p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$res")
  pmax=$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$res")
  errs=$(sed -n 's/.*other=\([0-9]*\) fewer_than_5=\([0-9]*\).*/\1 + \2 short/p' <<<"$res")
  bpd=$(awk -v a="$RSS_AFTER" -v b="$RSS0" -v n="$N" 'BEGIN{printf "%.0f", (a - b) * 1024 / n}')
  printf '| %s | %s | %s (%s) | %.0f (after %.0f) | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$N" "$SEED_S" "$START_S" "$LOAD_MS" "$(awk -v r="$RSS" 'BEGIN{print r/1024}')" \
    "$(awk -v r="$RSS_AFTER" 'BEGIN{print r/1024}')" "$bpd" "$reqs" "$rps" "$p50" "$p90" "$p99" "$pmax" "$errs"
  stop_faceport
  give_quiet
done
if [[ $BACKEND == postgresql ]]; then
  log "database: $(psql -At "$PG_THROWAWAY_URL" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
else
  log "database: $(du -sh "$DATA" | cut -f1)"
fi
