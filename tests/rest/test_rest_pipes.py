#!/usr/bin/env python3
"""borgstore-serve --rest over pipes, spoken to with exactly the bytes of
Python borgstore's REST client: every endpoint, every error shape, the
command shapes borg and borgstore use, and a borg-shaped workload."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from restclient import Conn, request_bytes, serve_exe  # noqa: E402
import tap  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bs-rest-")
CLI = os.path.join(os.environ["BS_BUILD_ROOT"], "borgstore")


def fresh(name):
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def serve(*args, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("SSH_ORIGINAL_COMMAND", None)
    e.pop("BORG_REPO_PERMISSIONS", None)
    e.update(env or {})
    return Conn([serve_exe(), *args], env=e, cwd=cwd)


def created(d, *extra):
    c = serve("--rest", "--backend", "FILE:" + os.path.join(d, "store"), *extra)
    assert c.create().status == 200
    return c


def ok(r, status=200):
    assert r is not None and r.status == status, r
    return r


def error(r, status, substring=None):
    assert r is not None and r.status == status, r
    assert r.header("content-type") == "text/html;charset=utf-8", r.headers
    assert r.header("connection") == "close"
    if substring:
        assert substring in r.reason, r.reason
        assert substring in r.body.decode(), r.body
    return r


def ends_ok(c):
    rc, rest, err = c.close()
    assert rc == 0, (rc, err)
    assert rest == b"", rest


def test_every_response_has_the_common_headers_and_no_host_is_needed():
    c = created(fresh("common"))
    r = ok(c.quota())
    for h in ("server", "date", "content-length"):
        assert r.header(h), (h, r.headers)
    assert r.header("cache-control") == "no-store, no-cache, must-revalidate, max-age=0"
    assert r.body == b'{"limit": -1, "usage": -1}', r.body
    ends_ok(c)


def test_store_load_info_list_delete_move_hash():
    c = created(fresh("ops"))
    ok(c.mkdir("data"))
    v = b"hello world"
    ok(c.store("data/b", v))
    ok(c.store("data/a", b"x" * 3000))
    ok(c.mkdir("data/sub"))
    r = ok(c.load("data/b"))
    assert r.body == v and r.header("content-type") == "application/octet-stream"
    assert r.header("content-range") is None
    r = ok(c.info("data/b"))
    assert r.body == b"" and r.header("content-length") == "11"
    assert r.header("x-borgstore-is-directory") == "false"
    assert float(r.header("x-borgstore-atime")) > 0 and float(r.header("x-borgstore-mtime")) > 0
    assert ok(c.info("data/sub")).header("x-borgstore-is-directory") == "true"
    r = ok(c.list("data"))
    assert r.header("content-type") == "application/json"
    doc = json.loads(r.body)
    assert [e["name"] for e in doc] == ["a", "b", "sub"], doc
    assert list(doc[0]) == ["name", "size", "directory", "atime", "mtime"], doc[0]
    assert doc[0]["size"] == 3000 and doc[2]["directory"] is True and doc[1]["directory"] is False
    assert r.body.startswith(b'[\n  {\n    "name": "a",\n    "size": 3000,'), r.body  # indent=2
    root = ok(c.req("GET", "//"))
    assert [e["name"] for e in json.loads(root.body)] == ["data"]
    r = ok(c.hash("data/b"))
    assert r.body.decode() == hashlib.sha256(v).hexdigest() and r.header("content-type") == "text/plain"
    ok(c.move("data/b", "data/c"))
    error(c.load("data/b"), 404)
    assert ok(c.load("data/c")).body == v
    ok(c.delete("data/c"))
    error(c.delete("data/c"), 404)
    ok(c.rmdir("data/sub"))
    ends_ok(c)


def test_every_range_form_answers_206_without_content_range():
    c = created(fresh("range"))
    ok(c.store("data/r", bytes(range(100))))
    cases = [("bytes=2-4", bytes([2, 3, 4])), ("bytes=90-", bytes(range(90, 100))),
             ("bytes=-3", bytes([97, 98, 99])), ("bytes=95-200", bytes(range(95, 100))),
             ("nonsense", bytes(range(100))), ("bytes=5-1", bytes(range(100)))]
    for rng, want in cases:
        r = ok(c.load("data/r", range_=rng), 206)
        assert r.body == want and r.header("content-range") is None, (rng, r)
    ok(c.load("data/r"), 200)
    ends_ok(c)


def test_hash_mismatch_is_422_and_nothing_becomes_visible():
    d = fresh("mismatch")
    c = created(d)
    ok(c.mkdir("data"))
    r = error(c.store("data/x", b"abc", hash_hex="0" * 64), 422)
    assert r.reason == "Content hash verification failed, please retry"
    assert "Message: Content hash verification failed, please retry." in r.body.decode()
    error(c.info("data/x"), 404)
    assert json.loads(ok(c.list("data")).body) == []
    assert os.listdir(os.path.join(d, "store", "data")) == []  # no temp file left either
    ends_ok(c)


def test_missing_or_wrong_accept_is_406_and_the_connection_stays():
    c = created(fresh("accept"))
    error(c.req("GET", "/data/x", accept=None), 406)
    error(c.req("POST", "/data/x", b"abc", accept=b"application/json"), 406)  # body skipped
    ok(c.quota())
    ends_ok(c)


def test_error_shapes_carry_the_message_and_head_errors_have_no_body():
    d = fresh("errors")
    c = serve("--rest", "--backend", "FILE:" + os.path.join(d, "store"))
    error(c.load("data/x"), 410)                 # BackendDoesNotExist
    ok(c.create())
    ok(c.store("config/id", b"1"))
    error(c.create(), 409)                       # BackendAlreadyExists (not empty)
    r = c.info("data/missing")                   # HEAD: Content-Length, no body
    assert r.status == 404 and int(r.header("content-length")) > 0 and r.body == b""
    r = error(c.load("data/missing"), 404, "data/missing")
    assert "<p>Message: " in r.body.decode()
    error(c.load("data/../x"), 400)              # ValueError: invalid name
    error(c.req("POST", "/?cmd=frobnicate"), 400)
    ok(c.store("data/x", b"short"))
    error(c.load("data/x", range_="bytes=-5000"), 416)  # before the start (Python: 500)
    ok(c.quota())                                # still up after every error
    ends_ok(c)


def test_without_a_store_every_request_is_400():
    c = serve("--rest")
    error(c.create(), 400, "no store")
    error(c.load("data/x"), 400, "no store")
    ends_ok(c)


def test_destroy_then_create_again():
    d = fresh("destroy")
    c = created(d)
    ok(c.store("config/id", b"1"))
    ok(c.destroy())
    assert not os.path.exists(os.path.join(d, "store"))
    error(c.destroy(), 410)
    ok(c.create())
    ends_ok(c)


def test_quota_refuses_with_507():
    c = created(fresh("quota"), "--quota", "10000")
    ok(c.store("data/a", b"a" * 4000))
    r = error(c.store("data/b", b"b" * 8000), 507, "quota")
    assert "quota" in r.body.decode()
    q = json.loads(ok(c.quota()).body)
    assert q["limit"] == 10000 and 4000 <= q["usage"] < 10000, q
    error(c.info("data/b"), 404)
    ends_ok(c)


def test_read_only_refuses_writes_with_403():
    d = fresh("ro")
    c = created(d)
    ok(c.store("data/a", b"a"))
    ends_ok(c)
    c = serve("--rest", "--read-only", "--backend", "FILE:" + os.path.join(d, "store"))
    error(c.store("data/b", b"b"), 403)
    error(c.delete("data/a"), 403)
    assert ok(c.load("data/a")).body == b"a"
    ends_ok(c)


def test_borg_no_delete_from_the_environment_refuses_deletes():
    d = fresh("nodelete")
    c = created(d)
    for ns in ("archives", "cache", "config", "index", "keys", "locks", "packs"):
        ok(c.mkdir(ns))
    ok(c.store("packs/p1", b"pack"))
    ends_ok(c)
    c = serve("--rest", "--backend", "FILE:" + os.path.join(d, "store"),
              env={"BORG_REPO_PERMISSIONS": "no-delete"})
    error(c.delete("packs/p1"), 403)
    error(c.store("packs/p1", b"other"), 403)    # overwrite needs W
    ok(c.store("packs/p2", b"new"))              # w: new packs are fine
    ok(c.store("locks/l1", b"lock"))
    ok(c.delete("locks/l1"))                      # locks: lrwD
    ok(c.store("index/i", b"1"))
    ok(c.delete("index/i"))                       # index: lrwWD
    error(c.store("keys/repokey", b"k"), 403)     # keys: lr
    ends_ok(c)


def test_malformed_request_gets_400_and_the_connection_ends():
    for bad in (b"GARBAGE\r\n\r\n", b"GET /x HTTP/1.1\nAccept: a\n\n",
                b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",
                b"GET /x HTTP/1.1\r\n" + b"X-A: b\r\n" * 100 + b"\r\n",
                b"GET /x HTTP/1.1\r\nX: " + b"v" * 9000 + b"\r\n\r\n",
                b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"):
        c = created(fresh("bad"))
        c.raw(bad + request_bytes("POST", "/?cmd=quota"))
        r = c.read_response()
        assert r.status == 400 and r.header("connection") == "close", (bad[:40], r)
        rc, rest, err = c.close()
        assert rc == 5 and rest == b"", (bad[:40], rc, rest)  # the quota request was not answered


def test_defrag_by_hash_and_by_target():
    c = created(fresh("defrag"))
    a, b = os.urandom(3000), os.urandom(5000)
    ok(c.store("packs/aa/a", a))
    ok(c.store("packs/bb/b", b))
    src = json.dumps([["packs/aa/a", 10, 100], ["packs/bb/b", 0, 5000]])
    want = a[10:110] + b
    h = hashlib.sha256(want).hexdigest()
    r = ok(c.defrag(src, "algorithm=sha256&namespace=packs&levels=1"))
    assert r.body.decode() == f"packs/{h[:2]}/{h}" and r.header("content-type") == "text/plain"
    assert ok(c.load(r.body.decode())).body == want
    r = ok(c.defrag(json.dumps([["packs/aa/a", 0, 5]]), "target=packs%2Fcc%2Fc"))
    assert r.body == b"packs/cc/c" and ok(c.load("packs/cc/c")).body == a[:5]
    error(c.defrag(json.dumps([["packs/aa/a", 2990, 100]]), "target=packs%2Fx"), 416)
    error(c.defrag("[[1,2]]", "target=packs%2Fx"), 400)
    error(c.defrag("not json", "target=packs%2Fx"), 400)
    ends_ok(c)


def test_borg_shaped_workload():
    """Namespaces at level 0, packs/ at level 1 named by sha256, 1 KiB ranged
    reads, hash == name, defrag, lock objects, list."""
    d = fresh("borg")
    c = created(d)
    for ns in ("archives", "cache", "config", "index", "keys", "locks", "packs"):
        ok(c.mkdir(ns))
    for i in range(256):
        ok(c.mkdir(f"packs/{i:02x}"))
    ok(c.store("config/version", b"4"))
    ok(c.store("config/id", os.urandom(32).hex().encode()))
    packs = {}
    for size in (1_000_000, 3_000_000, 20_000_000):
        data = os.urandom(size)
        h = hashlib.sha256(data).hexdigest()
        packs[f"packs/{h[:2]}/{h}"] = data
        ok(c.store(f"packs/{h[:2]}/{h}", data))
    for name, data in packs.items():
        h = name.rsplit("/", 1)[1]
        assert ok(c.hash(name)).body.decode() == h          # check: hash == name
        assert int(ok(c.info(name)).header("content-length")) == len(data)
        for off in (0, 4096, len(data) - 1024):                # metadata reads
            r = ok(c.load(name, range_=f"bytes={off}-{off + 1023}"), 206)
            assert r.body == data[off:off + 1024]
        r = ok(c.load(name, range_="bytes=-1024"), 206)      # the client's tail load
        assert r.body == data[-1024:]
        listed = json.loads(ok(c.list(f"packs/{h[:2]}")).body)
        assert h in [e["name"] for e in listed]
    lock = json.dumps({"host": "h", "pid": 1}).encode()
    lname = "locks/" + hashlib.sha256(lock).hexdigest()
    ok(c.store(lname, lock))
    assert [e["name"] for e in json.loads(ok(c.list("locks")).body)] == [lname[6:]]
    ok(c.delete(lname))
    names = list(packs)
    src = json.dumps([[names[0], 0, 500_000], [names[1], 1_000_000, 500_000]])
    new = ok(c.defrag(src, "algorithm=sha256&namespace=packs&levels=1")).body.decode()
    assert ok(c.hash(new)).body.decode() == new.rsplit("/", 1)[1]
    ends_ok(c)
    # the same store through file:// (this build's CLI reads the backend directly)
    url = "file://" + os.path.join(d, "store")
    for name, data in list(packs.items())[:2]:
        got = subprocess.run([CLI, url, "get", name], capture_output=True)
        assert got.returncode == 0 and got.stdout == data, got.stderr


def test_a_file_store_is_served_and_a_rest_store_read_by_file():
    d = fresh("interop")
    url = "file://" + os.path.join(d, "store")
    assert subprocess.run([CLI, url, "create"], capture_output=True).returncode == 0
    p = subprocess.run([CLI, url, "put", "config/settings", "-"], input=b"from file",
                       capture_output=True)
    assert p.returncode == 0, p.stderr
    c = serve("--stdio", "--backend", url)  # Python borgstore's own command shape
    assert ok(c.load("config/settings")).body == b"from file"
    ok(c.store("config/other", b"from rest"))
    ends_ok(c)
    got = subprocess.run([CLI, url, "get", "config/other"], capture_output=True)
    assert got.stdout == b"from rest", got.stderr


def test_borg_argv_shape_and_file_paths_relative_home_and_tilde():
    home = fresh("home")
    # borgstore-serve serve --rest --backend FILE:<relative>: relative to the
    # working directory (the home directory under sshd)
    c = serve("serve", "--rest", "--backend", "FILE:repo", cwd=home)
    ok(c.create())
    ok(c.store("config/id", b"1"))
    ends_ok(c)
    assert os.path.isdir(os.path.join(home, "repo"))
    c = serve("serve", "--rest", "--backend", "FILE:~/repo", env={"HOME": home}, cwd=TMP)
    error(c.create(), 409)  # the same store
    ends_ok(c)
    c = serve("serve", "--rest", "--backend", "FILE:~", env={"HOME": os.path.join(home, "repo")})
    error(c.create(), 409)
    ends_ok(c)


def test_forced_command_takes_only_path_and_log_level_from_the_client():
    root = fresh("forced")
    os.makedirs(os.path.join(root, "alice"))
    env = {"SSH_ORIGINAL_COMMAND":
           "borg serve --rest --backend FILE:" + os.path.join(root, "alice", "repo") +
           " --permissions all --log-level debug"}
    admin = created(os.path.join(root, "alice"))  # no-delete cannot create: "" is lr
    ends_ok(admin)
    env["SSH_ORIGINAL_COMMAND"] = env["SSH_ORIGINAL_COMMAND"].replace("/repo", "/store")
    c = serve("--rest", "--restrict-to-path", os.path.join(root, "alice"),
              "--permissions", "no-delete", env=env)
    error(c.create(), 403)
    ok(c.mkdir("packs"))
    ok(c.store("packs/p", b"x"))
    error(c.delete("packs/p"), 403)  # the client's --permissions all is ignored
    rc, rest, err = c.close()
    assert rc == 0 and b"debug:" in err, err  # its --log-level is honoured
    env["SSH_ORIGINAL_COMMAND"] = "borg serve --rest --backend FILE:" + os.path.join(root, "bob")
    c = serve("--rest", "--restrict-to-path", os.path.join(root, "alice"), env=env)
    error(c.create(), 403)  # outside the restriction
    ends_ok(c)
    assert not os.path.exists(os.path.join(root, "bob"))


# Run in a small child so that what the server inherits at fork is small
# (ru_maxrss counts the forked child before its exec too).
PEAK_RSS = r"""
import resource, subprocess, sys
exe, store, reqs = sys.argv[1:4]
with open(reqs, "rb") as f:
    p = subprocess.run([exe, "--rest", "--backend", "FILE:" + store], stdin=f,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
assert p.returncode == 0 and p.stdout.count(b"200 OK") == 3, p.returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_kib(size):
    """Peak RSS of a server that creates a store, stores a value of size
    bytes and loads it back."""
    d = fresh(f"rss{size}")
    data = b"\x5a" * size
    h = hashlib.sha256(data).hexdigest()
    reqs = os.path.join(d, "requests")
    with open(reqs, "wb") as f:
        f.write(request_bytes("POST", "/?cmd=create"))
        f.write(request_bytes("POST", f"/packs/{h}", data, hash_hex=h))
        f.write(request_bytes("GET", f"/packs/{h}"))
    del data
    p = subprocess.run([sys.executable, "-c", PEAK_RSS, serve_exe(), os.path.join(d, "store"),
                        reqs], capture_output=True, check=True)
    return int(p.stdout)


def test_a_50_mb_pack_streams_through_without_a_buffer_of_its_size():
    small, big = peak_rss_kib(1000), peak_rss_kib(50_000_000)
    # one 50 MB buffer would add ~48,800 KiB; streaming adds about 1 MiB chunks
    assert big - small < 16 * 1024, (small, big)


if __name__ == "__main__":
    rc = tap.run(globals())
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)


def test_a_body_over_max_value_is_refused_and_nothing_stored():
    # below the 4 MiB JSON allowance too: --max-value holds for every store
    c = created(fresh("maxvalue"), "--max-value", "1000")
    error(c.store("data/big", b"x" * 2000), 400, "max-value")
    error(c.info("data/big"), 404)
    ok(c.store("data/small", b"y" * 1000))
    assert ok(c.load("data/small")).body == b"y" * 1000
    ends_ok(c)
