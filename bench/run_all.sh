#!/usr/bin/env bash
# Runs the whole benchmark side by side in one go, so ratios hold on a noisy
# machine: the posix limit loop, borgstore-bench on file://, serve://, ssh://
# (a throwaway sshd on loopback) and ssh:// through the delaying proxy, each
# sequential (--window 1) and batched, plus the raw SSH channel baselines.
# usage: bench/run_all.sh [BUILD_DIR] [N] [M] [PROXY_N] [RTT_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
N=${2:-5000}; M=${3:-16}; PROXY_N=${4:-500}; RTT=${5:-10}
[[ -x $BUILD/bench/borgstore-bench ]] || { echo "build first: ninja -C $BUILD" >&2; exit 2; }

if [[ -z ${BS_SSHD_PORT:-} ]]; then   # re-run ourselves under a throwaway sshd
  export BS_BUILD_ROOT=$BUILD
  exec tests/integration/with-sshd.sh "$0" "$@"
fi

OUT=$(mktemp -d "${TMPDIR:-/tmp}/bs-bench.XXXXXX")
PROXY_PID=
trap '[[ -n $PROXY_PID ]] && kill $PROXY_PID; rm -rf "$OUT"' EXIT
export BORGSTORE_REMOTE_PATH=$BUILD/borgstore-serve
bench() { # label url n m window...
  local label=$1 url=$2 n=$3 m=$4; shift 4
  "$BUILD/bench/borgstore-bench" "$url" --n "$n" --m "$m" "$@" > "$OUT/res-$label" ||
    echo "# $label reported errors" >&2
}

# The delaying proxy in front of sshd, and an ssh config alias through it.
"$BUILD/bench/delay_proxy" --target "$BS_SSHD_PORT" --rtt-ms "$RTT" > "$OUT/proxy.port" &
PROXY_PID=$!
for _ in $(seq 100); do [[ -s $OUT/proxy.port ]] && break; sleep 0.05; done
PROXY_PORT=$(cat "$OUT/proxy.port")
sed -e 's/^Host bstest$/Host bsproxy/' -e "s/^  Port .*/  Port $PROXY_PORT/" \
  "$BORGSTORE_SSH_CONFIG" > "$OUT/proxy_config"
cat "$BORGSTORE_SSH_CONFIG" "$OUT/proxy_config" > "$OUT/ssh_config"
export BORGSTORE_SSH_CONFIG=$OUT/ssh_config

# The store rate of this disk swings 4x within minutes (ext4 on a shared
# virtual disk), so the posix limit runs right before each configuration it
# is compared with, and the raw channel right after the batched ssh:// run.
limit() { # label
  "$BUILD/bench/posix_limit" "$OUT/limit-$1" "$N" > "$OUT/limit-$1.txt"
  rm -rf "$OUT/limit-$1"
}
SSH=(ssh -F "$BORGSTORE_SSH_CONFIG" bstest)
raw_channel() {
  echo "# raw SSH channel" >&2
  "${SSH[@]}" true
  local t0 t1
  t0=$(date +%s.%N)
  head -c $((512 << 20)) /dev/zero | "${SSH[@]}" 'cat > /dev/null'
  t1=$(date +%s.%N)
  RAW_UP=$(python3 -c "print(round(512*1048576/($t1-$t0)/1e6,1))")
  t0=$(date +%s.%N)
  "${SSH[@]}" "head -c $((512 << 20)) /dev/zero" > /dev/null
  t1=$(date +%s.%N)
  RAW_DOWN=$(python3 -c "print(round(512*1048576/($t1-$t0)/1e6,1))")
}

