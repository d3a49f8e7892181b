bench --policy policies/privacy.policy --jsonl tests/cli/missing.jsonl
