#!/usr/bin/env python3
"""A misbehaving REST server on stdio for tests/rest/test_rest_hostile.c.
It answers the first request (the client's open probe, POST /?cmd=quota)
properly, then answers every later request as BS_HOSTILE_MODE says. Each
request line is appended to BS_HOSTILE_LOG. BS_HOSTILE_STATE names a file
whose existence marks "a previous server already ran" (reconnect tests)."""
import os
import sys

rd, wr = sys.stdin.buffer, sys.stdout.buffer
mode = os.environ.get("BS_HOSTILE_MODE", "")
log = os.environ.get("BS_HOSTILE_LOG")
state = os.environ.get("BS_HOSTILE_STATE")
second = bool(state) and os.path.exists(state)
if state and not second:
    open(state, "w").close()

OK_QUOTA = b'HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n{"limit": -1, "usage": -1}\n'
HTML = (b"<!DOCTYPE HTML>\n<html><body><h1>Error response</h1>"
        b"<p>Message: %s.</p></body></html>\n")


def error(code, msg):
    body = HTML % msg
    return (b"HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (code, msg, len(body), body))


RESPONSES = {
    "longline": b"HTTP/1.1 200 " + b"x" * 100000,
    "longheader": b"HTTP/1.1 200 OK\r\nX-Junk: " + b"y" * 20000 + b"\r\n\r\n",
    "manyheaders": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
    "badlength": b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
    "twolengths": b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "hugelength": b"HTTP/1.1 206 Partial Content\r\nContent-Length: 99999999999999\r\n\r\nabc",
    "nolength": b"HTTP/1.1 200 OK\r\n\r\nabc",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "badstatus": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "nothttp": b"SSH-2.0-OpenSSH_9.2\r\n",
    "folded": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n continued\r\n\r\n",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
    "badmtime": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-BorgStore-Is-Directory: false\r\n"
                b"X-BorgStore-Mtime: nan\r\n\r\n",
    "badjson": b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n[{\"name\":",
    "badentry": b"HTTP/1.1 200 OK\r\nContent-Length: 31\r\n\r\n[{\"name\": \"a\", \"size\": \"big\"}]\n",
    "html412": error(412, b"backend must not be open"),
    "html500": error(500, b"Internal Server Error"),
    "html422": error(422, b"Content hash verification failed, please retry"),
    "noreason404": b"HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
    "hugeerror": b"HTTP/1.1 500 Oops\r\nContent-Length: 10000000\r\n\r\n",
    "bighash": b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcdefgh",
}


def read_request():
    line = rd.readline()
    if not line:
        return None
    length = 0
    while True:
        h = rd.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    if length:
        rd.read(length)
    if log:
        with open(log, "ab") as f:
            f.write(line)
    return line


n = 0
while True:
    line = read_request()
    if line is None:
        break
    n += 1
    if n == 1 and line.startswith(b"POST /?cmd=quota"):
        wr.write(OK_QUOTA)
    elif mode == "delete-then-die":
        if not second:
            sys.exit(0)  # did the delete, lost before answering
        wr.write(error(404, b"data/x"))
    else:
        wr.write(RESPONSES[mode])
        if mode == "truncated":
            wr.flush()
            sys.exit(0)
    wr.flush()
