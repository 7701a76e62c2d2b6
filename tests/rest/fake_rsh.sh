#!/bin/sh
# A stand-in for ssh as BORGSTORE_RSH: logs its arguments (one a line) to
# $BS_RSH_LOG, then runs the remote command here.
printf '%s\n' "$@" > "$BS_RSH_LOG"
while [ $# -gt 1 ]; do
  case "$1" in -p) shift 2 ;; *) shift ;; esac
done
exec sh -c "$1"
