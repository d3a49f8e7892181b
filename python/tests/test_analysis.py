"""Compiling, and what a policy can be asked beyond decisions: check, verify, diff."""
import clause
import pytest
from conftest import SHOP


def test_compile_error_carries_diagnostics():
    text = 'policy "B" version "1"\nallow read\n'
    with pytest.raises(clause.CompileError) as caught:
        clause.compile(text, name="broken.policy")
    e = caught.value
    assert isinstance(e, ValueError)
    assert str(e).startswith("broken.policy:2:11: error[E101]: expected `cites \"ID\"`")
    assert "2 | allow read" in str(e)
    [d] = e.diagnostics
    assert (d.code, d.severity, d.line, d.column, d.file) == ("E101", "error", 2, 11, "broken.policy")
    assert d.message.startswith("expected `cites")
    assert d.text == str(e)
    assert str(d) == d.text
    assert d.help == ""


def test_compile_error_lists_every_diagnostic_with_help():
    with pytest.raises(clause.CompileError) as caught:
        clause.compile(SHOP.replace("requester partner", "requester staff, partner"))
    codes = [(d.code, d.line) for d in caught.value.diagnostics]
    assert len(codes) > 1 and codes[0] == ("E210", 6)
    assert any(d.help for d in caught.value.diagnostics)


def test_compile_and_compile_file(root, privacy):
    again = clause.compile((root / "policies" / "privacy.policy").read_text(),
                           name=str(root / "policies" / "privacy.policy"))
    assert again.content_hash == privacy.content_hash
    assert privacy.name == "Privacy Policy"
    assert repr(privacy) == f"Policy(name='Privacy Policy', version='{privacy.version}')"
    assert privacy.source_name.endswith("privacy.policy")
    ids = [c for c, _ in privacy.clauses]
    assert "2.c" in ids and privacy.clause_words("2.c") == dict(privacy.clauses)["2.c"]
    assert privacy.clause_words("no such clause") == ""
    with pytest.raises(OSError, match="no_such.policy"):
        clause.compile_file(str(root / "no_such.policy"))
    with pytest.raises(TypeError):
        clause.compile(42)


def test_documents_are_read_next_to_the_name(root):
    path = root / "tests" / "documents" / "todo.policy"
    policy = clause.compile(path.read_text(), name=str(path))
    assert policy.content_hash == clause.compile_file(str(path)).content_hash
    with pytest.raises(clause.CompileError) as caught:
        clause.compile(path.read_text(), name="elsewhere/todo.policy")
    assert "todo/users.json" in str(caught.value)


def test_check(shop, privacy):
    [w] = shop.check()
    assert (w.code, w.severity, w.line, w.column, w.end_column) == ("W002", "warning", 6, 11, 18)
    assert "partner" in w.message and "@ignore W002" in w.help
    assert w.text.startswith("shop.policy:6:11: warning[W002]")
    assert privacy.check() == []


def test_verify(shop):
    results = shop.verify()
    assert [(r.text, r.proved, r.line) for r in results] == [
        ("assert never allow sell of order", True, 12),
        ("assert never allow read of order by partner", True, 13)]
    assert results[0].counterexample is None and results[0].effect is None
    broken = clause.compile(SHOP.replace('deny sell of order cites "2"',
                                         'allow sell of order by partner cites "2"'))
    failed = broken.verify()[0]
    assert not failed.proved and failed.complete
    assert (failed.effect, failed.clause, failed.rule) == ("allow", "2", "2/1")
    example = failed.counterexample
    assert (example["action"], example["requester"]["kind"]) == ("sell", "partner")
    assert broken.evaluate(example).effect == "allow"


def test_diff(shop):
    assert clause.diff(shop, shop).regions == []
    newer = clause.compile(SHOP.replace('deny sell of order cites "2"',
                                        'allow sell of order by partner cites "2"'))
    diff = clause.diff(shop, newer)
    assert diff.complete and diff.changed == 2 and diff.total == 4
    region = diff.regions[0]
    assert (region.actions, region.requesters, region.data) == (["sell"], ["partner"], ["order"])
    assert (region.before.effect, region.before.clause) == ("deny", "2")
    assert (region.after.effect, region.after.clause, region.after.rule) == ("allow", "2", "2/1")
    assert region.requests == 1
    assert newer.evaluate(region.witness).effect == "allow"
    assert shop.evaluate(region.witness).effect == "deny"
    renamed = clause.compile(SHOP.replace("action sell", "action resell")
                             .replace("sell of", "resell of"))
    [names] = clause.diff(shop, renamed).names
    assert (names.kind, names.added, names.removed) == ("actions", ["resell"], ["sell"])


def test_diff_data(root, shop):
    with pytest.raises(ValueError):
        clause.diff_data(shop, clause.compile(SHOP + "\n"))
    folder = root / "tests" / "documents"
    text = (folder / "todo.policy").read_text()
    before = clause.compile(text, name=str(folder / "todo.policy"))
    after = clause.compile(text.replace("todo/users.json", "todo/users-v2.json"),
                           name=str(folder / "todo.policy"))
    with pytest.raises(ValueError):
        clause.diff_data(before, after)  # the texts differ
    diff = clause.diff_data(before, before)
    assert diff.regions == [] and diff.entries == []
