#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time (BS_FUZZ_SECONDS, default 20)
# from its checked-in seeds and past crashes, and reports one TAP line with
# the number of inputs tried. A crash, leak, sanitizer report or timeout
# fails it; the input is kept in WORK/artifacts/ to become a regression.
# usage: run_fuzz.sh TARGET_EXE FUZZ_SRC_DIR NAME WORK_DIR
set -uo pipefail
exe=$1 src=$2 name=$3 work=$4
secs=${BS_FUZZ_SECONDS:-20}
corpus=$work/corpus/$name
mkdir -p "$corpus" "$work/artifacts" "$work/logs"
cp -n "$src/corpus/$name"/* "$corpus"/ 2>/dev/null
[[ -d $src/regressions/$name ]] && cp -n "$src/regressions/$name"/* "$corpus"/ 2>/dev/null
# the serve target drops root to nobody: it must still write its findings
chmod -R a+rwX "$work"

dict=()
case $name in msg|serve|reply) dict=(-dict="$src/protocol.dict") ;; esac
maxlen=4096
case $name in serve|reply) maxlen=65536 ;; frame|http) maxlen=16384 ;; esac

log=$work/logs/$name.log
[[ $name == serve && -w /dev/shm ]] && export TMPDIR=/dev/shm # far faster than disk
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Run as root, the serve target becomes nobody after its first input; then
# it must still reach the corpus and artifacts, which a build tree below a
# private (0700) directory would hide. So it fuzzes in a world-readable
# temp copy, and what it found comes back afterwards.
run_corpus=$corpus run_artifacts=$work/artifacts
if [[ $name == serve && $(id -u) -eq 0 ]]; then
  shadow=$(mktemp -d "${TMPDIR:-/tmp}/bs-fuzz-work.XXXXXX")
  chmod 0777 "$shadow"
  mkdir -m 0777 "$shadow/corpus" "$shadow/artifacts"
  cp "$corpus"/* "$shadow/corpus"/ 2>/dev/null
  chmod -R a+rwX "$shadow"
  run_corpus=$shadow/corpus run_artifacts=$shadow/artifacts
fi
echo "1..1"
"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
  -print_final_stats=1 -artifact_prefix="$run_artifacts/$name-" "${dict[@]}" \
  "$run_corpus" >"$log" 2>&1
rc=$?
if [[ $run_corpus != "$corpus" ]]; then
  cp -n "$run_corpus"/* "$corpus"/ 2>/dev/null
  cp "$run_artifacts"/* "$work/artifacts"/ 2>/dev/null
  rm -rf "$shadow"
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
units=$(ls "$corpus" | wc -l)
echo "$name ${execs:-0} $units $secs" >"$work/logs/$name.stats"
if [[ $rc -eq 0 && -n $execs ]]; then
  echo "ok 1 - fuzz_$name: ${execs} inputs in ${secs} s, corpus of ${units}"
else
  echo "not ok 1 - fuzz_$name: exit $rc; see $log and $work/artifacts/"
  grep -E "ERROR|SUMMARY|fuzz check failed|Test unit written|runtime error" "$log" | head -20 | sed 's/^/# /'
  exit 1
fi
