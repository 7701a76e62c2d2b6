#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, -Dfuzz=true) in
# build-fuzz and runs each one for BS_FUZZ_SECONDS (default 20) as the meson
# suite 'libfuzzer', two at a time. Any crash fails the run and leaves the
# input in build-fuzz/tests/fuzz/work/artifacts/ (copy it to
# tests/fuzz/regressions/<target>/ to make it a regression test).
# usage: scripts/fuzz.sh [extra meson test args, e.g. fuzz-serve]
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${BS_FUZZ_DIR:-build-fuzz}
targets=(frame msg serve names url permissions reply http http_resp s3xml)

if [[ ! -f "$dir/build.ninja" ]]; then
  CC=clang meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbuildtype=debugoptimized -Dc_args=-fsanitize=fuzzer-no-link \
    >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; exit 1; }
  rm -f "$dir.setup.log"
fi
# only the fuzz targets: the rest of the tree is tested by the gcc builds
ninja -C "$dir" "${targets[@]/#/tests/fuzz/fuzz_}" >/dev/null ||
  ninja -C "$dir" "${targets[@]/#/tests/fuzz/fuzz_}" || exit 1

echo "== meson test -C $dir --suite libfuzzer (${BS_FUZZ_SECONDS:-20} s per target)"
status=0
meson test -C "$dir" --suite libfuzzer --no-rebuild --print-errorlogs --num-processes 2 "$@" ||
  status=1
total=0
for t in "${targets[@]}"; do
  f=$dir/tests/fuzz/work/logs/$t.stats
  [[ -f $f ]] && total=$((total + $(cut -d' ' -f2 "$f")))
done
echo "fuzz: $total inputs tried in total"
exit $status
