#!/usr/bin/env python3
# A stand-in for rclone in the rclone backend's tests (RCLONE_BINARY points
# here). FAKE_RCLONE_MODE: "old" serves core/version as v1.50.0, "silent"
# never gets ready, "die" exits at once with an error like a too old rclone.
import http.server
import json
import os
import signal
import sys

mode = os.environ.get("FAKE_RCLONE_MODE", "old")
if mode == "die":
    print("Error: unknown flag: --rc-serve", file=sys.stderr, flush=True)
    sys.exit(1)
if mode == "silent":
    while True:
        signal.pause()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/core/version":
            body = json.dumps({"version": "v1.50.0", "decomposed": [1, 50, 0]}).encode()
            self.send_response(200)
        else:
            body = b'{"error": "not here", "status": 404}'
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("2026/01/01 00:00:00 NOTICE: Serving remote control on http://127.0.0.1:%d/"
      % server.server_address[1], file=sys.stderr, flush=True)
server.serve_forever()
