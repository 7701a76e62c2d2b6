#!/usr/bin/env bash
# Builds the Debian packages (debian/) from a copy of this tree with
# dpkg-buildpackage, checks them with lintian (no errors allowed), installs
# them with apt and uses them: the installed borgstore creates and fills a
# store through the installed borgstore-serve (serve://), the man pages are
# there, and examples/ builds with pkg-config from libborgstore-dev alone.
# The packages are removed again at the end. Prints the time of each step.
# usage: scripts/deb.sh [OUTDIR]   (the .deb files are kept in OUTDIR if given)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=${1:-}
say() { printf 'deb: %s\n' "$*" >&2; }
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo

# the packaging tools, only here (scripts/setup.sh stays lean for the demo)
need=()
for p in debhelper lintian fakeroot dpkg-dev; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] ||
    need+=("$p")
done
if [[ ${#need[@]} -gt 0 ]]; then
  say "installing ${need[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" \
    >/dev/null
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/bs-deb.XXXXXX")
installed=0
cleanup() {
  if [[ $installed == 1 ]]; then
    $SUDO apt-get -o DPkg::Lock::Timeout=600 purge -y -qq \
      borgstore borgstore-server libborgstore-dev libborgstore0 >/dev/null 2>&1 || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT

# the tracked and the new (not ignored) files, without any build directory
t0=$SECONDS
mkdir -p "$W/borgstore"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$W/borgstore" -xf -
else
  tar --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$W/borgstore" -xf -
fi
# two jobs (the CI machine's cores); no -dbgsym packages: nothing uses them here
(cd "$W/borgstore" && DEB_BUILD_OPTIONS="parallel=2 noddebs ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -b -us -uc >"$W/build.log" 2>&1) ||
  { tail -40 "$W/build.log" >&2; say "FAILED: dpkg-buildpackage"; exit 1; }
t1=$SECONDS
say "dpkg-buildpackage: $((t1 - t0)) s: $(cd "$W" && ls ./*.deb | tr '\n' ' ')"

lintian --fail-on error --no-tag-display-limit "$W"/*.changes >"$W/lintian.log" 2>&1 ||
  { cat "$W/lintian.log" >&2; say "FAILED: lintian reports errors"; exit 1; }
t2=$SECONDS
say "lintian: $((t2 - t1)) s, no errors ($(grep -c '^W:' "$W/lintian.log" || true) warnings)"

installed=1
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$W"/*.deb \
  >"$W/install.log" 2>&1 || { cat "$W/install.log" >&2; say "FAILED: apt-get install"; exit 1; }
use() {
  set -e
  [[ $(command -v borgstore) == /usr/bin/borgstore ]]
  [[ $(command -v borgstore-serve) == /usr/bin/borgstore-serve ]]
  ! ls /usr/bin/borgstore-bench 2>/dev/null
  [[ -f /usr/share/man/man1/borgstore.1.gz && -f /usr/share/man/man8/borgstore-serve.8.gz ]]
  [[ -f /usr/share/doc/borgstore-server/server-setup.md ]] || [[ -f /usr/share/doc/borgstore-server/server-setup.md.gz ]]
  local u="serve://$W/store"
  env -u BORGSTORE_REMOTE_PATH borgstore "$u" create
  printf 'hello' | env -u BORGSTORE_REMOTE_PATH borgstore "$u" put data/0123abcd
  [[ $(env -u BORGSTORE_REMOTE_PATH borgstore "$u" get data/0123abcd) == hello ]]
  [[ $(env -u BORGSTORE_REMOTE_PATH borgstore "$u" ls data) == data/0123abcd ]]
  cc -std=c11 -Wall -Werror -o "$W/hello_store" "$src/examples/hello_store.c" \
    $(pkg-config --cflags --libs borgstore)
  ldd "$W/hello_store" >"$W/ldd"
  grep -q 'libborgstore.so.0 => /usr/lib/' "$W/ldd"
  "$W/hello_store" >/dev/null
}
(use) >"$W/use.log" 2>&1 || { cat "$W/use.log" >&2; say "FAILED: using the installed packages"; exit 1; }
t3=$SECONDS
say "install and use: $((t3 - t2)) s"
[[ -z $out ]] || { mkdir -p "$out"; cp "$W"/*.deb "$out"/; }
say "OK in $((t3 - t0)) s"
