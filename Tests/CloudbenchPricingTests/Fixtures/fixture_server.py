#!/usr/bin/env python3
"""Loopback HTTP server for the pricing tests: serves recorded-shape API responses by scenario.

usage: fixture_server.py SCENARIO.json LOG.jsonl PORTFILE

The scenario is {"routes": [{"method", "path", "query_contains": [...], "body_contains": [...],
"responses": [{"status", "headers", "file" | "body", "gzip", "delay"}]}]}. Each request to a route
takes its next response (the last one repeats). "{{BASE}}" in a body becomes this server's address.
Every request is appended to LOG as one JSON line. Binds 127.0.0.1 only, on an ephemeral port,
written to PORTFILE once listening.
"""
import gzip
import json
import os
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

scenario_path, log_path, port_path = sys.argv[1:4]
# The test runner may start us with SIGTERM blocked; the test stops us with it.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
signal.signal(signal.SIGTERM, signal.SIG_DFL)
fixtures = os.path.dirname(os.path.abspath(__file__))
with open(scenario_path) as f:
    routes = json.load(f)["routes"]
counters = [0] * len(routes)
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.unquote(parsed.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        with lock:
            with open(log_path, "a") as log:
                log.write(json.dumps({"method": method, "target": self.path, "path": parsed.path, "query": query,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body}) + "\n")
            chosen = None
            for i, r in enumerate(routes):
                if r.get("method", "GET") != method or r["path"] != parsed.path:
                    continue
                if not all(s in query for s in r.get("query_contains", [])):
                    continue
                if any(s in query for s in r.get("query_excludes", [])):
                    continue
                if not all(s in body for s in r.get("body_contains", [])):
                    continue
                if any(s in body for s in r.get("body_excludes", [])):
                    continue
                n = counters[i]
                counters[i] += 1
                chosen = r["responses"][min(n, len(r["responses"]) - 1)]
                break
        if chosen is None:
            chosen = {"status": 404, "body": '{"error": "no fixture for this request"}'}
        if chosen.get("delay"):
            time.sleep(chosen["delay"])
        if "file" in chosen:
            with open(os.path.join(fixtures, chosen["file"]), "rb") as f:
                payload = f.read()
        else:
            payload = chosen.get("body", "").encode()
        payload = payload.replace(b"{{BASE}}", ("http://127.0.0.1:%d" % self.server.server_port).encode())
        headers = dict(chosen.get("headers", {}))
        if chosen.get("gzip") and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
        self.send_response(chosen.get("status", 200))
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        # Small writes, so the client's streaming parser sees the body in many chunks.
        for i in range(0, len(payload), 16384):
            self.wfile.write(payload[i:i + 16384])

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = port_path + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_port))
os.rename(tmp, port_path)
server.serve_forever()
