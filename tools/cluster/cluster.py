"""The processes of a cluster on one machine, all on 127.0.0.1: three `clause serve`
replicas, HAProxy in front of them, a bundle server, a decision-log collector, and nginx in
front of a sample service. Every process is a child of this one, killed when it exits (and
by the kernel if this one is killed first), so that no run leaves a process behind."""
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PR_SET_PDEATHSIG = 1


def free_ports(n):
    """N distinct ports free now: bound together, then released for the processes."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def die_with_parent():
    # Runs in the child before exec: SIGKILL when this process dies, however it dies.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def get_with_headers(port, path, headers, timeout=5.0):
    """(status, {lower-case header: value}, body text) of GET path; status 0 without one."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path, headers=headers)
        res = conn.getresponse()
        body = res.read().decode("utf-8", "replace")
        conn.close()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, body
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, str(e)


def get(port, path, timeout=2.0):
    """(status, body text) of GET path, or (0, reason) when there is no answer."""
    status, _, body = get_with_headers(port, path, {}, timeout)
    return status, body


def wait_until(predicate, seconds, step=0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Processes:
    """Children by name; stop_all() at the end, whatever happened."""

    def __init__(self, work):
        self.work = work
        self.procs = {}

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.work, f"{name}.out"), "a")
        err = open(os.path.join(self.work, f"{name}.err"), "a")
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent, env=env)
        out.close()
        err.close()
        self.procs[name] = proc
        return proc

    def kill(self, name, sig=signal.SIGKILL):
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def alive(self, name):
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop_all(self):
        # SIGKILL: the checks are done, and a replica's graceful stop would spend its drain
        # time trying to ship its log.
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            proc.wait(timeout=10)
        self.procs.clear()

    def tail(self, name, lines=15):
        text = ""
        for ext in ("err", "out"):
            path = os.path.join(self.work, f"{name}.{ext}")
            if os.path.exists(path):
                text += "".join(open(path, errors="replace").readlines()[-lines:])
        return text


def serve_flags(clause):
    """The flags this `clause serve` knows, from its help: the cluster uses what is built."""
    text = subprocess.run([clause, "serve", "--help"], capture_output=True, text=True,
                          timeout=10).stdout
    return set(re.findall(r"(--[a-z][a-z-]+)", text))


HAPROXY = """global
  maxconn 4096
  log stderr format raw local0
defaults
  mode http
  # Only what went wrong: an error, a retry, a server that went down.
  log global
  option httplog
  option dontlog-normal
  timeout connect 1s
  timeout client 30s
  timeout server 5s
  timeout http-request 10s
  timeout queue 5s
  # The retry budget: a request whose replica refuses the connection, closes it without
  # an answer or answers 503 is sent again, up to {retries} times, to another replica.
  retries {retries}
  option redispatch 1
  retry-on {retry_on}
  # A request is retried only from a copy of it whole: wait for the body before sending.
  option http-buffer-request
frontend decide
  bind 127.0.0.1:{port}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server check inter {inter}ms fastinter {inter}ms downinter {inter}ms fall 2 rise 2
{servers}
listen stats
  bind 127.0.0.1:{stats_port}
  stats enable
  stats uri /stats
"""

NGINX = """daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx.err warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      auth_request /_clause;
      auth_request_set $clause_clause $upstream_http_x_clause_clause;
      add_header X-Clause-Clause $clause_clause always;
      proxy_pass http://127.0.0.1:{app_port};
    }}
    location = /_clause {{
      internal;
      proxy_pass http://127.0.0.1:{haproxy_port}{gateway_path};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
    }}
  }}
}}
"""


