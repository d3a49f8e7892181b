#!/usr/bin/env bash
# Writes the request cases that cannot be typed: raw bytes (invalid UTF-8, NUL, control
# characters, CR), and large or deeply nested text. The other cases are plain files.
# Run from anywhere; then regenerate the goldens with CLAUSE_UPDATE_GOLDEN=1.
set -euo pipefail
cd "$(dirname "$0")"

head='{"data":{"category":"contact_info"},"requester":{"kind":"counterparty"}'
good="$head"',"action":"access","context":{"in_transaction":true}}'

# repeat TEXT N: TEXT written N times.
repeat() { local i; for ((i = 0; i < $2; i++)); do printf '%s' "$1"; done; }

# A leading byte order mark is skipped (RFC 8259 allows it); the columns of line 1 count it.
printf '\xef\xbb\xbf%s,"action":"acess"}' "$head" >116-utf8-bom.json
printf ' \xef\xbb\xbf%s' "$good" >136-utf8-bom-after-blank.json
printf '%s,"action":"acc\xffess"}' "$head" >117-invalid-utf8-in-name.json
printf '{"d\xe1ta":{"category":"contact_info"}}' >118-invalid-utf8-in-key.json
printf '%s,"action":"\xc0\xafaccess"}' "$head" >119-overlong-encoding.json
printf '%s,"action":"\xed\xa0\x80"}' "$head" >120-encoded-surrogate.json
printf '%s,"action":"access\xe2\x82"}' "$head" >121-truncated-utf8-sequence.json
printf '%s,"action":"acc\x00ess"}' "$head" >122-nul-byte-in-string.json
printf '%s\x00' "$good" >123-nul-byte-after-object.json
printf '{"data":\x00{"category":"contact_info"}}' >124-nul-byte-between-tokens.json
printf '%s,"action":"acc\x01ess"}' "$head" >125-control-char-in-string.json
printf '%s,"action":"access\x7f"}' "$head" >126-del-char-in-name.json
printf '{\r\n  "data": {"category": "contact_info"},\r\n  "requester": {"kind": "counterparty"},\r\n  "action": "acess"\r\n}\r\n' \
  >127-crlf-line-endings.json
printf '{\r  "data": {"category": "contct_info"}\r}' >128-lone-cr-line-endings.json
printf '{\n\t"data":\t{"category":\t"contct_info"}\n}\n' >129-tabs-before-value.json
# 10,000 levels: the reader must refuse them without recursing.
{ repeat '[' 10000; repeat ']' 10000; } >130-deep-arrays.json
{ printf '%s,"action":"access","id":' "$head"; repeat '{"id":' 10000; printf '1'; repeat '}' 10000; printf '}'; } \
  >131-deep-objects-in-id.json
{ printf '%s,"action":"access","context":{"consent":' "$head"; repeat '[' 10000; } >132-deep-arrays-unclosed.json
# A long name and a long wrong value: the error quotes them; how much is the question.
{ printf '{"data":{"category":"'; repeat 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' 400; printf '"}}'; } \
  >133-long-unknown-name.json
{ printf '%s,"action":"access","context":{"in_transaction":"' "$head"; repeat 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' 1800; printf '"}}'; } \
  >134-long-string-value.json
{ printf '%s,"action":"access","id":"' "$head"; repeat 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz' 1800; printf '"'; } \
  >135-long-string-truncated.json
