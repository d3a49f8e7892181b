eval --policy tests/cli/attributes.policy --jsonl
