#!/usr/bin/env bash
# Runs a command against our own borgstore-serve --rest on TCP (127.0.0.1, a
# free port, HTTP Basic auth user "bs" password "s3cret"), one store per URL
# path (--backend URL-PATH beneath --restrict-to-path, a fresh TMPDIR that
# the command's stores go to). "PORT" in BS_CONTRACT_URL is replaced by the
# port; BS_REST_HTTP_PORT is exported too.
# usage: with-serve-http.sh SERVE COMMAND [ARGS...]
set -euo pipefail
SERVE=$1
shift
D=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/bs-serve-http.XXXXXX")" && pwd -P)
PID=
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$D"
}
trap cleanup EXIT
mkdir "$D/stores"
printf 'bs:s3cret\n' > "$D/auth"
mkfifo "$D/out"
"$SERVE" --rest --listen 127.0.0.1:0 --backend URL-PATH --restrict-to-path "$D/stores" \
  --auth-file "$D/auth" --max-connections 4 > "$D/out" 2> "$D/log" &
PID=$!
read -r word PORT < "$D/out" || { echo "with-serve-http: server did not start" >&2; cat "$D/log" >&2; exit 1; }
[[ $word == PORT ]] || { echo "with-serve-http: unexpected '$word'" >&2; exit 1; }
export BS_REST_HTTP_PORT=$PORT TMPDIR=$D/stores
if [[ -n ${BS_CONTRACT_URL:-} ]]; then export BS_CONTRACT_URL=${BS_CONTRACT_URL//PORT/$PORT}; fi
"$@"
