#!/usr/bin/env bash
# `clause serve --playground` with curl: the page and its files only with the flag, and
# the compile, decide and plan endpoints on good, broken and malformed input.
set -euo pipefail
clause="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
server=""
stop() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server"; wait "$server" || true; fi
  server=""
}
trap 'stop; rm -rf "$work"' EXIT
# shellcheck source=tests/serve/http.sh
source "$(dirname "$0")/http.sh"

start() { # start [FLAGS...]: serves the privacy policy on a free port, sets $url
  "$clause" serve --policy "$root/policies/privacy.policy" --port 0 --max-body 65536 "$@" \
    >"$work/out" 2>"$work/err" &
  server=$!
  for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
  local port
  port="$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$work/out")"
  [ -n "$port" ] || fail "the server did not say where it listens: $(cat "$work/err")"
  url="http://127.0.0.1:$port"
}
# body POLICY-FILE [REQUEST-JSON]: the JSON body of a compile, decide or plan call;
# BODY_TEXT=1 sends the request as its text, a string.
body() {
  BODY_TEXT="${BODY_TEXT:-}" python3 -c 'import json, os, sys
out = {"policy": open(sys.argv[1]).read()}
if len(sys.argv) > 2:
  out["request"] = sys.argv[2] if os.environ["BODY_TEXT"] else json.loads(sys.argv[2])
print(json.dumps(out))' "$@"
}
expect_each() { # expect_each "STATUS BODY" STATUS SUBSTRING...
  local answer="$1" status="$2"
  shift 2
  for part in "$@"; do expect "$answer" "$status" "$part"; done
}

# Without the flag: none of it.
start
for path in / /playground/playground.js /playground/highlight.js; do
  expect "$(call GET "$path")" 404 '"error":"no route GET'
done
echo '{}' >"$work/empty.json"
expect "$(call POST /v1/playground/compile "$work/empty.json")" 404 'no route POST'
expect "$(call POST /v1/playground/plan "$work/empty.json")" 404 'no route POST'
stop

start --playground
grep -q "playground at $url/" "$work/out" || fail "no playground address printed"
# Relative, so that the static build's page (build-wasm/playground/) is this very file.
expect "$(call GET /)" 200 '<script src="playground/playground.js">'
expect "$(call GET /playground/share.js)" 200 'readShareLink'
expect "$(call GET /playground/engine.js)" 200 'asks the server'
expect "$(call GET /playground/playground.css)" 200 '.editor'
expect "$(call GET /playground/playground.js)" 200 '/v1/playground/compile'
expect "$(call GET /playground/highlight.js)" 200 'ClauseHighlight'
expect "$(call GET /playground/clause-policy.tmLanguage.json)" 200 '"scopeName": "source.clause-policy"'
cmp -s "$work/body" "$root/tools/editors/vscode/syntaxes/clause-policy.tmLanguage.json" ||
  fail "the grammar served is not the editors' grammar"
expect "$(call GET /playground/nothing.js)" 404 'no asset'
expect "$(call GET /v1/playground/source)" 200 'policy \"Privacy Policy\"'

# A good policy: no diagnostics, its names, its clauses with their lines.
body "$root/policies/privacy.policy" >"$work/good.json"
answer="$(call POST /v1/playground/compile "$work/good.json")"
expect "$answer" 200 '"ok":true'
expect "$answer" 200 '"diagnostics":[]'
expect "$answer" 200 '"requesters":["the_software",'
expect "$answer" 200 '"in_transaction","lawful_source"]'
expect "$answer" 200 '{"id":"6.b","lines":[105,108]'

# A broken one: 200 with the diagnostics of `clause check --format json`, help included.
sed 's/^data contact_info .*/data contact_info under registration_infoo/' \
  "$root/policies/privacy.policy" >"$work/broken.policy"
body "$work/broken.policy" >"$work/broken.json"
answer="$(call POST /v1/playground/compile "$work/broken.json")"
expect "$answer" 200 '"ok":false'
expect "$answer" 200 '"code":"E'
expect "$answer" 200 '"help":"'
expect "$answer" 200 '"line":119'
[[ "$answer" != *'"vocabulary"'* ]] || fail "a broken policy gave a vocabulary"

