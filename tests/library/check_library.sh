#!/usr/bin/env bash
# The shared library as an application meets it: it exports exactly the
# functions the public headers declare with BS_API (no bs__ internals, no
# symbols of the libraries we use), and a program compiled with nothing but
# `pkg-config --cflags --libs borgstore` (the uninstalled .pc meson writes)
# links and runs against it. Prints TAP.
# usage: check_library.sh BUILD_ROOT SOURCE_ROOT
set -uo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "1..3"

nm -D --defined-only "$build/libborgstore.so" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort >"$work/exported"
grep -ho 'BS_API[^(]*\bbs_[a-z0-9_]*(' "$src"/include/borgstore/*.h |
  sed -E 's/.*\b(bs_[a-z0-9_]*)\($/\1/' | sort -u >"$work/declared"
if diff -u "$work/declared" "$work/exported" >"$work/diff"; then
  echo "ok 1 - exports are exactly the $(wc -l <"$work/declared") BS_API functions"
else
  echo "not ok 1 - exports differ from the public headers"; sed 's/^/# /' "$work/diff" | head -40
  status=1
fi

if ! awk '{print $1}' "$work/exported" | grep -q '^bs__'; then
  echo "ok 2 - no internal bs__ symbol is exported"
else
  echo "not ok 2 - internal symbols exported"; status=1
fi

cat >"$work/app.c" <<'C'
#include <borgstore/borgstore.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    char url[4200];
    snprintf(url, sizeof url, "file://%s/store", argv[argc - 1]);
    bs_store *s;
    bs_store_config cfg;
    uint8_t *v;
    size_t n;
    bs_store_config_default(&cfg);
    if (bs_store_new(&s, url, &cfg) || bs_store_create(s, 0) || bs_store_open(s) ||
        bs_store_store(s, "config/x", "hello", 5) || bs_store_load(s, "config/x", 0, -1, false, &v, &n))
        return fprintf(stderr, "%s\n", bs_error_message()), 1;
    int ok = n == 5 && !memcmp(v, "hello", 5);
    bs_free(v);
    bs_store_close(s);
    bs_store_free(s);
    return ok ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$build/meson-uninstalled"
# grep without -q: exiting early could kill ldd with SIGPIPE (pipefail: a
# spurious failure on a loaded machine)
if flags=$(pkg-config --cflags --libs borgstore) &&
   cc -std=c11 -o "$work/app" "$work/app.c" $flags 2>"$work/cc.log" &&
   LD_LIBRARY_PATH="$build" "$work/app" "$work" 2>"$work/run.log" &&
   LD_LIBRARY_PATH="$build" ldd "$work/app" | grep "libborgstore.so.0 => $build/" >/dev/null; then
  echo "ok 3 - a program built from pkg-config flags alone runs on libborgstore.so.0"
else
  echo "not ok 3 - pkg-config build failed: $flags"; sed 's/^/# /' "$work/cc.log" "$work/run.log"
  status=1
fi
exit ${status:-0}
