#!/usr/bin/env bash
# Installs everything faceport needs on Debian 12 and builds it (Release).
# Idempotent: packages already installed are not re-installed, npm tarballs are cached in
# $FACEPORT_CACHE (default ~/.cache/faceport), extracted files are re-checked by sha256 and
# only re-extracted when missing or wrong, and the build is incremental.
# Only Debian's archive (apt) and the npm registry (npm pack) are contacted.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=${FACEPORT_CACHE:-$HOME/.cache/faceport}
PRESET=${FACEPORT_PRESET:-release}
log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libsodium-dev libmsgpuck-dev libpq-dev
  libjpeg62-turbo-dev libpng-dev libtiff-dev libgif-dev libexif-dev
  libopencv-imgproc-dev libopencv-imgcodecs-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libfaiss-dev  # optional: only bench/match compares against it (skipped when absent)
  python3 python3-onnx python3-numpy python3-yaml python3-markdown  # yaml, markdown: the served docs (build time)
  nodejs npm curl wrk nginx-light
  postgresql  # the PostgreSQL backend's tests and the multi-node deployment (scripts/pg_throwaway.sh)
)

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # A package counts as present when dpkg reports it installed, or (for nodejs/npm)
    # when the command already exists, e.g. from a NodeSource install on the image.
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then continue; fi
    case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
    missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    log "Debian packages: all present"
  fi
}

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -c1-64)" = "$2" ]; }

tarball_path() { # npm pack names @scope/name@v as scope-name-v.tgz
  local spec=$1 name=${1%@*} ver=${1##*@}
  name=${name#@}; name=${name//\//-}
  echo "$CACHE/npm/$name-$ver.tgz"
}

fetch_npm() { # spec sha
  local spec=$1 sha=$2 tgz; tgz=$(tarball_path "$spec")
  sha_ok "$tgz" "$sha" && return 0
  mkdir -p "$CACHE/npm"
  log "npm pack $spec"
  (cd "$CACHE/npm" && npm pack --silent "$spec" >/dev/null)
  sha_ok "$tgz" "$sha" || { log "checksum mismatch for $spec ($tgz)"; rm -f "$tgz"; exit 1; }
}

install_files() {
  # Pass 1: find the files that are missing or wrong, grouped by package, so that each
  # tarball is decompressed at most once (a 150 MB tarball takes seconds per pass).
  local kind spec path dest sha
  declare -A WANT
  while read -r kind spec path dest sha; do
    case "$kind" in ''|\#*) continue ;; esac
    if [ "$kind" = tgz ]; then TGZ_SHA[$spec]=$sha; continue; fi
    sha_ok "$dest" "$sha" && continue
    WANT[$spec]+="$path|$dest|$sha"$'\n'
  done < scripts/deps.lock
  local tmp; tmp=$(mktemp -d)
  for spec in "${!WANT[@]}"; do
    fetch_npm "$spec" "${TGZ_SHA[$spec]}"
    local members=()
    while IFS='|' read -r path dest sha; do [ -n "$path" ] && members+=("package/$path"); done <<< "${WANT[$spec]}"
    tar -xzf "$(tarball_path "$spec")" -C "$tmp" "${members[@]}"
    while IFS='|' read -r path dest sha; do
      [ -n "$path" ] || continue
      sha_ok "$tmp/package/$path" "$sha" || { log "checksum mismatch for $dest"; rm -rf "$tmp"; exit 1; }
      mkdir -p "$(dirname "$dest")"
      mv "$tmp/package/$path" "$dest"
      log "installed $dest"
    done <<< "${WANT[$spec]}"
  done
  rm -rf "$tmp"
  ln -sf libonnxruntime.so.1 .deps/onnxruntime/lib/libonnxruntime.so
}

convert_models() {
  # Models derived from npm files by the project's own converters (see scripts/*.py).
  if [ -f scripts/tfjs_to_onnx.py ] && { [ ! -f models/faceres.onnx ] || [ scripts/tfjs_to_onnx.py -nt models/faceres.onnx ]; }; then
    log "converting faceres (TFJS) to ONNX"
    /usr/bin/python3 scripts/tfjs_to_onnx.py .deps/tfjs/faceres.json models/faceres.onnx.tmp
    mv models/faceres.onnx.tmp models/faceres.onnx
  fi
}

build() {
  log "configuring and building (preset $PRESET)"
  [ -f "build/$PRESET/build.ninja" ] || cmake --preset "$PRESET" >/dev/null
  cmake --build --preset "$PRESET"
}

declare -A TGZ_SHA
install_apt
install_files
convert_models
build
