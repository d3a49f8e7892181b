#!/usr/bin/env bash
# Installs the Python module alone (`--component python`) into a temporary prefix and
# imports it from there, in a fresh interpreter that cannot see the build tree.
# Usage: check_install.sh BUILD_DIR SITE_DIR PYTHON (SITE_DIR relative to the prefix).
set -euo pipefail
build="$1"
site="$2"
python="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" --component python >/dev/null
installed="$(cd "$work/prefix" && find . -type f | sort)"
[ "$(printf "%s\n" "$installed" | wc -l)" = 1 ] || installed="(more than one file) $installed"
case "$installed" in
  "./$site/clause."*".so") ;;
  *)
    echo "expected the module alone under $site, found:" >&2
    echo "$installed" >&2
    exit 1
    ;;
esac
cd "$work"
PYTHONPATH="$work/prefix/$site" PYTHONDONTWRITEBYTECODE=1 "$python" -c '
import clause, sys
assert clause.__file__.startswith(sys.argv[1]), clause.__file__
p = clause.compile("policy \"P\" version \"1\"\nclause \"1\" \"x\"\ndata d\nrequester r\naction a\nallow a of d by r cites \"1\"\n")
d = p.evaluate({"data": {"category": "d"}, "requester": {"kind": "r"}, "action": "a"})
assert d.effect == "allow", d
print("installed module decides:", d)
' "$work/prefix"
