#!/usr/bin/env bash
# Runs a command against a throwaway OpenSSH sshd on a free 127.0.0.1 port:
# fresh host and user keys in a temp dir, an ssh config with the Host alias
# "bstest", and the environment the tests read (see sshd_fixture.h).
# usage: with-sshd.sh COMMAND [ARGS...]   (exit status is the command's)
set -euo pipefail

SSHD=/usr/sbin/sshd   # absolute: sshd re-executes itself
say() { printf 'with-sshd: %s\n' "$*" >&2; }

if [[ $# -eq 0 ]]; then say "usage: with-sshd.sh COMMAND [ARGS...]"; exit 2; fi
# A missing sshd is a failed setup, never a skip.
[[ -x $SSHD ]] || { say "FAILED setup: $SSHD not found (install openssh-server)"; exit 1; }
command -v ssh-keygen >/dev/null || { say "FAILED setup: ssh-keygen not found"; exit 1; }

D=$(mktemp -d "${TMPDIR:-/tmp}/bs-sshd.XXXXXX")
SSHD_PID=
cleanup() {
  if [[ -n $SSHD_PID ]]; then
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
  fi
  if [[ -n ${BS_SSHD_KEEP:-} ]]; then say "kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

mkdir -p /run/sshd   # privilege separation directory
ssh-keygen -q -t ed25519 -N '' -C bs-host -f "$D/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C bs-user -f "$D/user_ed25519"
cp "$D/user_ed25519.pub" "$D/authorized_keys"
chmod 600 "$D/authorized_keys"

write_sshd_config() { # port
  cat > "$D/sshd_config" <<CFG
Port $1
ListenAddress 127.0.0.1
HostKey $D/host_ed25519
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
UsePAM no
StrictModes no
MaxStartups 64
MaxSessions 64
Subsystem sftp internal-sftp
LogLevel VERBOSE
# Debian's bash sources ~/.bashrc for commands run by sshd when SHLVL < 2;
# keep the host's root dotfiles (slow, possibly noisy) out of the tests.
SetEnv SHLVL=1
CFG
  # Newer sshd (9.8+) penalises sources that fail to authenticate; the
  # tests fail authentication on purpose, all from 127.0.0.1.
  if "$SSHD" -t -f "$D/sshd_config" -o PerSourcePenalties=no 2>/dev/null; then
    echo "PerSourcePenalties no" >> "$D/sshd_config"
  fi
}

# Picks a random port and starts sshd; waits (bounded) until its log says it
# listens. A port taken meanwhile makes it exit: then another port is tried.
start_sshd() {
  local try port i
  for try in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    write_sshd_config "$port"
    "$SSHD" -t -f "$D/sshd_config" || { say "FAILED setup: sshd -t rejects the config"; exit 1; }
    : > "$D/sshd.log"
    "$SSHD" -D -f "$D/sshd_config" -E "$D/sshd.log" </dev/null >/dev/null 2>&1 &
    SSHD_PID=$!
    for i in $(seq 1 200); do   # up to ~10 s
      if grep -q "Server listening on 127.0.0.1 port $port" "$D/sshd.log"; then
        PORT=$port
        return 0
      fi
      kill -0 "$SSHD_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$SSHD_PID" 2>/dev/null || true
    wait "$SSHD_PID" 2>/dev/null || true
    SSHD_PID=
  done
  say "FAILED setup: sshd did not start; last log:"; tail -5 "$D/sshd.log" >&2
  exit 1
}
start_sshd

cat > "$D/ssh_config" <<CFG
Host bstest
  HostName 127.0.0.1
  Port $PORT
  User root
  IdentityFile $D/user_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $D/known_hosts
  StrictHostKeyChecking accept-new
  BatchMode yes
CFG

export BS_SSHD_DIR=$D
export BS_SSHD_PORT=$PORT
export BS_SSHD_HOST=127.0.0.1
export BS_SSHD_ALIAS=bstest
export BS_SSHD_USER_KEY=$D/user_ed25519
export BS_SSHD_HOST_PUB=$D/host_ed25519.pub
export BS_SSHD_AUTHORIZED_KEYS=$D/authorized_keys
export BS_SSHD_LOG=$D/sshd.log
export BORGSTORE_SSH_CONFIG=$D/ssh_config
# Server side: run the borgstore-serve of this build.
if [[ -z ${BORGSTORE_REMOTE_PATH:-} && -n ${BS_BUILD_ROOT:-} ]]; then
  export BORGSTORE_REMOTE_PATH=$BS_BUILD_ROOT/borgstore-serve
fi
unset SSH_AUTH_SOCK SSH_AGENT_PID   # no agent unless a test starts one

set +e
"$@"
rc=$?
set -e
exit $rc
