#!/usr/bin/env bash
# Storage API benchmarks of issue 4 point 9 (docs/BENCHMARKS.md, "Storage API (issue 4)").
#
#   bench/storage/run.sh          # everything, defaults below; markdown on stdout, progress on stderr
#
# Loopback only (127.0.0.1), every loop bounded in count and time, every process it starts is
# stopped on exit (trap). It copies the faceport binary into a temp dir first (a concurrent
# rebuild cannot swap it mid-run) and uses temp data dirs that are removed at the end.
#
# Parts ($PARTS, in this order):
#   extract     POST /4/storage/descriptors, a single-face 640x480 JPEG, estimators off (the
#               default), concurrency $CONCS (wrk -c N -t min(N,2)); data dir on the disk (/tmp):
#               every request stores one descriptor row (SQLite WAL, synchronous=FULL: one
#               fsync per commit) and 5 portrait files (portrait + 4 thumbnails, each written to
#               a temp name, fsynced, renamed, directory fsynced).
#   extract_shm the same with the data dir on /dev/shm (tmpfs: fsync is free), to show the
#               share of the fsyncs.
#   load        fresh server and data dir; uploads $LOAD_N descriptors with the binary form
#               (application/x-vl-face-descriptor, one exported by GET …/descriptors/{id} with
#               Accept: application/x-vl-face-descriptor), wrk -t2 -c$LOAD_CONNS, stopped by
#               count ($LOAD_N) or by time ($LOAD_MAX_S); reports time, SQLite size
#               (faceport.db + -wal) and server RSS (VmRSS) before, after, and after a restart.
#   persons     POST /4/storage/persons ({"user_data":"bench"}), concurrency $CONCS, on the
#               loaded server (person ids are kept for the next parts).
#   attach      PATCH /4/storage/persons/{id}/linked_descriptors?descriptor_id=…&do=attach,
#               concurrency $CONCS; every request links a descriptor not yet linked (from the
#               load), persons round-robin; a run stops early when its share of ids is used.
#   get         GET /4/storage/persons/{id} with wrk -t2 -c$GET_CONNS (keep-alive), ids round-robin.
#
# Each wrk measurement: $WARMUP_S s warm-up, then $DURATION_S s measured with --latency,
# repeated $ROUNDS times; the tables show every round's req/s, p50, p99 and the median round.
# "other load" = cores' worth of CPU used during the run by every process other than the
# server and wrk (other people's work on a shared machine), from /proc/stat.
#
# Settings (environment): DURATION_S=10 WARMUP_S=2 ROUNDS=3 CONCS="1 2 4" GET_CONNS=64
#   LOAD_N=100000 LOAD_CONNS=8 LOAD_MAX_S=600 ATTACH_S=3 (attach runs are short: fresh ids run out) IMAGE=<640x480 JPEG> (default: made from
#   $SRC_IMAGE with ImageMagick convert: 4:3 crop, resize to 640x480)
#   SRC_IMAGE=/work/shared/data/faces/deepface_unit/img1.jpg FACEPORT_BIN=build/release/faceport
#   PARTS="extract extract_shm load persons attach get" KEEP_TMP=0
#   FACEPORT_EXTRA="--worker_threads 4" (extra flags for faceport serve)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/bench/storage
DURATION_S=${DURATION_S:-10}
WARMUP_S=${WARMUP_S:-2}
ROUNDS=${ROUNDS:-3}
CONCS=${CONCS:-"1 2 4"}
GET_CONNS=${GET_CONNS:-64}
LOAD_N=${LOAD_N:-100000}
LOAD_CONNS=${LOAD_CONNS:-8}
LOAD_MAX_S=${LOAD_MAX_S:-600}
ATTACH_S=${ATTACH_S:-3}
SRC_IMAGE=${SRC_IMAGE:-/work/shared/data/faces/deepface_unit/img1.jpg}
IMAGE=${IMAGE:-}
FACEPORT_BIN=${FACEPORT_BIN:-$REPO/build/release/faceport}
PARTS=${PARTS:-"extract extract_shm load persons attach get"}
KEEP_TMP=${KEEP_TMP:-0}
FACEPORT_EXTRA=${FACEPORT_EXTRA:-}
HOST=127.0.0.1

