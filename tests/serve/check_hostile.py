#!/usr/bin/env python3
"""`clause serve` against hostile clients, with raw sockets on 127.0.0.1 only.

Each check is bounded (a few seconds at most) and says what it guards against:
oversized chunked bodies, Range, slow clients, pipelining, ambiguous framing
(request smuggling), Host and Origin (DNS rebinding, CSRF), the admin token, JSON
content types, client half-close, deep JSON in the playground, the connection cap,
and stopping while a reload hangs. Usage: check_hostile.py CLAUSE
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import serve_process  # beside this script

CLAUSE = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="clause-hostile-")
POLICY = os.path.join(WORK, "live.policy")
TOKEN = "hostile-test-token"
READ = b'{"data":{"category":"info"},"requester":{"kind":"company"},"action":"read"}'
servers = []
failures = []


def policy_text(version):
    return (f'policy "live" version "{version}"\nclause "c" "The clause."\ndata info\n'
            'requester company\naction read\nallow read of info by company cites "c"\n')


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


class Server:
    def __init__(self, *flags):
        out = os.path.join(WORK, f"out{len(servers)}")
        self.err = os.path.join(WORK, f"err{len(servers)}")
        self.proc, self.port = serve_process.start(
            [CLAUSE, "serve", "--policy", POLICY, "--port", "0", *flags], out, self.err)
        servers.append(self)
        if self.port is None:
            raise SystemExit(f"the server did not start: {open(self.err).read()}")

    def connect(self, timeout=5):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.settimeout(timeout)
        return s

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def parse(data):
    """Splits bytes into complete responses: [(status, headers, body)]."""
    out = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out
        head = data[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        if len(data) < end + 4 + length:
            return out
        out.append((status, headers, data[end + 4:end + 4 + length].decode("utf-8", "replace")))
        data = data[end + 4 + length:]


def exchange(srv, raw, want=1, timeout=5, half_close=False, await_close=False):
    """Sends raw bytes; reads until `want` responses, the close, or the timeout; with
    `await_close`, also whether the server closes within a second after them.
    Gives (responses, closed, seconds)."""
    s = srv.connect(timeout)
    start = time.time()
    s.sendall(raw)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    data = b""
    closed = False
    try:
        while len(parse(data)) < want:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    seconds = time.time() - start
    # Whether the server closes after it (a refusal must).
    if not closed and await_close:
        try:
            s.settimeout(1)
            closed = s.recv(65536) == b""
        except (socket.timeout, ConnectionResetError, OSError):
            closed = isinstance(sys.exc_info()[1], ConnectionResetError)
    s.close()
    return parse(data), closed, seconds


def request(method, path, body=b"", headers=None, port=None, json=True):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if json and body:
        lines.append("Content-Type: application/json")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if method == "POST" and not any(k.lower() in ("content-length", "transfer-encoding")
                                    for k in (headers or {})):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def one(srv, raw, **kw):
    kw.setdefault("await_close", False)
    got, closed, seconds = exchange(srv, raw, **kw)
    return (got[0] if got else (None, {}, "")), closed, seconds


def main():
    open(POLICY, "w").write(policy_text("a"))
    token_file = os.path.join(WORK, "token")
    open(token_file, "w").write(TOKEN + "\n")
    srv = Server("--max-body", "4096", "--admin-token", token_file, "--header-timeout", "1500",
                 "--drain-timeout", "1000")
    p = srv.port

    # Row 3: a chunked body past --max-body is refused while it is read.
    chunks = b"".join(b"400\r\n" + b" " * 1024 + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
    (status, _, body), closed, _ = one(srv, request(
        "POST", "/v1/decide", chunks, {"Content-Type": "application/json",
                                       "Transfer-Encoding": "chunked"}, p, json=False),
        await_close=True)
    check(status == 413 and "larger than 4096 bytes" in body and closed,
          f"chunked body over --max-body: 413 naming the limit, closed ({status} {body.strip()})")
    s = srv.connect()
    s.sendall(request("POST", "/v1/decide", b"", {"Content-Type": "application/json",
                                                   "Transfer-Encoding": "chunked"}, p, json=False))
    sent, start, chunk = 0, time.time(), b"10000\r\n" + b" " * 65536 + b"\r\n"
    try:
        while sent < (256 << 20) and time.time() - start < 5:
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    s.close()
    check(sent < (32 << 20) and srv.rss_kib() < 200_000,
          f"an endless chunked body is cut off (sent {sent >> 20} MiB, rss {srv.rss_kib()} KiB)")

    # Row 4: no Range support: a thousand ranges get the whole body once, 200.
    plain, _, _ = one(srv, request("GET", "/v1/policy", port=p))
    ranges = "bytes=" + ",".join(["0-"] * 2700)
    (status, headers, body), _, _ = one(srv, request("GET", "/v1/policy", headers={"Range": ranges},
                                                     port=p))
    check(status == 200 and body == plain[2] and "multipart" not in headers.get("content-type", ""),
          f"Range with 2,700 ranges: 200 and the plain body ({status}, {len(body)} bytes)")

    # Row 5: slow clients hold no worker: sixteen dribbling connections, others served.
    slow = []
    for _ in range(16):
        c = srv.connect()
        c.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(c)
    stop_dribble = threading.Event()

    def dribble():
        while not stop_dribble.wait(0.3):
            for c in slow:
                try:
                    c.sendall(b"X")
                except OSError:
                    pass
    t = threading.Thread(target=dribble)
    t.start()
    (status, _, _), _, seconds = one(srv, request("GET", "/healthz", port=p))
    check(status == 200 and seconds < 1, f"16 slow clients: another is served ({seconds:.2f} s)")
    time.sleep(2.5)  # past --header-timeout 1500
    stop_dribble.set()
    t.join()
    dropped = 0
    for c in slow:
        c.settimeout(1)
        try:
            dropped += c.recv(100) == b""
        except (socket.timeout, ConnectionResetError):
            dropped += isinstance(sys.exc_info()[1], ConnectionResetError)
        c.close()
    check(dropped == 16, f"slow headers are cut at --header-timeout ({dropped} of 16 closed)")

    # Row 9: four pipelined requests in one write: four answers, in order, at once.
    raw = (request("GET", "/healthz", port=p) + request("POST", "/v1/decide", READ, port=p) +
           request("GET", "/v1/policy", port=p) + request("GET", "/nowhere", port=p))
    got, _, seconds = exchange(srv, raw, want=4)
    statuses = [g[0] for g in got]
    check(statuses == [200, 200, 200, 404] and '"decision":"allow"' in got[1][2] and seconds < 1,
          f"four pipelined requests: answered in order ({statuses}, {seconds:.2f} s)")

    # Row 10: ambiguous framing is refused and the connection closed (no smuggling).
    smuggle = {
        "two different Content-Length": "Content-Length: 5\r\nContent-Length: 50",
        "two equal Content-Length": "Content-Length: 5\r\nContent-Length: 5",
        "Content-Length: abc": "Content-Length: abc",
        "Content-Length: -1": "Content-Length: -1",
        "Transfer-Encoding and Content-Length": "Transfer-Encoding: chunked\r\nContent-Length: 5",
        "Content-Length and Transfer-Encoding": "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked": "Transfer-Encoding: gzip, chunked",
    }
    for name, fields in smuggle.items():
        raw = (f"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1:{p}\r\nContent-Type: application/json"
               f"\r\n{fields}\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        got, closed, _ = exchange(srv, raw, want=2, timeout=3, await_close=True)
        check([g[0] for g in got] == [400] and closed,
              f"{name}: one 400, then closed ({[g[0] for g in got]}, closed {closed})")

    # Headers over the limit: 431.
    (status, _, body), closed, _ = one(srv, request("GET", "/healthz", headers={"X-Big": "a" * 20000},
                                                    port=p), await_close=True)
    check(status == 431 and closed, f"a 20 KB header: 431 ({status} {body.strip()})")

    # Row 12: a client that half-closes after its request still gets the answer.
    (status, _, body), _, _ = one(srv, request("POST", "/v1/decide", READ, port=p), half_close=True)
    check(status == 200 and '"decision":"allow"' in body, f"half-close: answered ({status})")

    # Row 8: JSON routes want JSON: a form body (curl -d) is 415, whatever its size.
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    (status, _, body), _, _ = one(srv, request("POST", "/v1/decide/batch", b"[" + b" " * 100 +
                                               b"]", form, p, json=False))
    check(status == 415 and "application/json" in body,
          f"form content type: 415 naming application/json ({status})")
    (status, _, body), _, _ = one(srv, request("POST", "/v1/decide", READ, port=p, json=False))
    check(status == 415, f"no content type: 415 ({status})")
    (status, _, body), _, _ = one(srv, request("POST", "/v1/decide", READ,
                                               {"Content-Type": "Application/JSON; charset=utf-8"},
                                               p, json=False))
    check(status == 200, f"application/json with a charset: 200 ({status})")

    # Row 11 and the admin token: who may reload.
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    reload_cases = [
        ("no token", {}, True, None, 401, "Authorization"),
        ("a wrong token", {"Authorization": "Bearer nope"}, True, None, 403, "token"),
        ("a shorter token", {"Authorization": "Bearer " + TOKEN[:-1]}, True, None, 403, "token"),
        ("Host: evil.example", bearer, True, "evil.example", 403, "Host"),
        ("a foreign Origin", dict(bearer, Origin="http://evil.example"), True, None, 403,
         "Origin"),
        ("a cross-origin simple POST",
         {"Origin": "http://evil.example", "Content-Type": "text/plain"}, False, None, 403,
         "Origin"),
        ("Origin: null", dict(bearer, Origin="null"), True, None, 403, "Origin"),
        ("a form body", dict(bearer, **form), False, None, 415, "application/json"),
        ("the token, same origin", dict(bearer, Origin=f"http://localhost:{p}"), True, None, 200,
         '"reloaded":true'),
    ]
    for name, headers, json, host, want, says in reload_cases:
        raw = request("POST", "/v1/reload", b"{}", headers, p, json=json)
        if host:
            raw = raw.replace(f"Host: 127.0.0.1:{p}".encode(), f"Host: {host}".encode())
        (status, _, body), _, _ = one(srv, raw)
        check(status == want and says in body, f"reload with {name}: {want} ({status} {body.strip()})")
    # The decide routes do not care about Host (a proxy may name itself).
    raw = request("POST", "/v1/decide", READ, port=p).replace(f"Host: 127.0.0.1:{p}".encode(),
                                                              b"Host: decisions.internal")
    (status, _, _), _, _ = one(srv, raw)
    check(status == 200, f"decide through any Host: 200 ({status})")

    # Graceful stop: an idle keep-alive connection and a half-sent request do not hold it
    # past --drain-timeout (1000 ms).
    idle = srv.connect()
    idle.sendall(request("GET", "/healthz", port=p))
    idle.recv(1000)
    half = srv.connect()
    half.sendall(b"GET /healthz HTTP/1.1\r\n")
    start = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    try:
        code = srv.proc.wait(5)
    except subprocess.TimeoutExpired:
        code = None
    seconds = time.time() - start
    check(code == 0 and seconds < 2.5, f"SIGTERM with open connections: exit 0 ({code}, {seconds:.2f} s)")
    idle.close()
    half.close()

    # Without --admin-token there is no reload route at all.
    srv = Server()
    (status, _, _), _, _ = one(srv, request("POST", "/v1/reload", b"{}", port=srv.port))
    check(status == 404, f"reload without --admin-token: 404 ({status})")
    srv.stop()

    # The connection cap: past it, a 503 and a close; the others stay served.
    srv = Server("--max-connections", "4")
    held = [srv.connect() for _ in range(4)]
    time.sleep(0.2)
    (status, _, _), closed, _ = one(srv, b"", await_close=True)
    check(status == 503 and closed, f"a fifth connection over --max-connections 4: 503 ({status})")
    held[0].sendall(request("GET", "/healthz", port=srv.port))
    check(held[0].recv(1000).startswith(b"HTTP/1.1 200"), "the connections within the cap are served")
    for c in held:
        c.close()
    srv.stop()

    # Row 2 and the playground's own rules: Host, Origin, JSON, deep requests.
    check(subprocess.run([CLAUSE, "serve", "--policy", POLICY, "--host", "0.0.0.0", "--playground"],
                         capture_output=True, timeout=10).returncode == 64,
          "--playground on a non-loopback --host is refused (64)")
    srv = Server("--playground")
    p = srv.port
    # Row 8: a form body over 8 KB (curl -d @batch.json) is 415, not a 413 with a wrong limit.
    (status, _, body), _, _ = one(srv, request("POST", "/v1/decide/batch", b"[" + b" " * 9000 +
                                               b"]", form, p, json=False))
    check(status == 415 and "application/json" in body,
          f"form content type, 9,000 bytes: 415 naming application/json ({status})")
    deep = b'{"policy":' + b'"' + policy_text("a").replace("\n", "\\n").replace('"', '\\"').encode() + \
        b'","request":' + b"[" * 100000 + b"]" * 100000 + b"}"
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/decide", deep, port=p),
                                   timeout=10)
    check(status == 400 and "nested more than 8 levels" in body,
          f"playground decide, request 100,000 arrays deep: 400 naming the limit ({status} {body.strip()[:80]})")
    # AuthZEN payloads: depth bounded before any parse, stray bytes and odd shapes refused.
    deep_authzen = b'{"subject":' + b"[" * 100000 + b"]" * 100000 + b"}"
    for path in ("/access/v1/evaluation", "/access/v1/evaluations"):
        (status, _, body), _, _ = one(srv, request("POST", path, deep_authzen, port=p), timeout=10)
        check(status == 400 and "nests deeper" in body,
              f"AuthZEN {path}, 100,000 arrays deep: 400 naming the limit ({status} {body.strip()[:80]})")
    bad_utf8 = b'{"subject":{"type":"\xff\xfe"},"action":{"name":"a"},"resource":{"type":"b"}}'
    (status, _, body), _, _ = one(srv, request("POST", "/access/v1/evaluation", bad_utf8, port=p))
    check(status == 400, f"AuthZEN, invalid UTF-8: 400 ({status} {body.strip()[:80]})")
    many = b'{"evaluations":[' + b",".join([b"{}"] * 20000) + b"]}"
    (status, _, body), _, _ = one(srv, request("POST", "/access/v1/evaluations", many, port=p))
    check(status == 400 and "at most" in body,
          f"AuthZEN, 20,000 items over --max-batch: 400 ({status} {body.strip()[:80]})")
    # Plans read requests as decide does: depth and size bounded before anything is planned.
    deep_plan = b'{"requester":{"kind":"company"},"action":"read","unknown":' + b"[" * 100000 + \
        b"]" * 100000 + b"}"
    (status, _, body), _, _ = one(srv, request("POST", "/v1/plan", deep_plan, port=p), timeout=10)
    check(status == 400 and "unknown[0]: expected a field's name, found an array" in body,
          f"plan, unknown 100,000 arrays deep: 400 at the first ({status} {body.strip()[:80]})")
    deep_plan = b'{"requester":{"kind":"company"},"action":"read","unknown":["data"],"context":' + \
        b'{"x":' * 100000 + b"1" + b"}" * 100000 + b"}"
    (status, _, body), _, _ = one(srv, request("POST", "/v1/plan", deep_plan, port=p), timeout=10)
    check(status == 400 and "error" in body,
          f"plan, context 100,000 objects deep: 400 ({status} {body.strip()[:80]})")
    # A plan's request may come as JSON text, which the request reader reads without
    # recursion and stops at its first mistake.
    deep_text = deep.replace(b'"request":' + b"[" * 100000 + b"]" * 100000,
                             b'"request":"' + b"[" * 100000 + b"]" * 100000 + b'"')
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/plan", deep_text, port=p),
                                   timeout=10)
    check(status == 400 and '"position":{"column":1,"line":1}' in body,
          f"playground plan, request text 100,000 arrays deep: 400 at 1:1 ({status} {body.strip()[:80]})")
    (status, _, _), _, _ = one(srv, request("GET", "/healthz", port=p))
    check(status == 200 and srv.proc.poll() is None, "the server lives on after the deep request")
    for path in ("/", "/v1/playground/source", "/playground/playground.js"):
        raw = request("GET", path, port=p).replace(f"Host: 127.0.0.1:{p}".encode(),
                                                  b"Host: evil.example:80")
        (status, _, body), _, _ = one(srv, raw)
        check(status == 403 and "Host" in body, f"GET {path} with Host: evil.example: 403 ({status})")
    small = b'{"policy":"policy \\"x\\" version \\"1\\"\\n"}'
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/compile", small,
                                               {"Origin": "http://evil.example"}, p))
    check(status == 403 and "Origin" in body, f"playground compile from another origin: 403 ({status})")
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/compile", small,
                                               {"Origin": f"http://127.0.0.1:{p}"}, p))
    check(status == 200, f"playground compile from its own origin: 200 ({status})")
    # A posted policy reads no file of the server's, not even one next to the served policy.
    reads = b'{"policy":"policy \\"x\\" version \\"1\\"\\ndocument users from \\"privacy.policy\\"\\n"}'
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/compile", reads,
                                               {"Origin": f"http://127.0.0.1:{p}"}, p))
    check(status == 200 and "documents cannot be read here" in body,
          f"playground compile of a policy with a document: refused to read it ({status} {body.strip()[:120]})")
    (status, _, body), _, _ = one(srv, request("POST", "/v1/playground/compile", small,
                                               {"Content-Type": "text/plain"}, p, json=False))
    check(status == 415 and "application/json" in body, f"playground compile as text/plain: 415 ({status})")
    srv.stop()

    # Row 6: a reload that hangs (the policy file replaced by a FIFO nobody writes) holds
    # neither the health check, nor decisions, nor SIGTERM past --drain-timeout.
    srv = Server("--admin-token", token_file, "--drain-timeout", "1000")
    p = srv.port
    os.remove(POLICY)
    os.mkfifo(POLICY)
    hanging = srv.connect()
    hanging.sendall(request("POST", "/v1/reload", b"{}", bearer, p))
    srv.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    (status, _, _), _, seconds = one(srv, request("GET", "/healthz", port=p))
    check(status == 200 and seconds < 1, f"health while a reload hangs: 200 ({seconds:.2f} s)")
    (status, _, body), _, seconds = one(srv, request("POST", "/v1/decide", READ, port=p))
    check(status == 200 and seconds < 1, f"decide while a reload hangs: 200 ({seconds:.2f} s)")
    start = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    try:
        code = srv.proc.wait(6)
    except subprocess.TimeoutExpired:
        code = None
    seconds = time.time() - start
    check(code == 0 and seconds < 3, f"SIGTERM while a reload hangs: exit 0 ({code}, {seconds:.2f} s)")
    hanging.close()


try:
    main()
finally:
    for s in servers:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
    if os.path.exists(POLICY) and not os.path.isfile(POLICY):
        os.remove(POLICY)
    subprocess.run(["rm", "-rf", WORK])
if failures:
    print(f"serve.hostile: {len(failures)} failed")
    sys.exit(1)
print("serve.hostile: all checks passed")
