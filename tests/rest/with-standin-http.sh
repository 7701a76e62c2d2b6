#!/usr/bin/env bash
# Runs a command against the stand-in REST server on TCP (127.0.0.1, a free
# port, HTTP Basic auth user "bs" password "s3cret"), one store per URL path
# (standin_server.py --backend URL-PATH). "PORT" in BS_CONTRACT_URL is
# replaced by the port; BS_REST_HTTP_PORT is exported too.
# usage: with-standin-http.sh PYTHON STANDIN COMMAND [ARGS...]
set -euo pipefail
PY=$1 STANDIN=$2
shift 2
D=$(mktemp -d "${TMPDIR:-/tmp}/bs-rest-http.XXXXXX")
PID=
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$D"
}
trap cleanup EXIT
mkfifo "$D/out"
"$PY" "$STANDIN" --listen 127.0.0.1:0 --backend URL-PATH --username bs --password s3cret \
  > "$D/out" 2> "$D/log" &
PID=$!
read -r word PORT < "$D/out" || { echo "with-standin-http: server did not start" >&2; cat "$D/log" >&2; exit 1; }
[[ $word == PORT ]] || { echo "with-standin-http: unexpected '$word'" >&2; exit 1; }
export BS_REST_HTTP_PORT=$PORT
if [[ -n ${BS_CONTRACT_URL:-} ]]; then export BS_CONTRACT_URL=${BS_CONTRACT_URL//PORT/$PORT}; fi
"$@"
