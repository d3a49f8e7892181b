#!/usr/bin/env python3
"""Every JSON output of `clause` validates against its schema in docs/schemas/.

Runs the real commands on the repository's policies, tests and the fixtures of tests/cli,
and validates each output (each line, for the JSON Lines of `eval`). The schemas must also
refuse an output with a field missing or misspelt, so that they stay strict.
"""
import json
import pathlib
import subprocess
import sys

from jsonschema import Draft202012Validator

clause = sys.argv[1]
root = pathlib.Path(__file__).resolve().parents[2]
schemas = root / "docs" / "schemas"
failures = []
checked = 0


def validator(name):
    schema = json.loads((schemas / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def run(args, stdin=None):
    result = subprocess.run([clause, *args], cwd=root, input=stdin, capture_output=True,
                            text=True, check=False)
    if result.returncode not in (0, 1, 2):
        failures.append(f"clause {' '.join(args)}: exit {result.returncode}: {result.stderr}")
    return result.stdout


def validate(name, args, stdin=None, lines=False):
    global checked
    check = validator(name)
    out = run(args, stdin)
    documents = [line for line in out.splitlines() if line] if lines else [out]
    if not documents or not out.strip():
        failures.append(f"clause {' '.join(args)}: no output")
    for text in documents:
        document = json.loads(text)
        checked += 1
        for error in check.iter_errors(document):
            failures.append(f"clause {' '.join(args)}: {name} schema: {error.message} "
                            f"at {list(error.absolute_path)}")
        refuse_broken(name, check, document, args)


def refuse_broken(name, check, document, args):
    """The schema refuses the document without schema_version, or with a misspelt field."""
    without = dict(document)
    del without["schema_version"]
    misspelt = dict(document)
    key = next(k for k in document if k != "schema_version")
    misspelt[key + "x"] = misspelt.pop(key)
    for broken, what in ((without, "without schema_version"), (misspelt, f"with {key}x")):
        if check.is_valid(broken):
            failures.append(f"clause {' '.join(args)}: the {name} schema accepts it {what}")


privacy = "policies/privacy.policy"
examples = sorted(str(p.relative_to(root)) for p in (root / "policies/examples").glob("*.json"))
fixtures = "tests/cli"

for policy in (privacy, f"{fixtures}/broken.policy", f"{fixtures}/uncited.policy"):
    validate("check", ["check", "--format", "json", policy])
validate("check", ["check", "--format", "json", "-"],
         stdin=(root / fixtures / "broken.policy").read_text())
validate("eval", ["eval", "--policy", privacy, *examples], lines=True)
validate("eval", ["eval", "--policy", privacy, "--explain", *examples[:3]], lines=True)
for stdin in ("eval-jsonl-mixed.stdin", "eval-jsonl-ids.stdin"):
    validate("eval", ["eval", "--policy", privacy, "--jsonl"],
             stdin=(root / fixtures / stdin).read_text(), lines=True)
validate("eval", ["eval", "--policy", privacy, "policies/examples", examples[0]], lines=True)
validate("eval", ["eval", "--policy", privacy, "--jsonl"], lines=True,
         stdin='{"id": null, "data": {"category": "contact_info"}, '
         '"requester": {"kind": "counterparty"}, "action": "access"}\n')
for example in examples:
    validate("explain", ["explain", "--policy", privacy, "--format", "json", example])
validate("explain", ["explain", "--policy", privacy, "--format", "json", "-"],
         stdin=(root / fixtures / "explain-invalid.stdin").read_text())
for plan in sorted((root / "policies/plans").glob("*.json")):
    if plan.name.endswith("-mapping.json"):  # the SQL mappings, not partial requests
        continue
    clinic = plan.name.startswith("clinic")
    policy = "policies/clinic.policy" if clinic else privacy
    validate("plan", ["plan", "--policy", policy, "--format", "json", str(plan.relative_to(root))])
    mapping = root / "policies/plans" / ("clinic-mapping.json" if clinic else "privacy-mapping.json")
    for dialect in ("postgres", "sqlite") if mapping.exists() else ():
        validate("plan-sql", ["plan", "--policy", policy, "--sql", dialect, "--mapping",
                              str(mapping.relative_to(root)), "--format", "json",
                              str(plan.relative_to(root))])
validate("plan-sql", ["plan", "--policy", "policies/clinic.policy", "--sql", "sqlite", "--mapping",
                      "tests/cli/sql-partial.mapping.json", "--format", "json",
                      "policies/plans/clinic-person-access.json"])
validate("plan", ["plan", "--policy", "policies/clinic.policy", "--format", "json", "-"],
         stdin=(root / fixtures / "plan-invalid.stdin").read_text())
validate("test", ["test", "--format", "json", "policies"])
validate("test", ["test", "--coverage", "--format", "json", "policies"])
validate("test", ["test", "--coverage", "--format", "json", f"{fixtures}/failing.test"])
for policy in (privacy, f"{fixtures}/broken-promise.policy"):
    validate("verify", ["verify", "--format", "json", policy])
    validate("matrix", ["matrix", "--format", "json", policy])
    validate("analyze", ["analyze", "--format", "json", policy])
clinic = "policies/clinic.policy"
validate("matrix", ["matrix", "--format", "json", "--vary", "data.subject_age", clinic])
validate("matrix", ["matrix", "--format", "json", "--fix", "context.time=2026-03-01",
                    "--fix", "objected:family_disclosure", clinic])
for request in ("clinic-family.json", "clinic-representative.json"):
    validate("explain", ["explain", "--policy", clinic, "--format", "json",
                         f"{fixtures}/{request}"])
validate("diff", ["diff", "--format", "json", privacy, f"{fixtures}/privacy-v2.policy"])
validate("diff", ["diff", "--format", "json", f"{fixtures}/broken-promise.policy",
                  f"{fixtures}/uncited.policy"])
validate("diff", ["diff", "--format", "json", "policies/clinic.policy",
                  f"{fixtures}/clinic-v2.policy"])
validate("diff", ["diff", "--format", "json", f"{fixtures}/vocabulary-old.policy",
                  f"{fixtures}/vocabulary-new.policy"])
validate("diff", ["diff", "--format", "json", "--data",
                  "users=tests/documents/todo/users-v2.json", "tests/documents/todo.policy"])
bench = ["bench", "--policy", privacy, "--iterations", "2000", "--repetitions", "1",
         "--threads", "1"]
validate("bench", [*bench, "--format", "json"])
validate("bench", [*bench, "--json"])

for failure in failures:
    print("FAILED:", failure)
print(f"{checked} JSON outputs checked against docs/schemas, {len(failures)} failures")
sys.exit(1 if failures or checked == 0 else 0)
