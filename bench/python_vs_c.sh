#!/usr/bin/env bash
# The standard workload through the Python binding (bench/python_bench.py)
# and through C (borgstore-bench) side by side, alternating, R rounds, on
# file:// (single-item calls, as Python borgstore makes them) and ssh://
# (a throwaway sshd on loopback; batches with the advertised window, and
# single calls). Prints medians, the binding's overhead (Python time per
# operation / C time per operation) and the speedup over Python borgstore's
# reference figures (/work/shared/notes/reference-figures.md).
# usage: bench/python_vs_c.sh [BUILD_DIR] [N] [M] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
N=${2:-5000}; M=${3:-4}; R=${4:-3}
[[ -x $BUILD/bench/borgstore-bench && -d $BUILD/python/borgstore_c ]] ||
  { echo "build first (with -Dpython=enabled): ninja -C $BUILD" >&2; exit 2; }
if [[ -z ${BS_SSHD_PORT:-} ]]; then   # re-run ourselves under a throwaway sshd
  export BS_BUILD_ROOT=$BUILD
  exec tests/integration/with-sshd.sh "$0" "$@"
fi
OUT=$(mktemp -d "${TMPDIR:-/tmp}/bs-pybench.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
export BORGSTORE_REMOTE_PATH=$BUILD/borgstore-serve PYTHONPATH=$BUILD/python
PY=/usr/bin/python3
run() { # impl config round url window
  local impl=$1 cfg=$2 r=$3 url=$4 w=$5
  if [[ $impl == c ]]; then
    "$BUILD/bench/borgstore-bench" "$url" --n "$N" --m "$M" --window "$w" > "$OUT/$impl-$cfg-$r"
  else
    "$PY" bench/python_bench.py "$url" --n "$N" --m "$M" --window "$w" > "$OUT/$impl-$cfg-$r"
  fi
}
for r in $(seq "$R"); do
  for impl in py c; do
    run "$impl" file "$r" "file://$OUT/s-$impl-$r" 1
    run "$impl" ssh-batch "$r" "ssh://$BS_SSHD_ALIAS/$OUT/b-$impl-$r" 0
    run "$impl" ssh-single "$r" "ssh://$BS_SSHD_ALIAS/$OUT/q-$impl-$r" 1
  done
done
"$PY" - "$OUT" "$R" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ref = {"file": {"store": 3075, "load": 31590, "info": 57348, "list": 76826,
                "load_partial": 35939, "soft_delete": 30247, "delete": 38144},
       "ssh": {"store": 735, "load": 1337, "info": 1558, "list": 15489,
               "load_partial": 1597, "soft_delete": 1377, "delete": 2141}}
def read(impl, cfg):
    phases = {}
    for r in range(1, rounds + 1):
        for line in open(f"{out}/{impl}-{cfg}-{r}"):
            if line.startswith("#"):
                if "errors=" in line and not line.strip().endswith("=0"):
                    print(f"!! {impl} {cfg} round {r}: {line.strip()}")
                continue
            f = line.split()
            phases.setdefault(f[0], []).append(float(f[3]))
    return {k: statistics.median(v) for k, v in phases.items()}
print(f"rounds={rounds}, medians of ops/s")
for cfg in "file", "ssh-batch", "ssh-single":
    py, c = read("py", cfg), read("c", cfg)
    print(f"\n{cfg}: phase | Python binding | C | binding time/op over C | binding vs Python borgstore")
    for phase in ["store", "list", "info", "load", "load_partial", "soft_delete", "delete",
                  "store_large", "load_large"]:
        if phase not in py or phase not in c:
            continue
        r = ref["file" if cfg == "file" else "ssh"].get(phase)
        vs = f"{py[phase] / r:6.1f}x" if r else "     -"
        print(f"  {phase:<13} {py[phase]:>10.0f} {c[phase]:>10.0f} {c[phase] / py[phase]:>8.2f}x {vs}")
PY
