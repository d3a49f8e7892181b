"""`clause serve --log-url` ships the decision log to a collector (http.server here): every
decision arrives once in gzip'd JSON Lines; a collector that is down, answers 500, hangs or
refuses (400) costs no decision and loses nothing it should not (a 400 batch is dropped and
counted); the buffer's bound drops the oldest batches (counted); batches left on disk by a
stop are sent by the next start. Each phase checks that deciding goes on meanwhile.

About 25 s: most of it the hanging collector (one POST timeout, 5 s) and waits for retries.

Usage: check_log_ship.py CLAUSE
"""
import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

import serve_process

failures = []


def check(what, ok, detail=""):
    if not ok:
        failures.append(f"{what}: {detail}")
        print(f"FAIL {what}: {detail}")
    else:
        print(f"ok   {what}")


class Collector:
    """A loopback collector: mode "ok" (200), "500", "400" (the next batch only) or "hang"."""

    def __init__(self):
        self.lines = []
        self.mode = "ok"
        self.fail_next = 0
        self.posts = 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.bad_headers = []
        self.port = None
        self.server = None
        self.running = False

    def start(self):
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with collector.lock:
                    collector.posts += 1
                    mode = collector.mode
                    if collector.fail_next > 0:
                        collector.fail_next -= 1
                        mode = "500"
                    if mode == "400":
                        collector.mode = "ok"
                if mode == "hang":
                    collector.release.wait(15)
                    return  # no answer: the connection closes
                status = {"ok": 200, "500": 500, "400": 400}[mode]
                if status == 200:
                    if (self.headers.get("Content-Encoding") != "gzip" or
                            self.headers.get("Content-Type") != "application/x-ndjson"):
                        collector.bad_headers.append(dict(self.headers))
                    text = gzip.decompress(body).decode()
                    with collector.lock:
                        collector.lines += [json.loads(l) for l in text.splitlines()]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.running = True

    def stop(self):
        if self.running:
            self.running = False
            self.server.shutdown()
            self.server.server_close()

    def ids(self, prefix):
        """The request ids with this prefix received, de-duplicated by record_id."""
        with self.lock:
            unique = {l["record_id"]: l for l in self.lines}
        return sorted(l["request"]["id"] for l in unique.values()
                      if l["request"]["id"].startswith(prefix))


