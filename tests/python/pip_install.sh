#!/usr/bin/env bash
# pip install --no-build-isolation of the package (meson-python from Debian's
# python3-mesonpy), offline, into a venv that sees the system's site
# packages; then the pytest suite (file:// and serve://) against what was
# installed, away from any build tree.
# usage: pip_install.sh PYTHON
set -euo pipefail
python=${1:?usage: pip_install.sh PYTHON}
src=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/bsc-pip.XXXXXX")
trap 'rm -rf "$T"' EXIT

# meson-python builds inside the tree it is given: build a copy, without
# the build directories of the tree under test.
mkdir "$T/src"
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='./.mesonpy*' -cf - . |
  tar -C "$T/src" -xf -
"$python" -m venv --system-site-packages "$T/venv"
"$T/venv/bin/python" -m pip install --no-build-isolation --no-index --no-deps -q "$T/src"

cd "$T"
"$T/venv/bin/python" -c '
import sys, borgstore_c
assert borgstore_c.__file__.startswith(sys.prefix), borgstore_c.__file__
print("installed:", borgstore_c.__file__)'
# serve:// runs the borgstore-serve the wheel installed
BORGSTORE_REMOTE_PATH="$T/venv/bin/borgstore-serve" BSC_TEST_SCHEMES=file,serve \
  PYTHONDONTWRITEBYTECODE=1 "$T/venv/bin/python" -m pytest -q -p no:cacheprovider "$src/tests/python"
