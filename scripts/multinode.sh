#!/usr/bin/env bash
# The reference multi-node deployment (docs/DEPLOYMENT.md) on one machine: PostgreSQL, three
# faceport nodes and nginx on loopback (scripts/cluster.sh).
#
#   scripts/multinode.sh e2e     runs the end-to-end flow through nginx (tests/e2e,
#                                Cluster.ServiceFlowThroughTheProxy) with all nodes up, then
#                                again while one node is SIGKILLed mid-run; stops everything
#   scripts/multinode.sh serve   starts everything and waits (Ctrl-C stops it)
#
# NODES (default 3) sets the node count; FACEPORT_TEST_PG_URL an existing throwaway server to
# use instead of starting one. Build first (cmake --build --preset release).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cluster.sh
source "$ROOT/scripts/cluster.sh"
trap cluster_stop EXIT
MODE=${1:-e2e}
NODES=${NODES:-3}
E2E=$ROOT/build/release/tests/e2e/e2e_tests

# Exit 77 (CTest's SKIP_RETURN_CODE) when the machine lacks what the deployment needs.
if ! [ -x /usr/sbin/nginx ]; then echo "SKIP: nginx is not installed (apt-get install nginx-light)" >&2; exit 77; fi
if [ -z "${FACEPORT_TEST_PG_URL:-}" ] && ! [ -x "$PG_BIN/initdb" ]; then
  echo "SKIP: no PostgreSQL (apt-get install postgresql, or set FACEPORT_TEST_PG_URL)" >&2
  exit 77
fi
if [ "$MODE" = e2e ] && ! [ -x "$E2E" ]; then echo "no $E2E: build first" >&2; exit 1; fi

cluster_start "$NODES"

case "$MODE" in
  serve)
    echo "faceport cluster on http://127.0.0.1:$CLUSTER_PORT (Ctrl-C stops it)"
    while true; do sleep 3600; done
    ;;
  e2e)
    echo "== all $NODES nodes up"
    FACEPORT_E2E_CLUSTER_PORT=$CLUSTER_PORT FACEPORT_E2E_ROUNDS=${ROUNDS:-12} \
      "$E2E" --gtest_filter=Cluster.ServiceFlowThroughTheProxy
    echo "== node 1 killed mid-run"
    FACEPORT_E2E_CLUSTER_PORT=$CLUSTER_PORT FACEPORT_E2E_ROUNDS=${ROUNDS:-30} FACEPORT_E2E_NODE_KILLED=1 \
      "$E2E" --gtest_filter=Cluster.ServiceFlowThroughTheProxy &
    test_pid=$!
    sleep "${KILL_AFTER_S:-3}"
    cluster_kill_node 1
    wait "$test_pid"
    echo "== multinode e2e passed"
    ;;
  *)
    echo "usage: $0 e2e|serve" >&2
    exit 2
    ;;
esac
