#!/usr/bin/env bash
# What `meson install` lays down, checked in a temporary DESTDIR: the two
# programs (and not borgstore-bench) in bin/, the man pages, headers, the
# shared library with its soname link and the .pc file; then every program
# in examples/ is built with nothing but pkg-config on the installed .pc and
# run against the installed library. Prints TAP.
# usage: check_install.sh BUILD_ROOT SOURCE_ROOT MAN(yes|no)
set -uo pipefail
build=$1 src=$2 man=$3
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
echo "1..5"
status=0
t() { # n description command...
  local n=$1 what=$2; shift 2
  if "$@" >"$D/log" 2>&1; then echo "ok $n - $what"
  else echo "not ok $n - $what"; sed 's/^/# /' "$D/log" | head -30; status=1; fi
}

t 1 "meson install into a DESTDIR" meson install -C "$build" --no-rebuild --destdir "$D/root" --quiet
root=$D/root

layout() {
  local bin; bin=$(dirname "$(find "$root" -path '*/bin/borgstore' -type f)")
  [[ -x $bin/borgstore && -x $bin/borgstore-serve ]] || { echo "no programs in bin/"; return 1; }
  [[ ! -e $bin/borgstore-bench ]] || { echo "borgstore-bench is installed"; return 1; }
  ls "$bin" | grep -vxE 'borgstore|borgstore-serve' && { echo "other programs in bin/"; return 1; }
  "$bin/borgstore" --version >"$D/version" && grep -q '^borgstore ' "$D/version" || return 1
  find "$root" -path '*/include/borgstore/borgstore.h' | grep -q . || { echo "no headers"; return 1; }
  find "$root" -name 'libborgstore.so.0' -type l | grep -q . || { echo "no soname link"; return 1; }
  if [[ $man == yes ]]; then
    for m in man1/borgstore.1 man8/borgstore-serve.8; do
      f=$(find "$root" -path "*/man/$m")
      [[ -n $f ]] && head -2 "$f" | grep -q '^\.TH ' || { echo "no man page $m"; return 1; }
    done
  fi
}
t 2 "bin/ holds borgstore and borgstore-serve only; headers, soname link, man pages" layout

pc=$(find "$root" -name borgstore.pc)
libdir=$(dirname "$(find "$root" -name 'libborgstore.so.0' -type l)")
build_examples() {
  [[ -n $pc ]] || { echo "no borgstore.pc installed"; return 1; }
  # the installed .pc names /usr/local (the prefix): the sysroot moves it to the DESTDIR
  export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
  local flags; flags=$(pkg-config --cflags --libs borgstore) || return 1
  echo "flags: $flags"
  [[ $flags == *"$root"* ]] || { echo "flags do not point into the DESTDIR"; return 1; }
  for c in "$src"/examples/*.c; do
    cc -std=c11 -Wall -Werror -o "$D/$(basename "$c" .c)" "$c" $flags || return 1
  done
}
t 3 "examples/ build from pkg-config on the installed files alone" build_examples

run_examples() {
  for c in "$src"/examples/*.c; do
    local exe=$D/$(basename "$c" .c)
    LD_LIBRARY_PATH=$libdir ldd "$exe" >"$D/ldd"
    grep -q "libborgstore.so.0 => $libdir/" "$D/ldd" ||
      { echo "$exe does not use the installed library"; cat "$D/ldd"; return 1; }
    LD_LIBRARY_PATH=$libdir "$exe" || return 1
  done
}
t 4 "examples/ run against the installed libborgstore.so.0" run_examples

documented() { # every --option the programs' --help names is in their man page
  local prog page missing=0
  for pair in "borgstore:docs/borgstore.1.md" "borgstore-serve:docs/borgstore-serve.8.md"; do
    prog=${pair%%:*} page=$src/${pair#*:}
    "$build/$prog" --help >"$D/help" || return 1
    for opt in $(grep -oE -- '--[a-z][a-z-]+' "$D/help" | sort -u); do
      grep -q -- "$opt" "$page" || { echo "$prog $opt is not in $page"; missing=1; }
    done
  done
  return $missing
}
t 5 "the man pages document every option of --help" documented
exit $status
