"""`clause serve` keeps deciding with the last good policy and data when a document it reads
is replaced with a broken one (invalid JSON, then a field of the wrong type), says why with
the document's file, line and column, and takes up a good replacement: by `POST /v1/reload`,
by SIGHUP and by `--watch`. Works on a copy of tests/documents in a temporary folder.

Usage: check_reload_data.py CLAUSE
"""
import http.client
import json
import os
import re
import shutil
import signal
import sys
import tempfile

import serve_process

HERE = os.path.dirname(os.path.abspath(__file__))
DOCUMENTS = os.path.join(os.path.dirname(HERE), "documents")
TOKEN = "reload-data-token"
failures = []


def check(what, ok, detail=""):
    if not ok:
        failures.append(f"{what}: {detail}")
        print(f"FAIL {what}: {detail}")


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, body=body if body is None else json.dumps(body), headers=h)
    res = conn.getresponse()
    text = res.read().decode()
    conn.close()
    return res.status, json.loads(text) if text.startswith("{") else text


def edit(user, record):
    return {"data": {"category": "record", "id": record},
            "requester": {"kind": "user", "id": user}, "action": "edit"}


# (user, record) -> (decision, clause) with the shipped data: alice is an editor, bob owns
# r-1, nobody owns r-3, and 7 is locked.
ASKED = [("alice", "r-3"), ("bob", "r-1"), ("bob", "r-3"), ("alice", "7")]
SHIPPED = {("alice", "r-3"): ("allow", "1"), ("bob", "r-1"): ("allow", "2"),
           ("bob", "r-3"): ("deny", "default"), ("alice", "7"): ("deny", "4")}
# After the good replacement: bob is the editor now, alice is not.
REPLACED = dict(SHIPPED)
REPLACED.update({("alice", "r-3"): ("deny", "default"), ("bob", "r-1"): ("allow", "1"),
                 ("bob", "r-3"): ("allow", "1")})

GOOD_USERS = """{
  "alice": {"roles": ["editors"], "email": "alice@example.com", "editor": false},
  "bob": {"roles": ["groceries"], "email": "bob@example.com", "editor": true}
}
"""
# A comma missing after alice's entry: line 3, column 3 is where the parser stops.
INVALID_USERS = """{
  "alice": {"roles": ["editors"], "email": "alice@example.com"}
  "bob": {"roles": [], "email": "bob@example.com"}
}
"""
INVALID_ERROR = re.compile(r"/todo/users\.json:3:3: error\[E257\]: invalid JSON")
# An owner that is a number: the records document is keyed by id; line 2, column 26.
WRONG_RECORDS = """[
  {"id": "r-1", "owner": 5},
  {"id": "r-3"}
]
"""
WRONG_ERROR = re.compile(r"/search/records\.json:2:26: error\[E257\]: `owner` of the entry `r-1` "
                         r"is an integer; `data\.owner` is a string")


def decisions(port):
    out = {}
    for user, record in ASKED:
        status, body = call(port, "POST", "/v1/decide", edit(user, record))
        out[(user, record)] = (body.get("decision"), body.get("clause")) if status == 200 \
            else (status, body)
    return out


def policy_hash(port):
    return call(port, "GET", "/v1/policy")[1]["hash"]


def reloads(port, result):
    _, text = call(port, "GET", "/metrics")
    m = re.search(r'clause_reloads_total\{result="%s"\} (\d+)' % result, text)
    return int(m.group(1)) if m else -1


