#!/usr/bin/env bash
# Installs clause from a build tree into a temporary prefix, builds the example service
# (docs/examples/service) against it with find_package(clause), and runs it on the example
# requests, with a reload, against the expected output.
set -euo pipefail
build="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$root/docs/examples/service" -B "$work/service" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/service" >/dev/null
cp "$root/policies/privacy.policy" "$work/live.policy"
{
  for f in "$root"/policies/examples/0[1-3]*.json; do tr -d '\n' <"$f"; echo; done
  echo '{"data":{"category":"nothing"},"requester":{"kind":"user"},"action":"access"}'
  echo reload
} >"$work/requests.jsonl"
"$work/service/decide" "$work/live.policy" <"$work/requests.jsonl" >"$work/actual.txt"
# A broken file on reload keeps the old policy: the file breaks after the first decision.
cp "$root/policies/privacy.policy" "$work/live.policy"
first="$(head -1 "$work/requests.jsonl")"
{
  echo "$first"
  sleep 1
  echo 'policy "broken"' >"$work/live.policy"
  echo reload
  echo "$first"
} | "$work/service/decide" "$work/live.policy" >>"$work/actual.txt"
if [ "${CLAUSE_UPDATE_GOLDEN:-}" = 1 ]; then cp "$work/actual.txt" "$root/tests/package/service.expected"; fi
diff "$root/tests/package/service.expected" "$work/actual.txt"
