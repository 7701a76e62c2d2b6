#!/usr/bin/env bash
# Valgrind memcheck on borgstore-serve running conformance scenarios (the
# contract executable over serve://, every server it starts under valgrind;
# the 12 cases below cover every method, values in DATA frames, list
# cursors, pipelined batches, refusals and the store life cycle; each
# server costs seconds under valgrind and the other cases repeat these
# paths) and on the borgstore CLI (sessions over serve://, client and server
# under valgrind, and over file://: values in DATA frames, ranges, soft
# delete, hashing, pipelined put-many/get-many, the life cycle). Every log
# must say "ERROR SUMMARY: 0 errors"; definite and indirect leaks count as
# errors. Prints TAP (one line per part).
# usage: scripts/valgrind.sh [BUILD_DIR]   (a build without sanitizers)
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
echo "1..3"
if ! command -v valgrind >/dev/null; then
  for i in 1 2 3; do echo "not ok $i - valgrind is not installed (FAILED setup: scripts/setup.sh)"; done
  exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/bs-valgrind.XXXXXX")
trap 'rm -rf "$work"' EXIT
vg="valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect"
vg+=" --errors-for-leak-kinds=definite,indirect --num-callers=30"
status=0

# clean_logs DIR: every log complete and without errors; prints the count
clean_logs() {
  local n=0 bad=0 f
  for f in "$1"/*.log; do
    [[ -e $f ]] || continue
    n=$((n + 1))
    if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
      bad=$((bad + 1))
      echo "# valgrind found problems ($f):" >&2
      sed 's/^/#   /' "$f" | head -60 >&2
    fi
  done
  echo "$n"
  [[ $n -gt 0 && $bad -eq 0 ]]
}

# 1. the conformance scenarios against a server under valgrind
cases="flat_store_load_delete|partial_loads|value_of_1_mib|list_iterator_survives_other_calls"
cases+="|move_overwrites_target|rmdir_removes_only_empty_directories|hash_for_each_algorithm"
cases+="|defrag_by_hash_names_the_target_after_its_content|invalid_names_are_refused_by_every_operation"
cases+="|store_info_load_delete_with_per_item_results|life_cycle_needs_a_closed_backend"
cases+="|quota_without_limit_reports_no_limit"
mkdir -p "$work/contract" "$work/serve-logs"
t0=$SECONDS
BS_CONTRACT_URL='serve://%s' BS_VECTORS_DIR="$src/tests/vectors" BS_BUILD_ROOT="$build" \
  BS_SOURCE_ROOT="$src" TMPDIR="$work/contract" BORGSTORE_TIMEOUT=300 \
  BORGSTORE_REMOTE_PATH="$vg --log-file=$work/serve-logs/%p.log $build/borgstore-serve" \
  "$build/tests/contract/contract" -j1 --tap="$work/contract.tap" \
  --filter "*/@($cases)" >/dev/null 2>&1
crc=$?
passed=$(grep '^ok' "$work/contract.tap" | grep -vc 'SKIP')
if servers=$(clean_logs "$work/serve-logs") && [[ $crc -eq 0 ]]; then
  echo "ok 1 - borgstore-serve clean under valgrind: $passed contract cases, $servers servers, $((SECONDS - t0)) s"
else
  echo "not ok 1 - contract over serve:// under valgrind (exit $crc, $servers server logs)"
  grep '^not ok' "$work/contract.tap" | sed 's/^/# /' | head
  status=1
fi

# 2./3. a CLI session, client (and for serve:// the server) under valgrind
cli_session() { # scheme logdir
  local scheme=$1 logs=$2 store=$work/$1-store files=$work/$1-files
  mkdir -p "$logs" "$files/in" "$files/out"
  export BORGSTORE_REMOTE_PATH="$vg --log-file=$logs/serve-%p.log $build/borgstore-serve"
  local url="$scheme://$store"
  head -c 3000000 /dev/urandom >"$files/big"
  printf 'hello' >"$files/small"
  for n in 0a 0b 0c; do head -c 20000 /dev/urandom >"$files/in/$n"; done
  local i=0 fail=0
  run() { # expected-exit args...
    local want=$1; shift
    i=$((i + 1))
    $vg --log-file="$logs/cli-$i.log" "$build/borgstore" "$url" "$@" \
      </dev/stdin >"$files/out.$i" 2>"$files/err.$i"
    local rc=$?
    if [[ $rc -ne $want ]]; then
      echo "# $scheme: borgstore $* exited $rc, expected $want: $(head -c 300 "$files/err.$i")" >&2
      fail=1
    fi
  }
  run 0 create
  run 0 put data/0123456789 "$files/big"
  run 0 get data/0123456789 "$files/out/big"
  cmp -s "$files/big" "$files/out/big" || { echo "# $scheme: big value differs" >&2; fail=1; }
  run 0 ls data --long
  if [[ $scheme == serve ]]; then
    run 0 soft-delete data/0123456789
    run 0 get data/0123456789 - --offset -100 --size 50 --deleted
    run 0 hash data/0123456789 --algorithm blake2b --deleted
    (cd "$files/in" && ls) | sed 's|^|data/|' >"$files/names"
    mkdir -p "$files/in/data" && cp "$files/in"/0? "$files/in/data/"
    run 0 put-many "$files/in" <"$files/names"
    run 0 get-many "$files/out" <"$files/names"
  fi
  run 0 destroy
  local n
  n=$(clean_logs "$logs") || fail=1
  echo "$i commands, $n processes checked"
  return $fail
}
for scheme in file serve; do
  t0=$SECONDS
  k=$([[ $scheme == file ]] && echo 2 || echo 3)
  if out=$(cli_session "$scheme" "$work/cli-$scheme-logs"); then
    echo "ok $k - borgstore CLI clean under valgrind over $scheme://: $out, $((SECONDS - t0)) s"
  else
    echo "not ok $k - borgstore CLI under valgrind over $scheme:// ($out)"
    status=1
  fi
done
exit $status
