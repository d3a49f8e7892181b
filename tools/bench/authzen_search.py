"""Times AuthZEN searches of `clause serve` over large data documents.

Writes the Search scenario's policy (policies/interop/search.policy) next to generated
data: USERS users and RECORDS records, spread over departments and owners as the scenario's
own data are, then starts `clause serve` on it and times resource, subject and action
searches over HTTP (one client, the median and the worst of REPEAT runs each), for a
manager (who sees every record), an employee (their department and their own records) and
a user the directory does not hold (no record).

Usage: authzen_search.py CLAUSE_BINARY [--records 100000] [--users 1000] [--repeat 20]
"""
import argparse
import json
import pathlib
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "serve"))
import serve_process  # noqa: E402

DEPARTMENTS = ["Sales", "Legal", "Finance", "Accounting", "Engineering", "Support"]
ROLES = ["employee", "manager", "contractor"]


def post(port, path, body):
    data = json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        payload = json.loads(r.read())
    return time.perf_counter() - start, payload


def generate(folder, users, records, rng):
    data = folder / "search"
    data.mkdir(parents=True)
    people = [{"id": f"u{i}", "role": ROLES[i % len(ROLES)],
               "department": DEPARTMENTS[i % len(DEPARTMENTS)]} for i in range(users)]
    people[0]["role"] = "manager"
    people[1]["role"] = "employee"
    (data / "users.json").write_text(json.dumps(people))
    rows = [{"id": 100000 + i, "title": f"record {i}",
             "department": rng.choice(DEPARTMENTS), "owner": f"u{rng.randrange(users)}"}
            for i in range(records)]
    (data / "records.json").write_text(json.dumps(rows))
    shutil.copy(ROOT / "policies" / "interop" / "search.policy", folder / "search.policy")
    return people


def timed(port, path, body, repeat):
    times = []
    payload = None
    for _ in range(repeat):
        elapsed, payload = post(port, path, body)
        times.append(elapsed * 1000)
    return statistics.median(times), max(times), payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clause")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        people = generate(folder, args.users, args.records, rng)
        proc, port = serve_process.start(
            [args.clause, "serve", "--policy", str(folder / "search.policy"), "--port", "0"],
            str(folder / "out"), str(folder / "err"), timeout=60)
        if port is None:
            raise SystemExit("clause serve did not start:\n" + (folder / "err").read_text())
        try:
            print(f"{args.records} records, {args.users} users; median / worst of "
                  f"{args.repeat} requests, ms")
            cases = [
                ("resource search, a manager (every record)", "/access/v1/search/resource",
                 {"subject": {"type": "user", "id": people[0]["id"]},
                  "action": {"name": "view"}, "resource": {"type": "record"}}),
                ("resource search, an employee", "/access/v1/search/resource",
                 {"subject": {"type": "user", "id": people[1]["id"]},
                  "action": {"name": "edit"}, "resource": {"type": "record"}}),
                ("resource search, an unknown user", "/access/v1/search/resource",
                 {"subject": {"type": "user", "id": "nobody"},
                  "action": {"name": "view"}, "resource": {"type": "record"}}),
                ("subject search, one record", "/access/v1/search/subject",
                 {"subject": {"type": "user"}, "action": {"name": "view"},
                  "resource": {"type": "record", "id": "100042"}}),
                ("action search", "/access/v1/search/action",
                 {"subject": {"type": "user", "id": people[1]["id"]},
                  "resource": {"type": "record", "id": "100042"}}),
            ]
            for name, path, body in cases:
                median, worst, payload = timed(port, path, body, args.repeat)
                total = (payload.get("page") or {}).get("total", len(payload["results"]))
                print(f"  {name:45s} {median:8.2f} {worst:8.2f}   results: {total}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
