"""`clause serve --gateway` behind a real nginx (Debian's, auth_request) with the config of
tools/gateway/nginx.conf (the one docs/deploy.md shows), in front of a tiny upstream; and
the requests Envoy's ext_authz (http_service) sends, straight to the server.

Usage: check_gateway.py CLAUSE [NGINX]. Every process listens on 127.0.0.1 and is killed
on exit; every wait has a timeout (about 5 s in all when it passes)."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_process  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLAUSE = sys.argv[1]
NGINX = sys.argv[2] if len(sys.argv) > 2 else "/usr/sbin/nginx"
failures = []

# The upstream: answers every request with the headers it was sent, as JSON.
UPSTREAM = r"""
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_PUT = answer
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def check(what, ok, detail=""):
    if not ok:
        failures.append(f"{what}: {detail}")
        print(f"FAIL {what}: {detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, seconds=5.0):
    return serve_process.wait_until(lambda: connects(port), seconds)


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def request(port, method, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def main():
    tmp = tempfile.mkdtemp(prefix="clause-gateway-")
    procs = []
    try:
        run(tmp, procs)
    finally:
        for p in reversed(procs):
            serve_process.stop(p, 5)
        if failures:
            for name in ("error.log", "serve.err"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    print(f"--- {name}\n" + open(path, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("gateway: all checks passed")


def run(tmp, procs):
    upstream_port = free_port()
    procs.append(subprocess.Popen([sys.executable, "-c", UPSTREAM, str(upstream_port)]))
    log = os.path.join(tmp, "decisions.log")
    serve, clause_port = serve_process.start(
        [CLAUSE, "serve", "--policy", os.path.join(ROOT, "policies", "privacy.policy"),
         "--gateway", os.path.join(ROOT, "tools", "gateway", "privacy.gateway.json"),
         "--port", "0", "--log", log],
        os.path.join(tmp, "serve.out"), os.path.join(tmp, "serve.err"))
    procs.append(serve)
    if clause_port is None:
        check("clause serve starts", False, open(os.path.join(tmp, "serve.err")).read())
        return

    # The documented config, on this run's ports.
    conf = open(os.path.join(ROOT, "tools", "gateway", "nginx.conf")).read()
    docs = open(os.path.join(ROOT, "docs", "deploy.md")).read()
    check("docs/deploy.md shows tools/gateway/nginx.conf in full", conf in docs)
    nginx_port = free_port()
    conf = (conf.replace("127.0.0.1:8181", f"127.0.0.1:{clause_port}")
            .replace("127.0.0.1:9000", f"127.0.0.1:{upstream_port}")
            .replace("127.0.0.1:8080", f"127.0.0.1:{nginx_port}"))
    open(os.path.join(tmp, "nginx.conf"), "w").write(conf)
    os.makedirs(os.path.join(tmp, "tmp"))
    # As the current user: as root, nginx's workers would otherwise become `nobody`, who
    # cannot write to this private folder.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    procs.append(subprocess.Popen(
        [NGINX, "-p", tmp, "-c", "nginx.conf", "-e", "error.log", "-g", directives],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "nginx.err"), "w")))
    if not (wait_port(nginx_port) and wait_port(upstream_port)):
        check("nginx and the upstream start", False,
              open(os.path.join(tmp, "nginx.err")).read())
        return

    # Through nginx. allow: the upstream answers, and is told the clause.
    status, headers, body = request(nginx_port, "GET", "/records/registration_info/7",
                                    {"X-Requester-Kind": "joint_provider",
                                     "X-Service-Active": "true"})
    check("allow passes through", status == 200, f"{status} {headers}")
    seen = json.loads(body) if status == 200 else {}
    check("the upstream gets X-Clause-Clause", seen.get("x-clause-clause") == "2.a", seen)
    check("the upstream gets X-Clause-Decision", seen.get("x-clause-decision") == "allow", seen)
    check("the client gets X-Clause-Clause", headers.get("x-clause-clause") == "2.a", headers)

    status, headers, _ = request(nginx_port, "GET", "/records/personal_info/7",
                                 {"X-Requester-Kind": "joint_provider"})
    check("deny is 403", status == 403, status)
    check("deny names its clause", headers.get("x-clause-clause") == "2.a", headers)
    check("deny says deny", headers.get("x-clause-decision") == "deny", headers)

    status, headers, _ = request(nginx_port, "GET", "/records/usage_info/7",
                                 {"X-Requester-Kind": "unrelated_third_party"})
    check("require-consent is 401", status == 401, status)
    check("require-consent names the consent",
          headers.get("x-clause-consent") == "third_party_disclosure", headers)
    check("require-consent says so", headers.get("x-clause-decision") == "require-consent",
          headers)
    # With the consent given, the same request is allowed.
    status, _, _ = request(nginx_port, "GET", "/records/usage_info/7",
                           {"X-Requester-Kind": "unrelated_third_party",
                            "X-Consent": "third_party_disclosure"})
    check("the consent given allows", status == 200, status)

    for what, method, path, headers in [
            ("a path no route matches", "GET", "/elsewhere", {"X-Requester-Kind": "user"}),
            ("an unmapped method", "DELETE", "/records/usage_info/7", {"X-Requester-Kind": "user"}),
            ("a missing header", "GET", "/records/usage_info/7", {}),
            ("a bad fact value", "GET", "/records/usage_info/7",
             {"X-Requester-Kind": "user", "X-Service-Active": "maybe"}),
            ("an unknown category", "GET", "/records/secrets/7", {"X-Requester-Kind": "user"}),
            ("a dot-dot segment", "GET", "/records/usage_info/%2e%2e",
             {"X-Requester-Kind": "user"})]:
        status, got, _ = request(nginx_port, method, path, headers)
        check(f"{what} is denied", status == 403, f"{status} {got}")
        check(f"{what} says why", bool(got.get("x-clause-error")), got)

    # Envoy's ext_authz, http_service: the original method, the original path after
    # path_prefix, the allowed headers, no body (Content-Length: 0).
    envoy = "/v1/gateway/envoy"
    status, headers, _ = request(clause_port, "GET", envoy + "/records/registration_info/7?q=1",
                                 {"X-Requester-Kind": "joint_provider",
                                  "X-Service-Active": "true", "Content-Length": "0",
                                  "X-Request-ID": "envoy-1"})
    check("envoy: allow is 200", status == 200, status)
    check("envoy: allow names its clause", headers.get("x-clause-clause") == "2.a", headers)
    status, headers, _ = request(clause_port, "POST", envoy + "/records/usage_info/7",
                                 {"X-Requester-Kind": "unrelated_third_party",
                                  "Content-Length": "0"})
    check("envoy: a POST is mapped (buy), require-consent 401", status == 401, status)
    check("envoy: consent header", headers.get("x-clause-consent") == "third_party_disclosure",
          headers)
    status, headers, _ = request(clause_port, "PUT", envoy + "/records/personal_info/7",
                                 {"X-Requester-Kind": "joint_provider", "Content-Length": "0"})
    check("envoy: deny is 403", status == 403, f"{status} {headers}")
    status, headers, _ = request(clause_port, "PATCH", envoy + "/records/personal_info/7",
                                 {"X-Requester-Kind": "joint_provider", "Content-Length": "0"})
    check("envoy: an unmapped method is 403", status == 403, status)
    check("envoy: and says why", "PATCH" in headers.get("x-clause-error", ""), headers)
    # (nginx refuses a broken escape itself, with 400.)
    status, headers, _ = request(clause_port, "GET", envoy + "/records/usage%2_info/7",
                                 {"X-Requester-Kind": "user"})
    check("envoy: a broken escape is 403", status == 403, status)
    check("envoy: and says why", "escape" in headers.get("x-clause-error", ""), headers)
    # The nginx route without the headers nginx's config sets.
    status, headers, _ = request(clause_port, "GET", "/v1/gateway/nginx",
                                 {"X-Original-Method": "GET"})
    check("nginx route: no X-Original-URI is 403", status == 403, status)
    check("nginx route: names the header", "X-Original-URI" in headers.get("x-clause-error", ""),
          headers)

    # Counted in /metrics.
    _, _, metrics = request(clause_port, "GET", "/metrics")
    counts = {}
    for line in metrics.decode().splitlines():
        if line.startswith("clause_decisions_total{"):
            counts[line.split('"')[1]] = int(line.split()[-1])
    check("metrics count the gateway's decisions",
          counts == {"allow": 3, "require-consent": 2, "deny": 11}, counts)

    # In the decision log, once the server has stopped and flushed it.
    serve.send_signal(signal.SIGTERM)
    serve.wait(timeout=10)
    records = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    check("every gateway decision is logged", len(records) == sum(counts.values()),
          f"{len(records)} records, {counts}")
    check("the log carries the request id",
          any("envoy-1" in json.dumps(r) for r in records), "no record with envoy-1")


main()
