"""The AuthZEN 1.0 endpoints of `clause serve`: evaluation, evaluations with defaults and
each semantic, the metadata, the context on and off, every payload refused with 400, the
X-Request-ID echo, body limits, metrics and the decision log; the subject, resource and
action searches over the Search scenario's policy, with paging.

Usage: check_authzen.py CLAUSE
"""
import http.client
import json
import os
import shutil
import sys
import tempfile

import serve_process

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(HERE, "authzen.policy")
PRIVACY = os.path.join(ROOT, "policies", "privacy.policy")
failures = []


def check(what, ok, detail=""):
    if not ok:
        failures.append(f"{what}: {detail}")
        print(f"FAIL {what}: {detail}")


def call(port, method, path, body=None, headers=None, raw=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    conn.request(method, path, body=data, headers=h)
    res = conn.getresponse()
    text = res.read().decode()
    conn.close()
    return res.status, dict(res.getheaders()), text if raw else json.loads(text)


def serve(clause, policy, tmp, name, *extra):
    proc, port = serve_process.start(
        [clause, "serve", "--policy", policy, "--port", "0", *extra],
        os.path.join(tmp, name + ".out"), os.path.join(tmp, name + ".err"))
    if port is None:
        print(open(os.path.join(tmp, name + ".err")).read())
        sys.exit(f"{name}: the server did not start")
    return proc, port


def alice(verb, owner, **more):
    r = {"subject": {"type": "user", "id": "alice"}, "action": {"name": verb},
         "resource": {"type": "doc", "id": "d1", "properties": {"owner": owner}}}
    r.update(more)
    return r


def fixture_checks(port, log_path):
    ev = "/access/v1/evaluation"
    evs = "/access/v1/evaluations"
    status, _, body = call(port, "POST", ev, alice("can_edit", "alice"))
    check("owner may edit", status == 200 and body["decision"] is True, body)
    check("context says why", body["context"]["clause"] == "R" and body["context"]["effect"] == "allow"
          and body["context"]["policy"]["version"] == "1", body)
    status, _, body = call(port, "POST", ev, alice("can_edit", "bob"))
    check("another's document", status == 200 and body["decision"] is False, body)
    check("default clause", body["context"]["clause"] == "default", body)
    # Numeric ids are the text of a string attribute; unknown properties are ignored.
    status, _, body = call(port, "POST", ev, {
        "subject": {"type": "user", "id": 42, "properties": {"department": "x"}},
        "action": {"name": "can_read", "properties": {"method": "GET"}},
        "resource": {"type": "doc", "id": 1, "properties": {"owner": "42", "size": 3}}})
    check("numeric id as text", status == 200 and body["decision"] is True, body)
    # A request the policy cannot decide is a denial with its error, not a 400.
    status, _, body = call(port, "POST", ev, alice("can_fly", "alice"))
    check("unknown action denies", status == 200 and body["decision"] is False, body)
    check("error names action.name", body["context"]["error"]["field"] == "action.name"
          and body["context"]["error"]["name"] == "can_fly", body)

    # Batches: defaults, overrides, and the three semantics.
    batch = {"subject": {"type": "user", "id": "alice"}, "action": {"name": "can_read"},
             "evaluations": [
                 {"resource": {"type": "doc", "id": "1", "properties": {"owner": "alice"}}},
                 {"resource": {"type": "doc", "id": "2", "properties": {"owner": "bob"}}},
                 {"resource": {"type": "doc", "id": "3", "properties": {"public": True}}},
                 {"action": {"name": "can_delete"},
                  "resource": {"type": "doc", "id": "4", "properties": {"owner": "alice"}}},
                 {"subject": {"type": "admin", "id": "root"}, "action": {"name": "can_delete"},
                  "resource": {"type": "doc", "id": "5"}}]}
    status, _, body = call(port, "POST", evs, batch)
    got = [e["decision"] for e in body.get("evaluations", [])]
    check("execute_all", status == 200 and got == [True, False, True, False, True], body)
    for semantic, expected in [("execute_all", [True, False, True, False, True]),
                               ("deny_on_first_deny", [True, False]),
                               ("permit_on_first_permit", [True])]:
        status, _, body = call(port, "POST", evs, dict(batch, options={"evaluations_semantic": semantic}))
        got = [e["decision"] for e in body.get("evaluations", [])]
        check(semantic, status == 200 and got == expected, body)
    status, _, body = call(port, "POST", evs, dict(batch, options={"evaluations_semantic": "all"}))
    check("unknown semantic 400", status == 400 and "semantic" in body["error"], body)
    # Without items, evaluations is one evaluation.
    status, _, body = call(port, "POST", evs, alice("can_edit", "alice"))
    check("evaluations without items", status == 200 and body["decision"] is True
          and "evaluations" not in body, body)
    # An item's own mistake denies that item only.
    status, _, body = call(port, "POST", evs, {"evaluations": [alice("can_edit", "alice"), {"subject": 3}]})
    got = body.get("evaluations", [])
    check("item error", status == 200 and [e["decision"] for e in got] == [True, False]
          and got[1]["context"]["error"]["field"] == "evaluations[1].subject", body)

    # Payloads refused as a whole: 400 with a JSON error, X-Request-ID echoed.
    bad = [("not JSON", "{nope"), ("not an object", "[1,2]"), ("a string", '"x"'),
           ("missing subject", json.dumps({"action": {"name": "can_read"}, "resource": {"type": "doc"}})),
           ("missing action", json.dumps({"subject": {"type": "user"}, "resource": {"type": "doc"}})),
           ("missing resource", json.dumps({"subject": {"type": "user"}, "action": {"name": "can_read"}})),
           ("subject not object", json.dumps(alice("can_read", "a", subject="alice"))),
           ("type not string", json.dumps(alice("can_read", "a", subject={"type": 1, "id": "a"}))),
           ("id an object", json.dumps(alice("can_read", "a", subject={"type": "user", "id": {}}))),
           ("name missing", json.dumps(alice("can_read", "a", action={}))),
           ("properties not object", json.dumps(alice("can_read", "a", resource={"type": "doc", "properties": 1}))),
           ("context not object", json.dumps(alice("can_read", "a", context=[]))),
           ("too deep", "[" * 200 + "]" * 200)]
    for what, text in bad:
        for path in (ev, evs):
            status, headers, body = call(port, "POST", path, text, {"X-Request-ID": "req-" + what})
            check(f"{path} {what} 400", status == 400 and isinstance(body.get("error"), str), (status, body))
            check(f"{path} {what} echo", headers.get("X-Request-ID") == "req-" + what, headers)
    status, _, body = call(port, "POST", evs, {"evaluations": "x"})
    check("evaluations not array", status == 400, body)
    status, _, body = call(port, "POST", evs, {"evaluations": [alice("can_read", "a")] * 6})
    check("batch over --max-batch", status == 400 and "at most 5" in body["error"], body)
    status, _, body = call(port, "POST", ev, json.dumps(alice("can_read", "x" * 5000)))
    check("oversize 413", status == 413, body)
    status, headers, body = call(port, "POST", ev, json.dumps(alice("can_read", "a")),
                                 {"Content-Type": "text/plain", "X-Request-ID": "t"})
    check("content type 415", status == 415 and headers.get("X-Request-ID") == "t", body)
    status, headers, body = call(port, "POST", ev, alice("can_read", "alice"), {"X-Request-ID": "abc-1"})
    check("X-Request-ID on 200", status == 200 and headers.get("X-Request-ID") == "abc-1", headers)

    # Metadata: the base the client reached.
    status, _, body = call(port, "GET", "/.well-known/authzen-configuration", raw=False)
    base = f"http://127.0.0.1:{port}"
    check("metadata", status == 200 and body["policy_decision_point"] == base
          and body["access_evaluation_endpoint"] == base + "/access/v1/evaluation"
          and body["access_evaluations_endpoint"] == base + "/access/v1/evaluations"
          and all(body[f"search_{k}_endpoint"] == f"{base}/access/v1/search/{k}"
                  for k in ("subject", "resource", "action")), body)
    status, _, body = call(port, "POST", "/access/v1/search/resource",
                           {"subject": {"type": "user", "id": "alice"}, "action": {"name": "can_read"},
                            "resource": {"type": "doc"}})
    check("search without a document: 400", status == 400
          and "no document keyed by `data.id`" in body["error"], body)
    status, _, body = call(port, "POST", "/access/v1/search/subject",
                           {"subject": {"type": "user"}, "action": {"name": "can_read"},
                            "resource": {"type": "doc", "id": "d1"}})
    check("subject search without a document: 400", status == 400
          and "no document keyed by `requester.id`" in body["error"], body)
    status, _, body = call(port, "GET", "/.well-known/authzen-configuration",
                           headers={"Host": "pdp.example.com:8443"})
    check("metadata by Host", body["policy_decision_point"] == "http://pdp.example.com:8443", body)
    status, _, body = call(port, "GET", "/.well-known/authzen-configuration",
                           headers={"Host": "evil\"/x"})
    check("metadata, odd Host", body["policy_decision_point"] == base, body)

    status, _, text = call(port, "GET", "/metrics", raw=True)
    check("metrics count AuthZEN decisions", 'clause_decisions_total{effect="allow"}' in text
          and 'clause_decisions_by_clause_total{clause="R"}' in text, text[:300])


def context_off_checks(port):
    evs = "/access/v1/evaluations"
    batch = {"subject": {"type": "user", "id": "alice"}, "action": {"name": "can_read"},
             "evaluations": [
                 {"resource": {"type": "doc", "id": "1", "properties": {"owner": "alice"}}},
                 {"resource": {"type": "doc", "id": "2", "properties": {"owner": "bob"}}},
                 {"resource": {"type": "nothing", "id": "3"}}]}
    status, _, text = call(port, "POST", evs, batch, raw=True)
    check("context off: exact bytes", status == 200 and
          text == '{"evaluations":[{"decision":true},{"decision":false},{"decision":false}]}\n', text)
    status, _, text = call(port, "POST", "/access/v1/evaluation", alice("can_edit", "alice"), raw=True)
    check("context off: one", text == '{"decision":true}\n', text)
    status, _, body = call(port, "GET", "/.well-known/authzen-configuration")
    check("issuer", body["policy_decision_point"] == "https://pdp.example.com/authz"
          and body["access_evaluation_endpoint"] == "https://pdp.example.com/authz/access/v1/evaluation", body)


def privacy_checks(port):
    status, _, body = call(port, "POST", "/access/v1/evaluation", {
        "subject": {"type": "business_partner", "id": "p-1"}, "action": {"name": "access"},
        "resource": {"type": "personal_info", "id": "u-1"},
        "context": {"purpose": "partner_marketing"}})
    check("privacy: require-consent is false", status == 200 and body["decision"] is False
          and body["context"]["effect"] == "require-consent"
          and body["context"]["consent"] == "partner_marketing", body)
    status, _, body = call(port, "POST", "/access/v1/evaluation", {
        "subject": {"type": "counterparty", "id": "buyer-17"}, "action": {"name": "access"},
        "resource": {"type": "contact_info", "id": "o-1"},
        "context": {"purpose": "service", "in_transaction": True}})
    check("privacy: allow", status == 200 and body["decision"] is True
          and body["context"]["clause"] == "6.b", body)
    status, _, body = call(port, "POST", "/access/v1/evaluation", {
        "subject": {"type": "counterparty", "id": "buyer-17"}, "action": {"name": "access"},
        "resource": {"type": "contact_info", "id": "o-1"}, "context": {"in_transactoin": True}})
    check("privacy: unknown fact", body["decision"] is False
          and body["context"]["error"]["field"] == "context.in_transactoin", body)


SEARCH = "/access/v1/search/"


def records(user, verb, **more):
    r = {"subject": {"type": "user", "id": user}, "action": {"name": verb},
         "resource": {"type": "record"}}
    r.update(more)
    return r


def search_checks(port, policy):
    status, _, body = call(port, "POST", SEARCH + "resource", records("alice", "view"))
    ids = [r["id"] for r in body.get("results", [])]
    check("resource search", status == 200 and list(body) == ["results"] and len(ids) == 20
          and ids == sorted(ids) and all(r["type"] == "record" for r in body["results"]), body)
    status, _, body = call(port, "POST", SEARCH + "resource", records("felix", "delete"))
    check("resource search, own records", [r["id"] for r in body["results"]] == ["106", "112", "118"], body)
    status, _, body = call(port, "POST", SEARCH + "subject",
                           {"subject": {"type": "user", "id": "ignored"}, "action": {"name": "delete"},
                            "resource": {"type": "record", "id": "120"}})
    check("subject search (a given id ignored)", status == 200
          and body == {"results": [{"type": "user", "id": "bob"}]}, body)
    status, _, body = call(port, "POST", SEARCH + "action",
                           {"subject": {"type": "user", "id": "alice"},
                            "resource": {"type": "record", "id": "101"}})
    check("action search, in file order", status == 200 and body["results"] == [
        {"name": "view"}, {"name": "edit"}, {"name": "delete"}], body)

    # Paging: every page's token leads to the next; the pages make the whole answer.
    seen, token, pages = [], None, 0
    while True:
        page = {"limit": 7} if token is None else {"limit": 7, "token": token}
        status, _, body = call(port, "POST", SEARCH + "resource", records("alice", "view", page=page))
        pages += 1
        if status != 200 or pages > 5:
            check("paging", False, body)
            break
        seen += [r["id"] for r in body["results"]]
        check("page count and total", body["page"]["count"] == len(body["results"])
              and body["page"]["total"] == 20 and list(body)[0] == "page", body)
        token = body["page"]["next_token"]
        if not token:
            break
    check("pages make the whole", pages == 3 and seen == ids, (pages, seen))
    status, _, first = call(port, "POST", SEARCH + "resource", records("alice", "view", page={"limit": 7}))
    token = first["page"]["next_token"]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    status, _, body = call(port, "POST", SEARCH + "resource",
                           records("alice", "view", page={"token": tampered}))
    check("tampered token: 400", status == 400 and "page.token" in body["error"], body)
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = token[:-1] + digits[digits.index(token[-1]) ^ 1]  # only its spare bits differ
    status, _, body = call(port, "POST", SEARCH + "resource",
                           records("alice", "view", page={"token": spare}))
    check("token changed in its spare bits: 400", status == 400, body)
    status, _, body = call(port, "POST", SEARCH + "resource",
                           records("alice", "edit", page={"token": token}))
    check("token of another request: 400", status == 400, body)
    status, _, body = call(port, "POST", SEARCH + "resource", records("alice", "view", page={"limit": 0}))
    check("limit 0: 400", status == 400 and "page.limit" in body["error"], body)
    status, _, body = call(port, "POST", SEARCH + "resource", records("alice", "view", page={"limit": 5000}))
    check("limit past the maximum", status == 200 and body["page"]["next_token"] == ""
          and body["page"]["count"] == 20, body)

    # A base request the policy cannot decide: no results, the reason in the context.
    status, _, body = call(port, "POST", SEARCH + "resource",
                           {"subject": {"type": "user", "id": "alice"}, "action": {"name": "view"},
                            "resource": {"type": "folder"}})
    check("unknown type: empty", status == 200 and body["results"] == []
          and body["context"]["error"]["field"] == "resource.type", body)
    status, _, body = call(port, "POST", SEARCH + "resource", records("nobody", "view"))
    check("unknown subject: empty", status == 200 and body["results"] == []
          and body["context"]["error"]["name"] == "nobody", body)
    status, _, body = call(port, "POST", SEARCH + "action",
                           {"subject": {"type": "group", "id": "alice"},
                            "resource": {"type": "record", "id": "101"}})
    check("action search, unknown type: empty", status == 200 and body["results"] == [], body)
    status, _, body = call(port, "POST", SEARCH + "subject",
                           {"action": {"name": "view"}, "resource": {"type": "record", "id": "101"}})
    check("subject search without subject: 400", status == 400 and "subject" in body["error"], body)
    status, _, body = call(port, "POST", SEARCH + "resource", records("alice", "view", page=[1]))
    check("page not an object: 400", status == 400, body)

    # A token does not outlive the policy it was given by.
    with open(policy) as f:
        text = f.read()
    with open(policy, "w") as f:
        f.write(text.replace('version "1.0-03"', 'version "1.0-04"'))
    status, _, body = call(port, "POST", "/v1/reload", {},
                           {"Authorization": "Bearer search-admin-token"})
    check("reload", status == 200, body)
    status, _, body = call(port, "POST", SEARCH + "resource",
                           records("alice", "view", page={"limit": 7, "token": token}))
    check("token after a reload: 400", status == 400 and "page.token" in body["error"], body)


def search_context_off_checks(port):
    status, _, text = call(port, "POST", SEARCH + "resource",
                           {"subject": {"type": "user", "id": "alice"}, "action": {"name": "view"},
                            "resource": {"type": "folder"}}, raw=True)
    check("context off: empty search", status == 200 and text == '{"results":[]}\n', text)


def main():
    clause = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "decisions.log")
        procs = []
        try:
            proc, port = serve(clause, FIXTURE, tmp, "fixture", "--max-batch", "5", "--max-body", "4096",
                               "--log", log_path)
            procs.append(proc)
            fixture_checks(port, log_path)
            proc, port = serve(clause, FIXTURE, tmp, "off", "--authzen-context", "off",
                               "--authzen-issuer", "https://pdp.example.com/authz/")
            procs.append(proc)
            context_off_checks(port)
            proc, port = serve(clause, PRIVACY, tmp, "privacy")
            procs.append(proc)
            privacy_checks(port)
            shutil.copytree(os.path.join(ROOT, "policies", "interop", "search"),
                            os.path.join(tmp, "search"))
            policy = os.path.join(tmp, "search.policy")
            shutil.copy(os.path.join(ROOT, "policies", "interop", "search.policy"), policy)
            token_file = os.path.join(tmp, "admin-token")
            with open(token_file, "w") as f:
                f.write("search-admin-token\n")
            proc, port = serve(clause, policy, tmp, "search", "--admin-token", token_file)
            procs.append(proc)
            search_checks(port, policy)
            proc, port = serve(clause, policy, tmp, "search-off", "--authzen-context", "off")
            procs.append(proc)
            search_context_off_checks(port)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)
        records = [json.loads(line) for line in open(log_path)]
        check("decision log holds AuthZEN decisions", len(records) > 5
              and any(r.get("request", {}).get("requester", {}).get("id") == "alice" for r in records),
              records[:2])
    if failures:
        sys.exit(f"{len(failures)} checks failed")
    print("authzen: all checks passed")


if __name__ == "__main__":
    main()
