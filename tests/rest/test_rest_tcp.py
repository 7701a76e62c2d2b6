#!/usr/bin/env python3
"""borgstore-serve --rest over TCP: --listen with a child per connection,
HTTP Basic auth (--auth-file), --backend URL-PATH, --max-connections and
systemd socket activation, spoken to with the bytes of Python borgstore's
client and with our own rest:// client (the borgstore CLI on http://)."""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from restclient import Conn, request_bytes, serve_exe  # noqa: E402
import tap  # noqa: E402

TMP = os.path.realpath(tempfile.mkdtemp(prefix="bs-rest-tcp-"))
CLI = os.path.join(os.environ["BS_BUILD_ROOT"], "borgstore")
AUTH = os.path.join(TMP, "auth")
with open(AUTH, "w") as f:
    f.write("bs:s3cret\n")


def basic(user, pw):
    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()


class Server:
    """borgstore-serve --rest --listen 127.0.0.1:0 ...; the port from its "PORT n" line."""

    def __init__(self, *args, listen="127.0.0.1:0"):
        self.p = subprocess.Popen([serve_exe(), "--rest", "--listen", listen, *args],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  start_new_session=True)
        line = self.p.stdout.readline().decode()
        assert line.startswith("PORT "), (line, self.p.stderr.read())
        self.port = int(line.split()[1])
        self.host = listen.rsplit(":", 1)[0].strip("[]")

    def stop(self):
        os.killpg(self.p.pid, signal.SIGTERM)  # the connection children too
        self.p.wait()
        err = self.p.stderr.read()
        self.p.stdout.close()
        self.p.stderr.close()
        return err


class Sock(Conn):
    """Conn's requests on a TCP connection, with an Authorization header."""

    def __init__(self, host, port, auth=None, prefix=""):
        self.s = socket.create_connection((host, port))
        self.f = self.s.makefile("rb")
        self.auth, self.prefix = auth, prefix

    def raw(self, data):
        self.s.sendall(data)

    def req(self, method, target, body=b"", **kw):
        b = request_bytes(method, self.prefix + target, body, **kw)
        if self.auth:
            b = b.replace(b"\r\n", f"\r\nAuthorization: {self.auth}\r\n".encode(), 1)
        self.raw(b)
        return self.read_response(head_request=method == "HEAD")

    @property
    def p(self):  # read_response reads self.p.stdout
        return self

    @property
    def stdout(self):
        return self.f

    def eof(self):
        return self.f.read() == b""

    def close(self):
        self.f.close()
        self.s.close()


def fresh(name):
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def cli(url, *args, inp=None):
    return subprocess.run([CLI, url, *args], input=inp, capture_output=True)


def url_path_server(root, *extra):
    return Server("--backend", "URL-PATH", "--restrict-to-path", root, "--auth-file", AUTH, *extra)


def test_cli_roundtrip_with_auth():
    root = fresh("cli")
    srv = url_path_server(root)
    try:
        url = f"http://bs:s3cret@127.0.0.1:{srv.port}{root}/store/_"
        r = cli(url, "create")
        assert r.returncode == 0, r.stderr
        assert cli(url, "put", "config/x", "-", inp=b"hello").returncode == 0
        r = cli(url, "get", "config/x")
        assert r.returncode == 0 and r.stdout == b"hello", r
        assert os.path.isfile(os.path.join(root, "store", "config", "x"))
    finally:
        err = srv.stop()
    assert b"s3cret" not in err, err


def test_wrong_password_is_permission_error():
    root = fresh("wrongpw")
    srv = url_path_server(root)
    try:
        for cred in ("bs:badpw@", "nobody:s3cret@", ""):
            r = cli(f"http://{cred}127.0.0.1:{srv.port}{root}/store/_", "create")
            assert r.returncode == 5, r  # the CLI's exit code for permission denied
            assert b"401" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(root, "store"))
    finally:
        err = srv.stop()
    assert b"badpw" not in err and b"s3cret" not in err, err


def test_401_shape_and_connection_end():
    root = fresh("shape")
    srv = url_path_server(root)
    try:
        for auth in (None, basic("bs", "s3cretX"), "Bearer abc", basic("bs", "s3cret") + "x"):
            c = Sock("127.0.0.1", srv.port, auth=auth, prefix=root + "/store/_")
            r = c.create()
            assert r.status == 401, r
            assert r.header("www-authenticate") == 'Basic realm="BorgStore REST Server"', r.headers
            assert r.header("connection") == "close"
            assert c.eof()
            c.close()
        # the scheme name is case-insensitive
        c = Sock("127.0.0.1", srv.port, auth="basic " + basic("bs", "s3cret")[6:],
                 prefix=root + "/store/_")
        assert c.create().status == 200
        c.close()
    finally:
        srv.stop()


def test_url_path_stays_beneath_restriction():
    root = fresh("restrict")
    other = fresh("other")
    srv = url_path_server(root)
    try:
        for prefix, codes in ((other + "/store/_", (403,)),
                              (root + "/../other/store/_", (400, 403))):
            c = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=prefix)
            r = c.create()
            assert r.status in codes, (prefix, r)
            c.close()
        c = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=root + "/nostore")
        assert c.create().status == 404
        c.close()
        assert os.listdir(other) == []
    finally:
        srv.stop()


