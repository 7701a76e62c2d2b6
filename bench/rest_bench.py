#!/usr/bin/env python3
"""REST v1 over ssh, sequential as borg drives it: one request, one
response, through the test sshd (run under tests/integration/with-sshd.sh).
Measures 1 KiB store/load/info rates and 8 MiB store/load throughput
against borgstore-serve --rest, next to the raw ssh channel (cat).

usage: tests/integration/with-sshd.sh python3 bench/rest_bench.py BUILD_DIR [N] [M]"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "rest"))
from restclient import Conn  # noqa: E402

build = os.path.abspath(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
m = int(sys.argv[3]) if len(sys.argv) > 3 else 16
ssh = ["ssh", "-F", os.environ["BORGSTORE_SSH_CONFIG"], os.environ["BS_SSHD_ALIAS"]]
tmp = tempfile.mkdtemp(prefix="bs-rest-bench-")


def rate(label, count, secs, nbytes=0):
    mb = f"{nbytes / secs / 1e6:8.1f} MB/s" if nbytes else ""
    print(f"{label:28s} {count:6d} {secs:7.2f} s {count / secs:9.0f} ops/s {mb}", flush=True)


def raw_channel(size):
    blob = os.path.join(tmp, "blob")
    with open(blob, "wb") as f:
        f.write(b"\0" * size)
    t = time.perf_counter()
    with open(blob, "rb") as f:
        subprocess.run(ssh + ["cat > /dev/null"], stdin=f, check=True)
    up = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run(ssh + [f"head -c {size} /dev/zero"], stdout=subprocess.DEVNULL, check=True)
    down = time.perf_counter() - t
    rate("raw ssh channel up", 1, up, size)
    rate("raw ssh channel down", 1, down, size)


def main():
    c = Conn(ssh + [os.path.join(build, "borgstore-serve"), "serve", "--rest", "--backend",
                    f"FILE:{tmp}/store"])
    assert c.create().status == 200
    assert c.mkdir("packs").status == 200
    small = [os.urandom(1024) for _ in range(n)]
    names = [f"packs/{hashlib.sha256(v).hexdigest()}" for v in small]
    t = time.perf_counter()
    for name, v in zip(names, small):
        assert c.store(name, v).status == 200
    rate("store 1 KiB", n, time.perf_counter() - t)
    t = time.perf_counter()
    for name in names:
        assert c.load(name).status == 200
    rate("load 1 KiB", n, time.perf_counter() - t)
    t = time.perf_counter()
    for name in names:
        assert c.info(name).status == 200
    rate("info 1 KiB", n, time.perf_counter() - t)
    big = os.urandom(8 << 20)
    h = hashlib.sha256(big).hexdigest()
    t = time.perf_counter()
    for i in range(m):
        assert c.store(f"packs/big{i}", big, hash_hex=h).status == 200
    rate("store 8 MiB", m, time.perf_counter() - t, m * len(big))
    t = time.perf_counter()
    for i in range(m):
        assert len(c.load(f"packs/big{i}").body) == len(big)
    rate("load 8 MiB", m, time.perf_counter() - t, m * len(big))
    assert c.close()[0] == 0
    raw_channel(m * len(big))


try:
    main()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
