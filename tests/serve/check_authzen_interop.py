"""Runs the AuthZEN working group's interop scenarios against `clause serve`, over HTTP.

Every published case of the Todo scenario (evaluation and evaluations) and of the Search
scenario (subject, resource and action search) is sent to a server started on
policies/interop/todo.policy or search.policy, twice:

- with the response context on (the default), where each decision must match and every
  true decision must name the clause and rule that gave it;
- with `--authzen-context off`, compared exactly as the working group's harnesses compare:
  `decision` for an evaluation, the whole `evaluations` array with JSON.stringify equality,
  and a search response deep-equal to the expected one once both result lists are sorted.

With --results DIR it writes the results in the working group's format (a table of PASS or
FAIL per request, as in interop/authzen-interop-website/docs/scenarios/*/results/).

Usage: check_authzen_interop.py CLAUSE_BINARY [--results DIR]
"""
import json
import os
import pathlib
import sys
import tempfile
import urllib.error
import urllib.request

import serve_process

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASES = HERE / "interop"


def post(port, path, body):
    data = json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class Server:
    def __init__(self, clause, policy, context_on, workdir):
        argv = [clause, "serve", "--policy", str(policy), "--port", "0"]
        if not context_on:
            argv += ["--authzen-context", "off"]
        name = f"{policy.stem}-{'on' if context_on else 'off'}"
        self.out = os.path.join(workdir, name + ".out")
        self.err = os.path.join(workdir, name + ".err")
        self.proc, self.port = serve_process.start(argv, self.out, self.err)
        if self.port is None:
            self.stop()
            raise SystemExit(f"FAIL: clause serve did not start on {policy}:\n"
                             + open(self.err).read())

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def sort_key(item):
    return (item.get("type", ""), item.get("id", ""), item.get("name", ""))


def harness_search_equal(actual, expected):
    """The search harness: deepStrictEqual after sorting both result lists."""
    if not isinstance(actual, dict):
        return False
    a = dict(actual)
    e = dict(expected)
    a["results"] = sorted(a.get("results") or [], key=sort_key)
    e["results"] = sorted(e.get("results") or [], key=sort_key)
    return a == e


def check_context(body, where, failures):
    """With the context on, a true decision names its clause and rule."""
    if body.get("decision") is True:
        ctx = body.get("context") or {}
        if not ctx.get("clause") or not ctx.get("rule"):
            failures.append(f"{where}: a true decision without clause and rule: {body}")


def run_todo(port, context_on, failures, rows):
    cases = json.loads((CASES / "todo-decisions.json").read_text())
    for case in cases["evaluation"]:
        status, body = post(port, "/access/v1/evaluation", case["request"])
        got = body.get("decision") if status == 200 and isinstance(body, dict) else None
        ok = status == 200 and (got or False) == case["expected"]
        if ok and context_on:
            check_context(body, "todo evaluation", failures)
        if not ok:
            failures.append(f"todo evaluation {json.dumps(case['request'])}: expected "
                            f"{case['expected']}, got {status} {body}")
        rows.append(("evaluation", case["request"], ok))
    for case in cases["evaluations"]:
        status, body = post(port, "/access/v1/evaluations", case["request"])
        items = body.get("evaluations") if status == 200 and isinstance(body, dict) else None
        if context_on:
            ok = isinstance(items, list) and [i.get("decision") for i in items] == [
                e["decision"] for e in case["expected"]]
            for i in items or []:
                check_context(i, "todo evaluations", failures)
        else:
            # JSON.stringify(expected) === JSON.stringify(items): exact, key order included.
            ok = json.dumps(items) == json.dumps(case["expected"])
        if not ok:
            failures.append(f"todo evaluations {json.dumps(case['request'])}: expected "
                            f"{case['expected']}, got {status} {body}")
        rows.append(("evaluations", case["request"], ok))


def run_search(port, context_on, failures, rows):
    for kind in ("subject", "resource", "action"):
        cases = json.loads((CASES / f"search-{kind}.json").read_text())["evaluation"]
        for case in cases:
            status, body = post(port, f"/access/v1/search/{kind}", case["request"])
            if status != 200 or not isinstance(body, dict):
                ok = False
            elif context_on:
                ok = sorted(body.get("results") or [], key=sort_key) == sorted(
                    case["expected"]["results"], key=sort_key)
            else:
                ok = harness_search_equal(body, case["expected"])
            if not ok:
                failures.append(f"search/{kind} {json.dumps(case['request'])}: expected "
                                f"{case['expected']}, got {status} {body}")
            rows.append((f"search/{kind}", case["request"], ok))


def write_results(path, title, command, rows):
    out = [f"# {title}", "", "Interop results for `clause serve`, run on this machine by",
           "`tests/serve/check_authzen_interop.py` (ctest `serve.authzen-interop`).", "",
           "## Test results", "", "```bash", command, "```", "", "<table>", "  <tr>",
           "    <th>result</th>", "    <th>request</th>", "  </tr>"]
    for endpoint, request, ok in rows:
        colour, word = ("green", "PASS") if ok else ("red", "FAIL")
        out += ["  <tr>", f'    <td bgColor="{colour}">{word}</td>', "    <td>", "",
                f"`POST /access/v1/{endpoint}`", "", "```js",
                json.dumps(request, indent=2), "```", "", "  </td>", "  </tr>"]
    out += ["</table>", ""]
    pathlib.Path(path).write_text("\n".join(out))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    clause = sys.argv[1]
    results_dir = None
    if "--results" in sys.argv:
        results_dir = pathlib.Path(sys.argv[sys.argv.index("--results") + 1])
    failures = []
    counts = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, run in (("todo", run_todo), ("search", run_search)):
            policy = ROOT / "policies" / "interop" / f"{name}.policy"
            for context_on in (True, False):
                server = Server(clause, policy, context_on, workdir)
                rows = []
                try:
                    run(server.port, context_on, failures, rows)
                finally:
                    server.stop()
                counts[(name, context_on)] = (sum(ok for _, _, ok in rows), len(rows))
                if results_dir is not None and not context_on:
                    write_results(results_dir / f"{name}-results.md",
                                  f"clause: the {name.capitalize()} scenario",
                                  f"python3 tests/serve/check_authzen_interop.py build/bin/clause"
                                  f" --results {results_dir}", rows)
    for (name, context_on), (passed, total) in counts.items():
        print(f"{name} (context {'on' if context_on else 'off'}): {passed}/{total} passed")
    if failures:
        for f in failures[:40]:
            print("FAIL:", f)
        raise SystemExit(1)
    print("authzen interop: every published case passes")


if __name__ == "__main__":
    main()
