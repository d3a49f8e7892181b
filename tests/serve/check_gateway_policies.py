#!/usr/bin/env python3
"""`clause serve --gateway` with a policy that changes: the mapping is built for the policy
in force, from a signed bundle (`--bundle-url`) or a reloaded file.

- Bundle mode: the mapping binds a fact, which only the bundle's policy declares (so the
  server must start without knowing it); a bundle whose policy the mapping does not fit is
  refused (stage `check`, /healthz still 503, gateway requests denied); a bundle that fits is
  swapped in and decides through the gateway, with the fact shaped as the policy declares it;
  a later misfit bundle is refused and the one in force keeps deciding.
- File mode: a start with a policy the mapping does not fit fails with the mapping's
  compiler-style error; a reload to such a policy denies gateway requests (naming the misfit)
  while /v1/decide goes on.
About 5 s; loopback only.

usage: check_gateway_policies.py CLAUSE"""
import http.client
import http.server
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_process import start, stop, wait_until  # noqa: E402

CLAUSE = os.path.abspath(sys.argv[1])
failures = []

MAPPING = {
    "schema_version": 1,
    "headers": {"X-Requester": "requester.kind", "X-Urgent": "context.urgent"},
    "routes": [{"path": "/docs/{category}/{id}", "methods": {"GET": {"action": "read"}}}],
}


def policy(version, with_read):
    """A policy the mapping fits (action `read`, fact `urgent`) or one it does not."""
    head = f'policy "gw" version "{version}"\nclause "c" "The clause."\nclause "u" "Urgent."\n'
    if with_read:
        return head + ('data info\nrequester company\naction read\nfact urgent\n'
                       'allow read of info by company when urgent cites "u"\n')
    return head + ('data info\nrequester company\naction write\nfact urgent\n'
                   'allow write of info by company cites "c"\n')


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        failures.append(name)