def decide(port, request_id):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = {"id": request_id, "data": {"category": "info"},
            "requester": {"kind": "company", "id": "u-1"}, "action": "read"}
    started = time.time()
    conn.request("POST", "/v1/decide", body=json.dumps(body),
                 headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    text = res.read().decode()
    conn.close()
    return res.status == 200 and '"decision":"allow"' in text, time.time() - started


def decide_many(port, prefix, n):
    """Decides n requests; gives whether all were allowed and the slowest one's seconds."""
    results = [decide(port, f"{prefix}{i}") for i in range(n)]
    return all(ok for ok, _ in results), max(t for _, t in results)


def metric(port, name):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def wait_for(predicate, seconds):
    return serve_process.wait_until(predicate, seconds)


def main():
    clause = sys.argv[1]
    work = tempfile.mkdtemp(prefix="clause-log-ship-")
    procs = []
    collector = Collector()
    collector.start()
    try:
        with open(os.path.join(work, "p.policy"), "w") as f:
            f.write('policy "live" version "a"\nclause "c" "The clause."\ndata info\n'
                    'requester company\naction read\nallow read of info by company cites "c"\n')
        buffer = os.path.join(work, "buffer")

        def serve(*extra):
            argv = [clause, "serve", "--policy", os.path.join(work, "p.policy"), "--port", "0",
                    "--log-url", f"http://127.0.0.1:{collector.port}/ingest",
                    "--log-buffer", buffer, "--log-batch", "20", "--log-flush", "200",
                    "--drain-timeout", "1000", *extra]
            n = len(procs)
            proc, port = serve_process.start(argv, os.path.join(work, f"out{n}"),
                                             os.path.join(work, f"err{n}"))
            procs.append(proc)
            if port is None:
                raise SystemExit(f"serve did not start: {open(os.path.join(work, f'err{n}')).read()}")
            return proc, port

        def stop(proc):
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(10)
            except Exception:
                proc.kill()
                return None

        proc, port = serve()
        expect = lambda prefix, n: [f"{prefix}{i}" for i in sorted(range(n), key=str)]

        # 1. Normal delivery: every decision once, gzip'd JSON Lines, with record ids.
        ok, _ = decide_many(port, "a", 100)
        check("normal: decisions answered", ok)
        check("normal: every decision arrives",
              wait_for(lambda: collector.ids("a") == sorted(expect("a", 100)), 5),
              f"{len(collector.ids('a'))} of 100")
        check("normal: each once (no duplicate sent)", len(collector.lines) == 100,
              f"{len(collector.lines)} lines")
        check("normal: gzip and application/x-ndjson", not collector.bad_headers,
              str(collector.bad_headers[:1]))
        check("normal: shipped counted",
              wait_for(lambda: metric(port, "clause_log_shipped_records_total") == 100, 3))

        # 2. The collector down (connection refused) for a while, then up: nothing lost.
        collector.stop()
        ok, slowest = decide_many(port, "b", 60)
        check("down: decisions answered", ok and slowest < 1, f"slowest {slowest:.3f}s")
        time.sleep(1.0)
        check("down: records buffered",
              (metric(port, "clause_log_buffered_records") or 0) > 0 and
              (metric(port, "clause_log_ship_failures_total") or 0) > 0)
        collector.start()  # the same port
        check("down: all arrive once it is up",
              wait_for(lambda: collector.ids("b") == sorted(expect("b", 60)), 8),
              f"{len(collector.ids('b'))} of 60")

        # 3. 500 twice, then 200: retried, nothing lost.
        failures_before = metric(port, "clause_log_ship_failures_total")
        collector.fail_next = 2
        ok, _ = decide_many(port, "c", 20)
        check("500: decisions answered", ok)
        check("500: all arrive after retries",
              wait_for(lambda: collector.ids("c") == sorted(expect("c", 20)), 5))
        check("500: failures counted",
              metric(port, "clause_log_ship_failures_total") >= failures_before + 2)

        # 4. A collector that hangs: the POST times out, deciding never waits; then it answers.
        hang_before = metric(port, "clause_log_ship_failures_total")
        collector.mode = "hang"
        ok, slowest = decide_many(port, "d", 40)
        time.sleep(0.5)
        ok2, slowest2 = decide_many(port, "e", 40)  # while the POST hangs
        check("hang: decisions answered quickly", ok and ok2 and max(slowest, slowest2) < 1,
              f"slowest {max(slowest, slowest2):.3f}s")
        check("hang: metrics answer", metric(port, "clause_log_buffered_records") is not None)
        check("hang: the POST times out (5 s) and counts as a failure",
              wait_for(lambda: metric(port, "clause_log_ship_failures_total") > hang_before, 8))
        collector.mode = "ok"
        collector.release.set()
        check("hang: all arrive after the timeout",
              wait_for(lambda: collector.ids("d") == sorted(expect("d", 40)) and
                       collector.ids("e") == sorted(expect("e", 40)), 12),
              f"{len(collector.ids('d'))} + {len(collector.ids('e'))} of 80")
        collector.release.clear()

        # 5. A 400: that batch is dropped and counted, the next ones go on.
        dropped_before = metric(port, "clause_log_ship_dropped_records_total")
        collector.mode = "400"
        ok, _ = decide_many(port, "f", 10)
        check("400: decisions answered", ok)
        check("400: the batch is dropped and counted", wait_for(
            lambda: metric(port, "clause_log_ship_dropped_records_total") > dropped_before, 3))
        dropped = metric(port, "clause_log_ship_dropped_records_total") - dropped_before
        check("400: what was not dropped arrives",
              wait_for(lambda: len(collector.ids("f")) + dropped == 10, 3),
              f"{len(collector.ids('f'))} arrived, {dropped} dropped")
        ok, _ = decide_many(port, "g", 20)
        check("400: later batches arrive",
              ok and wait_for(lambda: collector.ids("g") == sorted(expect("g", 20)), 5))
        check("serve stops cleanly", stop(proc) == 0)

        # 6. Batches left on disk by a stop are sent by the next start.
        collector.stop()
        proc, port = serve()
        ok, _ = decide_many(port, "h", 50)
        check("restart: decisions answered", ok)
        check("restart: serve stops with the collector down", stop(proc) == 0)
        on_disk = [n for n in os.listdir(buffer) if n.endswith(".ndjson.gz")]
        check("restart: batches left on disk", len(on_disk) > 0, str(os.listdir(buffer)))
        err = open(os.path.join(work, f"err{len(procs) - 1}")).read()
        check("restart: the stop says what stays", "stay in" in err, err)
        collector.start()
        proc, port = serve()
        check("restart: the next start sends them",
              wait_for(lambda: collector.ids("h") == sorted(expect("h", 50)), 5),
              f"{len(collector.ids('h'))} of 50")
        check("restart: the buffer is empty",
              wait_for(lambda: not [n for n in os.listdir(buffer) if n.endswith(".gz")], 3))
        check("restart: serve stops cleanly", stop(proc) == 0)

        # 7. The buffer's bound: past it the oldest batches go, counted; the newest arrive.
        collector.stop()
        proc, port = serve("--log-buffer-bytes", "1")
        ok, _ = decide_many(port, "i", 100)
        check("bound: decisions answered", ok)
        check("bound: oldest dropped and counted", wait_for(
            lambda: metric(port, "clause_log_ship_dropped_records_total") >= 60, 3),
            str(metric(port, "clause_log_ship_dropped_records_total")))
        dropped = metric(port, "clause_log_ship_dropped_records_total")
        collector.start()
        check("bound: the rest arrive",
              wait_for(lambda: len(collector.ids("i")) + dropped == 100, 8),
              f"{len(collector.ids('i'))} arrived, {dropped} dropped")
        check("bound: the newest arrive", "i99" in collector.ids("i"))
        check("bound: serve stops cleanly", stop(proc) == 0)

        # The record holds the request as asked, its id too, and a unique record_id.
        ids = [l["record_id"] for l in collector.lines]
        check("record ids are unique per record", len(set(ids)) == len(
            {(l["record_id"], l["request"]["id"]) for l in collector.lines}))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        collector.release.set()
        collector.stop()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failures")
        sys.exit(1)
    print("log shipping: all checks passed")


if __name__ == "__main__":
    main()
