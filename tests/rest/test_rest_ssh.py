#!/usr/bin/env python3
"""borgstore-serve --rest through the test sshd (run under with-sshd.sh),
started the ways borg starts it: a forced command in authorized_keys that
takes `borg serve --rest --backend FILE:<path>` from SSH_ORIGINAL_COMMAND,
and BORG_REMOTE_PATH=borgstore-serve (argv `borgstore-serve serve --rest
--backend FILE:<path>`)."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from restclient import Conn, serve_exe  # noqa: E402
import tap  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bs-rest-ssh-")
CONFIG = os.environ["BORGSTORE_SSH_CONFIG"]
ALIAS = os.environ["BS_SSHD_ALIAS"]


def new_key(name, options):
    key = os.path.join(TMP, "key-" + name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key],
                   check=True)
    with open(key + ".pub") as f, open(os.environ["BS_SSHD_AUTHORIZED_KEYS"], "a") as ak:
        ak.write(f"{options} {f.read()}")
    return key


def ssh(key, *remote):
    """As borg runs it: ssh with keepalives, the remote argv joined by ssh."""
    argv = ["ssh", "-F", CONFIG, "-o", "ServerAliveInterval=30", "-o", "ServerAliveCountMax=3"]
    if key:
        argv += ["-i", key]
    return Conn(argv + [ALIAS, *remote])


def ok(r, status=200):
    assert r is not None and r.status == status, r
    return r


def test_forced_command_with_no_delete_serves_borg_and_refuses_deletes():
    area = os.path.join(TMP, "alice")
    os.makedirs(area)
    key = new_key("alice", f'command="{serve_exe()} --rest --restrict-to-path {area} '
                           f'--permissions no-delete",restrict')
    # the admin creates the repository (no-delete grants no 'w' at the root)
    admin = Conn([serve_exe(), "--rest", "--backend", "FILE:" + area + "/repo"])
    ok(admin.create())
    for ns in ("archives", "cache", "config", "index", "keys", "locks", "packs"):
        ok(admin.mkdir(ns))
    assert admin.close()[0] == 0
    c = ssh(key, "borg", "serve", "--rest", "--backend", f"FILE:{area}/repo")
    data = os.urandom(2_000_000)
    h = hashlib.sha256(data).hexdigest()
    ok(c.store(f"packs/{h}", data))
    assert ok(c.load(f"packs/{h}", range_="bytes=1024-2047"), 206).body == data[1024:2048]
    assert ok(c.hash(f"packs/{h}")).body.decode() == h
    assert [e["name"] for e in json.loads(ok(c.list("packs")).body)] == [h]
    r = c.delete(f"packs/{h}")
    assert r.status == 403 and "permission" in r.reason, r
    ok(c.store("locks/l", b"lock"))
    ok(c.delete("locks/l"))
    rc, rest, err = c.close()
    assert rc == 0 and rest == b"", (rc, err)
    # a path outside the restriction is refused
    c = ssh(key, "borg", "serve", "--rest", "--backend", f"FILE:{TMP}/elsewhere")
    assert c.create().status == 403
    c.close()
    assert not os.path.exists(f"{TMP}/elsewhere")


def test_borg_remote_path_argv_shape_over_ssh():
    c = ssh(None, serve_exe(), "serve", "--rest", "--backend", f"FILE:{TMP}/plain")
    ok(c.create())
    ok(c.store("config/version", b"4"))
    assert ok(c.load("config/version")).body == b"4"
    rc, rest, err = c.close()
    assert rc == 0 and rest == b"", (rc, err)
    # and Python borgstore's own shape, on the same store
    c = ssh(None, serve_exe(), "--stdio", "--backend", f"file://{TMP}/plain")
    assert ok(c.info("config/version")).header("content-length") == "1"
    assert c.close()[0] == 0


if __name__ == "__main__":
    rc = tap.run(globals())
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
