"""Drops the S prohibition from the clinic's policy: `clause verify` must give a counterexample
to S's promise, and `clause eval` must decide that request as verify reported.

Usage: broken_promise.py CLAUSE_BINARY POLICY
"""
import json
import subprocess
import sys
import tempfile

clause, policy = sys.argv[1], sys.argv[2]
text = open(policy, encoding="utf-8").read()
rule = 'first deny access of sud_record by law_enforcement\n  cites "S"\n'
if rule not in text:
    sys.exit("the S prohibition is not in the policy as expected")
with tempfile.NamedTemporaryFile("w", suffix=".policy", delete=False) as f:
    f.write(text.replace(rule, "", 1))
    broken = f.name

intact = subprocess.run([clause, "verify", policy], capture_output=True, text=True)
if intact.returncode != 0:
    sys.exit(f"the intact policy is not proved:\n{intact.stdout}{intact.stderr}")
run = subprocess.run([clause, "verify", "--format", "json", broken], capture_output=True, text=True)
if run.returncode == 0:
    sys.exit("verify proved every promise of the broken policy")
failed = [a for a in json.loads(run.stdout)["assertions"] if not a["proved"]]
promise = "assert never allow access of sud_record by law_enforcement"
found = [a for a in failed if a["assertion"].startswith(promise)]
if not found:
    sys.exit(f"S's promise was not broken: {failed}")
for a in failed:
    request = json.dumps(a["counterexample"])
    got = subprocess.run([clause, "eval", "--policy", broken, "-"], input=request,
                         capture_output=True, text=True)
    decision = json.loads(got.stdout)
    want = a["decision"]
    if (decision["decision"], decision["clause"], decision.get("rule")) != (
            want["decision"], want["clause"], want.get("rule")):
        sys.exit(f"eval decides {decision} where verify reported {want} for {request}")
    print(f"confirmed: {a['assertion']}\n  {request}\n  {decision['decision']} citing "
          f"{decision['clause']}")
