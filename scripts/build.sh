#!/usr/bin/env bash
# Configures (once) and builds one build directory.
# usage: scripts/build.sh DIR [meson setup options...]
set -euo pipefail
dir=$1; shift
if [[ ! -f "$dir/build.ninja" ]]; then
  meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; exit 1; }
  rm -f "$dir.setup.log"
fi
ninja -C "$dir" >/dev/null || ninja -C "$dir"
