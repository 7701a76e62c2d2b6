#!/usr/bin/env bash
# The Store cache benchmark: repeated 1 KiB range reads of 10 MB packs over
# ssh:// through the delaying proxy, uncached and with the cache on file://,
# and the same reads on file:// directly (see docs/performance.md).
# usage: bench/cache_bench.sh [BUILD_DIR] [PACKS] [READS] [UNCACHED_READS] [RTT_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
PACKS=${2:-4}; READS=${3:-20000}; UREADS=${4:-300}; RTT=${5:-10}
B=$BUILD/bench/borgstore-cache-bench
[[ -x $B ]] || { echo "build first: ninja -C $BUILD" >&2; exit 2; }

if [[ -z ${BS_SSHD_PORT:-} ]]; then   # re-run ourselves under a throwaway sshd
  export BS_BUILD_ROOT=$BUILD
  exec tests/integration/with-sshd.sh "$0" "$@"
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/bs-cache-bench.XXXXXX")
PROXY_PID=
trap '[[ -n $PROXY_PID ]] && kill $PROXY_PID; rm -rf "$OUT"' EXIT
export BORGSTORE_REMOTE_PATH=$BUILD/borgstore-serve
"$BUILD/bench/delay_proxy" --target "$BS_SSHD_PORT" --rtt-ms "$RTT" > "$OUT/proxy.port" &
PROXY_PID=$!
for _ in $(seq 100); do [[ -s $OUT/proxy.port ]] && break; sleep 0.05; done
PROXY_PORT=$(cat "$OUT/proxy.port")
sed -e 's/^Host bstest$/Host bsproxy/' -e "s/^  Port .*/  Port $PROXY_PORT/" \
  "$BORGSTORE_SSH_CONFIG" > "$OUT/proxy_config"
cat "$BORGSTORE_SSH_CONFIG" "$OUT/proxy_config" > "$OUT/ssh_config"
export BORGSTORE_SSH_CONFIG=$OUT/ssh_config

run() { # label reads url [--cache URL]
  local label=$1 reads=$2 url=$3; shift 3
  echo "# $label" >&2
  "$B" "$url" --packs "$PACKS" --reads "$reads" "$@" > "$OUT/$label"
}
run proxy-uncached "$UREADS" "ssh://bsproxy/$OUT/p1"
run proxy-cached "$READS" "ssh://bsproxy/$OUT/p2" --cache "file://$OUT/cache"
run file-direct "$READS" "file://$OUT/f1"
run file-cached "$READS" "file://$OUT/f2" --cache "file://$OUT/cache"

python3 - "$OUT" "$RTT" "$PACKS" <<'PY'
import sys
out, rtt, packs = sys.argv[1:]
def rate(label, phase):
    for line in open(f"{out}/{label}"):
        f = line.split()
        if f and f[0] == phase:
            return float(f[3]), int(f[1])
    raise SystemExit(f"{label}: no {phase} line")
rows = ["proxy-uncached", "proxy-cached", "file-direct", "file-cached"]
print(f"# {packs} packs of 10 MB, 1 KiB reads at random offsets, proxy RTT {rtt} ms")
print(f"{'configuration':<16} {'first reads/s':>14} {'repeat reads/s':>15} {'n':>7}")
r = {}
for k in rows:
    f, _ = rate(k, "first"); p, n = rate(k, "repeat"); r[k] = p
    print(f"{k:<16} {f:>14.1f} {p:>15.1f} {n:>7}")
print(f"cached / uncached over the proxy: {r['proxy-cached'] / r['proxy-uncached']:.0f}x")
print(f"cached over the proxy / file:// direct: {r['proxy-cached'] / r['file-direct']:.2f}x")
print(f"file:// cached / file:// direct: {r['file-cached'] / r['file-direct']:.2f}x")
PY
