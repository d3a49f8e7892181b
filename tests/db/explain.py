#!/usr/bin/env python3
"""The SQL filter of a plan against a hand-written WHERE for the same question, on PostgreSQL.

Usage: explain.py CLAUSE [--runs N] QUESTION...
For each QUESTION (a partial request of policies/plans/, e.g. clinic-researcher), takes the
allow condition that `clause plan --sql postgres --mapping policies/plans/POLICY-mapping.json`
writes, and the hand-written query tests/db/hand/QUESTION.sql, checks that both select the
same rows, and runs each under EXPLAIN ANALYZE N times (median execution time), with and
without PostgreSQL's JIT. psql connects as PGHOST, PGPORT, PGUSER and PGDATABASE say, to a
database that clause_db_check has loaded (tests/db/postgres.sh --explain does all of it).
Exits 1 when the rows differ or a filter takes more than twice the hand-written time.
"""
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parents[2]


def psql(sql, options=""):
    env = dict(os.environ, PGOPTIONS=options)
    run = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"], input=sql,
                         capture_output=True, text=True, env=env, check=False)
    if run.returncode != 0:
        raise SystemExit(f"explain.py: psql: {run.stderr.strip()}")
    return run.stdout


def literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def median_ms(statement, options, runs):
    times = []
    for _ in range(runs):
        out = psql(statement, options)
        times.append(float(re.search(r"Execution Time: ([0-9.]+) ms", out).group(1)))
    return statistics.median(times), out


def main():
    args = sys.argv[1:]
    clause = args.pop(0)
    runs = 5
    if args[:1] == ["--runs"]:
        runs = int(args[1])
        args = args[2:]
    failed = False
    for question in args:
        policy = question.split("-")[0]
        plan = subprocess.run(
            [clause, "plan", "--policy", str(root / "policies" / f"{policy}.policy"), "--sql",
             "postgres", "--mapping", str(root / "policies/plans" / f"{policy}-mapping.json"),
             "--format", "json", str(root / "policies/plans" / f"{question}.json")],
            capture_output=True, text=True, check=True)
        allow = json.loads(plan.stdout)["outcomes"][0]
        generated = (f"PREPARE filter AS SELECT id FROM records WHERE {allow['where']};\n"
                     f"EXECUTE filter({', '.join(literal(v) for v in allow['parameters'])})")
        hand = (root / "tests/db/hand" / f"{question}.sql").read_text().strip().rstrip(";")
        # Both select the same rows, or the comparison means nothing.
        counts = psql(f"{generated.split(chr(10))[0]}\n"
                      f"CREATE TEMP TABLE g AS EXECUTE filter("
                      f"{', '.join(literal(v) for v in allow['parameters'])});\n"
                      f"CREATE TEMP TABLE h AS {hand};\n"
                      "SELECT (SELECT count(*) FROM g), (SELECT count(*) FROM h), "
                      "(SELECT count(*) FROM (SELECT id FROM g EXCEPT SELECT id FROM h) d) + "
                      "(SELECT count(*) FROM (SELECT id FROM h EXCEPT SELECT id FROM g) d);")
        rows_g, rows_h, differ = (int(x) for x in counts.strip().splitlines()[-1].split("|"))
        print(f"{question}: the filter selects {rows_g} rows, the hand-written query {rows_h}, "
              f"{differ} differ")
        if differ:
            failed = True
            continue
        for jit in ("off", "on"):
            options = f"-c jit={jit}"
            g, g_plan = median_ms(f"{generated.replace('EXECUTE', 'EXPLAIN (ANALYZE) EXECUTE')};",
                                  options, runs)
            h, h_plan = median_ms(f"EXPLAIN (ANALYZE) {hand};", options, runs)
            print(f"{question}, jit {jit}: filter {g:.1f} ms, hand-written {h:.1f} ms, "
                  f"ratio {g / h:.2f} (median of {runs})")
            if g > 2 * h:
                failed = True
            if os.environ.get("EXPLAIN_PLANS"):
                print(f"--- the filter\n{g_plan}--- hand-written\n{h_plan}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
