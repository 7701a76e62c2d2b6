#!/usr/bin/env bash
# Installs the Debian packages borgstore needs to build, test and demo, but
# only those that are missing: quick and quiet when everything is there.
set -euo pipefail

packages=(
  gcc meson ninja-build pkg-config python3
  libssh-dev libmsgpack-dev libsodium-dev libcriterion-dev libcurl4-openssl-dev libssl-dev
  python3-dev python3-pytest python3-mesonpy python3-pip python3-venv patchelf
  libjansson-dev
  openssh-server openssh-client rclone
  clang libclang-rt-14-dev valgrind util-linux go-md2man
  nodejs  # s3rver, the S3 server of the s3: tests (scripts/s3rver.sh)
)
# npm too, unless a nodejs that bundles it (NodeSource) is already there
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root (or install sudo)" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
