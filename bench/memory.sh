#!/usr/bin/env bash
# Peak memory of a batched small-item load against N: borgstore-bench --rss
# with --m 0 (no large values) on file:// and serve://, for each N, then a
# markdown table. The client's share of the library is its VmHWM during the
# load phase minus the process baseline (before the bench allocates anything)
# minus the bench's own per-item bookkeeping (names, values, pointer arrays);
# the server's is borgstore-serve's VmHWM during the load phase.
# usage: bench/memory.sh [BUILD_DIR] [N...]      (default: build 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
shift || true
NS=("$@"); [[ ${#NS[@]} -gt 0 ]] || NS=(10000 100000)
[[ -x $BUILD/bench/borgstore-bench ]] || { echo "build first: ninja -C $BUILD" >&2; exit 2; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/bs-mem.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
export BORGSTORE_REMOTE_PATH=$BUILD/borgstore-serve
for scheme in file serve; do
  for n in "${NS[@]}"; do
    echo "# $scheme:// N=$n" >&2
    "$BUILD/bench/borgstore-bench" "$scheme://$OUT/store-$scheme-$n" --n "$n" --m 0 --rss \
      > "$OUT/res-$scheme-$n" || echo "# $scheme N=$n reported errors" >&2
  done
done

python3 - "$OUT" "${NS[@]}" <<'PY'
import re, sys
out, ns = sys.argv[1], [int(n) for n in sys.argv[2:]]
def kv(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line)}
rows = {}
for scheme in ["file", "serve"]:
    for n in ns:
        r = {"server_any": 0}
        for line in open(f"{out}/res-{scheme}-{n}"):
            if line.startswith("# rss bookkeeping_bytes="):
                r.update(kv(line))
            elif line.startswith("# rss phase=load "):
                d = kv(line); r["peak"], r["start"] = d["peak_kib"], d["start_kib"]
            elif line.startswith("# rss server phase="):
                d = kv(line); r["server_any"] = max(r["server_any"], d["peak_kib"])
                if "phase=load " in line: r["server"] = d["peak_kib"]
            elif line.startswith("# errors="):
                r["errors"] = kv(line)["errors"]
        r["lib"] = r["peak"] - r["baseline_kib"] - r["bookkeeping_bytes"] // 1024
        rows[scheme, n] = r
print("| URL | N | client peak KiB (load) | baseline KiB | bench bookkeeping bytes "
      "| library share KiB | growth during load KiB | server peak KiB (load) "
      "| server peak KiB (any phase) | errors |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (scheme, n), r in rows.items():
    srv = lambda k: f"{r[k]:,}" if r.get(k) else "-"
    print(f"| {scheme}:// | {n:,} | {r['peak']:,} | {r['baseline_kib']:,} "
          f"| {r['bookkeeping_bytes']:,} | {r['lib']:,} | {r['peak'] - r['start']:,} "
          f"| {srv('server')} | {srv('server_any')} | {r.get('errors', '?')} |")
lo, hi = min(ns), max(ns)
if lo != hi:
    print()
    for scheme in ["file", "serve"]:
        a, b = rows[scheme, lo], rows[scheme, hi]
        line = f"{scheme}://: library share {hi:,}/{lo:,} = {b['lib'] / max(a['lib'], 1):.2f}x"
        if a.get("server"):
            line += f", server peak (load) {b['server'] / a['server']:.2f}x"
        print(f"- {line} (N grew {hi / lo:.0f}x)")
PY
