#!/usr/bin/env bash
# Command 1: set up, build and start the server on port 5000 with the embedded default
# (SQLite + portrait folder under ./data, bundled models). Extra arguments go to `faceport serve`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec build/release/faceport serve --data-dir "${FACEPORT_DATA_DIR:-$ROOT/data}" "$@"
