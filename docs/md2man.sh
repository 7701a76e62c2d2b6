#!/bin/sh
# Markdown man page -> roff with go-md2man: the first line "# name(N)"
# becomes the title block go-md2man turns into .TH.
# usage: md2man.sh GO_MD2MAN VERSION IN.md OUT
set -eu
md2man=$1 version=$2 in=$3 out=$4
first=$(head -n 1 "$in")
name=${first#\# }; name=${name%%(*}
section=${first##*(}; section=${section%%)*}
{
  printf '%% %s %s "" "borgstore %s" "borgstore manual"\n' "$name" "$section" "$version"
  tail -n +2 "$in"
} | "$md2man" > "$out.tmp"
grep -q '^\.TH ' "$out.tmp"
mv "$out.tmp" "$out"
