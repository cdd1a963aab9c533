#!/usr/bin/env bash
# Multi-node benchmarks of issue 7 point 5 (docs/BENCHMARKS.md, "Several nodes (issue 7)").
#
#   bench/multinode/run.sh     # markdown on stdout, progress on stderr
#
# For each node count in $NODE_COUNTS: the reference deployment of scripts/cluster.sh
# (a throwaway PostgreSQL, N faceport nodes sharing it and one portrait directory, nginx in
# front, all on loopback), then through nginx, each with wrk $DURATION_S s after $WARMUP_S s
# warm-up:
#   create   POST /4/storage/persons {"user_data":"bench"}, wrk -t2 -c$CREATE_CONNS
#   read     GET /4/storage/persons/{id} over the persons just created, wrk -t2 -c$READ_CONNS
#   extract  POST /4/storage/descriptors with a single-face 640x480 JPEG (estimators off, one
#            descriptor row + 5 portrait files per request), wrk -t2 -c$EXTRACT_CONNS
# Then the cross-node staleness (bench/multinode/staleness.py, two nodes, $STALE_SAMPLES
# samples) and the PostgreSQL bytes per descriptor (the extracted rows copied to
# $SIZE_ROWS rows with new ids; table + indexes + TOAST, from pg_total_relation_size).
#
# Everything (PostgreSQL, the nodes, nginx, wrk) shares this machine's cores: more nodes add
# no CPU, so the rows show what the set-up costs and where the CPU limit is, not how a
# deployment on N machines scales.
#
# Settings: NODE_COUNTS="1 2 3" DURATION_S=10 WARMUP_S=2 CREATE_CONNS=8 READ_CONNS=32
#   EXTRACT_CONNS=4 STALE_SAMPLES=40 SIZE_ROWS=50000 FACEPORT_BIN=build/release/faceport
#   SRC_IMAGE=/work/shared/data/faces/deepface_unit/img1.jpg
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NODE_COUNTS=${NODE_COUNTS:-"1 2 3"}
DURATION_S=${DURATION_S:-10}
WARMUP_S=${WARMUP_S:-2}
CREATE_CONNS=${CREATE_CONNS:-8}
READ_CONNS=${READ_CONNS:-32}
EXTRACT_CONNS=${EXTRACT_CONNS:-4}
STALE_SAMPLES=${STALE_SAMPLES:-40}
SIZE_ROWS=${SIZE_ROWS:-50000}
SRC_IMAGE=${SRC_IMAGE:-/work/shared/data/faces/deepface_unit/img1.jpg}
LUA=$REPO/bench/storage
unset FACEPORT_TEST_PG_URL  # every cluster gets its own throwaway PostgreSQL
# shellcheck source=scripts/cluster.sh
source "$REPO/scripts/cluster.sh"
WORK=$(mktemp -d /tmp/faceport_mnbench_XXXXXX)
trap 'cluster_stop; rm -rf "$WORK"' EXIT
log() { printf '[bench] %s\n' "$*" >&2; }

# A copy of the binary: a concurrent rebuild cannot swap it mid-run.
cp "${FACEPORT_BIN:-$REPO/build/release/faceport}" "$WORK/faceport"
export FACEPORT_BIN=$WORK/faceport
IMAGE=$WORK/face.jpg
convert "$SRC_IMAGE" -gravity center -crop 4:3 +repage -resize 640x480! "$IMAGE"
echo '{"user_data":"bench"}' >"$WORK/person.json"

