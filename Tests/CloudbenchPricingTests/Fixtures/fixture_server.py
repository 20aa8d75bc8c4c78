#!/usr/bin/env python3
"""Loopback HTTP server for the pricing tests: serves recorded-shape API responses by scenario.

usage: fixture_server.py SCENARIO.json LOG.jsonl PORTFILE

The scenario is {"routes": [{"method", "path", "query_contains": [...], "body_contains": [...],
"verify_sigv4": {"access_key", "secret", "region", "service"},
"responses": [{"status", "headers", "file" | "body", "gzip", "delay", "cut_at"}]}]}. A route with verify_sigv4
checks the AWS Signature Version 4 of each request as AWS would and answers 403 when it is wrong. Each request to a route
takes its next response (the last one repeats). "{{BASE}}" in a body becomes this server's address.
Every request is appended to LOG as one JSON line. Binds 127.0.0.1 only, on an ephemeral port,
written to PORTFILE once listening.
"""
import gzip
import hashlib
import hmac
import json
import os
import re
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


def sigv4_problem(handler, method, body, spec):
    """None when the request carries a valid SigV4 signature for spec, else what is wrong."""
    auth = handler.headers.get("Authorization", "")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, ?"
                 r"SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$", auth)
    if not m:
        return "no AWS4-HMAC-SHA256 Authorization header"
    key_id, date, region, service, signed, signature = m.groups()
    if (key_id, region, service) != (spec["access_key"], spec["region"], spec["service"]):
        return "wrong credential scope"
    parsed = urllib.parse.urlsplit(handler.path)
    pairs = sorted(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
    query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs)
    headers = "".join("%s:%s\n" % (h, " ".join((handler.headers.get(h) or "").split())) for h in signed.split(";"))
    canonical = "\n".join([method, parsed.path or "/", query, headers, signed, hashlib.sha256(body).hexdigest()])
    scope = "/".join([date, region, service, "aws4_request"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", handler.headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + spec["secret"]).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "signature mismatch"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.unquote(parsed.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = raw.decode("utf-8", "replace")
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
                problem = sigv4_problem(self, method, raw, r["verify_sigv4"]) if "verify_sigv4" in r else None
                if problem:
                    chosen = {"status": 403, "body": json.dumps({"message": "The request signature we calculated does not match "
                                                                            "the signature you provided (%s)." % problem})}
                    break
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
        if chosen.get("cut_at") is not None:
            # Promise the whole body, send only the first cut_at bytes, hang up: a broken transfer.
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[:chosen["cut_at"]])
            self.wfile.flush()
            self.close_connection = True
            return
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
