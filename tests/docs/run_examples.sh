#!/usr/bin/env bash
# Runs every example session in the docs (README.md and docs/*.md) with the `clause` under
# test and fails when one prints other than the doc shows. The convention is described at
# the top of tests/docs/run_examples.py and in docs/authoring.md ("Examples in the docs").
# Usage: run_examples.sh CLAUSE [DOC.md ...]. With CLAUSE_DOCS_ACCEPT=1 it writes what the
# tools print into the docs instead (review the change before keeping it).
set -euo pipefail
clause="$1"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ $# -eq 0 ]; then set -- "$root"/README.md "$root"/docs/*.md; fi
exec python3 "$root/tests/docs/run_examples.py" "$clause" "$root" "$@"
