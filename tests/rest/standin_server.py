#!/usr/bin/env python3
"""A stand-in for Python borgstore's REST v1 server (borgstore-server-rest,
borg serve --rest), written from ../../shared/notes/rest-v1.md so that our
rest:// and http(s):// client is tested against the answers Python gives,
not only against our own server: http.server's send_error (the reason
phrase is the message, an HTML body, Connection: close while the stdio
server keeps going), 206 without Content-Range whenever Range is sent,
pretty-printed sorted list JSON, the Accept check (406), HTTP Basic auth
(401), and a posix store opened per request.

    standin_server.py --stdio --backend FILE:PATH           (borgstore's shape)
    standin_server.py serve --rest --backend FILE:PATH      (borg's shape)
    standin_server.py --listen 127.0.0.1:0 --backend FILE:PATH [--username U --password P]
        (TCP; prints "PORT <n>" on stdout once listening)
    --backend URL-PATH instead: a test rig for many stores behind one port;
        the store is the URL path up to "/_" (http://h:p/abs/store/_/name),
        as a reverse proxy mapping sub-paths to servers would do.
"""
import base64
import hashlib
import http.server
import json
import os
import shutil
import sys
import urllib.parse

ACCEPT = "application/vnd.x.borgstore.rest.v1"


class Err(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code
        self.msg = msg


class Store:
    """A posix store (borgstore posixfs' behaviour, as far as clients see it)."""

    def __init__(self, base):
        self.base = os.path.realpath(os.path.expanduser(base))

    def check_open(self):
        if not os.path.isdir(self.base):
            raise Err(410, "backend does not exist")

    def path(self, name):
        if name.startswith("/") or ".." in name.split("/") or "//" in name:
            raise Err(400, "invalid name: " + name)
        return os.path.join(self.base, name) if name else self.base

    def create(self):
        if os.path.isdir(self.base) and os.listdir(self.base):
            raise Err(409, "backend already exists")
        os.makedirs(self.base, exist_ok=True)

    def destroy(self):
        if not os.path.isdir(self.base):
            raise Err(410, "backend does not exist")
        shutil.rmtree(self.base)

    def info(self, name):
        try:
            st = os.stat(self.path(name))
        except FileNotFoundError:
            raise Err(404, name)
        isdir = os.path.isdir(self.path(name))
        return st, isdir

    def load(self, name, offset, size):
        p = self.path(name)
        try:
            with open(p, "rb") as f:
                if offset < 0:
                    f.seek(offset, os.SEEK_END)  # a suffix larger than the file: OSError, 500
                else:
                    f.seek(offset)
                return f.read() if size is None else f.read(size)
        except FileNotFoundError:
            raise Err(404, name)

    def store(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)

    def delete(self, name):
        try:
            os.unlink(self.path(name))
        except FileNotFoundError:
            raise Err(404, name)

    def move(self, cur, new):
        src, dst = self.path(cur), self.path(new)
        if not os.path.exists(src):
            raise Err(404, cur)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.replace(src, dst)

    def mkdir(self, name):
        os.makedirs(self.path(name), exist_ok=True)

    def rmdir(self, name):
        try:
            os.rmdir(self.path(name))
        except FileNotFoundError:
            raise Err(404, name)

    def list(self, name):
        p = self.path(name)
        try:
            entries = sorted(os.scandir(p), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            raise Err(404, name)
        out = []
        for e in entries:
            if e.name.endswith(".tmp") or e.name.startswith("."):
                continue
            st = e.stat()
            d = e.is_dir()
            out.append({"name": e.name, "size": 0 if d else st.st_size, "directory": d,
                        "atime": st.st_atime, "mtime": st.st_mtime})
        return out

    def hash(self, name, algorithm):
        if algorithm not in ("sha256", "sha512", "blake2b"):
            raise Err(400, "unsupported hash algorithm: " + algorithm)
        return hashlib.new(algorithm, self.load(name, 0, None)).hexdigest()

    def defrag(self, sources, target, algorithm, namespace, levels):
        parts = []
        for src, offset, size in sources:
            data = self.load(src, offset, size)
            if len(data) != size:
                raise Err(416, "%s: block %d+%d reaches past the end" % (src, offset, size))
            parts.append(data)
        data = b"".join(parts)
        if target is None:
            hexd = hashlib.new(algorithm or "sha256", data).hexdigest()
            nest = [hexd[2 * i:2 * i + 2] for i in range(levels)]
            ns = (namespace or "").rstrip("/")
            target = "/".join(([ns] if ns else []) + nest + [hexd])
        if len(target.split("/")[-1]) > 100:
            raise Err(400, "name too long: " + target)
        self.store(target, data)
        return target


def parse_range(value):
    """_utils.parse_range_header: (offset, size); unparsable -> (0, None)."""
    try:
        unit, spec = value.split("=", 1)
        a, b = spec.split("-", 1)
        if unit.strip() != "bytes":
            return 0, None
        if a == "":
            return -int(b), None
        if b == "":
            return int(a), None
        return int(a), int(b) - int(a) + 1
    except ValueError:
        return 0, None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no 40 ms stall (TCP)
    store = None
    auth = None  # "user:pass" for TCP Basic auth

    def end_headers(self):
        self.send_header("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
        super().end_headers()

    def answer(self, code, body=b"", ctype=None, extra=()):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def run(self):
        if self.auth is not None:
            want = "Basic " + base64.b64encode(self.auth.encode()).decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="BorgStore REST Server"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if self.headers.get("Accept") != ACCEPT:
            self.send_error(406, "Not Acceptable")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # read fully, as Python does
        url = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        path = url.path
        st = self.store
        if st is None:  # URL-PATH mode
            root, sep, path = path.partition("/_")
            if not sep:
                self.send_error(404, "no store in the URL")
                return
            st = Store(root)
        is_list = path.endswith("/") and self.command == "GET"
        name = path.strip("/")
        cmd = q.get("cmd")
        try:
            if cmd == "create":
                st.create()
                return self.answer(200)
            if cmd == "destroy":
                st.destroy()
                return self.answer(200)
            st.check_open()  # "with backend:" per request
            if cmd == "mkdir":
                st.mkdir(name)
            elif cmd == "rmdir":
                st.rmdir(name)
            elif cmd == "move":
                st.move(q["current"], q["new"])
            elif cmd == "hash":
                return self.answer(200, st.hash(name, q.get("algorithm", "sha256")).encode(),
                                   "text/plain")
            elif cmd == "quota":
                return self.answer(200, json.dumps({"limit": -1, "usage": -1}).encode(),
                                   "application/json")
            elif cmd == "defrag":
                t = st.defrag(json.loads(body), q.get("target"), q.get("algorithm"),
                              q.get("namespace"), int(q.get("levels", 0)))
                return self.answer(200, t.encode(), "text/plain")
            elif cmd is not None:
                raise Err(400, "unknown command: " + cmd)
            elif self.command == "HEAD":
                s, d = st.info(name)
                self.send_response(200)
                self.send_header("Content-Length", str(0 if d else s.st_size))
                self.send_header("X-BorgStore-Is-Directory", "true" if d else "false")
                self.send_header("X-BorgStore-Atime", str(s.st_atime))
                self.send_header("X-BorgStore-Mtime", str(s.st_mtime))
                self.end_headers()
                return
            elif is_list:
                return self.answer(200, json.dumps(st.list(name), indent=2).encode(),
                                   "application/json")
            elif self.command == "GET":
                rng = self.headers.get("Range")
                offset, size = parse_range(rng) if rng else (0, None)
                data = st.load(name, offset, size)
                return self.answer(206 if rng else 200, data, "application/octet-stream")
            elif self.command == "POST":
                want = self.headers.get("X-Content-hash-sha256")
                if want is not None and hashlib.sha256(body).hexdigest() != want:
                    raise Err(422, "Content hash verification failed, please retry")
                st.store(name, body)
            elif self.command == "DELETE":
                st.delete(name)
            else:
                raise Err(400, "unsupported request")
            self.answer(200)
        except Err as e:
            self.send_error(e.code, e.msg.replace(st.base, "[STORAGE_BASE]"))
        except (ValueError, TypeError, KeyError) as e:
            self.send_error(400, str(e))
        except Exception:
            self.send_error(500, "Internal Server Error")

    do_GET = do_HEAD = do_POST = do_DELETE = run


def serve_stdio(store):
    h = Handler.__new__(Handler)
    h.rfile, h.wfile = sys.stdin.buffer, sys.stdout.buffer
    h.client_address = ("stdio-client", 0)
    h.server = h.request = None
    h.store = store
    while h.rfile.peek(1):
        h.close_connection = False  # send_error says close; the stdio server keeps going
        h.handle_one_request()
        h.wfile.flush()


def main(argv):
    backend = listen = user = password = None
    stdio = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--backend":
            backend = args.pop(0)
        elif a == "--listen":
            listen = args.pop(0)
        elif a == "--username":
            user = args.pop(0)
        elif a == "--password":
            password = args.pop(0)
        elif a in ("--stdio", "--rest"):
            stdio = True
        elif a == "serve":
            pass
        else:
            sys.exit("standin_server: unknown argument " + a)
    if listen and backend == "URL-PATH":
        store = None
    elif not backend or not backend.startswith("FILE:"):
        sys.exit("standin_server: --backend FILE:PATH needed")
    else:
        store = Store(backend[5:])
    if listen:
        host, port = listen.rsplit(":", 1)
        Handler.store = store
        if user:
            Handler.auth = "%s:%s" % (user, password)
        srv = http.server.ThreadingHTTPServer((host, int(port)), Handler)
        srv.daemon_threads = True
        print("PORT %d" % srv.server_address[1], flush=True)
        srv.serve_forever()
    elif stdio:
        serve_stdio(store)
    else:
        sys.exit("standin_server: --stdio, serve --rest or --listen needed")


if __name__ == "__main__":
    main(sys.argv[1:])
