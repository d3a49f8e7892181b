eval --policy tests/cli/attributes.policy --as-of 2026-02-30
