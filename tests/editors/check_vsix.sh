#!/usr/bin/env bash
# Usage: check_vsix.sh CLAUSE WORKDIR
# Packs the VS Code extension (tools/editors/vscode) as a .vsix, as a user would:
# a copy in WORKDIR, `npm ci` from the committed package-lock.json (npm's cache in WORKDIR,
# no install scripts), then `vsce package` (the devDependency @vscode/vsce). Checks what the
# .vsix holds, and runs tests/editors/vscode_smoke.js on the unpacked extension with CLAUSE.
# Needs node and npm, and the npm registry (or a WORKDIR cache filled by an earlier run).
set -euo pipefail
clause="$(realpath "$1")"
work="$(mkdir -p "$2" && realpath "$2")"
root="$(cd "$(dirname "$0")/../.." && pwd)"
for tool in node npm npx python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAILED: $tool not found (tools/run test installs nodejs and python3)"
    exit 1 # a missing tool must not pass as a skipped test
  fi
done
fail() {
  echo "FAILED: $*"
  exit 1
}
# vsce and vscode-languageclient's dependencies need Node 20.
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] ||
  fail "node $(node --version) is older than 20"

stage="$work/vscode"
rm -rf "$stage" "$work/unpacked" "$work/clause-policy.vsix"
# A developer's node_modules or .vsix in the source folder is left behind.
tar -C "$root/tools/editors" -cf - --exclude=node_modules --exclude='*.vsix' vscode |
  tar -C "$work" -xf -
# The project's licence, when it has one, goes into the package (vsce names it LICENSE.txt).
licensed=""
for file in LICENSE LICENSE.md LICENSE.txt; do
  if [ -f "$root/$file" ]; then
    cp "$root/$file" "$stage/$file"
    licensed=yes
    break
  fi
done

cd "$stage"
npm ci --cache "$work/npm-cache" --prefer-offline --ignore-scripts --no-audit --no-fund ||
  fail "npm ci in $stage"
# The package script of package.json, as a user runs it: `npm run package`.
npm run --silent package -- --out "$work/clause-policy.vsix" </dev/null || fail "vsce package"

python3 - "$work/clause-policy.vsix" "$licensed" <<'EOF' || fail "the .vsix lacks files"
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = ["extension.vsixmanifest", "extension/package.json", "extension/extension.js",
          "extension/readme.md", "extension/language-configuration.json",
          "extension/syntaxes/clause-policy.tmLanguage.json",
          "extension/syntaxes/clause-test.tmLanguage.json",
          "extension/images/highlighting.png",
          "extension/node_modules/vscode-languageclient/package.json",
          "extension/node_modules/vscode-languageclient/lib/node/main.js"]
missing = [name for name in wanted if name not in names]
if sys.argv[2] and not any(name.startswith("extension/LICENSE") for name in names):
    missing.append("extension/LICENSE.txt")
# The packaging tool is a devDependency: it stays out of the package.
unwanted = [name for name in names if name.startswith("extension/node_modules/@vscode/vsce/")
            or name == "extension/package-lock.json"]
for name in missing:
    print(f"missing: {name}")
for name in sorted(unwanted)[:5]:
    print(f"unwanted: {name}")
sys.exit(1 if missing or unwanted else 0)
EOF
if [ -z "$licensed" ]; then echo "note: no LICENSE file at $root, so the .vsix has none"; fi

python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
  "$work/clause-policy.vsix" "$work/unpacked"
node "$root/tests/editors/vscode_smoke.js" "$work/unpacked/extension" "$clause" ||
  fail "the extension's smoke test"
echo "ok: $work/clause-policy.vsix"