for w in batch 1; do
  args=(); [[ $w == 1 ]] && args=(--window 1)
  echo "# window $w: file, serve, ssh (each after a posix limit run), ssh via ${RTT} ms proxy" >&2
  limit "file-$w"; bench "file-$w" "file://$OUT/file-$w" "$N" "$M" "${args[@]}"
  limit "serve-$w"; bench "serve-$w" "serve://$OUT/serve-$w" "$N" "$M" "${args[@]}"
  limit "ssh-$w"; bench "ssh-$w" "ssh://bstest/$OUT/ssh-$w" "$N" "$M" "${args[@]}"
  [[ $w == batch ]] && raw_channel
  # sequential through the proxy costs a round trip per item: PROXY_N of
  # them; batched it gets the same N as the others (rates are per item, and
  # a small N would mostly measure the ramp-up and the first mkdirs)
  pn=$N; [[ $w == 1 ]] && pn=$PROXY_N
  bench "proxy-$w" "ssh://bsproxy/$OUT/proxy-$w" "$pn" 2 "${args[@]}"
done

"$BUILD/tests/integration/ssh_transport_bench" 2000 64 > "$OUT/transport.txt" 2>&1 || true

python3 - "$OUT" "$RAW_UP" "$RAW_DOWN" "$N" "$PROXY_N" "$RTT" <<'PY'
import sys
out, raw_up, raw_down, n, pn, rtt = sys.argv[1:]
def load(name):
    d = {}
    for line in open(f"{out}/res-{name}" if not name.endswith(".txt") else f"{out}/{name}"):
        if line.startswith("#"): continue
        f = line.split()
        d[f[0]] = (float(f[3]), None if f[4] == "-" else float(f[4]))
    return d
runs = {k: load(k) for k in ["file-batch", "file-1", "serve-batch", "serve-1",
                             "ssh-batch", "ssh-1", "proxy-batch", "proxy-1"]}
limits = {k: load(f"limit-{k}.txt") for k in ["file-batch", "file-1", "serve-batch", "serve-1",
                                              "ssh-batch", "ssh-1"]}
small = ["store", "list", "info", "load", "load_partial", "soft_delete", "delete"]
lim = {"store": "store", "info": "info", "load": "load", "load_partial": "load", "delete": "delete"}
print(f"\n## small items (ops/s; N={n}, sequential through the proxy N={pn}, RTT {rtt} ms)\n")
print("Percentages: of the posix-limit run made right before that configuration; the")
print("posix limit column gives the range of those six runs.\n")
print("| phase | posix limit | file:// seq | file:// batch | serve:// seq | serve:// batch | ssh:// seq | ssh:// batch | ssh+proxy seq | ssh+proxy batch | proxy batch/seq |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for p in small:
    lp = lim.get(p)
    ls = [limits[k][lp][0] for k in limits] if lp else []
    row = [p, f"{min(ls):,.0f}–{max(ls):,.0f}" if ls else "-"]
    for k in ["file-1", "file-batch", "serve-1", "serve-batch", "ssh-1", "ssh-batch", "proxy-1", "proxy-batch"]:
        v = runs[k][p][0]
        l = limits[k][lp][0] if lp and k in limits else None
        ratio = f" ({v / l:.0%})" if l else ""
        row.append(f"{v:,.0f}{ratio}")
    row.append(f"{runs['proxy-batch'][p][0] / runs['proxy-1'][p][0]:.1f}x")
    print("| " + " | ".join(row) + " |")
print(f"\n## large values (MB/s; raw SSH channel: up {raw_up}, down {raw_down} MB/s)\n")
print("| phase | file:// | serve:// | ssh:// | ssh:// / raw channel |")
print("|---|---|---|---|---|")
for p, raw in [("store_large", float(raw_up)), ("load_large", float(raw_down))]:
    f, s, h = (runs[k][p][1] for k in ["file-batch", "serve-batch", "ssh-batch"])
    print(f"| {p} | {f:,.0f} | {s:,.0f} | {h:,.0f} | {h / raw:.0%} |")
print("\n## transport (libssh client vs OpenSSH client)\n")
print("```\n" + open(f"{out}/transport.txt").read().strip() + "\n```")
PY