def replace(path, text):
    """Replaces a file as a deployment does: a new file renamed over the old one."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.replace(path + ".new", path)


def copy_fixture(tmp):
    folder = os.path.join(tmp, "policy")
    os.makedirs(os.path.join(folder, "todo"))
    os.makedirs(os.path.join(folder, "search"))
    for name in ("todo.policy", "todo/users.json", "search/records.json"):
        shutil.copy(os.path.join(DOCUMENTS, name), os.path.join(folder, name))
    return folder


def wait_for(what, done, seconds=10):
    check(what, serve_process.wait_until(done, seconds), f"not within {seconds} s")


def serve(clause, tmp, name, *extra):
    folder = copy_fixture(os.path.join(tmp, name))
    err = os.path.join(tmp, name + ".err")
    proc, port = serve_process.start(
        [clause, "serve", "--policy", os.path.join(folder, "todo.policy"), "--port", "0", *extra],
        os.path.join(tmp, name + ".out"), err)
    if port is None:
        print(open(err).read())
        sys.exit(f"{name}: the server did not start")
    return proc, port, folder, err


def stop(proc, err):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        check("the server stops", False, open(err).read())


def by_http(clause, tmp):
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write(TOKEN + "\n")
    proc, port, folder, err = serve(clause, tmp, "http", "--admin-token", token)
    auth = {"Authorization": "Bearer " + TOKEN}
    try:
        check("http: decisions with the shipped data", decisions(port) == SHIPPED, decisions(port))
        before = policy_hash(port)
        for label, path, text, error in [
                ("invalid JSON", "todo/users.json", INVALID_USERS, INVALID_ERROR),
                ("a wrong-typed field", "search/records.json", WRONG_RECORDS, WRONG_ERROR)]:
            kept = open(os.path.join(folder, path)).read()
            replace(os.path.join(folder, path), text)
            status, body = call(port, "POST", "/v1/reload", {}, auth)
            check(f"http: {label} is refused", status == 422 and body["reloaded"] is False, body)
            check(f"http: {label}: the error names the file and the place",
                  any(error.search(e) for e in body.get("errors", [])), body)
            check(f"http: {label}: the hash in force stays", body.get("hash") == before, body)
            check(f"http: {label}: the same decisions", decisions(port) == SHIPPED, decisions(port))
            check(f"http: {label}: /v1/policy", policy_hash(port) == before, policy_hash(port))
            replace(os.path.join(folder, path), kept)
        replace(os.path.join(folder, "todo/users.json"), GOOD_USERS)
        status, body = call(port, "POST", "/v1/reload", {}, auth)
        check("http: the good document is taken", status == 200 and body["reloaded"] is True, body)
        check("http: the hash follows the data", body.get("hash") not in (None, before), body)
        check("http: the new decisions", decisions(port) == REPLACED, decisions(port))
        check("http: reloads counted", reloads(port, "ok") == 1 and reloads(port, "failed") == 2,
              (reloads(port, "ok"), reloads(port, "failed")))
    finally:
        stop(proc, err)


def by_watch_and_signal(clause, tmp, how):
    extra = ["--watch", "50"] if how == "watch" else []
    proc, port, folder, err = serve(clause, tmp, how, *extra)

    def reload_now():
        if how == "signal":
            proc.send_signal(signal.SIGHUP)

    try:
        check(f"{how}: decisions with the shipped data", decisions(port) == SHIPPED,
              decisions(port))
        before = policy_hash(port)
        failed = 0
        for label, path, text, error in [
                ("invalid JSON", "todo/users.json", INVALID_USERS, INVALID_ERROR),
                ("a wrong-typed field", "search/records.json", WRONG_RECORDS, WRONG_ERROR)]:
            kept = open(os.path.join(folder, path)).read()
            replace(os.path.join(folder, path), text)
            reload_now()
            failed += 1
            wait_for(f"{how}: {label}: the reload fails", lambda: reloads(port, "failed") >= failed)
            log = open(err).read()
            check(f"{how}: {label}: the log says why, in the document",
                  re.search(r"reload failed; the policy in force stays\n\S*" + error.pattern, log)
                  is not None, log)
            check(f"{how}: {label}: the same decisions", decisions(port) == SHIPPED,
                  decisions(port))
            check(f"{how}: {label}: /v1/policy", policy_hash(port) == before, policy_hash(port))
            replace(os.path.join(folder, path), kept)
            if how == "watch":
                # The good file back is a change too: it compiles, and decides as before.
                wait_for(f"{how}: {label}: the file put back is taken",
                         lambda: reloads(port, "ok") >= failed)
        ok = reloads(port, "ok")
        replace(os.path.join(folder, "todo/users.json"), GOOD_USERS)
        reload_now()
        wait_for(f"{how}: the good document is taken", lambda: reloads(port, "ok") > ok)
        check(f"{how}: the new decisions", decisions(port) == REPLACED, decisions(port))
        check(f"{how}: the hash follows the data", policy_hash(port) != before, policy_hash(port))
        check(f"{how}: no other reload failed", reloads(port, "failed") == failed,
              reloads(port, "failed"))
    finally:
        stop(proc, err)


def main():
    clause = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="clause-reload-data-")
    try:
        by_http(clause, tmp)
        by_watch_and_signal(clause, tmp, "signal")
        by_watch_and_signal(clause, tmp, "watch")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"0 passed, {len(failures)} failed")
        sys.exit(1)
    print("3 passed, 0 failed")


if __name__ == "__main__":
    main()
