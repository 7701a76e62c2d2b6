#!/usr/bin/env python3
"""Runs a command next to a fresh s3rver (npm, installed by scripts/s3rver.sh)
on 127.0.0.1 at a free port, with bucket "bkt" (and "bkt2"): every "@PORT@"
in the command's arguments and environment becomes the port (also in
BS_S3_PORT; BS_S3RVER_DATA names s3rver's data directory). The server's
data lives in a temp directory removed afterwards. Exit status: the
command's; without s3rver, a TAP skip plan and 0 (meson: skipped).

s3rver 3.7 pages listings with DES, which OpenSSL 3 only has in its legacy
provider: node runs with --openssl-legacy-provider."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

VERSION = "3.7.1"


def s3rver_js():
    d = os.environ.get("BORGSTORE_S3RVER_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
        "borgstore", "s3rver-" + VERSION)
    js = os.path.join(d, "node_modules", "s3rver", "bin", "s3rver.js")
    return js if os.path.exists(js) else None


def main():
    cmd = sys.argv[1:]
    js = s3rver_js()
    node = shutil.which("node")
    if not js or not node:
        print("with_s3rver: s3rver or node missing: run scripts/setup.sh and scripts/s3rver.sh",
              file=sys.stderr)
        # a TAP skip plan: meson reports the test as skipped, not passed
        print("1..0 # SKIP s3rver is not installed (scripts/s3rver.sh could not reach npm)")
        return 0
    data = tempfile.mkdtemp(prefix="bs-s3rver-")
    srv = subprocess.Popen(
        [node, "--openssl-legacy-provider", js, "-d", data, "-a", "127.0.0.1", "-p", "0",
         "-s", "--configure-bucket", "bkt", "--configure-bucket", "bkt2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        timer = threading.Timer(60, srv.kill)  # a server that never says where it listens
        timer.start()
        for line in srv.stdout:
            m = re.search(r"listening on [^:]+:(\d+)", line)
            if m:
                port = m.group(1)
                break
        timer.cancel()
        if not port:
            print("with_s3rver: s3rver did not start", file=sys.stderr)
            return 1
        # keep draining its output so it can never block on a full pipe
        threading.Thread(target=lambda: [None for _ in srv.stdout], daemon=True).start()
        env = {k: v.replace("@PORT@", port) for k, v in os.environ.items()}
        env["BS_S3_PORT"] = port
        env["BS_S3RVER_DATA"] = data  # where s3rver keeps objects: layout checks
        return subprocess.call([a.replace("@PORT@", port) for a in cmd], env=env)
    finally:
        srv.kill()
        srv.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
