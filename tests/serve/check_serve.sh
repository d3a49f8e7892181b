#!/usr/bin/env bash
# `clause serve` on a loopback port, talked to with a real client (curl, and clause-load
# for reloads under load): every route, every refusal, reload by HTTP and by SIGHUP, and a
# clean stop that leaves every decision in the log.
set -euo pipefail
clause="$1"
load="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server"; fi
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/serve/http.sh
source "$(dirname "$0")/http.sh"

policy() { # policy VERSION EFFECT
  printf 'policy "live" version "%s"\nclause "c" "The clause."\ndata info\nrequester company\naction read\n%s read of info by company cites "c"\n' "$1" "$2"
}
policy a allow >"$work/a.policy"
policy b deny >"$work/b.policy"
cp "$work/a.policy" "$work/live.policy"
echo '{"data":{"category":"info"},"requester":{"kind":"company","id":"u-1"},"action":"read"}' >"$work/read.json"
echo 'test-admin-token' >"$work/token"
echo '{"schema_version": 1, "table": "items", "fields": {"data.category": "kind"}}' >"$work/map.json"

# A mapping that names no field of the policy stops the server before it listens.
echo '{"schema_version": 1, "table": "items", "fields": {"data.categry": "kind"}}' >"$work/typo.json"
if "$clause" serve --policy "$work/live.policy" --port 0 --mapping "$work/typo.json" >"$work/out" 2>"$work/err"; then
  fail "serve started with a mapping that names no field"
fi
grep -q 'fields\["data.categry"\]: not a field of the policy; did you mean `data.category`? (at 1:52)' "$work/err" ||
  fail "serve's mapping error: $(cat "$work/err")"

"$clause" serve --policy "$work/live.policy" --port 0 --max-body 4096 --max-batch 5 \
  --log "$work/log.jsonl" --log-redact requester.id --admin-token "$work/token" \
  --mapping "$work/map.json" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$work/out")"
[ -n "$port" ] || fail "the server did not say where it listens: $(cat "$work/err")"
url="http://127.0.0.1:$port"
decisions=0


expect "$(call POST /v1/decide "$work/read.json")" 200 '"decision":"allow","clause":"c"'
expect "$(call POST /v1/decide "$work/read.json")" 200 '"policy_version":"a","policy_hash":"sha256:'
decisions=$((decisions + 2))
echo '{"data":{"category":"secret"},"requester":{"kind":"company"},"action":"read"}' >"$work/bad.json"
expect "$(call POST /v1/decide "$work/bad.json")" 400 'data.category: unknown data category `secret`'
decisions=$((decisions + 1))
echo '{"data":' >"$work/broken.json"
expect "$(call POST /v1/decide "$work/broken.json")" 400 'invalid JSON'
decisions=$((decisions + 1))
printf '[%s,{"action":5},%s]' "$(cat "$work/read.json")" "$(cat "$work/read.json")" >"$work/batch.json"
status_body="$(call POST /v1/decide/batch "$work/batch.json")"
expect "$status_body" 200 '{"decisions":[{"decision":"allow"'
[[ "$status_body" == *'"error":"'* ]] || fail "the bad batch item has no error: $status_body"
decisions=$((decisions + 3))
# Answers carry the request's own id, so that a batch can be matched by id.
printf '[{"id":"b-1","data":{"category":"info"},"requester":{"kind":"company"},"action":"read"},{"id":7,"action":5}]' >"$work/ids.json"
expect "$(call POST /v1/decide/batch "$work/ids.json")" 200 '{"decisions":[{"id":"b-1","decision":"allow"'
expect "$(call POST /v1/decide/batch "$work/ids.json")" 200 '{"id":7,"decision":"deny","clause":"default","error":'
decisions=$((decisions + 4))
echo '[]' >"$work/empty.json"
expect "$(call POST /v1/decide/batch "$work/empty.json")" 200 '{"decisions":[]}'
printf '[%s,,%s]' "$(cat "$work/read.json")" "$(cat "$work/read.json")" >"$work/hole.json"
expect "$(call POST /v1/decide/batch "$work/hole.json")" 400 'a batch is a JSON array'
printf '[%s] trailing' "$(cat "$work/read.json")" >"$work/trailing.json"
expect "$(call POST /v1/decide/batch "$work/trailing.json")" 400 'a batch is a JSON array'
echo '{"not":"an array"}' >"$work/object.json"
expect "$(call POST /v1/decide/batch "$work/object.json")" 400 'a batch is a JSON array'
# The limits, at their edge and one past it: 5 requests in a batch, 4096 bytes in a body.
printf '[%s]' "$(for i in 1 2 3 4 5; do printf '%s%s' "$([ $i = 1 ] || echo ,)" "$(cat "$work/read.json")"; done)" >"$work/five.json"
expect "$(call POST /v1/decide/batch "$work/five.json")" 200 '"decision":"allow"'
decisions=$((decisions + 5))
printf '[%s]' "$(for i in 1 2 3 4 5 6; do printf '%s%s' "$([ $i = 1 ] || echo ,)" "$(cat "$work/read.json")"; done)" >"$work/six.json"
expect "$(call POST /v1/decide/batch "$work/six.json")" 413 'at most 5 requests'
{ tr -d '\n' <"$work/read.json"; head -c $((4096 - $(tr -d '\n' <"$work/read.json" | wc -c))) /dev/zero | tr '\0' ' '; } >"$work/edge.json"
[ "$(wc -c <"$work/edge.json")" = 4096 ] || fail "edge.json is not 4096 bytes"
expect "$(call POST /v1/decide "$work/edge.json")" 200 '"decision":"allow"'
decisions=$((decisions + 1))
head -c 4097 /dev/zero | tr '\0' ' ' >"$work/big.json"
expect "$(call POST /v1/decide "$work/big.json")" 413 'larger than 4096 bytes'
# Plans: the JSON of `clause plan --format json`; a mistake in the partial request is a 400.
echo '{"requester":{"kind":"company"},"action":"read","unknown":["data"]}' >"$work/partial.json"
expect "$(call POST /v1/plan "$work/partial.json")" 200 '"outcomes":[{"decision":"allow","parts":[{"clause":"c"'
"$clause" plan --policy "$work/live.policy" --format json "$work/partial.json" >"$work/plan.cli"
[ "$(call POST /v1/plan "$work/partial.json")" = "200 $(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":"), sort_keys=True))' <"$work/plan.cli")" ] ||
  fail "POST /v1/plan differs from clause plan --format json: $(cat "$work/body")"
