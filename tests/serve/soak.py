#!/usr/bin/env python3
"""A bounded soak test of `clause serve`, on 127.0.0.1 only.

For --seconds N (180 by default; --quick: 10), several client processes send valid
decisions (single and batch, each answer checked against the version of the policy it
cites) and plans (each checked against `clause plan` on one of the versions), mixed with
hostile HTTP and partial requests that are not valid (garbage, truncated and ambiguous framing, bodies over the
limit, deep JSON, wrong content types, pipelined bursts, half-closes, slow dribbling
clients, reloads with a bad Host, Origin or token), while the policy is reloaded again and
again (by HTTP and by SIGHUP, alternating two versions, and now and then a broken file
that must be refused). Every second the server's RSS is sampled (under 200 MB) and
/healthz must answer. At the end the server gets SIGTERM and must exit 0; its decision
log must hold exactly the decisions it answered, by version and decision, and agree with
/metrics, with nothing dropped or lost.

Usage: soak.py CLAUSE [--seconds N | --quick] [--workers N] [--seed N] [--max-rss-mb N]
Exits 1 with FAIL lines on any violation.
"""
import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import serve_process  # beside this script

TOKEN = "soak-admin-token"
IO_TIMEOUT = 10.0  # every socket operation
SLOW_CLIENTS = 4  # threads that dribble, besides the client processes
HEADER_TIMEOUT_MS = 3000  # the server's --header-timeout, so that stalled clients end soon
MAX_BODY = 1 << 20  # the server's --max-body (its default)
DEEP = 100_000  # levels of nesting in the deep JSON bodies

# Two versions of one policy: every (data, requester, action, consent) below is decided
# differently by at least one of them, so an answer shows which version decided it.
POLICY_HEAD = '''policy "soak" version "{version}"
clause "c1" "Reading."
clause "c2" "Sharing."
clause "default" "Anything else is refused."
data info
data contact
requester company
requester partner
action read, share
consent marketing cites "c2"
'''
RULES = {
    "a": '''allow read of info by company cites "c1"
deny read of contact by company cites "c1"
allow read of contact by partner cites "c1"
require consent marketing for share of info by partner cites "c2"
otherwise deny cites "default"
''',
    "b": '''deny read of info by company cites "c1"
allow read of contact by company cites "c1"
allow share of info by partner cites "c2"
require consent marketing for share of contact by partner cites "c2"
otherwise deny cites "default"
''',
}
BROKEN = 'policy "soak" versio "broken"\nclause "c1" "Reading."\n'


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def policy_text(version):
    return POLICY_HEAD.format(version=version) + RULES[version]


def templates():
    out = []
    for data in ("info", "contact"):
        for kind in ("company", "partner"):
            for action in ("read", "share"):
                for consent in ([], ["marketing"]):
                    req = {"data": {"category": data}, "requester": {"kind": kind, "id": "x"},
                           "action": action}
                    if consent:
                        req["context"] = {"consent": consent}
                    out.append(req)
    return out


# Requests that cannot be decided: answered 400 with a denial citing `default`.
INVALID_BODIES = [
    b'{"data":{"category":"secret"},"requester":{"kind":"company"},"action":"read"}',
    b'{"data":',
    b'not json',
    b'{"data":{"category":"info"},"requester":{"kind":"company"},"action":5}',
    b'{"data":{"category":"info"},"requester":{"kind":"nobody"},"action":"read"}',
    b'{}',
    b'[]',
    b'{"data":{"category":"info"},"requester":{"kind":"company"},"action":"read"}\x00',
    b'{"data":{"category":"info"},"requester":{"kind":"company"},"action":"read"} trailing',
]


# ---------------------------------------------------------------------------------------
# HTTP on raw sockets

class Closed(Exception):
    pass


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
    s.settimeout(IO_TIMEOUT)
    return s


