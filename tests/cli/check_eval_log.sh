#!/usr/bin/env bash
# `clause eval --log` writes one line per decision, redacted as asked, and nothing is lost
# at exit: a thousand JSON Lines requests give a thousand log lines.
set -euo pipefail
clause="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for _ in $(seq 125); do
  for f in "$root"/policies/examples/*.json; do tr -d '\n' <"$f"; echo; done
done >"$work/requests.jsonl"
"$clause" eval --policy "$root/policies/privacy.policy" --jsonl "$work/requests.jsonl" \
  --log "$work/log.jsonl" --log-redact requester.id >/dev/null
lines="$(wc -l <"$work/log.jsonl")"
[ "$lines" = 1000 ] || { echo "expected 1000 log lines, found $lines"; exit 1; }
if grep -q '"id":"buyer-17"' "$work/log.jsonl"; then echo "requester.id not redacted"; exit 1; fi
grep -q '"id":"\[redacted\]"' "$work/log.jsonl" || { echo "no redacted field"; exit 1; }
grep -q '"policy_hash":"sha256:' "$work/log.jsonl" || { echo "no policy hash"; exit 1; }
