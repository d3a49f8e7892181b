"""A load driver that keeps every answer: each request carries its own id, and each answer
is kept with its times, status, policy version and hash, so that a scenario can check what
clause-load only counts (which version answered when, and which ids reached the log)."""
import http.client
import json
import threading
import time


class Answer:
    __slots__ = ("id", "sent", "received", "status", "decision", "version", "hash")

    def __init__(self, rid, sent):
        self.id, self.sent = rid, sent
        self.received, self.status = None, 0
        self.decision = self.version = self.hash = None


class Driver:
    """THREADS keep-alive connections to PORT, each sending at most RATE requests a second
    (0: as fast as it can) until stop(); a failed connection is opened again."""

    def __init__(self, port, body, prefix, threads=2, rate=0, path="/v1/decide"):
        self.port, self.body, self.prefix, self.path = port, body, prefix, path
        self.rate = rate
        self.stopping = threading.Event()
        self.answers = [[] for _ in range(threads)]
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=15)
        return [a for mine in self.answers for a in mine]

    def run(self, index):
        mine = self.answers[index]
        conn = None
        n = 0
        while not self.stopping.is_set():
            n += 1
            request = dict(self.body, id=f"{self.prefix}-{index}-{n}")
            answer = Answer(request["id"], time.monotonic())
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("POST", self.path, body=json.dumps(request),
                             headers={"Content-Type": "application/json"})
                res = conn.getresponse()
                text = res.read()
                answer.status = res.status
                if res.status == 200:
                    d = json.loads(text)
                    answer.decision = d.get("decision")
                    answer.version = d.get("policy_version")
                    answer.hash = d.get("policy_hash")
                if res.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException, ValueError):
                if conn is not None:
                    conn.close()
                conn = None
            answer.received = time.monotonic()
            mine.append(answer)
            if self.rate:
                pause = answer.sent + 1.0 / self.rate - time.monotonic()
                if pause > 0:
                    self.stopping.wait(pause)
        if conn is not None:
            conn.close()
