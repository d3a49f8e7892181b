#!/usr/bin/env bash
# The editor grammars of tools/editors, tokenized by tools/editors/highlight.js:
# - each sample here (NAME.policy, NAME.test) gives the tokens and scopes in NAME.*.tokens;
# - every keyword of the keyword table (clause/dsl/keywords.hpp) is highlighted,
#   and no reserved word in the samples or in policies/ is left looking like a name;
# - the grammars' regexes mean the same to JavaScript and to Oniguruma (editors);
# - the VS Code manifest names files that exist, and the HTML page renders.
# With the clause binary as $1, the samples are also checked as real policy and test files.
# CLAUSE_UPDATE_GOLDEN=1 rewrites the .tokens files, to be reviewed in the diff.
set -uo pipefail
clause="${1:-}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v node >/dev/null; then
  echo "node not found: install nodejs (tools/run test installs it)"
  exit 1 # a missing tool must not pass as a skipped test
fi
editors=tools/editors
highlight="$editors/highlight.js"
policy_grammar="$editors/vscode/syntaxes/clause-policy.tmLanguage.json"
test_grammar="$editors/vscode/syntaxes/clause-test.tmLanguage.json"
failed=0
fail() {
  echo "FAILED: $*"
  failed=1
}
grammar_of() { case "$1" in *.policy) echo "$policy_grammar" ;; *) echo "$test_grammar" ;; esac }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Golden token dumps.
for sample in tests/editors/*.policy tests/editors/*.test; do
  if ! node "$highlight" dump "$(grammar_of "$sample")" "$sample" >"$tmp/actual"; then
    fail "$sample: the tokenizer failed"
    continue
  fi
  if [ "${CLAUSE_UPDATE_GOLDEN:-}" = 1 ]; then cp "$tmp/actual" "$sample.tokens"; fi
  if ! diff -u "$sample.tokens" "$tmp/actual" >"$tmp/diff"; then
    fail "$sample: tokens differ from $sample.tokens"
    head -60 "$tmp/diff"
  fi
done

# Keywords, from the keyword table (dsl/include/clause/dsl/keywords.hpp): the reserved
# words of policy files, then the words of test files; and `ignore` of `@ignore`.
table=dsl/include/clause/dsl/keywords.hpp
all_words="$( (grep -o '{"[a-z]*", \(true\|false\)' "$table" | sed 's/{"\([a-z]*\)".*/\1/'; echo ignore) | sort -u)"
reserved="$(grep -o '{"[a-z]*", true' "$table" | sed 's/{"\([a-z]*\)".*/\1/' | sort -u)"
# The words of policy files: the reserved words, and those that only start a statement
# (`first`), which stay free to name things elsewhere.
policy_words="$( (echo "$reserved"; grep -o '{"[a-z]*", false, true, false' "$table" | sed 's/{"\([a-z]*\)".*/\1/') | sort -u)"
[ "$(echo "$reserved" | wc -w)" -ge 30 ] || fail "found only $(echo "$reserved" | wc -w) reserved words in $table"
# Prints each keyword highlighted in a dump; reports any keyword that looks like a name
# (outside strings and comments, its innermost scope is not a keyword, storage or
# language constant).
highlighted() {
  awk -F'\t' -v words="$2" -v file="$1" '
    BEGIN { n = split(words, w, " "); for (i = 1; i <= n; i++) kw["\"" w[i] "\""] = w[i]
            kw["\"@ignore\""] = "ignore" }
    $2 in kw {
      k = split($3, s, " ")
      if (s[k] ~ /^(keyword|storage|constant\.language)\./) print kw[$2]
      else if ($3 !~ /(^| )(string|comment)\./) { print "FAILED: " file ":" $1 ": `" kw[$2] "` is not highlighted as a keyword (" $3 ")" > "/dev/stderr"; bad = 1 }
    }
    END { exit bad }' "$tmp/$(basename "$1").dump" | sort -u
}
for file in tests/editors/*.policy tests/editors/*.test policies/*.policy policies/*.test; do
  node "$highlight" dump "$(grammar_of "$file")" "$file" >"$tmp/$(basename "$file").dump" ||
    fail "$file: the tokenizer failed"
  case "$file" in *.policy) words="$policy_words" ;; *) words="$all_words" ;; esac
  highlighted "$file" "$(echo $words)" >"$tmp/$(basename "$file").words" || failed=1
done
for word in $policy_words; do
  grep -qx "$word" "$tmp/sample.policy.words" ||
    fail "policy keyword \`$word\` is not highlighted in tests/editors/sample.policy (add it to the sample and the grammar)"
done
for word in $all_words; do
  grep -qx "$word" "$tmp/sample.policy.words" "$tmp/sample.test.words" ||
    fail "keyword \`$word\` is not highlighted in tests/editors/sample.policy or sample.test (add it to a sample and a grammar)"
done

# Regexes that JavaScript reads differently from Oniguruma, or that Oniguruma rejects:
# \A \G \z \Z \h \H (plain letters to JavaScript), atomic groups, inline flags, \p{...},
# possessive quantifiers, and lookbehind of varying length.
node -e '
  const fs = require("fs");
  let bad = 0;
  const walk = (file, node, where) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(file, n, `${where}[${i}]`));
    if (!node || typeof node !== "object") return;
    for (const key of ["match", "begin", "end"]) {
      if (typeof node[key] !== "string") continue;
      const src = node[key].replace(/\\\\/g, "");
      if (/\\[AGzZhH]|\(\?[>imx]|\\[pP]\{|[*+?}]\+|\(\?<[=!][^)]*[*+?{]/.test(src)) {
        console.log(`FAILED: ${file}: ${where}.${key} uses syntax outside the shared subset: ${node[key]}`);
        bad = 1;
      }
    }
    for (const [k, v] of Object.entries(node)) walk(file, v, `${where}.${k}`);
  };
  for (const file of process.argv.slice(1)) walk(file, JSON.parse(fs.readFileSync(file, "utf8")), "");
  process.exit(bad);
' "$policy_grammar" "$test_grammar" || failed=1

# The VS Code manifest points at files that exist, with the grammars' scope names.
node -e '
  const fs = require("fs"), path = require("path");
  const dir = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  let bad = 0;
  const ids = new Set(pkg.contributes.languages.map((l) => l.id));
  for (const l of pkg.contributes.languages) {
    if (!fs.existsSync(path.join(dir, l.configuration))) { console.log(`FAILED: missing ${l.configuration}`); bad = 1; }
  }
  for (const g of pkg.contributes.grammars) {
    const file = path.join(dir, g.path);
    const json = fs.existsSync(file) && JSON.parse(fs.readFileSync(file, "utf8"));
    if (!json || json.scopeName !== g.scopeName || !ids.has(g.language)) {
      console.log(`FAILED: grammar ${g.path} (${g.scopeName}, ${g.language}) does not match package.json`);
      bad = 1;
    }
  }
  JSON.parse(fs.readFileSync(path.join(dir, "language-configuration.json"), "utf8"));
  process.exit(bad);
' "$editors/vscode" || failed=1

# The HTML page renders, with the theme's classes.
node "$highlight" html "$policy_grammar" tests/editors/sample.policy >"$tmp/page.html" &&
  grep -q 'class="hl-storage-type"' "$tmp/page.html" &&
  grep -q 'class="hl-entity-name-function"' "$tmp/page.html" ||
  fail "the HTML page of tests/editors/sample.policy lacks highlighted spans"

# The samples are what they claim to be: a valid policy and passing tests; broken.policy is not.
if [ -n "$clause" ]; then
  "$clause" check tests/editors/sample.policy || fail "tests/editors/sample.policy has errors"
  "$clause" test tests/editors/sample.test >"$tmp/test.out" || { cat "$tmp/test.out"; fail "tests/editors/sample.test fails"; }
  if "$clause" check tests/editors/broken.policy >/dev/null 2>&1; then fail "tests/editors/broken.policy has no errors"; fi
fi

[ "$failed" -eq 0 ] && echo "editor grammars: ok"
exit "$failed"
