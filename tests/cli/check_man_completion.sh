#!/usr/bin/env bash
# The man page and the shell completions say what the help texts say: every command and
# every option of `clause --help` and `clause COMMAND --help` is in each, the man page is
# roff that groff reads without a warning, and bash completes as a user would expect.
set -uo pipefail
clause="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

"$clause" man >"$work/clause.1" || fail "clause man"
"$clause" completion bash >"$work/clause.bash" || fail "clause completion bash"
"$clause" completion zsh >"$work/_clause" || fail "clause completion zsh"

# The commands and, per command, the options its help lists.
commands="$("$clause" --help | sed -n '/^commands:/,/^$/p' | sed -n 's/^  \([a-z]*\) .*/\1/p')"
[ "$(wc -w <<<"$commands")" -ge 13 ] || fail "too few commands in clause --help: $commands"
limits="$("$clause" --help | sed -n '/^limits/,/^$/p' | sed -n 's/^  \(--[a-z-]*\).*/\1/p')"
[ "$(wc -w <<<"$limits")" -eq 9 ] || fail "clause --help lists $(wc -w <<<"$limits") limits"

# roff that groff reads without a warning, with every command and option in it.
if ! warnings="$(groff -man -Tutf8 -ww -z "$work/clause.1" 2>&1)" || [ -n "$warnings" ]; then
  fail "groff warns about the man page: $warnings"
fi
groff -man -Tutf8 "$work/clause.1" 2>/dev/null | sed 's/.\x08//g' >"$work/man.txt"
for command in $commands; do
  grep -q "clause $command" "$work/man.txt" || fail "the man page has no clause $command"
  for option in $("$clause" "$command" --help | sed -n '/^options:/,/^$/p' |
    sed -n 's/^  \(--[a-z-]*\).*/\1/p' | sort -u); do
    grep -q -- "$option" "$work/man.txt" || fail "the man page lacks $command $option"
  done
done
for option in $limits; do
  grep -q -- "$option" "$work/man.txt" || fail "the man page lacks $option"
done

# bash: what the completion function offers for a command line whose last word is typed.
bash -n "$work/clause.bash" || fail "the bash completion is not valid bash"
complete_words() { # complete_words WORD... -> the offers, one per line, sorted
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _clause
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$work/clause.bash" "$@"
}
expect() { # expect "OFFERS" WORD...
  local want="$1"
  shift
  local got
  got="$(cd "$work" && complete_words "$@" | tr '\n' ' ' | sed 's/ $//')"
  [ "$got" = "$want" ] || fail "completing '$*': expected '$want', got '$got'"
}
expect "eval explain" clause e
expect "--policy" clause eval --po
expect "json text" clause eval --format ""
expect "html json md" clause matrix --format ""
expect "--max-request-bytes --max-rules" clause check --max-r
expect "" clause check --max-rules ""
expect "serve" clause help se
expect "bash zsh" clause completion ""
touch "$work/p1.policy" "$work/p2.policy"
expect "p1.policy p2.policy" clause eval --policy p
expect "p1.policy p2.policy" clause check p
for command in $commands; do
  offered="$(complete_words clause "$command" --)"
  for option in $("$clause" "$command" --help | sed -n '/^options:/,/^$/p' |
    sed -n 's/^  \(--[a-z-]*\).*/\1/p' | sort -u) $limits; do
    grep -qx -- "$option" <<<"$offered" || fail "bash does not complete $command $option"
  done
  grep -qx "$command" <<<"$(complete_words clause "")" || fail "bash does not complete $command"
done

# zsh: the script is valid zsh and names every command and option.
if command -v zsh >/dev/null; then
  zsh -n "$work/_clause" || fail "the zsh completion is not valid zsh"
else
  fail "zsh is not installed (tools/run test installs it)"
fi
for command in $commands; do
  grep -q "^    '$command:" "$work/_clause" || fail "zsh does not describe $command"
done

echo "man page and completions: $(wc -w <<<"$commands") commands checked, $failures failures"
[ "$failures" -eq 0 ]