register() { # port -> token
  curl -sf -X POST "http://127.0.0.1:$1/4/accounts" -H 'Content-Type: application/json' \
    -d "{\"organization_name\":\"b\",\"email\":\"bench-$RANDOM$RANDOM@example.com\",\"password\":\"password1\"}" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# wrk -> "req/s | p50 | p99 | non-2xx" (markdown cells)
run_wrk() { # conns script url [env...]
  local conns=$1 script=$2 url=$3 out
  shift 3
  env "$@" wrk -t2 -c"$conns" -d"${WARMUP_S}s" -s "$script" "$url" >/dev/null 2>&1 || true
  out=$(env "$@" wrk -t2 -c"$conns" -d"${DURATION_S}s" --latency -s "$script" "$url" 2>&1)
  echo "$out" >>"$WORK/wrk.log"
  local rps p50 p99 other
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  other=$(grep -o 'other=[0-9]*' <<<"$out" | tail -1 | cut -d= -f2)
  printf '%s | %s | %s | %s' "$rps" "$p50" "$p99" "${other:-?}"
}

echo "| nodes | workload | wrk -c | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
for n in $NODE_COUNTS; do
  log "cluster of $n"
  cluster_start "$n"
  token=$(register "$CLUSTER_PORT")
  url=http://127.0.0.1:$CLUSTER_PORT
  rm -f "$WORK"/pids*.txt
  row=$(run_wrk "$CREATE_CONNS" "$LUA/post_body.lua" "$url/4/storage/persons" BODY_FILE="$WORK/person.json" \
    CONTENT_TYPE=application/json TOKEN="$token" IDS_OUT="$WORK/pids" ID_PATTERN='"person_id":"([%x%-]+)"')
  echo "| $n | person create | $CREATE_CONNS | $row |"
  cat "$WORK"/pids*.txt >"$WORK/person_ids.txt"
  row=$(run_wrk "$READ_CONNS" "$LUA/get_person.lua" "$url" PERSON_IDS="$WORK/person_ids.txt" TOKEN="$token")
  echo "| $n | person read | $READ_CONNS | $row |"
  row=$(run_wrk "$EXTRACT_CONNS" "$LUA/post_body.lua" "$url/4/storage/descriptors" BODY_FILE="$IMAGE" \
    CONTENT_TYPE=image/jpeg TOKEN="$token")
  echo "| $n | extraction | $EXTRACT_CONNS | $row |"
  if [ "$n" = "$(echo "$NODE_COUNTS" | awk '{print $NF}')" ]; then
    # PostgreSQL size per descriptor: copy the extracted rows (real, incompressible values)
    # under new ids until there are SIZE_ROWS, then measure the table with its indexes.
    log "descriptor size in PostgreSQL ($SIZE_ROWS rows)"
    psql -qAt "$CLUSTER_DB_URL" >"$WORK/size.txt" <<SQL
INSERT INTO descriptors(id, account_id, version, values_f32le, has_portrait, create_time_ms, last_update_ms, last_unlink_ms)
SELECT gen_random_uuid()::text, d.account_id, d.version, d.values_f32le, d.has_portrait, d.create_time_ms + g, d.last_update_ms, d.last_unlink_ms
  FROM (SELECT * FROM descriptors LIMIT 1000) d,
       generate_series(1, ($SIZE_ROWS / greatest(1, (SELECT count(*) FROM descriptors LIMIT 1000)))::int) g;
VACUUM ANALYZE descriptors;
SELECT count(*), pg_total_relation_size('descriptors'), pg_relation_size('descriptors'),
       pg_indexes_size('descriptors'), pg_total_relation_size('changes') FROM descriptors;
SQL
    IFS='|' read -r rows total heap idx changes <"$WORK/size.txt"
    SIZE_LINE="descriptors: $rows rows, $total bytes total ($((total / rows)) B/row: heap+TOAST $((  (total - idx) / rows)) B, indexes $((idx / rows)) B); change feed (unpruned, only the rows the API wrote): $changes bytes"
  fi
  cluster_stop
done
echo
echo "PostgreSQL size: ${SIZE_LINE:-not measured}"

log "cross-node staleness"
CLUSTER_NODE_FLAGS="--match_catch_up_on_request false" cluster_start 2
echo
echo '```'
/usr/bin/python3 "$REPO/bench/multinode/staleness.py" "${CLUSTER_NODE_PORTS[0]}" "${CLUSTER_NODE_PORTS[1]}" \
  "$STALE_SAMPLES" "$IMAGE" | tail -1
echo '```'
cluster_stop