def test_two_concurrent_clients():
    root = fresh("two")
    srv = url_path_server(root)
    try:
        a = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=root + "/a/_")
        b = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=root + "/b/_")
        # both connections stay open and are served in turn (a child each)
        assert a.create().status == 200
        assert b.create().status == 200
        assert a.store("config/k", b"from a").status == 200
        assert b.store("config/k", b"from b").status == 200
        assert a.load("config/k").body == b"from a"
        assert b.load("config/k").body == b"from b"
        a.close()
        b.close()
    finally:
        srv.stop()


def test_max_connections_one_reaps_children():
    """With --max-connections 1, each next connection is only served once the
    previous child was reaped: ten in a row all get answers."""
    root = fresh("max1")
    srv = url_path_server(root, "--max-connections", "1")
    try:
        c = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=root + "/s/_")
        assert c.create().status == 200
        c.close()
        for i in range(10):
            c = Sock("127.0.0.1", srv.port, auth=basic("bs", "s3cret"), prefix=root + "/s/_")
            assert c.store(f"config/{i}", b"x").status == 200
            c.close()
        assert sorted(os.listdir(os.path.join(root, "s", "config"))) == sorted(
            str(i) for i in range(10))
    finally:
        srv.stop()


def test_pinned_backend_and_read_only():
    root = fresh("pinned")
    store = os.path.join(root, "store")
    srv = Server("--backend", "FILE:" + store)
    try:
        c = Sock("127.0.0.1", srv.port)
        assert c.create().status == 200
        assert c.store("config/a", b"1").status == 200
        c.close()
    finally:
        srv.stop()
    srv = Server("--backend", "FILE:" + store, "--read-only")
    try:
        c = Sock("127.0.0.1", srv.port)
        assert c.load("config/a").body == b"1"
        assert c.store("config/b", b"2").status == 403
        assert c.eof()  # over TCP an error response ends the connection, as Python's does
        c.close()
    finally:
        srv.stop()


def test_ipv6_literal():
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        return  # no IPv6 loopback here
    root = fresh("v6")
    srv = Server("--backend", "FILE:" + os.path.join(root, "store"), listen="[::1]:0")
    try:
        c = Sock("::1", srv.port)
        assert c.create().status == 200
        c.close()
    finally:
        srv.stop()


def test_socket_activation():
    """A systemd-like wrapper binds the socket, hands it over as fd 3 with
    LISTEN_FDS=1 and LISTEN_PID of the exec'd server."""
    root = fresh("sockact")
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    port = ls.getsockname()[1]
    ls.set_inheritable(True)  # in case it already is fd 3 (dup2 onto itself keeps CLOEXEC)
    lfd = ls.fileno()
    p = subprocess.Popen(
        ["setsid", "sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh", serve_exe(), "--rest",
         "--socket-activation", "--backend", "URL-PATH", "--restrict-to-path", root,
         "--auth-file", AUTH],
        preexec_fn=lambda: os.dup2(lfd, 3), close_fds=False, stderr=subprocess.PIPE)
    ls.close()
    try:
        r = cli(f"http://bs:s3cret@127.0.0.1:{port}{root}/store/_", "create")
        assert r.returncode == 0, r.stderr
        r = cli(f"http://bs:nope@127.0.0.1:{port}{root}/store/_", "ls", "config")
        assert r.returncode == 5, r
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait()
        p.stderr.close()
    assert os.path.isdir(os.path.join(root, "store"))


def test_socket_activation_needs_the_env():
    p = subprocess.run([serve_exe(), "--rest", "--socket-activation"], capture_output=True,
                       env={"LISTEN_PID": "1", "LISTEN_FDS": "1"})
    assert p.returncode == 3 and b"LISTEN_PID" in p.stderr, p


def test_option_errors():
    cases = [
        (["--listen", "127.0.0.1:0"], 2),                         # needs --rest
        (["--rest", "--auth-file", AUTH], 2),                     # needs TCP
        (["--rest", "--listen", "a:b", "--socket-activation"], 2),
        (["--rest", "--listen", "localhost:0"], 3),               # not an address
        (["--rest", "--listen", "127.0.0.1:0", "--backend", "URL-PATH"], 3),
        (["--rest", "--backend", "URL-PATH"], 2),                 # stdio: no URL-PATH
        (["--rest", "--listen", "127.0.0.1:0", "--backend", "sftp://h/x"], 2),
        (["--rest", "--listen", "127.0.0.1:0", "--max-connections", "0"], 3),
        (["--rest", "--listen", "127.0.0.1:0", "--auth-file", os.path.join(TMP, "nope")], 3),
    ]
    for args, code in cases:
        p = subprocess.run([serve_exe(), *args], capture_output=True, stdin=subprocess.DEVNULL,
                           timeout=120)  # a server that started would serve forever
        assert p.returncode == code, (args, p)
    bad = os.path.join(TMP, "badauth")
    with open(bad, "w") as f:
        f.write("no-colon-here\n")
    p = subprocess.run([serve_exe(), "--rest", "--listen", "127.0.0.1:0", "--auth-file", bad],
                       capture_output=True)
    assert p.returncode == 3 and b"user:password" in p.stderr, p


if __name__ == "__main__":
    rc = tap.run(globals())
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
