eval --policy policies/privacy.policy --jsonl --max-request-bytes 50000 -
