eval --policy tests/cli/contains.policy --jsonl -