for tool in wrk curl jq python3 awk timeout; do
  command -v "$tool" >/dev/null || { echo "run.sh: '$tool' not found" >&2; exit 2; }
done
[[ -x $FACEPORT_BIN ]] || { echo "run.sh: no faceport binary at $FACEPORT_BIN" >&2; exit 2; }
NCPU=$(nproc)
CLK_TCK=$(getconf CLK_TCK)

TMP=$(mktemp -d /tmp/faceport-storage-bench.XXXXXX)
SHM=""
FP_PID=""
WRK_PID=""
FP_LOG=$TMP/faceport.log

log() { echo "run.sh: $*" >&2; }

stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_faceport() { stop_pid "$FP_PID"; FP_PID=""; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -n $WRK_PID ]] && kill -INT "$WRK_PID" 2>/dev/null
  stop_faceport
  if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP ${SHM:+and $SHM}"; else rm -rf "$TMP"; [[ -n $SHM ]] && rm -rf "$SHM"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() {
  local i
  for i in $(seq 1 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true) == 200 ]] && return 0
    kill -0 "$FP_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

cp "$FACEPORT_BIN" "$TMP/faceport"
FP_PORT=$(free_port)
FP_URL="http://$HOST:$FP_PORT"

# start_faceport DATA_DIR: prints the seconds until /version answered.
start_faceport() {
  local t0 t1
  t0=$(date +%s.%N)
  "$TMP/faceport" serve --data_dir "$1" --listen_address "$HOST" --port "$FP_PORT" \
    --log_level warn $FACEPORT_EXTRA >>"$FP_LOG" 2>&1 &
  FP_PID=$!
  wait_http "$FP_URL/version" || { log "faceport did not come up"; tail -5 "$FP_LOG" >&2; exit 1; }
  t1=$(date +%s.%N)
  START_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
}

register() {
  local reg
  reg=$(curl -s --max-time 20 -X POST -H 'Content-Type: application/json' \
    -d '{"organization_name":"storage bench","email":"bench@example.com","password":"bench-password-1"}' "$FP_URL/4/accounts")
  TOKEN=$(jq -r '.token // empty' <<<"$reg")
  [[ -n $TOKEN ]] || { log "registration failed: $reg"; exit 1; }
}

rss_kib() { awk '/^VmRSS:/{print $2}' /proc/"$FP_PID"/status; }
hwm_kib() { awk '/^VmHWM:/{print $2}' /proc/"$FP_PID"/status; }
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
machine_busy() { awk '/^cpu /{print $2+$3+$4+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }  # task-busy (user+nice+system+steal; irq/softirq left out), total
children_ticks() {  # user+sys of this shell's finished children, in ticks (no subshell: times must see them)
  times >"$TMP/times"
  awk -v hz="$CLK_TCK" 'NR==2{ split($1,a,/[ms]/); split($2,b,/[ms]/); printf "%d", (a[1]*60+a[2]+b[1]*60+b[2])*hz }' "$TMP/times" >"$TMP/ticks"
}
to_ms() {  # wrk latency value (12.3us / 4.5ms / 1.2s) -> ms
  awk -v v="$1" 'BEGIN{ n=v; sub(/[a-z]+$/,"",n); u=v; sub(/^[0-9.]+/,"",u);
    if(u=="us") n/=1000; else if(u=="s") n*=1000; else if(u=="m") n*=60000; printf "%.2f", n }'
}

