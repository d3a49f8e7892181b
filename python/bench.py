"""Decisions per second from Python, over the privacy policy's example requests.

Usage: PYTHONPATH=build/python python3 python/bench.py [--seconds S] [--batch N] [--threads T]

Measures four ways of deciding the eight requests of policies/examples/ (docs/performance.md):
evaluate() on dicts, one call per decision; evaluate() on JSON text; and evaluate_many() on
batches of N dicts, and of N JSON texts. Each is run for about S seconds; the best of three runs is printed.
"""
import argparse
import json
import pathlib
import threading
import time

import clause

ROOT = pathlib.Path(__file__).resolve().parents[1]


def rate(work, decisions_per_call, seconds):
    """Decisions per second of `work`, called repeatedly for about `seconds`: best of 3."""
    best = 0.0
    for _ in range(3):
        calls = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            work()
            calls += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, calls * decisions_per_call / (now - start))
    return best


def threaded(work, threads):
    """Runs `work` in `threads` threads at once; the sum of their rates."""
    rates = [0.0] * threads

    def run(i):
        rates[i] = work()

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    policy = clause.compile_file(str(ROOT / "policies" / "privacy.policy"))
    paths = sorted((ROOT / "policies" / "examples").glob("*.json"))
    dicts = [json.loads(p.read_text()) for p in paths]
    texts = [json.dumps(d) for d in dicts]
    batch = (dicts * (args.batch // len(dicts) + 1))[: args.batch]
    batch_texts = [json.dumps(d) for d in batch]
    # The batched decisions must be the single ones, or the numbers measure nothing.
    assert [d.to_json() for d in policy.evaluate_many(dicts)] == [
        policy.evaluate(d).to_json() for d in dicts
    ]

    def each(requests):
        def work():
            for r in requests:
                policy.evaluate(r)

        return work

    ways = [
        ("evaluate(dict), one call per decision", each(dicts), len(dicts)),
        ("evaluate(str), one call per decision", each(texts), len(texts)),
        (f"evaluate_many(dicts), {args.batch} a call", lambda: policy.evaluate_many(batch),
         len(batch)),
        (f"evaluate_many(strs), {args.batch} a call", lambda: policy.evaluate_many(batch_texts),
         len(batch_texts)),
    ]
    print(f"clause {clause.__version__}, {len(paths)} example requests, "
          f"{args.threads} thread(s), best of 3 over {args.seconds:g} s")
    for name, work, per_call in ways:
        per_second = threaded(lambda: rate(work, per_call, args.seconds), args.threads)
        print(f"{name:45} {per_second:12,.0f} decisions/s  {1e6 / per_second * args.threads:7.2f} µs each")


if __name__ == "__main__":
    main()
