#!/usr/bin/env bash
# Checks that an optimized build without sanitizers is hardened: every
# library and program source compiled with -D_FORTIFY_SOURCE=2 and
# -fstack-protector-strong (compile_commands.json), and the executables
# linked as PIE, with the stack protector and glibc's checked __*_chk
# functions in their dynamic symbols. Prints TAP.
# usage: check_hardening.sh COMPILE_COMMANDS_JSON EXE...
set -uo pipefail
cc_json=$1; shift
echo "1..$(( $# + 1 ))"
n=1
if python3 - "$cc_json" <<'PY'
import json, sys
bad = []
for e in json.load(open(sys.argv[1])):
    f = e["file"]
    if "/tests/" in f or "/bench/" in f or not f.endswith(".c"):
        continue
    cmd = e.get("command", " ".join(e.get("arguments", [])))
    for flag in ("-D_FORTIFY_SOURCE=2", "-fstack-protector-strong"):
        if flag not in cmd:
            bad.append(f"{f}: no {flag}")
for b in bad[:20]:
    print("# " + b)
sys.exit(1 if bad else 0)
PY
then echo "ok $n - every source compiled with -D_FORTIFY_SOURCE=2 -fstack-protector-strong"
else echo "not ok $n - sources compiled without hardening flags"; status=1; fi
status=${status:-0}
for exe in "$@"; do
  n=$((n + 1))
  name=$(basename "$exe")
  why=()
  readelf -h "$exe" | grep -q 'Type:[[:space:]]*DYN' || why+=("not position-independent")
  readelf -d "$exe" | grep -q 'FLAGS_1.*PIE' || why+=("no PIE flag")
  syms=$(readelf --dyn-syms -W "$exe")
  grep -q ' __stack_chk_fail' <<<"$syms" || why+=("no stack protector")
  chk=$(grep -oE ' __[a-z0-9_]+_chk' <<<"$syms" | grep -v __stack_chk_fail | sort -u | wc -l)
  [[ $chk -gt 0 ]] || why+=("no _FORTIFY_SOURCE checked functions")
  relro=$(readelf -l "$exe" | grep -c GNU_RELRO)
  if [[ ${#why[@]} -eq 0 ]]; then
    echo "ok $n - $name: PIE, stack protector, $chk fortified functions, RELRO $([[ $relro -gt 0 ]] && echo yes || echo no)"
  else
    echo "not ok $n - $name: ${why[*]}"
    status=1
  fi
done
exit $status
