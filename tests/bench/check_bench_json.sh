#!/usr/bin/env bash
# Runs a short `clause bench --json` and checks that it names every field that
# docs/performance.md and scripts read. Times are not checked: tests assert behaviour.
set -euo pipefail
clause="$1"
policy="$2"
out="$("$clause" bench --policy "$policy" --iterations 20000 --repetitions 3 --threads 2 --json)"
for key in typed_ns_per_decision typed_decisions_per_second json_decisions_per_second \
  compile_ms compiled_bytes index_bytes index_bytes_per_rule peak_rss_bytes threads; do
  if ! grep -q "\"$key\":" <<<"$out"; then
    echo "clause bench --json: no \"$key\" in:"
    echo "$out"
    exit 1
  fi
done
