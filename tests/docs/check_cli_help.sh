#!/usr/bin/env bash
# docs/cli.md shows the help texts as the tool prints them: every `$ clause ... --help`
# (and `$ clause --version`) in its code blocks is run, and its output must be the lines
# that follow it, up to the next `$ ` line or the end of the block. Missing commands fail.
set -uo pipefail
clause="$1"
doc="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
awk -v dir="$work" '
  /^```/ { in_block = !in_block; if (file) close(file); file = ""; next }
  in_block && /^\$ / {
    if (file) close(file)
    file = ""
    if ($0 ~ /^\$ clause( [a-z]+)? --help$/ || $0 ~ /^\$ clause --version$/) {
      n++
      file = dir "/" n ".expected"
      print substr($0, 3) > (dir "/" n ".cmd")
      close(dir "/" n ".cmd")
      printf "" > file
    }
    next
  }
  in_block && file { print >> file }
' "$doc"
failed=0
checked=0
for cmd in "$work"/*.cmd; do
  [ -e "$cmd" ] || break
  checked=$((checked + 1))
  words="$(cat "$cmd")"
  # shellcheck disable=SC2086 # the words of the command, split on purpose
  "$clause" ${words#clause } >"$work/actual" 2>&1
  if ! diff -u "${cmd%.cmd}.expected" "$work/actual" >"$work/diff"; then
    echo "FAILED: \`$words\` in $doc differs from what it prints:"
    head -30 "$work/diff"
    failed=$((failed + 1))
  fi
done
# Every command of the general help has its help shown in the doc.
for command in $("$clause" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
  grep -qx "\$ clause $command --help" "$doc" ||
    { echo "FAILED: $doc does not show \`clause $command --help\`"; failed=$((failed + 1)); }
done
echo "$checked help texts in $doc checked, $failed failed"
[ "$failed" -eq 0 ] && [ "$checked" -gt 0 ]