echo '{"data":{"category":"info"},"requester":{"kind":"company"},"action":"read","unknown":["data.category"]}' >"$work/twice.json"
expect "$(call POST /v1/plan "$work/twice.json")" 400 '{"error":"data.category: given, and also listed as unknown'
echo '{"requester":{"kind":"company"},"action":"read","unknown":["data.nowhere"]}' >"$work/nowhere.json"
expect "$(call POST /v1/plan "$work/nowhere.json")" 400 '{"error":"unknown[0]:'
expect "$(call POST /v1/plan "$work/broken.json")" 400 'invalid JSON'
expect "$(call POST /v1/plan "$work/big.json")" 413 'larger than 4096 bytes'
# SQL filters: the JSON of `clause plan --sql D --mapping M --format json`.
for dialect in postgres sqlite; do
  "$clause" plan --policy "$work/live.policy" --sql "$dialect" --mapping "$work/map.json" \
    --format json "$work/partial.json" >"$work/sql.cli"
  [ "$(call POST "/v1/sql/$dialect" "$work/partial.json")" = "200 $(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), separators=(",", ":"), sort_keys=True))' <"$work/sql.cli")" ] ||
    fail "POST /v1/sql/$dialect differs from clause plan --sql: $(cat "$work/body")"
done
expect "$(call POST /v1/sql/postgres "$work/partial.json")" 200 '"outcomes":[{"decision":"allow","parameters":[],"parts":[{"clause":"c"'
expect "$(call POST /v1/sql/sqlite "$work/twice.json")" 400 '{"error":"data.category: given, and also listed as unknown'
expect "$(call POST /v1/sql/mysql "$work/partial.json")" 404 'no route POST /v1/sql/mysql'
status="$(curl -s -o "$work/body" -w '%{http_code}' --data-binary @"$work/partial.json" "$url/v1/plan")"
expect "$status $(cat "$work/body")" 415 'Content-Type: application/json'
expect "$(call GET /nowhere)" 404 'no route GET /nowhere'
expect "$(call GET /healthz)" 200 'ok'
expect "$(call GET /v1/policy)" 200 '"clauses":[{"id":"c","words":"The clause."}'

# A file with errors is refused and the policy in force stays; a good one replaces it.
echo 'policy "live" versio "c"' >"$work/live.policy"
expect "$(call POST /v1/reload "$work/read.json")" 401 'Authorization: Bearer'
auth=(-H 'Authorization: Bearer test-admin-token')
expect "$(call POST /v1/reload "$work/read.json")" 422 '"reloaded":false'
expect "$(call POST /v1/decide "$work/read.json")" 200 '"policy_version":"a"'
cp "$work/b.policy" "$work/live.policy"
expect "$(call POST /v1/reload "$work/read.json")" 200 '"reloaded":true'
expect "$(call POST /v1/decide "$work/read.json")" 200 '"decision":"deny","clause":"c"'
expect "$(call POST /v1/plan "$work/partial.json")" 200 '"outcomes":[{"decision":"allow","parts":[]},{"decision":"deny","parts":[{"clause":"c"'
# More open consents than a plan enumerates: an incomplete plan is still an answer.
{
  printf 'policy "live" version "wide"\nclause "c" "The clause."\ndata info\nrequester company\naction read\n'
  for i in $(seq 21); do printf 'consent k%s\nrequire consent k%s for read of info by company cites "c"\n' "$i" "$i"; done
} >"$work/live.policy"
expect "$(call POST /v1/reload "$work/read.json")" 200 '"reloaded":true'
echo '{"requester":{"kind":"company"},"action":"read","data":{"category":"info"},"unknown":["context.consent"]}' >"$work/consents.json"
expect "$(call POST /v1/plan "$work/consents.json")" 200 '"complete":false,"outcomes":[]'
cp "$work/a.policy" "$work/live.policy"
kill -HUP "$server"
for _ in $(seq 50); do grep -q "reload to version a" "$work/err" && break; sleep 0.1; done
expect "$(call POST /v1/decide "$work/read.json")" 200 '"policy_version":"a"'
decisions=$((decisions + 3))
auth=()

