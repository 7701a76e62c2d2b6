#!/usr/bin/env bash
# Checks docs/server-setup.md against the real programs: its sshd_config
# block passes `sshd -t` and gives the user the settings it claims (and only
# that user), and every borgstore-serve forced command in its authorized_keys
# blocks starts and ends cleanly (paths moved into a temp dir). Lines with
# --rest are run only when this borgstore-serve has it (issue 13).
# usage: check_server_setup.sh DOC BORGSTORE_SERVE
set -euo pipefail
DOC=$1 SERVE=$2
SSHD=/usr/sbin/sshd
fail() { printf 'check_server_setup: %s\n' "$*" >&2; exit 1; }
[[ -x $SSHD ]] || fail "$SSHD not found (install openssh-server)"

D=$(mktemp -d "${TMPDIR:-/tmp}/bs-setup.XXXXXX")
trap 'rm -rf "$D"' EXIT

block() { # fence language: the lines of every such fenced block
  awk -v lang="$1" '$0 == "```" lang {on=1; next} /^```/ {on=0} on' "$DOC"
}

# -- sshd_config --------------------------------------------------------------
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$D/host"
{ echo "HostKey $D/host"; block sshd_config; } > "$D/sshd_config"
grep -q '^Match User borgstore' "$D/sshd_config" || fail "no Match block found in $DOC"
"$SSHD" -t -f "$D/sshd_config" || fail "sshd -t rejects the documented block"
eff() { "$SSHD" -T -f "$D/sshd_config" -C "user=$1,host=client,addr=192.0.2.1"; }
eff borgstore > "$D/eff"
for want in "permittty no" "allowtcpforwarding no" "allowagentforwarding no" \
            "x11forwarding no" "passwordauthentication no" "authenticationmethods publickey" \
            "clientaliveinterval 30" "loglevel VERBOSE"; do
  grep -qix "$want" "$D/eff" || fail "sshd -T for borgstore lacks '$want'"
done
eff someoneelse > "$D/eff-other"
grep -qix "permittty yes" "$D/eff-other" || fail "the Match block leaks to other users"

# -- authorized_keys forced commands -----------------------------------------
mkdir -p "$D/srv" "$D/log"
has_rest=0
"$SERVE" --help > "$D/help"
grep -qE -- '(^|[[:space:]])--rest([[:space:]]|$)' "$D/help" && has_rest=1
n=0
while IFS= read -r line; do
  [[ $line == command=* ]] || continue
  [[ $line == *',restrict '* ]] || fail "key line without restrict: $line"
  cmd=${line#command=\"}
  cmd=${cmd%%\",*}
  [[ $cmd == /* ]] || fail "forced command without an absolute path: $cmd"
  if [[ $cmd == *' --rest '* && $has_rest == 0 ]]; then continue; fi
  cmd=${cmd//\/usr\/local\/bin\/borgstore-serve/$SERVE}
  cmd=${cmd//\/srv\/borgstore/$D/srv}
  cmd=${cmd//\/var\/log\/borgstore/$D/log}
  # a forced command with no client: it must start and end at EOF (status 0)
  sh -c "$cmd" </dev/null >/dev/null || fail "forced command failed ($?): $cmd"
  n=$((n + 1))
done < <(block authorized_keys)
[[ $n -ge 3 ]] || fail "only $n forced commands found"
echo "check_server_setup: sshd block and $n forced commands OK"