# measure LABEL CONNS THREADS SCRIPT PATH [env...]: one warm-up, ROUNDS measured runs.
# Appends "label|round|rps|p50|p99|srv_cores|wrk_cores|other|errors" to $TMP/rows.
measure() {
  local label=$1 conns=$2 threads=$3 script=$4 path=$5; shift 5
  local r out st0 st1 b0 t0 b1 t1 c0 c1 rps p50 p99 errs srv wrkc other secs
  if (( WARMUP_S > 0 )); then
    env "$@" timeout $((WARMUP_S + 30)) wrk -t"$threads" -c"$conns" -d"${WARMUP_S}s" --timeout 10s -s "$script" "$FP_URL$path" >/dev/null 2>&1 || true
  fi
  for r in $(seq 1 "$ROUNDS"); do
    st0=$(proc_ticks "$FP_PID"); read -r b0 t0 < <(machine_busy); children_ticks; c0=$(cat "$TMP/ticks")
    out=$(env "$@" timeout $((DURATION_S + 60)) wrk -t"$threads" -c"$conns" -d"${DURATION_S}s" --timeout 10s --latency -s "$script" "$FP_URL$path" 2>&1) || { log "wrk failed: $out"; }
    st1=$(proc_ticks "$FP_PID"); read -r b1 t1 < <(machine_busy); children_ticks; c1=$(cat "$TMP/ticks")
    echo "$out" >>"$TMP/wrk-raw.txt"
    rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' <<<"$out")
    p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
    errs=$(awk '/Non-2xx/{n+=$NF} /Socket errors/{gsub(/,/,""); n+=$4+$6+$8+$10} END{print n+0}' <<<"$out")
    secs=$(awk '/requests in/{for(i=1;i<=NF;i++) if($i=="in"){v=$(i+1); sub(/,$/,"",v); n=v; sub(/[a-z]+$/,"",n); if(v ~ /ms$/) n/=1000; else if (v ~ /m$/) n*=60; print n}}' <<<"$out")
    srv=$(awk -v a="$st0" -v b="$st1" -v s="$secs" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (s>0 ? (b-a)/hz/s : 0)}')
    wrkc=$(awk -v a="$c0" -v b="$c1" -v s="$secs" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", (s>0 ? (b-a)/hz/s : 0)}')
    other=$(awk -v bb="$((b1 - b0))" -v tt="$((t1 - t0))" -v n="$NCPU" -v srv="$((st1 - st0))" -v w="$((c1 - c0))" \
      'BEGIN{ v = tt ? (bb - srv - w) / tt * n : 0; if (v < 0) v = 0; printf "%.2f", v }')
    log "$label round $r: $rps req/s p50 $p50 ms p99 $p99 ms srv $srv cores, wrk $wrkc, other $other, errors $errs ($(grep '^lua:' <<<"$out" || true))"
    echo "$label|$r|$rps|$p50|$p99|$srv|$wrkc|$other|$errs" >>"$TMP/rows"
  done
}

# table LABEL...: markdown rows (median round by req/s; every round listed).
table() {
  echo "| run | req/s median | req/s all rounds | p50 ms (median round) | p50 all | p99 ms (median round) | p99 all | server cores | wrk cores | other load (cores) | errors |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  local label
  for label in "$@"; do
    awk -F'|' -v L="$label" '$1==L{n++; rps[n]=$3; p50[n]=$4; p99[n]=$5; srv[n]=$6; w[n]=$7; o[n]=$8; e[n]=$9; all=all sep $3; a50=a50 sep $4; a99=a99 sep $5; oth=oth sep $8; sep=", "}
      END{ if(!n) exit; for(i=1;i<=n;i++) idx[i]=i;
        for(i=1;i<=n;i++) for(j=i+1;j<=n;j++) if(rps[idx[j]]+0<rps[idx[i]]+0){t=idx[i]; idx[i]=idx[j]; idx[j]=t}
        m=idx[int((n+1)/2)]; err=0; for(i=1;i<=n;i++) err+=e[i];
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", L, rps[m], all, p50[m], a50, p99[m], a99, srv[m], w[m], oth, err }' "$TMP/rows"
  done
}

threads_for() { if (( $1 < 2 )); then echo 1; else echo 2; fi; }

# ---------------------------------------------------------------- image
if [[ -z $IMAGE ]]; then
  command -v convert >/dev/null || { log "no IMAGE given and no ImageMagick convert (apt-get install imagemagick)"; exit 2; }
  IMAGE=$TMP/face640.jpg
  # 4:3 crop of the portrait photo around the face, resized to 640x480.
  convert "$SRC_IMAGE" -crop 1382x1036+0+100 +repage -resize '640x480!' -quality 90 "$IMAGE"
fi

echo "## run $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(lscpu | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2}')"
echo "image: $IMAGE, $(stat -c %s "$IMAGE") bytes; wrk ${DURATION_S}s x $ROUNDS rounds after ${WARMUP_S}s warm-up"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

has() { [[ " $PARTS " == *" $1 "* ]]; }

# ---------------------------------------------------------------- extraction (disk, then tmpfs)
DESC_BIN=$TMP/descriptor.bin
run_extract() {  # DATA_DIR TAG
  mkdir -p "$1"
  start_faceport "$1"; register
  local faces id
  faces=$(curl -s --max-time 30 -H "X-Auth-Token: $TOKEN" -H 'Content-Type: image/jpeg' --data-binary @"$IMAGE" "$FP_URL/4/storage/descriptors")
  [[ $(jq '.faces | length' <<<"$faces") == 1 ]] || { log "the image must give exactly one face: $faces"; exit 1; }
  id=$(jq -r '.faces[0].id' <<<"$faces")
  curl -s --max-time 10 -H "X-Auth-Token: $TOKEN" -H 'Accept: application/x-vl-face-descriptor' -o "$DESC_BIN" "$FP_URL/4/storage/descriptors/$id"
  local c labels=()
  for c in $CONCS; do
    measure "extract $2 c=$c" "$c" "$(threads_for "$c")" "$HERE/post_body.lua" /4/storage/descriptors \
      BODY_FILE="$IMAGE" CONTENT_TYPE=image/jpeg TOKEN="$TOKEN"
    labels+=("extract $2 c=$c")
  done
  echo; echo "### POST /4/storage/descriptors, 640x480 JPEG, estimators off, data dir on $2"; echo
  table "${labels[@]}"
  echo; echo "stored: $(find "$1/portraits" -type f 2>/dev/null | wc -l) portrait files, $(du -sh "$1" | cut -f1) data dir"
  stop_faceport
}
if has extract; then run_extract "$TMP/data-extract" "disk"; fi
if has extract_shm; then SHM=$(mktemp -d /dev/shm/faceport-storage-bench.XXXXXX); run_extract "$SHM/data" "tmpfs (/dev/shm)"; fi

# ---------------------------------------------------------------- load N descriptors
DATA=$TMP/data-load
mkdir -p "$DATA"
start_faceport "$DATA"; register
if [[ ! -s $DESC_BIN ]]; then
  # No extraction run: a valid binary descriptor ("dp\0\0", LE uint32 version 1, 512 LE float32, unit norm).
  python3 -c 'import struct,random,math,sys; random.seed(1); v=[random.gauss(0,1) for _ in range(512)]; n=math.sqrt(sum(x*x for x in v)); sys.stdout.buffer.write(b"dp\0\0"+struct.pack("<I",1)+struct.pack("<512f",*[x/n for x in v]))' >"$DESC_BIN"
fi
if has load; then
  rss0=$(rss_kib)
  log "loading $LOAD_N descriptors (at most ${LOAD_MAX_S}s)"
  t0=$(date +%s.%N)
  # wrk stops only at its duration, so watch the count here and stop it with SIGINT (wrk then
  # reports over the time it really ran); each wrk thread also stops itself at LOAD_N/2.
  BODY_FILE="$DESC_BIN" CONTENT_TYPE=application/x-vl-face-descriptor TOKEN="$TOKEN" IDS_OUT="$TMP/desc-ids-" \
    QUOTA=$((LOAD_N / 2)) wrk -t2 -c"$LOAD_CONNS" -d"${LOAD_MAX_S}s" --timeout 10s --latency \
    -s "$HERE/post_body.lua" "$FP_URL/4/storage/descriptors" >"$TMP/load-wrk.txt" 2>&1 &
  WRK_PID=$!
  while kill -0 "$WRK_PID" 2>/dev/null; do
    got=$({ cat "$TMP"/desc-ids-*.txt 2>/dev/null || true; } | wc -l)
    if (( got >= LOAD_N )); then break; fi
    awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$LOAD_MAX_S" 'BEGIN{exit !(b - a > m)}' && { log "load: time limit"; break; }
    sleep 0.2
  done
  kill -INT "$WRK_PID" 2>/dev/null || true
  wait "$WRK_PID" 2>/dev/null || true
  WRK_PID=""
  out=$(cat "$TMP/load-wrk.txt")
  t1=$(date +%s.%N)
  echo "$out" >>"$TMP/wrk-raw.txt"
  cat "$TMP"/desc-ids-*.txt >"$TMP/desc-ids.txt"
  n=$(curl -s --max-time 60 -H "X-Auth-Token: $TOKEN" "$FP_URL/4/storage/descriptors?page_size=1" | jq '.count')
  rss1=$(rss_kib); hwm1=$(hwm_kib)
  dbsz=$(stat -c %s "$DATA/faceport.db"); walsz=$(stat -c %s "$DATA/faceport.db-wal" 2>/dev/null || echo 0)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
  stop_faceport
  dbsz2=$(stat -c %s "$DATA/faceport.db"); walsz2=$(stat -c %s "$DATA/faceport.db-wal" 2>/dev/null || echo 0)
  start_faceport "$DATA"; restart_s=$START_S
  sleep 2
  rss2=$(rss_kib)
  echo; echo "### $LOAD_N descriptors via the binary upload (wrk -t2 -c$LOAD_CONNS), data dir on disk"; echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| descriptors stored (GET count) | $n ($(wc -l <"$TMP/desc-ids.txt") ids collected) |"
  echo "| time | ${secs} s ($(awk -v n="$n" -v s="$secs" 'BEGIN{printf "%.0f", n/s}') descriptors/s); wrk: $(awk '/^Requests\/sec/{print $2 " req/s"} $1=="50%"{print "p50 " $2} $1=="99%"{print "p99 " $2}' <<<"$out" | paste -sd' ') |"
  echo "| faceport.db + -wal, live | $dbsz + $walsz bytes = $(awk -v a="$dbsz" -v b="$walsz" -v n="$n" 'BEGIN{printf "%.1f MiB, %.0f bytes/descriptor, %.1f MiB per 100k", (a+b)/1048576, (a+b)/n, (a+b)/n*100000/1048576}') |"
  echo "| faceport.db + -wal after a clean stop | $dbsz2 + $walsz2 bytes = $(awk -v a="$dbsz2" -v b="$walsz2" -v n="$n" 'BEGIN{printf "%.1f MiB, %.0f bytes/descriptor, %.1f MiB per 100k", (a+b)/1048576, (a+b)/n, (a+b)/n*100000/1048576}') |"
  echo "| server RSS before load (fresh start, models loaded) | $((rss0 / 1024)) MiB |"
  echo "| server RSS after load (peak VmHWM) | $((rss1 / 1024)) MiB ($((hwm1 / 1024)) MiB) |"
  echo "| server RSS after restart with $n descriptors | $((rss2 / 1024)) MiB (restart to /version 200: ${restart_s} s) |"
  echo "| RSS growth per 100k (after restart − before) | $(awk -v a="$rss0" -v b="$rss2" -v n="$n" 'BEGIN{printf "%.1f MiB", (b-a)/1024/n*100000}') |"
  echo "| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |"
fi

# ---------------------------------------------------------------- persons, attach, get
if has persons; then
  labels=()
  for c in $CONCS; do
    echo '{"user_data":"bench"}' >"$TMP/person.json"
    measure "create person c=$c" "$c" "$(threads_for "$c")" "$HERE/post_body.lua" /4/storage/persons \
      BODY_FILE="$TMP/person.json" CONTENT_TYPE=application/json TOKEN="$TOKEN" IDS_OUT="$TMP/person-ids-c$c-" ID_PATTERN='"person_id":"([%x%-]+)"'
    labels+=("create person c=$c")
  done
  echo; echo "### POST /4/storage/persons, data dir on disk, $LOAD_N descriptors stored"; echo
  table "${labels[@]}"
fi
cat "$TMP"/person-ids-*.txt 2>/dev/null | head -n 10000 >"$TMP/person-ids.txt" || true
if [[ ! -s $TMP/person-ids.txt ]]; then
  for i in $(seq 1 100); do
    curl -s --max-time 10 -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' -d '{}' "$FP_URL/4/storage/persons" | jq -r .person_id
  done >"$TMP/person-ids.txt"
fi

if has attach; then
  [[ -s $TMP/desc-ids.txt ]] || { log "attach needs the load part"; exit 1; }
  total=$(wc -l <"$TMP/desc-ids.txt")
  nconc=$(wc -w <<<"$CONCS")
  share=$((total / (nconc * (ROUNDS + 1))))  # warm-up + rounds per concurrency
  off=0 labels=()
  attach_env() { echo DESC_IDS="$TMP/desc-ids.txt" PERSON_IDS="$TMP/person-ids.txt" TOKEN="$TOKEN" OFFSET=$off COUNT=$share THREADS=$1; }
  for c in $CONCS; do
    t=$(threads_for "$c")
    # measure() runs warm-up + ROUNDS; give each its own slice of descriptor ids.
    env $(attach_env "$t") timeout $((WARMUP_S + 30)) wrk -t"$t" -c"$c" -d1s --timeout 10s -s "$HERE/attach.lua" "$FP_URL/" >/dev/null 2>&1 || true
    off=$((off + share))
    WARMUP_SAVE=$WARMUP_S; WARMUP_S=0; D_SAVE=$DURATION_S; DURATION_S=$ATTACH_S
    for r in $(seq 1 "$ROUNDS"); do
      R_SAVE=$ROUNDS; ROUNDS=1
      # shellcheck disable=SC2046
      measure "attach c=$c" "$c" "$t" "$HERE/attach.lua" / $(attach_env "$t")
      ROUNDS=$R_SAVE
      off=$((off + share))
    done
    WARMUP_S=$WARMUP_SAVE; DURATION_S=$D_SAVE
    labels+=("attach c=$c")
  done
  echo; echo "### PATCH /4/storage/persons/{id}/linked_descriptors?do=attach, data dir on disk ($share fresh descriptor ids per run; runs of ${ATTACH_S}s; repeat= in the per-round lines counts requests that went round again, re-attaching an id: harmless but cheaper)"; echo
  table "${labels[@]}"
fi

if has get; then
  np=$(wc -l <"$TMP/person-ids.txt")
  sample=$(curl -s --max-time 10 -H "X-Auth-Token: $TOKEN" "$FP_URL/4/storage/persons/$(head -1 "$TMP/person-ids.txt")")
  measure "GET person c=$GET_CONNS" "$GET_CONNS" 2 "$HERE/get_person.lua" / PERSON_IDS="$TMP/person-ids.txt" TOKEN="$TOKEN"
  echo; echo "### GET /4/storage/persons/{id}, wrk -t2 -c$GET_CONNS keep-alive, $np person ids round-robin"; echo
  table "GET person c=$GET_CONNS"
  echo; echo "sample response ($(wc -c <<<"$sample") bytes): \`$(head -c 300 <<<"$sample")\`"
fi
echo; echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
