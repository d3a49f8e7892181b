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

# A request nested 100,000 objects deep in `context`: denied, logged as text, and the
# process ends normally with every line whole.
python3 -c '
import sys
n = 100000
sys.stdout.write("{\"data\":{\"category\":\"contact_info\"},\"context\":{\"x\":" + "{\"x\":" * n + "1" + "}" * n + "}}\n")
' >"$work/deep.jsonl"
tr -d '\n' <"$root/policies/examples/01-counterparty-contact-during-transaction.json" >>"$work/deep.jsonl"
echo >>"$work/deep.jsonl"
set +e
"$clause" eval --policy "$root/policies/privacy.policy" --jsonl "$work/deep.jsonl" \
  --log "$work/deep-log.jsonl" >"$work/deep-out" 2>"$work/deep-err"
status=$?
set -e
[ "$status" = 2 ] || { echo "deep request: exit $status, expected 2"; cat "$work/deep-err"; exit 1; }
[ "$(wc -l <"$work/deep-log.jsonl")" = 2 ] || { echo "deep request: the log lacks a line"; exit 1; }
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert "request_text" in lines[0] and lines[0]["decision"] == "deny", lines[0].keys()
assert lines[1]["decision"] == "allow"
' "$work/deep-log.jsonl"

# The same for a person (--format text): nothing recursive meets the request there either.
set +e
"$clause" eval --policy "$root/policies/privacy.policy" --format text "$work/deep.jsonl" \
  >"$work/deep-text" 2>"$work/deep-text-err"
status=$?
set -e
[ "$status" = 2 ] || { echo "deep request, text: exit $status, expected 2"; exit 1; }
grep -q "decision  deny" "$work/deep-text" || { echo "deep request, text: no denial"; exit 1; }

# A full disk (a file size limit of 64 KiB): no torn line, the loss said on stderr, and
# the exit status says the log is incomplete.
set +e
(ulimit -f 64 && "$clause" eval --policy "$root/policies/privacy.policy" \
  --jsonl "$work/requests.jsonl" --log "$work/full.jsonl" >/dev/null 2>"$work/full-err")
status=$?
set -e
[ "$status" = 1 ] || { echo "full disk: exit $status, expected 1"; cat "$work/full-err"; exit 1; }
grep -q "clause: warning: decision log .*(File too large)" "$work/full-err" ||
  { echo "full disk: no warning"; cat "$work/full-err"; exit 1; }
grep -q "clause: error: the decision log .* lacks [0-9]* of 1000 decisions" "$work/full-err" ||
  { echo "full disk: no error at exit"; cat "$work/full-err"; exit 1; }
python3 -c '
import json, sys
text = open(sys.argv[1], "rb").read()
assert text.endswith(b"\n"), "a torn last line"
for line in text.splitlines():
    json.loads(line)
' "$work/full.jsonl"

# Rotation: --log-max-bytes and --log-keep.
"$clause" eval --policy "$root/policies/privacy.policy" --jsonl "$work/requests.jsonl" \
  --log "$work/rot.jsonl" --log-max-bytes 100000 --log-keep 2 >/dev/null
[ -f "$work/rot.jsonl.2" ] && [ ! -f "$work/rot.jsonl.3" ] || { echo "rotation: wrong files"; ls "$work"; exit 1; }
for f in "$work"/rot.jsonl*; do
  [ "$(wc -c <"$f")" -le 100000 ] || { echo "rotation: $f too large"; exit 1; }
done
echo "eval --log: all checks passed"
