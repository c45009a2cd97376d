#!/usr/bin/env bash
# The whole test suite: unit tests (check) and system tests (bats, as root).
#   tools/test.sh [meson test args...]     e.g. tools/test.sh system, tools/test.sh --suite unit
# Build directory: $MINI_BUILD_DIR (default: build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${MINI_BUILD_DIR:-build}

bash tools/deps.sh

if [[ ! -f $BUILD_DIR/build.ninja ]]; then
  if [[ -d $BUILD_DIR/meson-private ]]; then
    meson setup --wipe "$BUILD_DIR"
  else
    meson setup "$BUILD_DIR"
  fi
fi

status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
meson test -C "$BUILD_DIR" --print-errorlogs "$@" 2>&1 | tee "$log" || status=$?

if ((status != 0)) && [[ -f $BUILD_DIR/meson-logs/testlog.txt ]]; then
  echo
  echo "Failed system test cases (full log: $BUILD_DIR/meson-logs/testlog.txt):"
  grep -E '^not ok ' "$BUILD_DIR/meson-logs/testlog.txt" || echo "  (none: see the log)"
fi

# One plain closing line: meson's counts (the system suite counts as one test).
passed=$(awk '$1 == "Ok:" { print $2 }' "$log")
failed=$(awk '$1 == "Fail:" || $1 == "Timeout:" || $1 == "Unexpected" { n += $NF } END { print n + 0 }' "$log")
if ((status != 0 && failed == 0)); then
  failed=1 # e.g. the build failed before any test ran
fi
echo "tests: ${passed:-0} passed, ${failed} failed"
exit "$status"
