#!/usr/bin/env bash
# Sets up, builds, and runs the demo: first against a local store (file://),
# then through borgstore-serve spawned locally over pipes (serve://).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
export BORGSTORE_REMOTE_PATH="$PWD/build/borgstore-serve"
./build/borgstore demo
if [[ -x build/borgstore-serve ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  ./build/borgstore demo "serve://$tmp/store"
fi