# Decide: the decision, the trace and the matrix of the action.
request='{"data":{"category":"contact_info"},"requester":{"kind":"counterparty"},"action":"access","context":{"facts":["in_transaction"]}}'
body "$root/policies/privacy.policy" "$request" >"$work/decide.json"
answer="$(call POST /v1/playground/decide "$work/decide.json")"
expect "$answer" 200 '"decision":"allow","reason":"permitted by rule 6.b/1'
expect "$answer" 200 '"clause":{"id":"6.b","lines":[105,108]'
expect "$answer" 200 '"outcome":"decided"'
expect "$answer" 200 '"trace":[{'
expect "$answer" 200 '"matrix":{"action":"access"'
body "$root/policies/privacy.policy" "${request/in_transaction/lawful_source}" >"$work/decide2.json"
answer="$(call POST /v1/playground/decide "$work/decide2.json")"
expect "$answer" 200 '"decision":"deny"'
# The same request against the broken text: its diagnostics, no decision.
body "$work/broken.policy" "$request" >"$work/decide3.json"
answer="$(call POST /v1/playground/decide "$work/decide3.json")"
expect "$answer" 200 '"ok":false'
[[ "$answer" != *'"decision"'* ]] || fail "a broken policy decided"
# A request naming what the policy lacks: 400 with the denial.
body "$root/policies/privacy.policy" '{"data":{"category":"nothing"},"requester":{"kind":"user"},"action":"access"}' >"$work/decide4.json"
expect "$(call POST /v1/playground/decide "$work/decide4.json")" 400 'unknown data category `nothing`'

# Plan: the seed's partner plan, per outcome with its parts and citations, and the categories.
partial='{"requester":{"kind":"business_partner"},"action":"access","context":{"purpose":"partner_marketing"},"unknown":["data.category","context.consent"]}'
body "$root/policies/privacy.policy" "$partial" >"$work/plan.json"
expect_each "$(call POST /v1/playground/plan "$work/plan.json")" 200 '"ok":true' '"complete":true' \
  '"unknown":["data.category","context.consent"]' \
  '"clause":"1.x.a","condition":"data.category is search_keywords"' \
  '"consent":"partner_marketing","decision":"require-consent"' '"categories":["personal_info",'
# The same plan from the request's JSON text.
BODY_TEXT=1 body "$root/policies/privacy.policy" "$partial" >"$work/plan-text.json"
expect "$(call POST /v1/playground/plan "$work/plan-text.json")" 200 '"rule":"1.x.a/1"'
# A misspelt unknown field: 400 naming it and where it stands in the text sent.
BODY_TEXT=1 body "$root/policies/privacy.policy" '{"requester": {"kind": "business_partner"},
 "action": "access",
 "unknown": ["data", "context.consnet"]}' >"$work/plan-bad.json"
expect_each "$(call POST /v1/playground/plan "$work/plan-bad.json")" 400 \
  '"error":"unknown[1]: not a field the policy lets a plan leave open' \
  '"position":{"column":22,"line":3}'
body "$root/policies/privacy.policy" '{"requester":{"kind":"nobody"},"action":"access","unknown":["data"]}' >"$work/plan-bad2.json"
expect "$(call POST /v1/playground/plan "$work/plan-bad2.json")" 400 '"field":"requester.kind"'
# A broken policy: its diagnostics, no plan.
body "$work/broken.policy" "$partial" >"$work/plan-broken.json"
answer="$(call POST /v1/playground/plan "$work/plan-broken.json")"
expect_each "$answer" 200 '"ok":false' '"code":"E'
[[ "$answer" != *'"plan"'* ]] || fail "a broken policy gave a plan"

# Malformed bodies: 400; too large: 413.
echo '{"policy":' >"$work/bad.json"
expect "$(call POST /v1/playground/compile "$work/bad.json")" 400 'not a JSON object'
expect "$(call POST /v1/playground/decide "$work/bad.json")" 400 'not a JSON object'
echo '{"policy":5}' >"$work/bad2.json"
expect "$(call POST /v1/playground/compile "$work/bad2.json")" 400 '`policy` must be'
expect "$(call POST /v1/playground/decide "$work/good.json")" 400 '`request` must be'
expect "$(call POST /v1/playground/plan "$work/bad.json")" 400 'not a JSON object'
expect "$(call POST /v1/playground/plan "$work/good.json")" 400 '`request` must be'
python3 -c 'import json; print(json.dumps({"policy": "#" * 70000}))' >"$work/big.json"
expect "$(call POST /v1/playground/compile "$work/big.json")" 413 'larger than 65536 bytes'
expect "$(call POST /v1/playground/plan "$work/big.json")" 413 'larger than 65536 bytes'

# The served policy is untouched by all this.
expect "$(call GET /v1/policy)" 200 '"name":"Privacy Policy"'
echo '{"data":{"category":"contact_info"},"requester":{"kind":"counterparty"},"action":"access","context":{"facts":["in_transaction"]}}' >"$work/req.json"
expect "$(call POST /v1/decide "$work/req.json")" 200 '"decision":"allow","clause":"6.b"'
stop
echo "serve.playground: ok"