class Cluster:
    def __init__(self, clause, work, poll_ms, replicas=3, retries=3, log_flush_ms=200):
        self.clause = clause
        self.work = work
        self.poll_ms = poll_ms
        self.retries = retries
        self.log_flush_ms = log_flush_ms
        self.procs = Processes(work)
        self.flags = serve_flags(clause)
        self.bundles = "--bundle-url" in self.flags
        self.logship = "--log-url" in self.flags
        self.gateway = "--gateway" in self.flags
        ports = free_ports(replicas + 6)
        self.replica_ports = ports[:replicas]
        (self.haproxy_port, self.stats_port, self.bundle_port, self.collector_port,
         self.nginx_port, self.app_port) = ports[replicas:]
        self.public_key = os.path.join(work, "public.pem")
        self.live_policy = os.path.join(work, "live.policy")
        self.bundle_dir = os.path.join(work, "bundles")
        os.makedirs(self.bundle_dir, exist_ok=True)
        self.records = os.path.join(work, "records.jsonl")
        self.gateway_file = None

    # --- policies and bundles -------------------------------------------------------------
    def make_key(self):
        private = os.path.join(self.work, "private.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", private],
                       check=True, capture_output=True, timeout=30)
        subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", self.public_key],
                       check=True, capture_output=True, timeout=30)
        return private

    def publish(self, policy_text, private_key):
        """Makes policy_text the one the replicas should serve: a signed bundle renamed into
        the bundle server's folder, or (without bundle polling) the policy file replaced by
        a rename, which --watch takes up. Gives the bundle's content hash (None without
        bundles)."""
        folder = os.path.join(self.work, f"src-{time.monotonic_ns()}")
        os.makedirs(folder)
        path = os.path.join(folder, "live.policy")
        with open(path, "w") as f:
            f.write(policy_text)
        if not self.bundles:
            shutil.copy(path, self.live_policy + ".next")
            os.replace(self.live_policy + ".next", self.live_policy)
            return None
        out = os.path.join(folder, "live.bundle.tar.gz")
        run = subprocess.run([self.clause, "bundle", "build", "--key", private_key, "--output",
                              out, path], capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            raise RuntimeError(f"clause bundle build: {run.stderr}")
        # The hash the replicas must come to serve: the one the signed manifest promises.
        run = subprocess.run([self.clause, "bundle", "verify", "--key", self.public_key,
                              "--format", "json", out], capture_output=True, text=True,
                             timeout=30)
        if run.returncode != 0:
            raise RuntimeError(f"clause bundle verify: {run.stderr}")
        os.replace(out, os.path.join(self.bundle_dir, "live.bundle.tar.gz"))
        return json.loads(run.stdout)["content_hash"]

    # --- processes ------------------------------------------------------------------------
    def replica_argv(self, i):
        argv = [self.clause, "serve", "--port", str(self.replica_ports[i])]
        if self.bundles:
            argv += ["--bundle-url",
                     f"http://127.0.0.1:{self.bundle_port}/live.bundle.tar.gz",
                     "--bundle-key", self.public_key, "--poll", str(self.poll_ms)]
        else:
            argv += ["--policy", self.live_policy, "--watch", str(self.poll_ms)]
        if self.logship:
            buffer = os.path.join(self.work, f"log-buffer-{i}")
            argv += ["--log-url", f"http://127.0.0.1:{self.collector_port}/v1/logs",
                     "--log-buffer", buffer, "--log-flush", str(self.log_flush_ms)]
        if self.gateway and self.gateway_file:
            argv += ["--gateway", self.gateway_file]
        return argv

    def start_replica(self, i, wait=20):
        name = f"replica{i}"
        self.procs.start(name, self.replica_argv(i))
        ok = wait_until(lambda: get(self.replica_ports[i], "/healthz")[0] == 200
                        or not self.procs.alive(name), wait)
        if not (ok and self.procs.alive(name)):
            raise RuntimeError(f"{name} is not healthy:\n{self.procs.tail(name)}")

    def start_service(self, name, argv, port):
        self.procs.start(name, argv)
        if not wait_until(lambda: self.port_open(port) or not self.procs.alive(name), 10) \
                or not self.procs.alive(name):
            raise RuntimeError(f"{name} did not start:\n{self.procs.tail(name)}")

    def start_collector(self):
        self.start_service("collector", [sys.executable, os.path.join(HERE, "services.py"),
                                         "collector", self.records, str(self.collector_port)],
                           self.collector_port)

    def start_haproxy(self):
        servers = "\n".join(f"  server r{i} 127.0.0.1:{p}"
                            for i, p in enumerate(self.replica_ports))
        config = os.path.join(self.work, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(HAPROXY.format(port=self.haproxy_port, stats_port=self.stats_port,
                                   servers=servers, retries=self.retries,
                                   retry_on="all-retryable-errors" if self.retries else "none",
                                   inter=max(100, min(self.poll_ms, 500))))
        check = subprocess.run(["haproxy", "-c", "-f", config], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy -c: {check.stdout}{check.stderr}")
        self.start_service("haproxy", ["haproxy", "-db", "-f", config], self.haproxy_port)
        if not wait_until(lambda: self.haproxy_up() == len(self.replica_ports), 10):
            raise RuntimeError(f"haproxy sees {self.haproxy_up()} replicas up")

    def start_nginx(self, gateway_path):
        config = os.path.join(self.work, "nginx.conf")
        with open(config, "w") as f:
            f.write(NGINX.format(work=self.work, port=self.nginx_port, app_port=self.app_port,
                                 haproxy_port=self.haproxy_port, gateway_path=gateway_path))
        self.start_service("app", [sys.executable, os.path.join(HERE, "services.py"), "app",
                                   "-", str(self.app_port)], self.app_port)
        self.start_service("nginx", ["nginx", "-p", self.work, "-e", os.path.join(
            self.work, "nginx.err"), "-c", config], self.nginx_port)

    def start(self, policy_text, gateway_path=None):
        private = self.make_key()
        self.publish(policy_text, private)
        if self.bundles:
            self.start_service("bundles", [sys.executable, os.path.join(HERE, "services.py"),
                                           "bundles", self.bundle_dir, str(self.bundle_port)],
                               self.bundle_port)
        if self.logship:
            self.start_collector()
        for i in range(len(self.replica_ports)):
            self.start_replica(i)
        self.start_haproxy()
        if self.gateway and gateway_path:
            self.start_nginx(gateway_path)
        return private

    # --- what is running -------------------------------------------------------------------
    @staticmethod
    def port_open(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def stats(self):
        """HAProxy's view of each replica: {"r0": {"status": "UP", "stot": N, ...}, ...}."""
        status, text = get(self.stats_port, "/stats;csv")
        if status != 200:
            return {}
        lines = text.lstrip("# ").splitlines()
        head = lines[0].split(",")
        rows = [dict(zip(head, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r for r in rows if r.get("pxname") == "replicas"
                and r["svname"] != "FRONTEND"}

    def haproxy_errors(self):
        """HAProxy's log lines of requests answered other than 200."""
        path = os.path.join(self.work, "haproxy.err")
        if not os.path.exists(path):
            return []
        return [line.strip() for line in open(path, errors="replace")
                if line.startswith("127.") and "<BADREQ>" not in line
                and not re.search(r" 200 \d+ ", line)]

    def haproxy_up(self):
        return sum(1 for name, r in self.stats().items()
                   if name != "BACKEND" and r.get("status", "").startswith("UP"))

    def served_policy(self, i):
        """Replica i's GET /v1/policy, or {} when it does not answer 200."""
        status, text = get(self.replica_ports[i], "/v1/policy", timeout=1)
        return json.loads(text) if status == 200 else {}

    def served_hash(self, i):
        return self.served_policy(i).get("hash")

    def metric(self, i, name):
        """The sum of replica i's series of a counter in /metrics; -1 without an answer."""
        status, text = get(self.replica_ports[i], "/metrics", timeout=1)
        pattern = rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\d+)$"
        return sum(int(n) for n in re.findall(pattern, text, re.M)) if status == 200 else -1

    def decided(self, i):
        """The decisions replica i has made."""
        return self.metric(i, "clause_decisions_total")