def call(port, method, path, headers=None, body=None):
    """Gives (status, headers in lower case, text); (0, {}, why) when there is no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read().decode()
    except OSError as e:
        return 0, {}, str(e)
    finally:
        conn.close()


def policy_info(port):
    status, _, text = call(port, "GET", "/v1/policy")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, {}


def gateway(port, urgent):
    return call(port, "GET", "/v1/gateway/envoy/docs/info/7",
                {"X-Requester": "company", "X-Urgent": "true" if urgent else "false"})


class Bundles:
    data = b""
    etag = ""


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.headers.get("If-None-Match") == Bundles.etag:
            self.send_response(304)
            self.send_header("ETag", Bundles.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(Bundles.data)))
        self.send_header("ETag", Bundles.etag)
        self.end_headers()
        self.wfile.write(Bundles.data)


def bundle_mode(work):
    for args in (["genpkey", "-algorithm", "ed25519", "-out", f"{work}/k.pem"],
                 ["pkey", "-in", f"{work}/k.pem", "-pubout", "-out", f"{work}/k.pub.pem"]):
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    def publish(name, text):
        with open(f"{work}/{name}.policy", "w") as f:
            f.write(text)
        r = subprocess.run([CLAUSE, "bundle", "build", "--key", f"{work}/k.pem", "--output",
                            f"{work}/{name}.tar.gz", f"{work}/{name}.policy"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        Bundles.data = open(f"{work}/{name}.tar.gz", "rb").read()
        Bundles.etag = f'"{name}"'

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/gw.bundle.tar.gz"
    publish("misfit1", policy("1", False))
    proc, port = start([CLAUSE, "serve", "--bundle-url", url, "--bundle-key", f"{work}/k.pub.pem",
                        "--poll", "100", "--gateway", f"{work}/mapping.json", "--port", "0"],
                       f"{work}/bundle.out", f"{work}/bundle.err")
    try:
        check("bundle mode: serve starts with a mapping that binds a fact only bundles declare",
              port is not None, open(f"{work}/bundle.err").read())
        if port is None:
            return

        def failure():
            return (policy_info(port)[1].get("bundle", {}).get("last_failure") or {})

        check("a bundle the mapping does not fit is refused at the `check` stage",
              wait_until(lambda: failure().get("stage") == "check", 10), failure())
        message = failure().get("message", "")
        check("its failure is the mapping's error, naming the place and the missing action",
              "mapping.json:" in message and "`read` is not an action" in message, message)
        check("/healthz stays 503 while no bundle is in force",
              call(port, "GET", "/healthz")[0] == 503)
        status, headers, _ = gateway(port, True)
        check("a gateway request before any bundle is denied: no policy in force",
              status == 403 and "no policy is in force" in headers.get("x-clause-error", ""),
              (status, headers))
        metrics = call(port, "GET", "/metrics")[2]
        check("/metrics counts the refusal", 'clause_bundle_fetches_total{result="check_error"}'
              in metrics and 'result="check_error"} 0' not in metrics)

        publish("fit2", policy("2", True))

        def active():
            return (policy_info(port)[1].get("bundle", {}).get("active") or {}).get("version")

        check("a bundle the mapping fits is swapped in", wait_until(lambda: active() == "2", 10),
              policy_info(port))
        status, headers, _ = gateway(port, True)
        check("the gateway decides with it: the fact, shaped as its policy declares, allows",
              status == 200 and headers.get("x-clause-clause") == "u", (status, headers))
        status, headers, _ = gateway(port, False)
        check("and without the fact, denies", status == 403 and not headers.get("x-clause-error"),
              (status, headers))

        publish("misfit3", policy("3", False))
        check("a later misfit bundle is refused too",
              wait_until(lambda: failure().get("stage") == "check" and
                         '"misfit3"' not in json.dumps(policy_info(port)[1].get("bundle", {})
                                                       .get("active", {})), 10)
              and wait_until(lambda: call(port, "GET", "/metrics")[2].count(
                  'result="check_error"} 1') == 0, 5), failure())
        status, headers, _ = gateway(port, True)
        check("and the bundle in force goes on deciding through the gateway",
              active() == "2" and status == 200 and headers.get("x-clause-clause") == "u",
              (active(), status, headers))
    finally:
        stop(proc)
        server.shutdown()


def file_mode(work):
    path = f"{work}/live.policy"
    with open(path, "w") as f:
        f.write(policy("1", False))
    r = subprocess.run([CLAUSE, "serve", "--policy", path, "--gateway", f"{work}/mapping.json",
                        "--port", "0"], capture_output=True, text=True, timeout=30)
    check("file mode: a policy the mapping does not fit stops the start, with the mapping's "
          "compiler-style error",
          r.returncode == 1 and "mapping.json:" in r.stderr and ": error: " in r.stderr
          and "`read` is not an action" in r.stderr, (r.returncode, r.stderr))

    with open(path, "w") as f:
        f.write(policy("2", True))
    proc, port = start([CLAUSE, "serve", "--policy", path, "--gateway", f"{work}/mapping.json",
                        "--port", "0"], f"{work}/file.out", f"{work}/file.err")
    try:
        check("file mode: serve starts with a policy the mapping fits", port is not None,
              open(f"{work}/file.err").read())
        if port is None:
            return
        status, headers, _ = gateway(port, True)
        check("the gateway allows", status == 200 and headers.get("x-clause-clause") == "u",
              (status, headers))
        with open(path, "w") as f:
            f.write(policy("3", False))
        proc.send_signal(signal.SIGHUP)
        check("a reload to a policy the mapping does not fit is taken (the store's rule)",
              wait_until(lambda: policy_info(port)[1].get("version") == "3", 10),
              policy_info(port))
        status, headers, _ = gateway(port, True)
        error = headers.get("x-clause-error", "")
        check("gateway requests are then denied, naming the misfit",
              status == 403 and "does not fit the policy in force" in error
              and "`read` is not an action" in error, (status, headers))
        body = json.dumps({"data": {"category": "info"}, "requester": {"kind": "company"},
                           "action": "write"})
        status, _, text = call(port, "POST", "/v1/decide", {"Content-Type": "application/json"},
                               body)
        check("while /v1/decide goes on deciding", status == 200 and '"allow"' in text,
              (status, text))
        with open(path, "w") as f:
            f.write(policy("4", True))
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: policy_info(port)[1].get("version") == "4", 10)
        status, headers, _ = gateway(port, True)
        check("a reload the mapping fits again decides through the gateway",
              status == 200 and headers.get("x-clause-clause") == "u", (status, headers))
    finally:
        stop(proc)


def main():
    with tempfile.TemporaryDirectory(prefix="clause-gateway-policies-") as work:
        with open(f"{work}/mapping.json", "w") as f:
            json.dump(MAPPING, f, indent=2)
        bundle_mode(work)
        file_mode(work)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("gateway with changing policies: all checks passed")


main()
