#!/usr/bin/env bash
# Module boundaries (docs/DESIGN.md): fails when a module includes a header of a module it
# must not know. CMake targets enforce the same arrows at link time; this catches the
# header-only cases early and names the offending line. Run by CTest.
set -u
cd "$(dirname "$0")/../src"
status=0
check() { # module forbidden...
  local mod=$1; shift
  for other in "$@"; do
    if grep -rn "#include \"$other/" "$mod" 2>/dev/null; then
      echo "layering: src/$mod must not include $other/ headers" >&2
      status=1
    fi
  done
}
check core http api face store match app
check http api face store match app
check store http api face match app
check face http api store match app
check match http api face store app
check api app
# Database client libraries are private to the store's backends.
for lib in sqlite3.h libpq-fe.h; do
  if grep -rn "#include <$lib>" . 2>/dev/null | grep -v "^./store/"; then
    echo "layering: only src/store may include <$lib>" >&2
    status=1
  fi
done
exit $status
