"""Deciding requests: dicts and JSON text, batches, and requests that cannot be decided."""
import json
import subprocess
import sys
import threading

import clause
from conftest import SHOP, request


# What `clause eval --policy policies/privacy.policy` decides for each example.
EXPECTED = {
    "01-counterparty-contact-during-transaction.json": ("allow", "6.b", "6.b/1"),
    "02-partner-marketing-without-consent.json": ("require-consent", "2.c", "2.c/2"),
    "03-partner-marketing-with-consent.json": ("allow", "2.c", "2.c/2"),
    "04-third-party-sells-personal-info.json": ("deny", "2.b", "2.b/1"),
    "05-unrelated-third-party-buys-with-consent.json": ("allow", "3.a", "2.a/3"),
    "06-store-unencrypted-credentials.json": ("deny", "6.a", "6.a/1"),
    "07-search-keywords-are-out-of-scope.json": ("allow", "1.x.a", "1.x.a/1"),
    "08-user-edits-own-data.json": ("deny", "default", "default/1"),
}


def test_import_from_the_build_tree():
    out = subprocess.run([sys.executable, "-c", "import clause; print(clause.__version__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == clause.__version__


def test_examples_decide_as_the_cli(privacy, examples):
    assert sorted(EXPECTED) == sorted(examples)
    for name, body in examples.items():
        d = privacy.evaluate(body)
        assert (d.effect, d.clause, d.rule) == EXPECTED[name], name
        assert d.error == ""
        assert d.reason
        assert d.policy_version == privacy.version
        assert d.policy_hash == privacy.content_hash


def test_dict_and_text_decide_alike(privacy, examples):
    for body in examples.values():
        a = privacy.evaluate(body)
        b = privacy.evaluate(json.dumps(body))
        c = privacy.evaluate(json.dumps(body).encode())
        assert a.to_json() == b.to_json() == c.to_json()


def test_decision_fields(privacy, examples, shop):
    d = privacy.evaluate(examples["02-partner-marketing-without-consent.json"])
    assert d.effect == "require-consent" and not d.allowed
    assert d.consent == "partner_marketing"
    assert json.loads(d.to_json())["decision"] == "require-consent"
    assert "partner_marketing" in repr(d)
    d = shop.evaluate(request("order", "staff", "read"))
    assert d.allowed and d.obligations == ["log_access"]
    assert json.loads(d.to_json())["obligations"] == ["log_access"]


def test_trace(privacy, examples):
    body = examples["02-partner-marketing-without-consent.json"]
    assert privacy.evaluate(body).trace == []
    d = privacy.evaluate(body, trace=True)
    assert d.to_json() == privacy.evaluate(json.dumps(body), trace=True).to_json()
    assert [t.rule for t in d.trace if t.outcome == "decided"] == [d.rule]
    step = next(t for t in d.trace if t.rule == d.rule)
    assert (step.clause, step.tier) == ("2.c", "consent") and step.line > 1
    assert [t["rule"] for t in json.loads(d.to_json())["trace"]] == [t.rule for t in d.trace]
    assert privacy.evaluate({}, trace=True).trace == []


def test_decisions_outlive_their_policy():
    policy = clause.compile(
        'policy "P" version "7"\nclause "1" "Reading is fine."\ndata d\nrequester r\n'
        'action read\nallow read of d by r cites "1"\n')
    d = policy.evaluate(request("d", "r", "read"))
    del policy
    assert (d.effect, d.clause, d.rule, d.policy_version) == ("allow", "1", "1/1", "7")


def denied(d, error_part):
    assert (d.effect, d.clause, d.rule) == ("deny", "default", "")
    assert error_part in d.error, d.error
    assert d.reason == "the request could not be decided"


def test_bad_requests_are_denied_not_raised(privacy):
    denied(privacy.evaluate(42), "must be a dict or a str of JSON, not int")
    denied(privacy.evaluate(None), "not NoneType")
    denied(privacy.evaluate(["a"]), "not list")
    denied(privacy.evaluate("{"), "(at 1:2)")
    denied(privacy.evaluate(""), "")
    denied(privacy.evaluate({}), "missing field")
    denied(privacy.evaluate({"data": {"category": "x_ray"}}), "data.category")
    denied(privacy.evaluate({1: 2}), "a key must be a str, not int")
    denied(privacy.evaluate({"context": {"t": float("inf")}}), "context.t: the number inf")
    denied(privacy.evaluate({"context": {"when": {1, 2}}}), "context.when: a value of type set")
    denied(privacy.evaluate({"context": {"x": object()}}), "type object")
    denied(privacy.evaluate({"context": {"n": 10**5000}}), "context.n: the number has too many")
    denied(privacy.evaluate({"context": {"n": 2**70}}), "context.n")
    denied(privacy.evaluate({"context": {"s": "\ud800"}}), "context.s: the text is not valid")
    denied(privacy.evaluate("\ud800"), "not valid Unicode")
    denied(privacy.evaluate(b"\xff\xfe"), "")


def test_huge_and_nested_requests(privacy, examples):
    body = dict(examples["01-counterparty-contact-during-transaction.json"])
    body["context"] = dict(body["context"], note="x" * (8 << 20))
    denied(privacy.evaluate(body), "longer than the limit of 1048576 bytes")
    denied(privacy.evaluate(json.dumps(body)), "longer than the limit of 1048576 bytes")
    many = {"context": {f"k{i}": i for i in range(200_000)}}
    denied(privacy.evaluate(many), "longer than the limit")
    deep = []
    for _ in range(100_000):
        deep = [deep]
    denied(privacy.evaluate({"context": {"x": deep}}),
           "context.x[0][0][0][0][0][0]: JSON nested more than 8 levels deep")
    cycle = {}
    cycle["self"] = cycle
    denied(privacy.evaluate(cycle), "nested more than 8 levels")


def test_subclasses_are_written_as_their_base(privacy, examples):
    class Kind(str):
        def __str__(self):
            return "not this"

    class Level(int):
        def __str__(self):
            return "high"

        __repr__ = __str__

    body = examples["01-counterparty-contact-during-transaction.json"]
    same = dict(body, action=Kind(body["action"]))
    assert privacy.evaluate(same).to_json() == privacy.evaluate(body).to_json()
    levels = clause.compile(SHOP.replace("obligation log_access", "obligation log_access\n"
                                         "attribute data.level integer")
                            + 'allow read of order by partner when data.level >= 3 cites "1"\n')
    asked = request("order", "partner", "read")
    asked["data"]["level"] = Level(3)
    assert levels.evaluate(asked).effect == "allow"
    asked["data"]["level"] = 2
    assert levels.evaluate(asked).effect == "deny"


def test_evaluate_many(privacy, examples):
    bodies = list(examples.values())
    batch = privacy.evaluate_many(bodies + [json.dumps(bodies[0]), 7, "{"])
    assert [d.to_json() for d in batch[:len(bodies)]] == [
        privacy.evaluate(b).to_json() for b in bodies]
    assert batch[len(bodies)].to_json() == batch[0].to_json()
    denied(batch[-2], "not int")
    denied(batch[-1], "(at 1:2)")
    assert privacy.evaluate_many([]) == []
    assert len(privacy.evaluate_many(iter(bodies * 100))) == 100 * len(bodies)
    for wrong in ("{}", b"{}", {"data": {}}):
        try:
            privacy.evaluate_many(wrong)
        except TypeError as e:
            assert "list of requests" in str(e)
        else:
            raise AssertionError(f"evaluate_many({wrong!r}) did not raise")


def test_threads_decide_concurrently(privacy, examples):
    bodies = list(examples.values()) * 50
    expected = [privacy.evaluate(b).to_json() for b in bodies]
    texts = [json.dumps(b) for b in bodies]
    failures = []
    start = threading.Barrier(8)

    def work(index):
        start.wait()
        for _ in range(5):
            if index % 2:
                got = [d.to_json() for d in privacy.evaluate_many(texts)]
            else:
                got = [privacy.evaluate(b).to_json() for b in bodies]
            if got != expected:
                failures.append(index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
