#!/usr/bin/env bash
# Sets up, builds and runs every test twice: a normal build (warnings are
# errors) and an AddressSanitizer + UndefinedBehaviorSanitizer build that
# fails on any report; then a short libFuzzer run of every fuzz target
# (clang, build-fuzz, scripts/fuzz.sh); with BS_DEB=1 also the Debian
# packages (scripts/deb.sh). Ends with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
# s3rver comes from the npm registry: without it (no registry, or a TLS
# interception CA npm is not told about) the s3rver runs are skipped, loudly,
# and the summary line counts them as skipped
scripts/s3rver.sh || echo "test.sh: WARNING: s3rver could not be installed: contract-s3 and s3-server are skipped" >&2

status=0
run_suite() { # dir, extra meson test args...
  local dir=$1; shift
  echo "== meson test -C $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || status=1
}

scripts/build.sh build -Dwerror=true || exit 1
run_suite build
scripts/build.sh build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debug || exit 1
run_suite build-asan --timeout-multiplier 4
scripts/fuzz.sh || status=1
# the Debian packages: built, linted, installed and used. Opt-in (BS_DEB=1):
# it adds about 4 minutes (plus 2 to install debhelper and lintian once)
[[ -z ${BS_DEB:-} ]] || scripts/deb.sh || status=1

python3 scripts/test_summary.py build build-asan build-fuzz || status=1
exit $status
