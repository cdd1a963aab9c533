#!/usr/bin/env bash
# Command 2: set up, build and run the whole test suite through CTest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
ctest --preset release "$@"
