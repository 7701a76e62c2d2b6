#!/usr/bin/env bash
# Installs the S3 test server s3rver (npm, pinned) for the s3: backend's
# tests, once: offline and quick when it is already there. Prints nothing on
# success. The directory: $BORGSTORE_S3RVER_DIR, else
# ~/.cache/borgstore/s3rver-<version> (tests/s3/with_s3rver.py looks there).
set -euo pipefail
version=3.7.1
dir=${BORGSTORE_S3RVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/borgstore/s3rver-$version}
pkg=$dir/node_modules/s3rver/package.json
if [[ -f $pkg ]] && grep -q "\"version\": \"$version\"" "$pkg"; then exit 0; fi
command -v npm >/dev/null || { echo "s3rver.sh: npm is missing (scripts/setup.sh installs it)" >&2; exit 1; }
mkdir -p "$dir"
echo "s3rver.sh: installing s3rver@$version into $dir" >&2
# node trusts only its own CA bundle: also the system's (a proxy's CA lives there)
[[ -r /etc/ssl/certs/ca-certificates.crt ]] && export NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
nice npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
  "s3rver@$version" >/dev/null
