"""A loopback DigitalOcean API v2 for the provisioning tests, following the documented shapes:
droplets, firewalls, tags, account keys; pages of 2 items linked by links.pages.next; 429 with
RateLimit-Reset; Bearer tokens. Faults on purpose (each once): the first droplet list answers 429,
the first firewall create answers 500, the first firewall delete answers 503; droplets stay `new`
for two lists (and each create takes a second); deleted droplets linger for two lists.

`fake_digitalocean.py serve PORT TOKEN [--fail-droplet N]` (the Nth droplet create answers 422)
`fake_digitalocean.py state PORT` prints the state as JSON; `seed PORT RUN` plants an old run's
leftovers (a droplet created in 2020, its firewall, key and tags); `wait PORT`.
Only ever bound to 127.0.0.1, inside the test's namespace.
"""
import json, sys, threading, time, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = 2
lock = threading.Lock()
state = {"droplets": {}, "firewalls": {}, "keys": {}, "tags": [], "requests": [], "bad_auth": 0, "faults_hit": []}
faults = {"list429": True, "fw500": True, "fwdel503": True}
counter = {"id": 1000, "droplet_creates": 0}
config = {"token": "", "fail_droplet": 0, "port": 0}


def next_id():
    counter["id"] += 1
    return counter["id"]


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def page(self, items, key, query):
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * PAGE: page * PAGE]
        links = {}
        if page * PAGE < len(items):
            q = dict((k, v[0]) for k, v in query.items())
            q["page"] = str(page + 1)
            links["pages"] = {"next": f"http://127.0.0.1:{config['port']}{self.path_only}?{urllib.parse.urlencode(q)}"}
        self.reply(200, {key: chunk, "links": links, "meta": {"total": len(items)}})

    def handle_any(self, method):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, urllib.parse.parse_qs(u.query)
        self.path_only = path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path == "/_state":
            with lock:
                return self.reply(200, state)
        if path == "/_seed":
            return self.seed(json.loads(raw))
        body = json.loads(raw) if raw else None
        with lock:
            state["requests"].append({"method": method, "path": path, "query": u.query, "body": body})
            if self.headers.get("Authorization") != f"Bearer {config['token']}":
                state["bad_auth"] += 1
                return self.reply(401, {"id": "Unauthorized", "message": "Unable to authenticate you"})
            return self.route(method, path, query, body)

    def route(self, method, path, query, body):
        parts = path.rstrip("/").split("/")  # ["", "v2", what, …]
        if parts[:2] != ["", "v2"]:
            return self.reply(404, {"id": "not_found", "message": "The resource you requested could not be found."})
        what = parts[2] if len(parts) > 2 else ""
        if what == "tags":
            if method == "POST":
                if body["name"] not in state["tags"]:
                    state["tags"].append(body["name"])
                return self.reply(201, {"tag": {"name": body["name"], "resources": {"count": 0}}})
            if method == "GET":
                return self.page([{"name": t} for t in state["tags"]], "tags", query)
            if method == "DELETE" and len(parts) == 4:
                if parts[3] not in state["tags"]:
                    return self.reply(404, {"id": "not_found", "message": "tag not found"})
                state["tags"].remove(parts[3])
                return self.reply(204)
        if what == "account" and parts[3:4] == ["keys"]:
            if method == "POST":
                k = {"id": next_id(), "name": body["name"], "public_key": body["public_key"], "fingerprint": "3b:16:bf:e4"}
                state["keys"][str(k["id"])] = k
                return self.reply(201, {"ssh_key": k})
            if method == "GET":
                return self.page(list(state["keys"].values()), "ssh_keys", query)
            if method == "DELETE" and len(parts) == 5:
                if state["keys"].pop(parts[4], None) is None:
                    return self.reply(404, {"id": "not_found", "message": "key not found"})
                return self.reply(204)
        if what == "firewalls":
            if method == "POST":
                if faults["fw500"]:
                    faults["fw500"] = False
                    state["faults_hit"].append("fw500")
                    return self.reply(500, {"id": "server_error", "message": "Server was unable to give you a response."})
                fw = dict(body, id=f"fw-{next_id()}", status="succeeded", created_at=now(), droplet_ids=[])
                state["firewalls"][fw["id"]] = fw
                return self.reply(202, {"firewall": fw})
            if method == "GET":
                return self.page(list(state["firewalls"].values()), "firewalls", query)
            if method == "DELETE" and len(parts) == 4:
                if faults["fwdel503"]:
                    faults["fwdel503"] = False
                    state["faults_hit"].append("fwdel503")
                    return self.reply(503, {"id": "service_unavailable", "message": "try again"})
                if state["firewalls"].pop(parts[3], None) is None:
                    return self.reply(404, {"id": "not_found", "message": "firewall not found"})
                return self.reply(204)
        if what == "droplets":
            tag = query.get("tag_name", [None])[0]
            if method == "POST":
                counter["droplet_creates"] += 1
                if counter["droplet_creates"] == config["fail_droplet"]:
                    return self.reply(422, {"id": "unprocessable_entity", "message": "Size is not available in this region."})
                lock.release()
                try:
                    time.sleep(1)  # a slow create
                finally:
                    lock.acquire()
                n = next_id()
                for t in body.get("tags", []):
                    if t not in state["tags"]:
                        state["tags"].append(t)
                d = {"id": n, "name": body["name"], "status": "new", "size_slug": body["size"],
                     "region": {"slug": body["region"]}, "image": {"slug": body["image"]},
                     "tags": body.get("tags", []), "ssh_keys": body.get("ssh_keys", []),
                     "created_at": now(), "networks": {"v4": [], "v6": []}, "_lists": 0, "_deleted": None}
                state["droplets"][str(n)] = d
                return self.reply(202, {"droplet": d, "links": {"actions": [{"id": next_id(), "rel": "create"}]}})
            if method == "GET" and len(parts) == 3:
                if faults["list429"]:
                    faults["list429"] = False
                    state["faults_hit"].append("list429")
                    return self.reply(429, {"id": "too_many_requests", "message": "API Rate limit exceeded."},
                                      {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0",
                                       "RateLimit-Reset": str(int(time.time()) + 1)})
                out = []
                for key, d in list(state["droplets"].items()):
                    if tag and tag not in d["tags"]:
                        continue
                    d["_lists"] += 1
                    if d["_deleted"] is not None:
                        d["_deleted"] += 1
                        if d["_deleted"] > 2:
                            del state["droplets"][key]
                            continue
                    elif d["status"] == "new" and d["_lists"] > 2:
                        d["status"] = "active"
                        d["networks"]["v4"] = [
                            {"ip_address": f"203.0.113.{d['id'] % 250}", "netmask": "255.255.240.0", "gateway": "203.0.113.1", "type": "public"},
                            {"ip_address": f"10.110.0.{d['id'] % 250}", "netmask": "255.255.240.0", "gateway": "", "type": "private"}]
                    out.append(d)
                return self.page(out, "droplets", query)
            if method == "DELETE" and len(parts) == 3 and tag:
                for d in state["droplets"].values():
                    if tag in d["tags"] and d["_deleted"] is None:
                        d["_deleted"] = 0
                return self.reply(204)
        return self.reply(404, {"id": "not_found", "message": "The resource you requested could not be found."})

    def seed(self, req):
        run = req["run"]
        with lock:
            tags = [f"cloudbench-run-{run}", "cloudbench-managed", f"cloudbench-pair-{run}-old-1"]
            for t in tags:
                if t not in state["tags"]:
                    state["tags"].append(t)
            n = next_id()
            state["droplets"][str(n)] = {"id": n, "name": f"cb-{run}-old-1-server", "status": "active", "size_slug": "s-1vcpu-1gb",
                                         "region": {"slug": "ams3"}, "tags": tags, "created_at": "2020-01-01T00:00:00Z",
                                         "networks": {"v4": [], "v6": []}, "_lists": 9, "_deleted": None}
            fid = f"fw-{next_id()}"
            state["firewalls"][fid] = {"id": fid, "name": f"cloudbench-{run}-old-1", "tags": [tags[2]], "created_at": "2020-01-01T00:00:00Z"}
            k = next_id()
            state["keys"][str(k)] = {"id": k, "name": f"cloudbench-{run}", "public_key": "ssh-ed25519 AAAA old", "fingerprint": "aa"}
        self.reply(200, {})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")


def client(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    return urllib.request.urlopen(req, timeout=5).read().decode()


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "serve":
        config.update(port=port, token=sys.argv[3])
        if "--fail-droplet" in sys.argv:
            config["fail_droplet"] = int(sys.argv[sys.argv.index("--fail-droplet") + 1])
        ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    elif cmd == "wait":
        for _ in range(300):
            try:
                client(port, "/_state")
                sys.exit(0)
            except Exception:
                time.sleep(0.1)
        sys.exit(1)
    elif cmd == "state":
        print(client(port, "/_state"))
    elif cmd == "seed":
        print(client(port, "/_seed", {"run": sys.argv[3]}))
