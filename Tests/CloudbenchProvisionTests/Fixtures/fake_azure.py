"""A loopback Azure (login + Resource Manager) for the provisioning tests, following the documented
shapes: the OAuth2 client-credentials token endpoint; resource groups; PUT of VNets, NSGs, public
IPs, NICs, proximity placement groups and VMs answered 201 with an Azure-AsyncOperation URL that
says InProgress for a poll (a VM: three, a slow create) then Succeeded; Retry-After on every
operation; resource-group and SKU lists paged by nextLink (one item a page); a resource group that
answers Deleting for three polls after its delete before 404; boot diagnostics whose serial log
(a SAS-style URL) holds the recorded cloud-init console. Faults on purpose (each once): the first
NIC PUT answers 429 with Retry-After, the first resource-group DELETE answers 500.

`fake_azure.py serve PORT TENANT CLIENT SECRET TOKEN SUBSCRIPTION CONSOLE [--fail-vm NAME]` (that VM's PUT answers 409)
`fake_azure.py state PORT`, `seed PORT RUN CREATED` (an old run's group), `wait PORT`.
Only ever bound to 127.0.0.1, inside the test's namespace.
"""
import json, sys, threading, time, urllib.parse, urllib.request, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"groups": {}, "resources": {}, "requests": [], "bad_auth": 0, "tokens": 0, "secret_elsewhere": 0, "faults_hit": []}
ops = {}
faults = {"nic429": True, "rgdel500": True}
config = {}
COMPUTE_SKUS = [("Standard_D2s_v5", "True"), ("Standard_A1_v2", "False"), ("Standard_B1s", "False")]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=None, headers=None, text=None):
        data = text.encode() if text is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None or text is not None:
            self.send_header("Content-Type", "text/plain" if text is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return f"http://127.0.0.1:{config['port']}"

    def handle_any(self, method):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, urllib.parse.parse_qs(u.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path == "/_state":
            with lock:
                return self.reply(200, state)
        if path == "/_seed":
            return self.seed(json.loads(raw))
        with lock:
            if config["secret"].encode() in raw and not path.endswith("/oauth2/v2.0/token"):
                state["secret_elsewhere"] += 1
            if path == f"/{config['tenant']}/oauth2/v2.0/token" and method == "POST":
                form = urllib.parse.parse_qs(raw.decode())
                ok = (form.get("grant_type") == ["client_credentials"] and form.get("client_id") == [config["client"]]
                      and form.get("client_secret") == [config["secret"]]
                      and form.get("scope") == ["https://management.azure.com/.default"])
                if not ok:
                    return self.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
                state["tokens"] += 1
                return self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": config["token"]})
            if path.startswith("/blob/"):
                return self.reply(200, text=config["console"])
            body = json.loads(raw) if raw else None
            state["requests"].append({"method": method, "path": path, "query": u.query, "body": body})
            if self.headers.get("Authorization") != f"Bearer {config['token']}":
                state["bad_auth"] += 1
                return self.reply(401, {"error": {"code": "AuthenticationFailed", "message": "Authentication failed."}})
            if "api-version" not in query and not path.startswith("/ops/"):
                return self.reply(400, {"error": {"code": "MissingApiVersionParameter", "message": "The api-version query parameter is required."}})
            return self.route(method, path, query, body)

    def page(self, items, query):
        skip = int(query.get("$skiptoken", ["0"])[0])
        out = {"value": items[skip:skip + 1]}
        if skip + 1 < len(items):
            q = {k: v[0] for k, v in query.items()}
            q["$skiptoken"] = str(skip + 1)
            out["nextLink"] = f"{self.base()}{self.path.split('?')[0]}?{urllib.parse.urlencode(q)}"
        return self.reply(200, out)

    def route(self, method, path, query, body):
        p = path.strip("/").split("/")
        low = [x.lower() for x in p]
        if p[0] == "ops" and method == "GET":
            op = ops.get(p[1])
            if op is None:
                return self.reply(404, {"error": {"code": "NotFound", "message": "no such operation"}})
            op["polls"] -= 1
            if op["polls"] > 0:
                return self.reply(200, {"status": "InProgress"}, {"Retry-After": "1"})
            res = state["resources"].get(op["id"])
            if res is not None:
                res["properties"]["provisioningState"] = "Succeeded"
            return self.reply(200, {"status": "Succeeded"})
        if len(low) < 2 or low[0] != "subscriptions" or p[1] != config["sub"]:
            return self.reply(404, {"error": {"code": "SubscriptionNotFound", "message": "The subscription could not be found."}})
        if low[2:] == ["resourcegroups"] and method == "GET":
            items = list(state["groups"].values())
            f = query.get("$filter", [""])[0]
            if "tagName eq 'cloudbench-managed'" in f:
                items = [g for g in items if g.get("tags", {}).get("cloudbench-managed") == "true"]
            return self.page(items, query)
        if low[2:6] == ["providers", "microsoft.compute", "skus"] and method == "GET":
            loc = query.get("$filter", [""])[0].split("'")[1] if "'" in query.get("$filter", [""])[0] else ""
            items = [{"resourceType": "virtualMachines", "name": n, "locations": [loc],
                      "capabilities": [{"name": "vCPUs", "value": "2"}, {"name": "AcceleratedNetworkingEnabled", "value": a}]}
                     for n, a in COMPUTE_SKUS]
            return self.page(items, query)
        if len(low) >= 4 and low[2] == "resourcegroups":
            name = p[3]
            key = name.lower()
            g = state["groups"].get(key)
            if len(low) == 4:
                if method == "PUT":
                    g = {"id": f"/subscriptions/{config['sub']}/resourceGroups/{name}", "name": name, "location": body["location"],
                         "tags": body.get("tags", {}), "properties": {"provisioningState": "Succeeded"}, "_delete_polls": None}
                    state["groups"][key] = g
                    return self.reply(201, g)
                if g is None:
                    return self.reply(404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{name}' could not be found."}})
                if method == "GET":
                    if g["_delete_polls"] is not None:
                        g["_delete_polls"] += 1
                        if g["_delete_polls"] > 3:
                            del state["groups"][key]
                            for rid in [r for r in state["resources"] if r.lower().startswith(g["id"].lower() + "/")]:
                                del state["resources"][rid]
                            return self.reply(404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{name}' could not be found."}})
                        return self.reply(200, dict(g, properties={"provisioningState": "Deleting"}), {"Retry-After": "1"})
                    return self.reply(200, g)
                if method == "DELETE":
                    if faults["rgdel500"]:
                        faults["rgdel500"] = False
                        state["faults_hit"].append("rgdel500")
                        return self.reply(500, {"error": {"code": "InternalServerError", "message": "Encountered internal server error."}})
                    if g["_delete_polls"] is None:
                        g["_delete_polls"] = 0
                    return self.reply(202, None, {"Location": f"{self.base()}/ops/del-{uuid.uuid4()}", "Retry-After": "1"})
            if g is None:
                return self.reply(404, {"error": {"code": "ResourceGroupNotFound", "message": f"Resource group '{name}' could not be found."}})
            rid = "/" + "/".join(p)
            if low[-1] == "retrievebootdiagnosticsdata" and method == "POST":
                vm = p[-2]
                return self.reply(200, {"consoleScreenshotBlobUri": f"{self.base()}/blob/{vm}.bmp?sv=2019&sig=SASSIGNATURE",
                                        "serialConsoleLogBlobUri": f"{self.base()}/blob/{vm}.log?sv=2019&sig=SASSIGNATURE"})
            if method == "GET" and low[-2] == "microsoft.compute" and low[-1] == "virtualmachines":
                items = [r for r in state["resources"].values() if r["type"] == "Microsoft.Compute/virtualMachines"
                         and r["id"].lower().startswith(g["id"].lower() + "/")]
                return self.page(items, query)
            if method == "PUT":
                return self.put(rid, p, body)
            if method == "GET":
                r = state["resources"].get(rid)
                if r is None:
                    return self.reply(404, {"error": {"code": "ResourceNotFound", "message": "not found"}})
                return self.reply(200, r)
        return self.reply(404, {"error": {"code": "NotFound", "message": "no such route"}})

    def put(self, rid, p, body):
        rtype = f"{p[5]}/{p[6]}"
        name = p[7]
        kind = p[6].lower()
        if kind == "networkinterfaces" and faults["nic429"]:
            faults["nic429"] = False
            state["faults_hit"].append("nic429")
            return self.reply(429, {"error": {"code": "TooManyRequests", "message": "Too many requests."}}, {"Retry-After": "1"})
        if kind == "virtualmachines" and config.get("fail_vm") == name:
            return self.reply(409, {"error": {"code": "SkuNotAvailable", "message": "The requested VM size is not available in the current region."}})
        props = dict(body.get("properties", {}))
        props["provisioningState"] = "Updating"
        r = {"id": rid, "name": name, "type": rtype, "location": body.get("location"), "tags": body.get("tags", {}), "properties": props}
        if "zones" in body:
            r["zones"] = body["zones"]
        if "sku" in body:
            r["sku"] = body["sku"]
        n = len(state["resources"]) + 4
        if kind == "publicipaddresses":
            props["ipAddress"] = f"198.51.100.{n}"
        if kind == "networkinterfaces":
            subnet = props["ipConfigurations"][0]["properties"]["subnet"]["id"]
            vnet = subnet.split("/subnets/")[0]
            sname = subnet.split("/subnets/")[1]
            prefix = next(s["properties"]["addressPrefix"] for s in state["resources"][vnet]["properties"]["subnets"] if s["name"] == sname)
            props["ipConfigurations"][0]["properties"]["privateIPAddress"] = prefix.rsplit(".", 1)[0] + f".{n}"
        if kind == "virtualmachines":
            props["timeCreated"] = time.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00", time.gmtime())
            props["vmId"] = str(uuid.uuid4())
        state["resources"][rid] = r
        op = str(uuid.uuid4())
        ops[op] = {"id": rid, "polls": 3 if kind == "virtualmachines" else 1}
        return self.reply(201, r, {"Azure-AsyncOperation": f"{self.base()}/ops/{op}?api-version=2023-09-01", "Retry-After": "1"})

    def seed(self, req):
        run, created = req["run"], req["created"]
        with lock:
            name = f"cloudbench-{run}"
            state["groups"][name.lower()] = {"id": f"/subscriptions/{config['sub']}/resourceGroups/{name}", "name": name,
                                             "location": "westeurope", "properties": {"provisioningState": "Succeeded"},
                                             "tags": {"cloudbench-run": run, "cloudbench-managed": "true", "cloudbench-created": created},
                                             "_delete_polls": None}
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
        tenant, cl, secret, token, sub, console = sys.argv[3:9]
        config.update(port=port, tenant=tenant, client=cl, secret=secret, token=token, sub=sub,
                      console=open(console).read())
        if "--fail-vm" in sys.argv:
            config["fail_vm"] = sys.argv[sys.argv.index("--fail-vm") + 1]
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
        print(client(port, "/_seed", {"run": sys.argv[3], "created": sys.argv[4]}))
