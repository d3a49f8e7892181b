eval --policy tests/cli/attributes.policy --as-of 2026-03-01T10:00:00+02:00 --jsonl
