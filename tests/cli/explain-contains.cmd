explain --policy tests/cli/contains.policy tests/cli/contains-clerk.json
