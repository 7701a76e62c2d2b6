"""A client that writes exactly the request bytes Python borgstore's REST
client writes (requests' bare Request.prepare(): no Host, no User-Agent, no
Accept-Encoding), one request then one response, over a child's pipes."""
import hashlib
import os
import subprocess

ACCEPT = b"application/vnd.x.borgstore.rest.v1"


class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.reason!r} {self.body[:200]!r}>"


def request_bytes(method, target, body=b"", hash_hex=None, range_=None, accept=ACCEPT):
    """The bytes Python borgstore's stdio client sends for one request."""
    h = [f"{method} {target} HTTP/1.1".encode()]
    if accept is not None:
        h.append(b"Accept: " + accept)
    h.append(b"Connection: keep-alive")
    if hash_hex is not None:
        h.append(b"X-Content-hash-sha256: " + hash_hex.encode())
    if range_ is not None:
        h.append(b"Range: " + range_.encode())
    if method in ("POST", "DELETE", "PUT"):
        h.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(h) + b"\r\n\r\n" + body


class Conn:
    """One server process (argv), spoken to over its stdin/stdout."""

    def __init__(self, argv, env=None, cwd=None):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, cwd=cwd)
        self.last_method = None

    def raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def read_response(self, head_request=False):
        f = self.p.stdout
        line = f.readline()
        if not line:
            return None
        assert line.endswith(b"\r\n"), line
        proto, status, reason = line[:-2].decode().split(" ", 2)
        assert proto == "HTTP/1.1", line
        headers = {}
        while True:
            line = f.readline()
            assert line.endswith(b"\r\n"), line
            if line == b"\r\n":
                break
            k, v = line[:-2].decode().split(":", 1)
            assert k.lower() not in headers, k
            headers[k.lower()] = v.strip()
        assert "transfer-encoding" not in headers
        n = int(headers["content-length"])
        body = b"" if head_request else f.read(n)
        assert len(body) == (0 if head_request else n)
        return Response(int(status), reason, headers, body)

    def req(self, method, target, body=b"", **kw):
        self.raw(request_bytes(method, target, body, **kw))
        return self.read_response(head_request=method == "HEAD")

    # borgstore's REST backend, op by op
    def create(self): return self.req("POST", "/?cmd=create")
    def destroy(self): return self.req("DELETE", "/?cmd=destroy")
    def mkdir(self, n): return self.req("POST", f"/{n}?cmd=mkdir")
    def rmdir(self, n): return self.req("DELETE", f"/{n}?cmd=rmdir")
    def store(self, n, v, hash_hex=None):
        return self.req("POST", f"/{n}", v, hash_hex=hash_hex or hashlib.sha256(v).hexdigest())
    def load(self, n, range_=None): return self.req("GET", f"/{n}", range_=range_)
    def info(self, n): return self.req("HEAD", f"/{n}")
    def list(self, n): return self.req("GET", f"/{n}/")
    def delete(self, n): return self.req("DELETE", f"/{n}")
    def move(self, a, b):
        q = lambda s: s.replace("/", "%2F")
        return self.req("POST", f"/?cmd=move&current={q(a)}&new={q(b)}")
    def hash(self, n): return self.req("POST", f"/{n}?cmd=hash&algorithm=sha256")
    def quota(self): return self.req("POST", "/?cmd=quota")
    def defrag(self, sources_json, query):
        return self.req("POST", "/?cmd=defrag&" + query, sources_json.encode())

    def close(self):
        """Closes stdin (EOF) and returns the exit code and stderr."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        rest = self.p.stdout.read()
        err = self.p.stderr.read()
        rc = self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()
        return rc, rest, err


def serve_exe():
    return os.path.join(os.environ["BS_BUILD_ROOT"], "borgstore-serve")
