#!/usr/bin/env python3
"""The CI formats of `clause`: SARIF, JUnit XML and TAP (docs/cli.md).

SARIF logs of `check`, `verify` and `analyze` validate against the official SARIF 2.1.0
JSON schema, which the npm package @microsoft/jest-sarif ships; the package is installed
once into BUILD/npm-cache (a pinned version), and the schema is read from there, with no
other network access. Beyond the schema: the columns are Unicode code points as
run.columnKind says, the rules carry the descriptions of docs/errors.md, a did-you-mean
help is a fix, and the exit status is the text format's.

JUnit XML of `clause test` is well-formed and its counts agree with the cases; TAP has a
plan that matches its test lines. Both on a passing and a failing test file.

Usage: check_formats.py CLAUSE BUILD_DIR
"""
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from jsonschema import Draft4Validator

clause = str(pathlib.Path(sys.argv[1]).resolve())
build = pathlib.Path(sys.argv[2]).resolve()
root = pathlib.Path(__file__).resolve().parents[2]
failures = []

SCHEMA_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SCHEMA_FILE = "node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"


def fail(message):
    failures.append(message)
    print("FAILED:", message)


def run(args, cwd=root):
    return subprocess.run([clause, *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def sarif_schema():
    cache = build / "npm-cache"
    path = cache / SCHEMA_FILE
    if not path.exists():
        subprocess.run(["npm", "install", "--prefix", str(cache), "--no-save",
                        "--no-package-lock", "--ignore-scripts", "--no-audit", "--no-fund",
                        SCHEMA_PACKAGE], check=True, capture_output=True)
    schema = json.loads(path.read_text())
    Draft4Validator.check_schema(schema)
    return schema


def error_codes():
    """The meaning of each code in the table of docs/errors.md."""
    codes = {}
    for line in (root / "docs" / "errors.md").read_text().splitlines():
        m = re.match(r"^\| \[([EW]\d+)\]\(#\w+\) \| \w+ \| (.*) \|$", line)
        if m:
            codes[m.group(1)] = m.group(2)
    return codes


def check_code_table(codes):
    """The table of descriptions in tools/clause/sarif.cpp is the one of docs/errors.md."""
    text = (root / "tools" / "clause" / "sarif.cpp").read_text()
    literal = r'"(?:[^"\\]|\\.)*"'
    # An entry is `{"CODE", "..."}`, its description perhaps split into adjacent literals.
    table = {code: "".join(json.loads(part) for part in re.findall(literal, parts))
             for code, parts in re.findall(rf'\{{"([EW]\d+)",\s*((?:{literal}\s*)+)\}}', text)}
    if table != codes:
        fail("tools/clause/sarif.cpp describes the codes otherwise than docs/errors.md: "
             f"{sorted(set(table.items()) ^ set(codes.items()))}")


def check_sarif(validator, args, cwd=root):
    """Runs a command with --format sarif; validates it; gives the log."""
    result = run([*args, "--format", "sarif"], cwd)
    text = run(args, cwd)
    name = " ".join(args)
    if result.returncode != text.returncode:
        fail(f"{name}: exit {result.returncode} with sarif, {text.returncode} with text")
    log = json.loads(result.stdout)
    for error in validator.iter_errors(log):
        fail(f"{name}: {error.json_path}: {error.message}")
    run_ = log["runs"][0]
    if run_.get("columnKind") != "unicodeCodePoints":
        fail(f"{name}: run.columnKind is {run_.get('columnKind')}")
    rules = run_["tool"]["driver"]["rules"]
    for r in run_["results"]:
        if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
            fail(f"{name}: ruleIndex of {r['ruleId']} names {rules[r['ruleIndex']]['id']}")
        if r.get("kind", "fail") != "fail" and r["level"] != "none":
            fail(f"{name}: a result of kind {r['kind']} has level {r['level']}")
    return log


def check_diagnostics(validator, codes):
    log = check_sarif(validator, ["check", "tests/cli/broken.policy"])
    run_ = log["runs"][0]
    for rule in run_["tool"]["driver"]["rules"]:
        if rule["shortDescription"]["text"] != codes.get(rule["id"]):
            fail(f"check: rule {rule['id']} is described {rule['shortDescription']['text']!r},"
                 f" docs/errors.md says {codes.get(rule['id'])!r}")
    fixes = [r for r in run_["results"] if "fixes" in r]
    if not fixes:
        fail("check: no fix for the did-you-mean helps of broken.policy")
    source = (root / "tests/cli/broken.policy").read_text().splitlines()
    for r in fixes:
        change = r["fixes"][0]["artifactChanges"][0]
        region = change["replacements"][0]["deletedRegion"]
        line = source[region["startLine"] - 1]
        old = line[region["startColumn"] - 1:region["endColumn"] - 1]
        new = change["replacements"][0]["insertedContent"]["text"]
        if old == new or not old:
            fail(f"check: the fix replaces {old!r} by {new!r}")
    # Code point columns: a line with letters of two, three and four bytes before the error.
    with tempfile.TemporaryDirectory() as folder:
        policy = pathlib.Path(folder) / "wide.policy"
        policy.write_text('policy "p" version "1"\nclause "1" "one"\ndata info\n'
                          'requester company\naction read\nattribute requester.name string\n'
                          'allow read of info by company when requester.name = "é€😀"'
                          ' and requester.nmae = "x" cites "1"\n', encoding="utf-8")
        result = json.loads(run(["check", "--format", "sarif", "wide.policy"],
                                folder).stdout)
        diagnostics = json.loads(run(["check", "--format", "json", "wide.policy"],
                                     folder).stdout)["diagnostics"]
        for error in validator.iter_errors(result):
            fail(f"check wide.policy: {error.json_path}: {error.message}")
        lines = policy.read_text(encoding="utf-8").splitlines()
        results = result["runs"][0]["results"]
        if len(results) != 1 or len(diagnostics) != 1:
            fail(f"check wide.policy: {len(results)} results, {len(diagnostics)} diagnostics")
        for r, d in zip(results, diagnostics):
            begin = d["span"]["begin"]
            line = lines[begin["line"] - 1].encode()
            want = len(line[:begin["column"] - 1].decode()) + 1
            got = r["locations"][0]["physicalLocation"]["region"]["startColumn"]
            # The byte column is 6 more: é, € and 😀 take 2, 3 and 4 bytes.
            if got != want or got != begin["column"] - 6:
                fail(f"check wide.policy: startColumn {got}, the code point column is {want}")


def check_verify_analyze(validator):
    log = check_sarif(validator, ["verify", "tests/cli/broken-promise.policy"])
    results = log["runs"][0]["results"]
    if not any(r["level"] == "error" and "counterexample" in r["properties"] for r in results):
        fail("verify broken-promise.policy: no error with a counterexample")
    log = check_sarif(validator, ["verify", "policies/privacy.policy"])
    if any(r.get("kind") != "pass" for r in log["runs"][0]["results"]):
        fail("verify privacy.policy: an assertion that holds is not of kind pass")
    log = check_sarif(validator, ["analyze", "policies/privacy.policy"])
    ids = {r["ruleId"] for r in log["runs"][0]["results"]}
    if "conflict" not in ids:
        fail(f"analyze privacy.policy: no conflict among {sorted(ids)}")


def summary(stderr):
    m = re.search(r"^(\d+) passed, (\d+) failed$", stderr, re.M)
    return int(m.group(1)), int(m.group(2))


def check_junit(test_file):
    result = run(["test", "--format", "junit", test_file])
    passed, failed = summary(result.stderr)
    try:
        suites = ET.fromstring(result.stdout)
    except ET.ParseError as error:
        fail(f"junit {test_file}: not well-formed: {error}")
        return
    cases = suites.findall("./testsuite/testcase")
    bad = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    if (len(cases), len(bad)) != (passed + failed, failed):
        fail(f"junit {test_file}: {len(cases)} cases, {len(bad)} failing;"
             f" the run says {passed} passed, {failed} failed")
    if int(suites.get("tests")) != len(cases) or int(suites.get("failures")) + int(
            suites.get("errors")) != len(bad):
        fail(f"junit {test_file}: the counts of <testsuites> disagree with its cases")
    for element in [suites, *suites.findall("testsuite"), *cases]:
        float(element.get("time"))
    for c in cases:
        f = c.find("failure")
        if f is not None and not f.get("message", "").startswith("expected") and \
                "the case" not in f.get("message", "") and ":" not in f.get("message", ""):
            fail(f"junit {test_file}: failure without a message: {ET.tostring(c)!r}")


def check_tap(test_file):
    result = run(["test", "--format", "tap", test_file])
    passed, failed = summary(result.stderr)
    lines = result.stdout.splitlines()
    if lines[:1] != ["TAP version 14"]:
        fail(f"tap {test_file}: first line {lines[:1]}")
        return
    plan = re.fullmatch(r"1\.\.(\d+)", lines[1])
    tests = [re.match(r"^(ok|not ok) (\d+) - ", l) for l in lines[2:]
             if l.startswith(("ok ", "not ok "))]
    numbers = [int(t.group(2)) for t in tests if t]
    if not plan or int(plan.group(1)) != len(tests) or numbers != list(range(1, len(tests) + 1)):
        fail(f"tap {test_file}: plan {lines[1]!r} for tests numbered {numbers}")
    if sum(t.group(1) == "not ok" for t in tests) != failed or len(tests) != passed + failed:
        fail(f"tap {test_file}: the lines disagree with {passed} passed, {failed} failed")
    # Each YAML block follows a `not ok` line; its values are JSON strings.
    inside = False
    for line in lines[2:]:
        if line == "  ---":
            inside = True
        elif line == "  ...":
            inside = False
        elif inside:
            key, _, value = line.strip().partition(": ")
            json.loads(value)
        elif not line.startswith(("ok ", "not ok ")):
            fail(f"tap {test_file}: a line outside the grammar: {line!r}")


def check_escaping():
    """A case name with the characters XML and TAP escape comes back as written."""
    name = 'a <b> & "c" \'d\' # e \\ f'
    with tempfile.TemporaryDirectory() as folder:
        test = pathlib.Path(folder) / "odd.test"
        test.write_text(f'tests for "{root}/policies/privacy.policy"\n\n'
                        f'case "{name.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"\n'
                        '  data contact_info\n  requester counterparty\n  action access\n'
                        '  expect deny cites "default"\n', encoding="utf-8")
        junit = run(["test", "--format", "junit", "odd.test"], folder)
        cases = ET.fromstring(junit.stdout).findall("./testsuite/testcase")
        if [c.get("name") for c in cases] != [name]:
            fail(f"junit: the case is named {[c.get('name') for c in cases]}, not {name!r}\n"
                 f"{junit.stdout}{junit.stderr}")
        tap = run(["test", "--format", "tap", "odd.test"], folder).stdout.splitlines()
        escaped = name.replace("\\", "\\\\").replace("#", "\\#")
        if len(tap) < 3 or not tap[2].endswith(": " + escaped):
            fail(f"tap: {tap[2:3]} does not end with the escaped name {escaped!r}")


validator = Draft4Validator(sarif_schema())
check_escaping()
check_code_table(error_codes())
check_diagnostics(validator, error_codes())
check_verify_analyze(validator)
for test_file in ["policies/privacy.test", "tests/cli/failing.test"]:
    check_junit(test_file)
    check_tap(test_file)
if failures:
    sys.exit(f"{len(failures)} failures")
print("SARIF, JUnit and TAP outputs are valid")