metrics="$(call GET /metrics)"
expect "$metrics" 200 'clause_decisions_total{effect="allow"}'
[[ "$metrics" == *'clause_reloads_total{result="failed"} 1'* ]] || fail "metrics: $metrics"
[[ "$metrics" == *'clause_http_request_seconds_bucket{le="+Inf"}'* ]] || fail "no histogram"

# A thousand reloads while four clients decide: every answer whole from one version.
"$load" reload-race --port "$port" --body "$work/read.json" --live "$work/live.policy" \
  --a "$work/a.policy" --b "$work/b.policy" --expect a=allow --expect b=deny \
  --reloads 1000 --threads 4 --token "$work/token" | tee "$work/race"
raced="$(sed -n 's/.*threads decided \([0-9]*\) requests.*/\1/p' "$work/race")"
decisions=$((decisions + raced))

# logrotate's way: the log is moved away, then SIGHUP; later decisions go to a new file.
expect "$(call GET /healthz)" 200 'ok'  # every decision so far is answered, so queued
for _ in $(seq 50); do
  [ "$(wc -l <"$work/log.jsonl")" = "$decisions" ] && break
  sleep 0.1
done
mv "$work/log.jsonl" "$work/log.jsonl.old"
reloads_before="$(grep -c "clause serve: reload" "$work/err" || true)"
kill -HUP "$server"
for _ in $(seq 50); do
  [ "$(grep -c "clause serve: reload" "$work/err" || true)" -gt "$reloads_before" ] && break
  sleep 0.1
done
for _ in 1 2 3; do expect "$(call POST /v1/decide "$work/read.json")" 200 '"decision"'; done
decisions=$((decisions + 3))

# SIGTERM: the server stops cleanly and the logs hold every decision, redacted.
kill -TERM "$server"
wait "$server" || fail "the server did not exit cleanly: $(cat "$work/err")"
server=""
[ "$(wc -l <"$work/log.jsonl")" = 3 ] || fail "after SIGHUP the new log has $(wc -l <"$work/log.jsonl") lines, not 3"
logged="$(cat "$work/log.jsonl.old" "$work/log.jsonl" | wc -l)"
[ "$logged" = "$decisions" ] || fail "the logs have $logged lines for $decisions decisions"
grep -q '"id":"\[redacted\]"' "$work/log.jsonl" || fail "the log did not redact requester.id"

# --log-block with rotation: a batch load loses nothing, and no file passes the size.
cp "$work/a.policy" "$work/live.policy"
"$clause" serve --policy "$work/live.policy" --port 0 --log "$work/rot.jsonl" --log-block \
  --log-max-bytes 20000 --log-keep 200 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$work/out")"
expect "$(call POST /v1/decide/batch "$work/five.json")" 200 '"decision":"allow"'
printf '[%s]' "$(for i in $(seq 1000); do printf '%s%s' "$([ "$i" = 1 ] || echo ,)" "$(tr -d '\n' <"$work/read.json")"; done)" >"$work/thousand.json"
for _ in 1 2 3 4; do expect "$(call POST /v1/decide/batch "$work/thousand.json")" 200 '"decision":"allow"'; done
metrics="$(call GET /metrics)"
[[ "$metrics" == *'clause_log_dropped_total 0'* ]] || fail "--log-block dropped: $metrics"
[[ "$metrics" == *'clause_log_lost_total 0'* ]] || fail "--log-block lost: $metrics"
kill -TERM "$server"
wait "$server" || fail "the rotating server did not exit cleanly: $(cat "$work/err")"
server=""
[ "$(cat "$work/rot.jsonl"* | wc -l)" = 4005 ] || fail "the rotated logs lack lines"
for f in "$work"/rot.jsonl*; do
  [ "$(wc -c <"$f")" -le 20000 ] || fail "$f is larger than --log-max-bytes"
done
# --watch: a changed file is picked up without a signal or a call.
cp "$work/a.policy" "$work/live.policy"
"$clause" serve --policy "$work/live.policy" --port 0 --watch 100 >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$work/out")"
expect "$(call POST /v1/decide "$work/read.json")" 200 '"policy_version":"a"'
cp "$work/b.policy" "$work/live.policy"
for _ in $(seq 50); do grep -q "reload to version b" "$work/err" && break; sleep 0.1; done
expect "$(call POST /v1/decide "$work/read.json")" 200 '"policy_version":"b"'
kill -TERM "$server"
wait "$server" || fail "the watching server did not exit cleanly"
server=""
echo "serve: all checks passed ($decisions decisions logged)"
