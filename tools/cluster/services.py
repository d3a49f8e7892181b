"""The two small services of the cluster: a bundle server and a decision-log collector.

  python3 services.py bundles DIR PORT       serves the files in DIR with a strong ETag
  python3 services.py collector FILE PORT    takes POSTed gzip JSON Lines batches; keeps
                                             each record once (by record_id) in FILE
  python3 services.py app - PORT             the sample service behind nginx: any GET is
                                             answered 200 "sample: PATH"

Both listen on 127.0.0.1 only and print `listening on 127.0.0.1:PORT` once bound.
"""
import gzip
import hashlib
import http.server
import json
import os
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):  # quiet: the cluster's own output stays readable
        pass


class BundleHandler(Handler):
    """GET /NAME: the file DIR/NAME, 304 when If-None-Match names its ETag. A file is
    published by renaming a whole one into DIR, so a reader never sees half of it."""

    root = "."

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        name = self.path.split("?", 1)[0].lstrip("/")
        path = os.path.join(self.root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(path):
            self.answer(404, b"not found\n", {})
            return
        with open(path, "rb") as f:
            body = f.read()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.answer(304, b"", {"ETag": etag})
            return
        self.answer(200, body, {"ETag": etag, "Content-Type": "application/gzip"})


class Collector:
    """The records kept, each once: the file holds one record a line, and a restarted
    collector reads it back, so a batch sent again after a restart is still recognised."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.ids = set()
        self.duplicates = 0
        self.batches = 0
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        self.ids.add(json.loads(line).get("record_id"))
        self.out = open(path, "a", encoding="utf-8")

    def take(self, lines):
        with self.lock:
            self.batches += 1
            for record in lines:
                rid = record.get("record_id")
                if rid in self.ids:
                    self.duplicates += 1
                    continue
                self.ids.add(rid)
                self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
            # Written before the 200: a collector killed after answering loses nothing.
            self.out.flush()


class CollectorHandler(Handler):
    collector = None

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            records = [json.loads(line) for line in body.decode("utf-8").splitlines() if line]
        except (OSError, ValueError) as e:
            self.answer(400, f"bad batch: {e}\n".encode())
            return
        self.collector.take(records)
        self.answer(200, b"{}\n")

    def do_GET(self):  # noqa: N802
        c = self.collector
        with c.lock:
            stats = {"records": len(c.ids), "duplicates": c.duplicates, "batches": c.batches}
        self.answer(200, (json.dumps(stats) + "\n").encode())


class AppHandler(Handler):
    def do_GET(self):  # noqa: N802
        self.answer(200, f"sample: {self.path}\n".encode(), {"Content-Type": "text/plain"})


def main(argv):
    if len(argv) != 4 or argv[1] not in ("bundles", "collector", "app"):
        print(__doc__, file=sys.stderr)
        return 64
    if argv[1] == "bundles":
        handler = type("Handler", (BundleHandler,), {"root": argv[2]})
    elif argv[1] == "app":
        handler = AppHandler
    else:
        handler = type("Handler", (CollectorHandler,), {"collector": Collector(argv[2])})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(argv[3])), handler)
    server.daemon_threads = True
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