def request(method, path, port, body=b"", headers=None, ctype="application/json", host=None,
            length=True):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    for k, v in (headers or []):
        lines.append(f"{k}: {v}")
    if length and method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Conn:
    """One connection and the bytes read past the last answer."""

    def __init__(self, port):
        self.sock = connect(port)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def read_answer(self):
        """One whole answer: (status, headers, body). Raises Closed, socket.timeout."""
        deadline = time.monotonic() + 2 * IO_TIMEOUT
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = self.buf[:end].decode("latin-1").split("\r\n")
                parts = head[0].split(" ", 2)
                if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
                    raise Closed(f"not an HTTP answer: {head[0][:80]!r}")
                headers = {}
                for line in head[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                if "transfer-encoding" in headers:
                    raise Closed("a chunked answer")  # the server always sends a length
                length = int(headers.get("content-length", "0"))
                if len(self.buf) >= end + 4 + length:
                    body = self.buf[end + 4:end + 4 + length]
                    self.buf = self.buf[end + 4 + length:]
                    return int(parts[1]), headers, body
            if time.monotonic() > deadline:
                raise socket.timeout("answer too slow")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("closed before a whole answer")
            self.buf += chunk

    def closes_soon(self, seconds=2.0):
        """Whether the server closes the connection within `seconds` (after its answers)."""
        self.sock.settimeout(seconds)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except (socket.timeout, OSError):
            return False
        finally:
            self.sock.settimeout(IO_TIMEOUT)


# ---------------------------------------------------------------------------------------
# Checking decisions

class Oracle:
    """The expected decision of each template under each version, from `clause eval`."""

    def __init__(self, clause, work):
        self.templates = templates()
        self.expected = {}
        self.hashes = {}
        lines = "".join(json.dumps(t) + "\n" for t in self.templates)
        for v in RULES:
            path = os.path.join(work, f"{v}.policy")
            self.hashes[v] = "sha256:" + hashlib.sha256(open(path, "rb").read()).hexdigest()
            run = subprocess.run([clause, "eval", "--policy", path, "--jsonl", "-"], input=lines,
                                 capture_output=True, text=True, timeout=60)
            answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
            if len(answers) != len(self.templates):
                raise SystemExit(f"FAIL: clause eval gave {len(answers)} answers: {run.stderr}")
            for i, a in enumerate(answers):
                if a.get("error"):
                    raise SystemExit(f"FAIL: template {i} is not valid: {a}")
                a.pop("policy_version", None)
                a.pop("policy_hash", None)
                a.pop("schema_version", None)  # the CLI's versioned shape; the service's is its own
                self.expected[(v, i)] = a
        # Plans: for each partial request, the plans of both versions (a plan names none).
        self.partials = [{"requester": {"kind": kind}, "action": action,
                          "unknown": ["data", "context.consent"]}
                         for kind in ("company", "partner") for action in ("read", "share")]
        self.plans = {}
        for v in RULES:
            path = os.path.join(work, f"{v}.policy")
            for i, partial in enumerate(self.partials):
                run = subprocess.run([clause, "plan", "--policy", path, "--format", "json", "-"],
                                     input=json.dumps(partial), capture_output=True, text=True,
                                     timeout=60)
                if run.returncode != 0:
                    raise SystemExit(f"FAIL: clause plan: {run.stderr}")
                self.plans.setdefault(i, set()).add(canonical(json.loads(run.stdout)))
        differ = sum(self.expected[("a", i)]["decision"] != self.expected[("b", i)]["decision"]
                     for i in range(len(self.templates)))
        if differ < 4:
            raise SystemExit(f"FAIL: versions a and b differ on only {differ} templates")

    def body(self, i, tag):
        req = json.loads(json.dumps(self.templates[i]))
        req["requester"]["id"] = tag
        return json.dumps(req, separators=(",", ":")).encode()

    def check(self, i, answer):
        """None when the answer is exactly version's decision of template i, else why."""
        if not isinstance(answer, dict):
            return f"not an object: {answer!r:.200}"
        v = answer.get("policy_version")
        if v not in RULES:
            return f"unknown policy_version {v!r}: {answer!r:.300}"
        if answer.get("policy_hash") != self.hashes[v]:
            return f"version {v} with hash {answer.get('policy_hash')}"
        got = {k: val for k, val in answer.items() if k not in ("policy_version", "policy_hash")}
        if got != self.expected[(v, i)]:
            return f"template {i}, version {v}: got {got}, expected {self.expected[(v, i)]}"
        return None


class Tally:
    """What one client sent and saw; merged in the parent at the end."""

    def __init__(self):
        self.kinds = collections.Counter()  # requests by kind
        self.valid = collections.Counter()  # (version, decision) of valid answers, 200
        self.denied = collections.Counter()  # (version, decision) of hostile answers decided
        self.tags = collections.Counter()  # requester.id -> valid decisions answered
        self.failures = collections.Counter()  # violation -> times seen

    def fail(self, what):
        # Alike violations are counted, not repeated; a few hundred distinct ones at most.
        if what in self.failures or len(self.failures) < 200:
            self.failures[what] += 1

    def merge(self, other):
        self.kinds.update(other.kinds)
        self.valid.update(other.valid)
        self.denied.update(other.denied)
        self.tags.update(other.tags)
        for what, n in other.failures.items():
            if what in self.failures or len(self.failures) < 200:
                self.failures[what] += n

    def as_dict(self):
        return {"kinds": dict(self.kinds), "valid": list(self.valid.items()),
                "denied": list(self.denied.items()), "tags": dict(self.tags),
                "failures": list(self.failures.items())}

    @staticmethod
    def from_dict(d):
        t = Tally()
        t.kinds.update(d["kinds"])
        t.valid.update({tuple(k): n for k, n in d["valid"]})
        t.denied.update({tuple(k): n for k, n in d["denied"]})
        t.tags.update(d["tags"])
        t.failures.update(dict(d["failures"]))
        return t


def json_body(body, what):
    try:
        return json.loads(body)
    except ValueError:
        raise Closed(f"{what}: the answer is not JSON: {body[:200]!r}")


def check_invalid_answer(tally, status, body, what):
    """A request that cannot be decided: 400, a denial citing `default`, with an error."""
    d = json_body(body, what)
    if status != 400 or d.get("decision") != "deny" or d.get("clause") != "default" or \
            not d.get("error") or d.get("policy_version") not in RULES:
        tally.fail(f"{what}: expected a 400 denial with an error, got {status} {body[:300]!r}")
    tally.denied[(d.get("policy_version"), d.get("decision"))] += 1


# ---------------------------------------------------------------------------------------
# The client processes

class Client:
    def __init__(self, index, port, oracle, seed):
        self.index = index
        self.tag = f"w{index}"
        self.port = port
        self.oracle = oracle
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.conn = None

    # A keep-alive connection for the valid traffic; reopened when the server closes it.
    def keepalive(self):
        if self.conn is None:
            self.conn = Conn(self.port)
        return self.conn

    def drop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def valid_exchange(self, raw, items, what, record=None):
        """Sends one valid call (items: the templates it holds, None for one decide) and
        checks its answer (with `record`, when it is not a decision)."""
        for attempt in (0, 1):
            conn = self.keepalive()
            try:
                conn.sock.sendall(raw)
                status, _, body = conn.read_answer()
                break
            except (Closed, BrokenPipeError, ConnectionResetError) as e:
                # An idle keep-alive connection may have been closed by the server just
                # before this request; only a fresh connection that fails is a failure.
                self.drop()
                if attempt == 1 or conn.buf:
                    self.tally.fail(f"{what}: {e}")
                    return
            except socket.timeout:
                self.drop()
                self.tally.fail(f"{what}: no answer within {2 * IO_TIMEOUT:.0f} s")
                return
        (record or self.record_valid)(status, body, items, what)
        if self.rng.random() < 0.03:
            self.drop()  # now and then a fresh connection

    def record_valid(self, status, body, items, what, tag=None):
        tag = tag or self.tag
        if status != 200:
            self.tally.fail(f"{what}: status {status}: {body[:300]!r}")
            return
        try:
            answer = json.loads(body)
        except ValueError:
            self.tally.fail(f"{what}: not JSON: {body[:300]!r}")
            return
        if items is None:
            answers, items = [answer], [None]
        else:
            answers = answer.get("decisions") if isinstance(answer, dict) else None
            if not isinstance(answers, list) or len(answers) != len(items):
                self.tally.fail(f"{what}: {len(items)} items, answer {body[:300]!r}")
                return
            versions = {a.get("policy_version") for a in answers if isinstance(a, dict)}
            if len(versions) > 1:
                self.tally.fail(f"{what}: one batch decided by versions {sorted(versions)}")
        for i, a in zip(items, answers):
            why = self.oracle.check(self.single if i is None else i, a)
            if why:
                self.tally.fail(f"{what}: {why}")
            if isinstance(a, dict):
                self.tally.valid[(a.get("policy_version"), a.get("decision"))] += 1
                self.tally.tags[tag] += 1

    def decide(self):
        self.single = self.rng.randrange(len(self.oracle.templates))
        raw = request("POST", "/v1/decide", self.port, self.oracle.body(self.single, self.tag))
        self.valid_exchange(raw, None, "decide")

    def plan(self):
        i = self.rng.randrange(len(self.oracle.partials))
        body = json.dumps(self.oracle.partials[i]).encode()
        self.valid_exchange(request("POST", "/v1/plan", self.port, body), i, "plan",
                            self.record_plan)

    def record_plan(self, status, body, i, what):
        try:
            answer = canonical(json.loads(body)) if status == 200 else None
        except ValueError:
            answer = None
        if answer not in self.oracle.plans[i]:
            self.tally.fail(f"{what} {i}: {status} {body[:300]!r}")

    def batch_body(self, n):
        items = [self.rng.randrange(len(self.oracle.templates)) for _ in range(n)]
        body = b"[" + b",".join(self.oracle.body(i, self.tag) for i in items) + b"]"
        return items, body

    def batch(self):
        n = self.rng.choice([0, 1, 2, 3, 5, 8, 10, 10, 20])
        items, body = self.batch_body(n)
        self.valid_exchange(request("POST", "/v1/decide/batch", self.port, body), items, "batch")

    def authzen(self):
        """An AuthZEN evaluations call: the same templates, each item its own subject."""
        items = [self.rng.randrange(len(self.oracle.templates))
                 for _ in range(self.rng.choice([1, 2, 5, 10]))]
        evaluations = []
        for i in items:
            t = self.oracle.templates[i]
            e = {"subject": {"type": t["requester"]["kind"], "id": self.tag},
                 "action": {"name": t["action"]}, "resource": {"type": t["data"]["category"]}}
            if "context" in t:
                e["context"] = t["context"]
            evaluations.append(e)
        body = json.dumps({"evaluations": evaluations}, separators=(",", ":")).encode()
        self.valid_exchange(request("POST", "/access/v1/evaluations", self.port, body), items,
                            "authzen", self.record_authzen)

    def record_authzen(self, status, body, items, what):
        try:
            answers = json.loads(body).get("evaluations") if status == 200 else None
        except ValueError:
            answers = None
        if not isinstance(answers, list) or len(answers) != len(items):
            self.tally.fail(f"{what}: {status} {body[:300]!r}")
            return
        versions = set()
        for i, a in zip(items, answers):
            context = a.get("context", {}) if isinstance(a, dict) else {}
            policy = context.get("policy", {})
            v = policy.get("version")
            versions.add(v)
            if v not in RULES or policy.get("hash") != self.oracle.hashes[v]:
                self.tally.fail(f"{what}: policy {policy!r:.200}")
                continue
            expected = self.oracle.expected[(v, i)]
            if (a.get("decision") != (expected["decision"] == "allow")
                    or context.get("effect") != expected["decision"]
                    or context.get("clause") != expected["clause"]):
                self.tally.fail(f"{what}: template {i}, version {v}: got {a}, expected {expected}")
            self.tally.valid[(v, expected["decision"])] += 1
            self.tally.tags[self.tag] += 1
        if len(versions) > 1:
            self.tally.fail(f"{what}: one batch decided by versions {sorted(versions, key=str)}")

    # Hostile calls, each on a connection of its own.
    def hostile(self, kind):
        conn = Conn(self.port)
        try:
            getattr(self, "h_" + kind.replace("-", "_"))(conn)
        except socket.timeout:
            self.tally.fail(f"{kind}: no answer within {IO_TIMEOUT:.0f} s")
        except Closed as e:
            self.tally.fail(f"{kind}: {e}")
        finally:
            conn.close()

    def refused(self, conn, kind, statuses, must_close=True, reset_ok=False):
        """Reads one refusal: its status must be one of `statuses`, and, when asked, the
        server must close the connection after it."""
        try:
            status, _, body = conn.read_answer()
        except (ConnectionResetError, BrokenPipeError, Closed) as e:
            if not reset_ok:
                self.tally.fail(f"{kind}: no answer ({e})")
            return None
        if status not in statuses:
            self.tally.fail(f"{kind}: expected {statuses}, got {status} {body[:200]!r}")
        elif must_close and not conn.closes_soon():
            self.tally.fail(f"{kind}: {status}, but the connection stayed open")
        return status

    def h_garbage(self, conn):
        junk = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 4096)))
        if self.rng.random() < 0.5:
            conn.sock.sendall(junk + b"\r\n\r\n")
        else:
            conn.sock.sendall(junk)
            conn.sock.shutdown(socket.SHUT_WR)
        # Either a 4xx and a close, or a close without an answer; never anything else.
        try:
            status, _, body = conn.read_answer()
        except (Closed, ConnectionResetError):
            return
        if not 400 <= status < 500:
            self.tally.fail(f"garbage: answered {status} {body[:200]!r}")
        elif not conn.closes_soon():
            self.tally.fail(f"garbage: {status}, but the connection stayed open")

    def h_truncated_header(self, conn):
        raw = request("POST", "/v1/decide", self.port, self.oracle.body(0, "h"))
        cut = raw[:self.rng.randint(1, raw.index(b"\r\n\r\n") + 2)]
        conn.sock.sendall(cut)
        if self.rng.random() < 0.5:
            return  # the client goes away
        conn.sock.shutdown(socket.SHUT_WR)
        try:
            status, _, body = conn.read_answer()
            if not 400 <= status < 500:
                self.tally.fail(f"truncated header: answered {status} {body[:200]!r}")
        except (Closed, ConnectionResetError):
            pass

    def framed(self, fields, body=b"0\r\n\r\n"):
        return (f"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Content-Type: application/json\r\n{fields}\r\n\r\n").encode() + body

    def h_huge_length(self, conn):
        n = self.rng.choice(["99999999999", "18446744073709551615", "184467440737095516160",
                             str(MAX_BODY + 1)])
        conn.sock.sendall(self.framed(f"Content-Length: {n}", b"{"))
        self.refused(conn, "huge Content-Length", (400, 413))

    def h_invalid_length(self, conn):
        n = self.rng.choice(["abc", "-1", "1.5", "0x10", "5 5", "+5", ""])
        conn.sock.sendall(self.framed(f"Content-Length: {n}"))
        self.refused(conn, f"Content-Length: {n!r}", (400,))

    def h_duplicate_length(self, conn):
        a, b = self.rng.choice([(5, 5), (5, 50), (0, 5)])
        conn.sock.sendall(self.framed(f"Content-Length: {a}\r\nContent-Length: {b}"))
        self.refused(conn, "two Content-Length", (400,))

    def h_te_cl(self, conn):
        fields = self.rng.choice(["Transfer-Encoding: chunked\r\nContent-Length: 5",
                                  "Content-Length: 5\r\nTransfer-Encoding: chunked",
                                  "Transfer-Encoding: gzip, chunked",
                                  "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"])
        conn.sock.sendall(self.framed(fields))
        self.refused(conn, f"framing {fields!r}", (400, 501))

    def h_chunked_over_limit(self, conn):
        conn.sock.sendall(self.framed("Transfer-Encoding: chunked", b""))
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        try:
            for _ in range(MAX_BODY // 0x10000 + 2):
                conn.sock.sendall(chunk)
            conn.sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while it was sent
        # A reset may overtake the answer when unread bytes remain at the close.
        self.refused(conn, "chunked body over --max-body", (413,), reset_ok=True)

    def h_oversized_body(self, conn):
        body = b" " * (MAX_BODY + self.rng.choice([1, 1000, MAX_BODY]))
        try:
            conn.sock.sendall(request("POST", self.rng.choice(["/v1/decide", "/v1/decide/batch"]),
                                      self.port, body))
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.refused(conn, "body over --max-body", (413,), reset_ok=True)

    def h_big_header(self, conn):
        conn.sock.sendall(request("GET", "/healthz", self.port,
                                  headers=[("X-Big", "a" * 20000)], ctype=None))
        self.refused(conn, "a 20 KB header", (431,), reset_ok=True)

    def h_deep_json(self, conn):
        opener, closer = self.rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
        body = opener * DEEP + b"1" + closer * DEEP
        path = self.rng.choice(["/v1/decide", "/v1/decide/batch"])
        if path.endswith("batch"):
            body = b"[" + body + b"]"
        conn.sock.sendall(request("POST", path, self.port, body))
        status, _, answer = conn.read_answer()
        what = f"{DEEP:,} levels of JSON to {path}"
        if path == "/v1/decide":
            check_invalid_answer(self.tally, status, answer, what)
            return
        # A batch: its one item is denied for its depth.
        d = json_body(answer, what)
        items = d.get("decisions") if isinstance(d, dict) else None
        if status != 200 or not isinstance(items, list) or len(items) != 1 or \
                items[0].get("decision") != "deny" or not items[0].get("error"):
            self.tally.fail(f"{what}: {status} {answer[:300]!r}")
        for a in items or []:
            self.tally.denied[(a.get("policy_version"), a.get("decision"))] += 1

    def h_invalid_request(self, conn):
        body = self.rng.choice(INVALID_BODIES)
        conn.sock.sendall(request("POST", "/v1/decide", self.port, body))
        status, _, answer = conn.read_answer()
        check_invalid_answer(self.tally, status, answer, f"invalid request {body[:40]!r}")

    def h_bad_plan(self, conn):
        body = self.rng.choice(INVALID_BODIES + [
            b'{"requester":{"kind":"company"},"action":"read","unknown":["data.nowhere"]}',
            b'{"requester":{"kind":"company"},"action":"read","unknown":"data"}',
            b'{"data":{"category":"info"},"requester":{"kind":"company"},"action":"read",'
            b'"unknown":["data"]}'])
        conn.sock.sendall(request("POST", "/v1/plan", self.port, body))
        status, _, answer = conn.read_answer()
        if status != 400 or not json_body(answer, "bad plan").get("error"):
            self.tally.fail(f"bad plan {body[:40]!r}: expected 400 with an error, got {status} "
                            f"{answer[:300]!r}")

    def h_wrong_content_type(self, conn):
        ctype = self.rng.choice(["text/plain", "application/x-www-form-urlencoded", None,
                                 "application/jsonx", "multipart/form-data; boundary=x"])
        path = self.rng.choice(["/v1/decide", "/v1/decide/batch"])
        conn.sock.sendall(request("POST", path, self.port, self.oracle.body(0, "h"), ctype=ctype))
        self.refused(conn, f"content type {ctype!r}", (415,), must_close=False)

    def h_bad_reload(self, conn):
        bearer = ("Authorization", f"Bearer {TOKEN}")
        cases = [
            ("no token", [], None, 401),
            ("a wrong token", [("Authorization", "Bearer nope")], None, 403),
            ("a longer token", [("Authorization", f"Bearer {TOKEN}x")], None, 403),
            ("Host: evil.example", [bearer], "evil.example", 403),
            ("no port in Host", [bearer], "127.0.0.1", 403),
            ("a foreign Origin", [bearer, ("Origin", "http://evil.example")], None, 403),
            ("Origin: null", [bearer, ("Origin", "null")], None, 403),
        ]
        name, headers, host, want = self.rng.choice(cases)
        conn.sock.sendall(request("POST", "/v1/reload", self.port, b"{}", headers, host=host))
        self.refused(conn, f"reload with {name}", (want,), must_close=False)

    def h_other_route(self, conn):
        method, path = self.rng.choice([("GET", "/v1/decide"), ("DELETE", "/v1/decide"),
                                        ("GET", "/nowhere"), ("PUT", "/v1/reload"),
                                        ("GET", "/../../etc/passwd"), ("POST", "/healthz")])
        conn.sock.sendall(request(method, path, self.port, ctype=None))
        self.refused(conn, f"{method} {path}", (404, 405), must_close=False)

    def h_half_close(self, conn):
        self.single = self.rng.randrange(len(self.oracle.templates))
        conn.sock.sendall(request("POST", "/v1/decide", self.port,
                                  self.oracle.body(self.single, self.tag)))
        conn.sock.shutdown(socket.SHUT_WR)
        try:
            status, _, body = conn.read_answer()
        except (Closed, ConnectionResetError) as e:
            self.tally.fail(f"half-close: no answer ({e})")
            return
        self.record_valid(status, body, None, "half-close")

    def h_pipelined(self, conn):
        """A burst of requests in one write; the answers must come whole and in order."""
        plan, raw = [], b""
        for _ in range(self.rng.randint(2, 40)):
            r = self.rng.random()
            if r < 0.45:
                i = self.rng.randrange(len(self.oracle.templates))
                raw += request("POST", "/v1/decide", self.port, self.oracle.body(i, self.tag))
                plan.append(("decide", i))
            elif r < 0.6:
                items, body = self.batch_body(self.rng.randint(1, 5))
                raw += request("POST", "/v1/decide/batch", self.port, body)
                plan.append(("batch", items))
            elif r < 0.7:
                raw += request("POST", "/v1/decide", self.port, self.rng.choice(INVALID_BODIES))
                plan.append(("invalid", None))
            elif r < 0.8:
                raw += request("GET", "/healthz", self.port, ctype=None)
                plan.append(("healthz", None))
            elif r < 0.9:
                raw += request("GET", "/v1/policy", self.port, ctype=None)
                plan.append(("policy", None))
            else:
                raw += request("GET", "/nowhere", self.port, ctype=None)
                plan.append(("404", None))
        conn.sock.sendall(raw)
        if self.rng.random() < 0.3:
            conn.sock.shutdown(socket.SHUT_WR)
        for n, (what, arg) in enumerate(plan):
            try:
                status, _, body = conn.read_answer()
            except (Closed, ConnectionResetError) as e:
                self.tally.fail(f"pipelined: answer {n + 1} of {len(plan)} missing ({e})")
                return
            if what == "decide":
                self.single = arg
                self.record_valid(status, body, None, "pipelined decide")
            elif what == "batch":
                self.record_valid(status, body, arg, "pipelined batch")
            elif what == "invalid":
                check_invalid_answer(self.tally, status, body, "pipelined invalid request")
            elif what == "healthz" and (status, body) != (200, b"ok\n"):
                self.tally.fail(f"pipelined healthz: {status} {body[:100]!r}")
            elif what == "policy" and (status != 200 or b'"clauses"' not in body):
                self.tally.fail(f"pipelined policy: {status} {body[:100]!r}")
            elif what == "404" and status != 404:
                self.tally.fail(f"pipelined 404: {status}")

    HOSTILE = ["garbage", "truncated-header", "huge-length", "invalid-length",
               "duplicate-length", "te-cl", "chunked-over-limit", "oversized-body",
               "big-header", "deep-json", "invalid-request", "wrong-content-type",
               "bad-reload", "other-route", "half-close", "pipelined", "bad-plan"]
    # Relative weights: the cheap ones more often, the megabyte bodies less.
    WEIGHTS = [4, 3, 3, 3, 3, 3, 1, 1, 2, 1, 6, 3, 3, 2, 4, 4, 3]

    def run(self, deadline):
        while time.time() < deadline:
            r = self.rng.random()
            try:
                if r < 0.40:
                    self.tally.kinds["decide"] += 1
                    self.decide()
                elif r < 0.60:
                    self.tally.kinds["batch"] += 1
                    self.batch()
                elif r < 0.67:
                    self.tally.kinds["plan"] += 1
                    self.plan()
                elif r < 0.72:
                    self.tally.kinds["authzen"] += 1
                    self.authzen()
                else:
                    kind = self.rng.choices(self.HOSTILE, self.WEIGHTS)[0]
                    self.tally.kinds[kind] += 1
                    self.hostile(kind)
            except OSError as e:
                self.drop()
                self.tally.fail(f"socket error: {e!r}")
                time.sleep(0.05)
        self.drop()


def client_main(index, port, oracle, seed, deadline, results):
    client = Client(index, port, oracle, seed)
    try:
        client.run(deadline)
    except Exception as e:  # reported, not swallowed
        client.tally.fail(f"client {index} stopped: {e!r}")
    results.put(client.tally.as_dict())


# ---------------------------------------------------------------------------------------
# The parent: the server, reloads, slow clients, the monitor, and the final checks

class Soak:
    def __init__(self, clause, seconds, workers, seed, rss_limit_kib):
        self.clause = clause
        self.rss_limit_kib = rss_limit_kib
        self.seconds = seconds
        self.workers = workers
        self.seed = seed
        self.work = tempfile.mkdtemp(prefix="clause-soak-")
        self.live = os.path.join(self.work, "live.policy")
        self.log = os.path.join(self.work, "log.jsonl")
        self.err = os.path.join(self.work, "err")
        self.proc = None
        self.lock = threading.Lock()
        self.tally = Tally()  # the parent's own calls
        self.version = "a"
        self.reloads = collections.Counter()
        self.max_rss = self.first_rss = self.last_rss = 0
        self.rss_series = []
        self.samples = 0
        self.health_max = 0.0
        self.stop = threading.Event()

    def fail(self, what):
        with self.lock:
            self.tally.fail(what)

    def write_policy(self, text):
        tmp = self.live + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.live)

    def start(self):
        for v in RULES:
            open(os.path.join(self.work, f"{v}.policy"), "w").write(policy_text(v))
        self.write_policy(policy_text("a"))
        token = os.path.join(self.work, "token")
        open(token, "w").write(TOKEN + "\n")
        helptext = subprocess.run([self.clause, "serve", "--help"], capture_output=True,
                                  text=True, timeout=30).stdout
        flags = ["--header-timeout", str(HEADER_TIMEOUT_MS)]
        # Without --log-block the log drops records when its queue is full (and counts
        # them); the soak wants every decision in the log.
        self.log_block = "--log-block" in helptext
        if self.log_block:
            flags.append("--log-block")
        out = os.path.join(self.work, "out")
        self.proc, self.port = serve_process.start(
            [self.clause, "serve", "--policy", self.live, "--port", "0", "--log", self.log,
             "--admin-token", token, *flags], out, self.err)
        if self.port is None:
            raise SystemExit(f"FAIL: the server did not start: {open(self.err).read()}")

    def call(self, raw):
        conn = Conn(self.port)
        try:
            conn.sock.sendall(raw)
            return conn.read_answer()
        finally:
            conn.close()

    def served_version(self):
        status, _, body = self.call(request("GET", "/v1/policy", self.port, ctype=None))
        return json.loads(body)["version"] if status == 200 else None

    def stderr_count(self, text):
        return open(self.err).read().count(text)

    def wait_for(self, predicate, seconds=10.0):
        return serve_process.wait_until(predicate, seconds)

    def decide_now(self, oracle, client):
        """A decision right after a reload: it must come from the version now in force."""
        client.single = client.rng.randrange(len(oracle.templates))
        status, _, body = self.call(request("POST", "/v1/decide", self.port,
                                            oracle.body(client.single, "reloader")))
        before = sum(client.tally.valid.values())
        client.record_valid(status, body, None, "decide after a reload", tag="reloader")
        if sum(client.tally.valid.values()) > before:
            v = json.loads(body).get("policy_version")
            if v != self.version:
                client.tally.fail(f"decided by {v} after the reload to {self.version}")

    def reloader(self, oracle, deadline):
        client = Client(99, self.port, oracle, self.seed + 99)
        bearer = [("Authorization", f"Bearer {TOKEN}")]
        rng = random.Random(self.seed + 7)
        step = 0
        try:
            while time.time() < deadline - 1.5 and not self.stop.is_set():
                time.sleep(rng.uniform(0.3, 1.2))
                step += 1
                by_http = step % 2 == 1
                if step % 8 == 0:
                    # A broken file: refused, and the version in force stays.
                    self.write_policy(BROKEN)
                    if by_http:
                        status, _, body = self.call(request("POST", "/v1/reload", self.port,
                                                            b"{}", bearer))
                        d = json.loads(body)
                        if status != 422 or d.get("reloaded") is not False or \
                                d.get("version") != self.version:
                            client.tally.fail(f"broken reload by HTTP: {status} {body[:300]!r}")
                        self.reloads["failed-http"] += 1
                    else:
                        n = self.stderr_count("reload failed")
                        self.proc.send_signal(signal.SIGHUP)
                        if not self.wait_for(lambda: self.stderr_count("reload failed") > n):
                            client.tally.fail("broken reload by SIGHUP: not reported")
                        self.reloads["failed-sighup"] += 1
                    if self.served_version() != self.version:
                        client.tally.fail(f"a broken reload replaced version {self.version}")
                    self.write_policy(policy_text(self.version))
                    self.decide_now(oracle, client)
                    continue
                target = "b" if self.version == "a" else "a"
                self.write_policy(policy_text(target))
                if by_http:
                    status, _, body = self.call(request("POST", "/v1/reload", self.port, b"{}",
                                                        bearer))
                    d = json.loads(body)
                    if status != 200 or d.get("reloaded") is not True or \
                            d.get("version") != target:
                        client.tally.fail(f"reload to {target} by HTTP: {status} {body[:300]!r}")
                    self.reloads["ok-http"] += 1
                else:
                    line = f"reload to version {target}"
                    n = self.stderr_count(line)
                    self.proc.send_signal(signal.SIGHUP)
                    if not self.wait_for(lambda: self.stderr_count(line) > n):
                        client.tally.fail(f"reload to {target} by SIGHUP: not reported")
                    self.reloads["ok-sighup"] += 1
                self.version = target
                if self.served_version() != target:
                    client.tally.fail(f"after the reload to {target}, /v1/policy names another")
                self.decide_now(oracle, client)
        except Exception as e:
            client.tally.fail(f"the reloader stopped: {e!r}")
        client.tally.kinds["reload"] += sum(self.reloads.values())
        with self.lock:
            self.tally.merge(client.tally)

    def slow(self, oracle, deadline, index):
        """Clients that dribble: a whole request a few bytes at a time (answered), or a
        header that never ends (cut at --header-timeout)."""
        client = Client(50 + index, self.port, oracle, self.seed + 50 + index)
        rng = client.rng
        try:
            while time.time() < deadline - HEADER_TIMEOUT_MS / 1000 - 3:
                conn = Conn(self.port)
                try:
                    if rng.random() < 0.6:
                        client.tally.kinds["slow-request"] += 1
                        client.single = rng.randrange(len(oracle.templates))
                        raw = request("POST", "/v1/decide", self.port,
                                      oracle.body(client.single, client.tag))
                        pos = 0
                        while pos < len(raw):  # ~1.5 s for the whole request
                            n = rng.randint(1, 8)
                            conn.sock.sendall(raw[pos:pos + n])
                            pos += n
                            time.sleep(1.5 * n / len(raw))
                        status, _, body = conn.read_answer()
                        client.record_valid(status, body, None, "slow request")
                    else:
                        client.tally.kinds["slow-stall"] += 1
                        start = time.time()
                        conn.sock.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                        closed = False
                        while time.time() - start < HEADER_TIMEOUT_MS / 1000 + 5:
                            try:
                                conn.sock.sendall(b"X")
                                time.sleep(0.2)
                            except (BrokenPipeError, ConnectionResetError):
                                closed = True
                                break
                        if not closed:
                            closed = conn.closes_soon(1.0)
                        if not closed:
                            client.tally.fail("a stalled header was not cut off")
                except (socket.timeout, Closed, OSError) as e:
                    client.tally.fail(f"slow client: {e!r}")
                finally:
                    conn.close()
        except Exception as e:
            client.tally.fail(f"a slow client stopped: {e!r}")
        with self.lock:
            self.tally.merge(client.tally)

    def rss_kib(self):
        try:
            for line in open(f"/proc/{self.proc.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def monitor(self, deadline):
        while not self.stop.is_set():
            if self.proc.poll() is not None:
                self.fail(f"the server died (status {self.proc.returncode}): "
                          f"{open(self.err).read()[-500:]}")
                self.stop.set()
                return
            rss = self.rss_kib()
            self.max_rss = max(self.max_rss, rss)
            self.first_rss = self.first_rss or rss
            self.last_rss = rss
            self.rss_series.append(rss)
            self.samples += 1
            if rss > self.rss_limit_kib:
                self.fail(f"RSS {rss} KiB is over {self.rss_limit_kib} KiB")
            start = time.time()
            try:
                status, _, body = self.call(request("GET", "/healthz", self.port, ctype=None))
                if (status, body) != (200, b"ok\n"):
                    self.fail(f"/healthz answered {status} {body[:100]!r}")
            except (OSError, Closed) as e:
                self.fail(f"/healthz did not answer: {e!r}")
            self.health_max = max(self.health_max, time.time() - start)
            self.stop.wait(max(0.0, 1.0 - (time.time() - start)))

    def metrics(self):
        status, _, body = self.call(request("GET", "/metrics", self.port, ctype=None))
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def run(self):
        started = time.time()
        self.start()
        oracle = Oracle(self.clause, self.work)
        deadline = time.time() + self.seconds
        # The clients are forked before any thread of this process starts.
        ctx = multiprocessing.get_context("fork")
        results = ctx.Queue()
        procs = [ctx.Process(target=client_main,
                             args=(i, self.port, oracle, self.seed * 1000 + i, deadline, results))
                 for i in range(self.workers)]
        for p in procs:
            p.start()
        threads = [threading.Thread(target=self.monitor, args=(deadline,)),
                   threading.Thread(target=self.reloader, args=(oracle, deadline))]
        threads += [threading.Thread(target=self.slow, args=(oracle, deadline, i))
                    for i in range(SLOW_CLIENTS)]
        for t in threads:
            t.start()
        got = 0
        while got < len(procs):
            try:
                self.tally.merge(Tally.from_dict(results.get(timeout=max(
                    1.0, deadline + 4 * IO_TIMEOUT + 30 - time.time()))))
                got += 1
            except Exception:
                self.fail(f"{len(procs) - got} client processes gave no result")
                break
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        for t in threads[1:]:
            t.join()
        self.stop.set()
        threads[0].join()
        load_seconds = time.time() - deadline + self.seconds

        # The counters, then a clean stop.
        metrics = {}
        if self.proc.poll() is None:
            try:
                metrics = self.metrics()
            except (OSError, Closed, ValueError) as e:
                self.fail(f"/metrics did not answer: {e!r}")
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(30)
            except subprocess.TimeoutExpired:
                code = None
            stderr = open(self.err).read()
            if code != 0 or "clause serve: stopped" not in stderr:
                self.fail(f"SIGTERM: exit {code}, stderr: {stderr[-500:]}")
            # The server says nothing but its reloads and its stop: no warning, no error. A
            # failed reload is followed by its diagnostics, as `clause check` prints them.
            expected = re.compile(r"clause serve: (reload to version [ab]|reload failed; the "
                                  r"policy in force stays|stopped)$")
            diagnostic = re.compile(r"\S+\.policy:\d+:\d+: error\[E\d+\]: ")
            after = None  # the line before, while a failed reload's diagnostics are read
            for line in stderr.splitlines():
                if expected.match(line):
                    after = line if "reload failed" in line else None
                elif after is None or (after.startswith("clause serve:")
                                       and not diagnostic.match(line)):
                    self.fail(f"the server said: {line[:300]}")
                else:
                    after = line
        self.check_log(metrics)
        self.summary(metrics, load_seconds, time.time() - started)

    def check_log(self, metrics):
        logged = collections.Counter()
        tags = collections.Counter()
        lines = torn = 0
        tag_re = re.compile(rb'"requester":\{"kind":"[a-z]+","id":"([^"]*)"')
        with open(self.log, "rb") as f:
            for line in f:
                lines += 1
                if not (line.startswith(b'{"time":"') and line.endswith(b"}\n")):
                    torn += 1
                    continue
                # The decision's own fields come after the request in each record.
                d = line.rfind(b'"decision":"')
                v = line.rfind(b'"policy_version":"')
                if d < 0 or v < 0:
                    torn += 1
                    continue
                decision = line[d + 12:line.index(b'"', d + 12)].decode()
                version = line[v + 18:line.index(b'"', v + 18)].decode()
                logged[(version, decision)] += 1
                m = tag_re.search(line, 0, d)
                if m:
                    tags[m.group(1).decode()] += 1
        self.logged, self.log_lines = logged, lines
        if torn:
            self.fail(f"{torn} log lines are not whole records")
        answered = self.tally.valid + self.tally.denied
        if sum(answered.values()) != lines:
            self.fail(f"the log has {lines} lines for {sum(answered.values())} decisions answered")
        for key in sorted(set(answered) | set(logged), key=str):
            if answered[key] != logged[key]:
                self.fail(f"version {key[0]}, {key[1]}: {answered[key]} answered, "
                          f"{logged[key]} logged")
        for tag, n in sorted(self.tally.tags.items()):
            if tags[tag] != n:
                self.fail(f"client {tag}: {n} valid decisions answered, {tags[tag]} logged")
        if metrics:
            decided = sum(v for k, v in metrics.items()
                          if k.startswith("clause_decisions_total{"))
            if decided != lines:
                self.fail(f"clause_decisions_total is {decided:.0f}; the log has {lines} lines")
            for name in ("clause_log_dropped_total", "clause_log_lost_total",
                         "clause_log_write_errors_total"):
                if metrics.get(name, -1) != 0:
                    self.fail(f"{name} is {metrics.get(name)}")
            ok = self.reloads["ok-http"] + self.reloads["ok-sighup"]
            failed = self.reloads["failed-http"] + self.reloads["failed-sighup"]
            got_ok = metrics.get('clause_reloads_total{result="ok"}')
            got_failed = metrics.get('clause_reloads_total{result="failed"}')
            if got_ok != ok or got_failed != failed:
                self.fail(f"clause_reloads_total: ok {got_ok}, failed {got_failed}; "
                          f"{ok} and {failed} were asked for")

    def summary(self, metrics, load_seconds, total_seconds):
        kinds = self.tally.kinds
        valid_kinds = ("decide", "batch", "authzen")
        print(f"soak: {load_seconds:.0f} s of load ({total_seconds:.0f} s in all), "
              f"{self.workers} client processes + {SLOW_CLIENTS} slow clients + reloader, "
              f"log-block {'on' if self.log_block else 'not available'}")
        print(f"soak: requests: {sum(kinds.values())} "
              f"({sum(kinds[k] for k in valid_kinds)} valid, "
              f"{sum(v for k, v in kinds.items() if k not in valid_kinds)} hostile or slow)")
        for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"soak:   {k:<20} {v}")
        valid = sum(self.tally.valid.values())
        denied = sum(self.tally.denied.values())
        print(f"soak: decisions answered: {valid + denied} ({valid} valid with 200, "
              f"{denied} invalid or hostile, denied); "
              f"{(valid + denied) / max(load_seconds, 1):.0f} per second")
        for key in sorted(set(self.tally.valid) | set(self.tally.denied), key=str):
            print(f"soak:   version {key[0]} {key[1]:<16} valid {self.tally.valid[key]:>9} "
                  f"denied {self.tally.denied[key]:>7} logged {self.logged[key]:>9}")
        print(f"soak: log lines: {self.log_lines}; clause_decisions_total "
              f"{sum(v for k, v in metrics.items() if k.startswith('clause_decisions_total{')):.0f}; "
              f"dropped {metrics.get('clause_log_dropped_total', '?')}, "
              f"lost {metrics.get('clause_log_lost_total', '?')}")
        print(f"soak: reloads: {self.reloads['ok-http']} by HTTP, {self.reloads['ok-sighup']} by "
              f"SIGHUP, {self.reloads['failed-http'] + self.reloads['failed-sighup']} of a broken "
              f"file refused")
        print(f"soak: RSS max {self.max_rss / 1024:.1f} MB over {self.samples} samples (first "
              f"{self.first_rss / 1024:.1f} MB, last {self.last_rss / 1024:.1f} MB); "
              f"slowest /healthz {self.health_max * 1000:.0f} ms")
        series = self.rss_series
        if len(series) >= 10:
            tenths = [series[min(len(series) - 1, len(series) * k // 10)] for k in range(1, 11)]
            print("soak: RSS at each tenth of the run (MB): " +
                  " ".join(f"{r / 1024:.1f}" for r in tenths))

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clause")
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--quick", action="store_true", help="10 seconds")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-rss-mb", type=int, default=200,
                        help="the server's RSS limit (200 MB; more under sanitizers)")
    args = parser.parse_args()
    seconds = 10 if args.quick else args.seconds
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"soak: {seconds:.0f} s, {args.workers} workers, seed {seed}", flush=True)
    soak = Soak(args.clause, seconds, args.workers, seed, args.max_rss_mb * 1024)
    try:
        soak.run()
    finally:
        soak.cleanup()
    if soak.tally.failures:
        for what, n in soak.tally.failures.most_common(40):
            print(f"FAIL: {what}" + (f" ({n} times)" if n > 1 else ""))
        print(f"soak: FAIL ({sum(soak.tally.failures.values())} violations, "
              f"{len(soak.tally.failures)} distinct)")
        sys.exit(1)
    print("soak: all checks passed")


if __name__ == "__main__":
    main()
