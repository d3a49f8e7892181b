eval --policy tests/cli/attributes.policy --format text --as-of 2026-03-01
