# Helpers the HTTP tests share; sourced after `work` (a scratch folder) and `url` are set.
# shellcheck shell=bash
auth=()

fail() {
  echo "FAIL: $*"
  exit 1
}

call() { # call METHOD PATH [DATA-FILE] -> prints "STATUS BODY"; sends the headers in ${auth[@]}
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" "$url$2" "${auth[@]}")
  if [ $# -gt 2 ]; then args+=(--data-binary "@$3" -H 'Content-Type: application/json'); fi
  local status
  status="$(curl "${args[@]}")"
  echo "$status $(cat "$work/body")"
}

expect() { # expect "STATUS BODY" STATUS SUBSTRING
  [ "${1%% *}" = "$2" ] || fail "expected status $2, got: ${1:0:300}"
  [[ "$1" == *"$3"* ]] || fail "expected '$3' in: ${1:0:600}"
}
