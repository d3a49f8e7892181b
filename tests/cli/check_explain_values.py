#!/usr/bin/env python3
"""Replays explain's near misses over attribute values through `clause eval`.

For generated clinic requests (tests/clinic/generate.py), each value near miss that
`clause explain --format json` lists is applied to the request (that one attribute changed)
and decided by `clause eval`: the decision, clause, consent and rule must be those explain
said. Usage: check_explain_values.py CLAUSE_BINARY [--count N]
"""

import argparse
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(root / "tests" / "clinic"))
import generate  # noqa: E402

POLICY = "policies/clinic.policy"


def changed(text, path, value):
    request = json.loads(text)
    node = request
    keys = path.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is None:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return json.dumps(request)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("--count", type=int, default=150)
    args = parser.parse_args()
    cases = []
    for text in generate.generate(args.count, 15):
        run = subprocess.run([args.binary, "explain", "--policy", POLICY, "--format", "json", "-"],
                             input=text, capture_output=True, text=True, cwd=root, check=False)
        if run.returncode != 0:
            continue  # a request that is not valid has no near misses
        for miss in json.loads(run.stdout)["value_near_misses"]:
            cases.append((changed(text, miss["attribute"], miss["value"]), miss))
    run = subprocess.run([args.binary, "eval", "--policy", POLICY, "--jsonl", "-"],
                         input="".join(text + "\n" for text, _ in cases), capture_output=True,
                         text=True, cwd=root, check=False)
    lines = run.stdout.splitlines()
    if len(lines) != len(cases):
        print(f"{len(cases)} changed requests, but `clause eval` printed {len(lines)} lines")
        return 1
    failures = 0
    for (text, miss), line in zip(cases, lines):
        got = json.loads(line)
        want = {k: miss.get(k) for k in ("decision", "clause", "rule", "consent")}
        have = {k: got.get(k) for k in ("decision", "clause", "rule", "consent")}
        if want != have:
            failures += 1
            print(f"FAILED: {text}\n  explain said {want}\n  eval gives   {have}")
    print(f"{len(cases)} value near misses replayed, {failures} failures")
    return 1 if failures or not cases else 0


if __name__ == "__main__":
    sys.exit(main())
