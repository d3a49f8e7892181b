#!/usr/bin/env python3
"""Holds `clause eval` with a clinic policy against the reading (oracle.py).

Usage: check.py CLAUSE_BINARY POLICY [--count N] [--seed S]
Generates requests (generate.py), decides them with `CLAUSE_BINARY eval --policy POLICY
--jsonl -` and with the oracle, and compares decision, clause, consent (for
require-consent), obligations (as a set) and whether there is an error. Exits 1 and shows
the first 20 differences when they disagree; prints counts per decision and clause when
they agree.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402
import oracle  # noqa: E402

SHOWN = 20


def engine_answer(line):
    """The compared parts of one decision line of `clause eval`."""
    try:
        got = json.loads(line)
    except ValueError:
        return {"unreadable": line}
    if not isinstance(got, dict):
        return {"unreadable": line}
    obligations = got.get("obligations") or []
    return {
        "decision": got.get("decision"),
        "clause": got.get("clause"),
        "consent": got.get("consent") if got.get("decision") == "require-consent" else None,
        "obligations": sorted(obligations) if isinstance(obligations, list) else obligations,
        "error": "error" in got,
    }


def expected_answer(text):
    want = dict(oracle.decide_text(text))
    if want["decision"] != "require-consent":
        want["consent"] = None
    return want


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary")
    parser.add_argument("policy")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    requests = generate.generate(args.count, args.seed)
    run = subprocess.run([args.binary, "eval", "--policy", args.policy, "--jsonl", "-"],
                         input="".join(text + "\n" for text in requests),
                         capture_output=True, text=True, check=False)
    lines = run.stdout.splitlines()
    if len(lines) != len(requests):
        print(f"check.py: {len(requests)} requests, but `clause eval` printed {len(lines)} "
              f"lines (exit status {run.returncode})\n{run.stderr.strip()}")
        return 1

    differences = []
    counts = collections.Counter()
    for number, (text, line) in enumerate(zip(requests, lines), start=1):
        want = expected_answer(text)
        got = engine_answer(line)
        if got != want:
            differences.append((number, text, want, line))
        counts[want["decision"]] += 1
        counts[f"clause {want['clause']}"] += 1
        counts["error"] += want["error"]

    if differences:
        for number, text, want, line in differences[:SHOWN]:
            why = ""
            if want["error"]:
                why = f"  (oracle: {oracle.why_invalid_text(text)})"
            print(f"request {number}: {text}\n  reading: {json.dumps(want)}{why}\n"
                  f"  clause:  {line}")
        print(f"check.py: {len(differences)} of {len(requests)} decisions differ "
              f"from the reading (seed {args.seed})")
        return 1
    summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
    print(f"check.py: {len(requests)} decisions agree with the reading (seed {args.seed}): "
          f"{summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
