#!/usr/bin/env bash
# Golden tests of the command line: each tests/cli/NAME.cmd holds the arguments of one
# `clause` run (from the repository root; stdin from NAME.stdin when it exists), and
# NAME.expected holds its stdout, its stderr and its exit status.
# CLAUSE_UPDATE_GOLDEN=1 rewrites the expectations, to be reviewed in the diff.
set -uo pipefail
clause="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
failed=0
passed=0
for cmd in tests/cli/*.cmd; do
  name="${cmd%.cmd}"
  stdin=/dev/null
  [ -f "$name.stdin" ] && stdin="$name.stdin"
  out="$(mktemp)" err="$(mktemp)"
  # shellcheck disable=SC2046 # the arguments are words, split on purpose
  eval "\"$clause\" $(cat "$cmd")" <"$stdin" >"$out" 2>"$err"
  status=$?
  actual="$({ echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; echo "--- exit $status"; })"
  rm -f "$out" "$err"
  if [ "${CLAUSE_UPDATE_GOLDEN:-}" = 1 ]; then
    printf '%s\n' "$actual" >"$name.expected"
  fi
  if [ "$actual" = "$(cat "$name.expected" 2>/dev/null)" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $cmd"
    diff <(cat "$name.expected" 2>/dev/null) <(printf '%s\n' "$actual") | head -40
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
