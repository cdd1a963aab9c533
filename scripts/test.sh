#!/usr/bin/env bash
# Command 2: set up, build and run the whole test suite through CTest.
# The PostgreSQL backend is tested too: a throwaway PostgreSQL server (Debian's postgresql
# package) is started on a loopback port under a temporary data directory, named to the tests
# in FACEPORT_TEST_PG_URL, and stopped (and its directory removed) when this script exits,
# whatever the outcome. Set FACEPORT_TEST_PG_URL yourself to use another throwaway server, or
# FACEPORT_TEST_PG=0 to skip the PostgreSQL tests (they then SKIP visibly).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
if [ "${FACEPORT_TEST_PG:-1}" != 0 ] && [ -z "${FACEPORT_TEST_PG_URL:-}" ]; then
  # shellcheck source=scripts/pg_throwaway.sh
  source "$ROOT/scripts/pg_throwaway.sh"
  trap pg_throwaway_stop EXIT
  pg_throwaway_start
  export FACEPORT_TEST_PG_URL=$PG_THROWAWAY_URL
  echo "[test] throwaway PostgreSQL at $FACEPORT_TEST_PG_URL" >&2
fi
ctest --preset release "$@"
