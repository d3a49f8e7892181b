#!/usr/bin/env bash
# Runs every example session in the docs (README.md and docs/*.md) with the `clause` under
# test and fails when one prints other than the doc shows. The convention is described at
# the top of tests/docs/run_examples.py and in docs/authoring.md ("Examples in the docs").
# Usage: run_examples.sh CLAUSE [--build DIR] [DOC.md ...]; the C++ examples are built
# against the libraries of the build tree DIR (by default the folder above CLAUSE's). With CLAUSE_DOCS_ACCEPT=1 it writes what the
# tools print into the docs instead (review the change before keeping it).
set -euo pipefail
clause="$1"
shift
root="$(cd "$(dirname "$0")/../.." && pwd)"
build=()
if [ "${1:-}" = --build ]; then build=(--build "$2"); shift 2; fi
if [ $# -eq 0 ]; then set -- "$root"/README.md "$root"/docs/*.md; fi
exec env PYTHONDONTWRITEBYTECODE=1 python3 "$root/tests/docs/run_examples.py" "$clause" "$root" "${build[@]}" "$@"
