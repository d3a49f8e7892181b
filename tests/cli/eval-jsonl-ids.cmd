eval --policy policies/privacy.policy --jsonl -
